"""The `magic_hour` logger; `MAGIC_HOUR_LOG=debug` (or `info`) turns it on."""

from __future__ import annotations

import logging
import os

__all__ = ["LOG_ENV", "logger", "setup_logging"]

LOG_ENV = "MAGIC_HOUR_LOG"
logger = logging.getLogger("magic_hour")


def setup_logging() -> None:
    """Apply `MAGIC_HOUR_LOG`. Adds a stderr handler once, unless the application has
    configured handlers of its own. Nothing logged ever includes the API token."""
    level = os.environ.get(LOG_ENV, "").strip().upper()
    if level not in ("DEBUG", "INFO"):
        return
    logger.setLevel(level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)
