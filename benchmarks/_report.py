"""The printed table and `bench-results.json`."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._common import Figure

_NAME_WIDTH = 52


def format_value(figure: Figure) -> str:
    if math.isnan(figure.value):
        return "n/a"
    value = figure.value
    if figure.unit in ("x", "") and abs(value) < 10 and value != int(value):
        text = f"{value:.3f}" if figure.unit == "" else f"{value:.2f}"
    elif abs(value) >= 100 or value == int(value):
        text = f"{value:.0f}"
    else:
        text = f"{value:.1f}"
    return f"{text}{figure.unit}"


def verdict(figure: Figure) -> str:
    if figure.met is None:
        return ""
    return "ok" if figure.met else f"MISS ({figure.miss()})"


def table(figures: Sequence[Figure]) -> str:
    """Figures grouped by section: name, value, target, verdict; context below each."""
    lines: list[str] = []
    section = None
    for figure in figures:
        if figure.section != section:
            section = figure.section
            lines.extend(["", section])
        target = str(figure.target) if figure.target else ""
        lines.append(
            f"  {figure.name:<{_NAME_WIDTH}} {format_value(figure):>10}  {target:<8} "
            f"{verdict(figure)}".rstrip()
        )
        if figure.context:
            lines.append(f"      {figure.context}")
    return "\n".join(lines).lstrip("\n")


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "load_average": load,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def write_json(
    path: Path,
    figures: Sequence[Figure],
    *,
    command: str,
    quick: bool,
    skipped: Sequence[str],
    errors: Sequence[str],
    started: datetime,
    machine_before: dict[str, Any],
) -> None:
    entries = []
    for figure in figures:
        entry = asdict(figure)
        entry["target"] = str(figure.target) if figure.target else None
        entry["met"] = figure.met
        entries.append(entry)
    document = {
        "command": command,
        "quick": quick,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine_before, "load_average_after": machine()["load_average"]},
        "figures": entries,
        "skipped": list(skipped),
        "errors": list(errors),
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_jsonable(document), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
