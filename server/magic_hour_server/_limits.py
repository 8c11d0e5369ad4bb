"""`magic-hour serve`'s limits against hostile or broken clients: one option per
`Settings` field of the same name (docs/reliability.md, "Limits")."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from typing import Any

# Limits against hostile or broken clients; each flag sets the `Settings` field of its name.
LIMITS: dict[str, tuple[type[int] | type[float], str]] = {
    "max_header_bytes": (int, "a request's headers past this are answered 431"),
    "header_timeout": (float, "seconds a request or a new connection has to send its headers"),
    "keep_alive_timeout": (int, "seconds an idle kept-alive connection stays open"),
    "min_body_rate": (float, "bytes a second a request body must average after body-timeout"),
    "body_timeout": (float, "seconds a request body may wait for its next bytes"),
    "max_connections": (int, "connections open at once per process; past it, 503"),
    "max_held_polls": (int, "reads held by 'Prefer: wait' at once; past it, answered at once"),
    "quota_per_minute": (int, "creates and upload URLs per key a minute, per process (0: none)"),
    "max_video_seconds": (float, "a longer video ends in error"),
    "max_video_frames": (int, "a video with more frames ends in error"),
    "max_task_seconds": (float, "a task running longer ends in error (its download included)"),
}


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    from magic_hour_server._config import Settings

    defaults = {field.name: field.default for field in dataclasses.fields(Settings)}
    group = parser.add_argument_group(
        "limits", "against hostile or broken clients (docs/reliability.md, Limits)"
    )
    for name, (kind, meaning) in LIMITS.items():
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=kind,
            default=defaults[name],
            metavar="N",
            help=f"{meaning} (default {defaults[name]:g})",
        )


def limit_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The `Settings` keywords the limit options give."""
    return {name: getattr(args, name) for name in LIMITS}


def room_for_connections(wanted: int) -> None:
    """Raise this process's open-file limit (as far as its hard limit allows) so that
    `--max-connections` sockets fit beside the database and the files; say so when not."""
    import resource

    need = wanted + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    raised = need if hard == resource.RLIM_INFINITY else min(need, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    if raised < need:
        logging.getLogger("magic_hour_server").warning(
            "open files are limited to %d: lower --max-connections to %d or raise the limit",
            raised,
            max(1, raised - 256),
        )
