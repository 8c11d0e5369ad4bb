"""The server's log lines: readable text by default, or one JSON object per line.

`--log-format json` writes `time` (UTC, ISO 8601), `level`, `logger` and `message`, and,
on access-log lines, the request's `operation`, `status`, `duration_ms` and `task_id`
when there is one. No line carries a header, a query string (signed URLs' signatures
live there), a token or a database password: the messages are written without them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(name)s %(message)s"
_FIELDS = ("operation", "status", "duration_ms", "task_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


_announcements = logging.getLogger("magic_hour_server")
_json_lines = False


def announce(text: str) -> None:
    """A line for the operator (the server's address, a worker started): as it is, or, with
    JSON logs, a log line like any other, so that every line of stderr parses."""
    if _json_lines:
        _announcements.info(text)
    else:
        print(text, file=sys.stderr, flush=True)


def configure(log_format: str) -> None:
    """Send the server's log lines to stderr, at INFO, in `log_format` ("text" or "json")."""
    global _json_lines
    _json_lines = log_format == "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
