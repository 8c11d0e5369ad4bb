"""`magic-hour serve`: run the local reference server with uvicorn."""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import logging
import sys
from pathlib import Path
from typing import Any


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `magic-hour serve`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="where tasks and files are kept"
    )
    parser.add_argument(
        "--token",
        action="append",
        dest="tokens",
        metavar="TOKEN",
        help=(
            "an accepted API key (repeatable). Visible in every process list: prefer "
            "$MAGIC_HOUR_SERVER_TOKENS (comma-separated) or --token-file. With none, one is "
            "made: shown on a terminal, else written to <data-dir>/generated-api-key"
        ),
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help="a file of accepted API keys, one a line (keep it chmod 600)",
    )
    parser.add_argument(
        "--public-url", default=None, help="base of the storage URLs handed out to clients"
    )
    parser.add_argument(
        "--allow-private-urls",
        action="store_true",
        help="let target_file_path URLs reach loopback and private addresses",
    )
    parser.add_argument(
        "--retention-days",
        type=float,
        default=7.0,
        help="delete tasks and uploads older than this many days (default 7)",
    )
    parser.add_argument("--workers", type=int, default=None, help="detections run at once")
    parser.add_argument(
        "--video-sample-fps",
        type=float,
        default=4.0,
        help="video frames per second to detect faces in (default 4)",
    )
    parser.add_argument(
        "--database",
        help=(
            "a PostgreSQL URL (postgresql://user@host/db) for tasks, shared by every process "
            "of a cluster; default: $MAGIC_HOUR_DATABASE_URL, else SQLite in the data "
            "directory. Pass a password through $MAGIC_HOUR_DATABASE_URL, PGPASSWORD or "
            "PGPASSFILE, never on the command line"
        ),
    )
    parser.add_argument(
        "--role",
        choices=["all", "api", "worker"],
        default="all",
        help=(
            "api: answer HTTP only; worker: detect only (no HTTP); all: both, one process "
            "(default). api and worker need --database and a shared --data-dir"
        ),
    )
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=30.0,
        help="how long a worker's claim on a task lasts without a heartbeat (default 30)",
    )
    parser.add_argument(
        "--database-wait",
        type=float,
        default=5.0,
        help="how long a request waits for a database that went away before a 503 (default 5)",
    )
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=10.0,
        help=(
            "on SIGTERM, seconds a worker lets its detections finish before handing them "
            "to another worker (default 10)"
        ),
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=30.0,
        help="the longest 'Prefer: wait=N' honoured on reading a task, in seconds (default 30)",
    )
    parser.add_argument(
        "--detector-precision",
        choices=["fp32", "int8"],
        default="fp32",
        help=(
            "int8 runs a quantized detector, about twice as fast, with the accuracy the "
            "README reports (made once and cached in the data directory; default fp32)"
        ),
    )
    parser.add_argument(
        "--multi-scale",
        action="store_true",
        help=(
            "photos: a second, finer detector pass that finds more small faces (under "
            "32 px), at about five times the detection cost"
        ),
    )
    parser.add_argument(
        "--keep-all-faces",
        action="store_true",
        help=(
            "videos: also list faces too small (under 40 px tall), too dark or too blurred "
            "for a face swap, which are left out by default (photos always list every face)"
        ),
    )
    _add_limits(parser)


# Limits against hostile or broken clients; each flag sets the `Settings` field of its name.
_LIMITS: dict[str, tuple[type[int] | type[float], str]] = {
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


def _add_limits(parser: argparse.ArgumentParser) -> None:
    from magic_hour_server._config import Settings

    defaults = {field.name: field.default for field in dataclasses.fields(Settings)}
    group = parser.add_argument_group(
        "limits", "against hostile or broken clients (docs/reliability.md, Limits)"
    )
    for name, (kind, meaning) in _LIMITS.items():
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=kind,
            default=defaults[name],
            metavar="N",
            help=f"{meaning} (default {defaults[name]:g})",
        )


def _room_for_connections(wanted: int) -> None:
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


def _url_host(host: str) -> str:
    """The host part of a URL that reaches `host` from this machine."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return f"[{host}]" if address.version == 6 else host


def run_serve(args: argparse.Namespace) -> int:
    """Run the server until interrupted; 0 on a clean stop."""
    try:
        from magic_hour_server._local import generate_token
        from magic_hour_server.api._app import create_app
        from magic_hour_server.api._uvicorn import Server, config
    except ImportError as err:
        print(
            f"magic-hour serve needs the server extra ({err.name} is missing):\n"
            "    pip install 'magic-hour-face-detection[server]'",
            file=sys.stderr,
        )
        return 2
    import os

    from magic_hour_server._secrets import SecretsError, resolve_database, resolve_tokens

    try:
        given, notes = resolve_tokens(args.tokens, args.token_file, os.environ)
        args.database, database_notes = resolve_database(args.database, os.environ)
    except SecretsError as err:
        print(f"magic-hour serve: {err}", file=sys.stderr)
        return 2
    for note in [*notes, *database_notes]:
        print(f"magic-hour serve: {note}", file=sys.stderr)
    if args.role != "all" and args.data_dir is None:
        print(
            f"magic-hour serve: --role {args.role} needs --data-dir: the directory every "
            "process of the cluster shares (uploads and face crops live there)",
            file=sys.stderr,
        )
        return 2
    tokens = given or [generate_token()]
    public_url = args.public_url or f"http://{_url_host(args.host)}:{args.port}"
    try:
        settings = _settings(args, tokens, public_url)
    except ValueError as err:
        print(f"magic-hour serve: {err}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _room_for_connections(settings.max_connections)
    # Alembic narrates each step of a migration (plugins, dialect, DDL mode); the store
    # logs one line per migration run instead.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from magic_hour_server._secrets import scrub
    from magic_hour_server.detection._detector_model import shipped_path
    from magic_hour_server.detection._embedder import model_path
    from magic_hour_server.detection._onnx_graph import ModelFileError
    from magic_hour_server.tasks._database import DatabaseError

    listener = None
    if settings.role != "worker":
        # The port first: a busy one is refused before anything is announced or started.
        try:
            listener = _listen(args.host, args.port)
        except OSError as err:
            print(
                f"magic-hour serve: cannot listen on {args.host} port {args.port}: "
                f"{err.strerror or err} (another server there? choose another --port)",
                file=sys.stderr,
            )
            return 2
    try:
        # A broken install is said once, now, rather than on every task.
        shipped_path()
        model_path()
        app, state = create_app(settings)
    except (ModelFileError, DatabaseError) as err:
        if listener is not None:
            listener.close()
        print(f"magic-hour serve: {scrub(str(err), args.database)}", file=sys.stderr)
        return 2
    if listener is None:
        return _run_worker(state)
    print(f"Magic Hour local server on {public_url}", file=sys.stderr)
    print(f"Data directory: {settings.data_dir}", file=sys.stderr)
    if not given:
        _announce_generated_token(tokens[0], settings.data_dir)
    Server(config(app, settings, host=args.host, port=args.port), state.waiters).run(
        sockets=[listener]
    )
    return 0


def _listen(host: str, port: int) -> Any:
    """A socket bound to `host`:`port`, as uvicorn binds one (it listens on it)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


def _announce_generated_token(token: str, data_dir: Path) -> None:
    """Say the API key made for this run once: on a terminal, the key itself; elsewhere
    (a log, a pipe) only where it was saved, readable by this user alone."""
    from magic_hour_server._secrets import is_terminal, write_generated_token

    if is_terminal(sys.stderr):
        print(f"API key (generated for this run): {token}", file=sys.stderr)
        return
    path = write_generated_token(data_dir, token)
    print(f"API key (generated for this run): in {path} (chmod 600)", file=sys.stderr)


def _run_worker(state: Any) -> int:
    """A worker process: detections only, no HTTP, until SIGINT or SIGTERM."""
    import os
    import signal
    import threading

    stop = threading.Event()

    def on_signal(*_: object) -> None:
        if stop.is_set():
            # A second signal: no more grace. Running tasks go back to the queue when
            # their leases run out.
            print("magic-hour worker: stopped at once", file=sys.stderr, flush=True)
            os._exit(1)
        stop.set()

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, on_signal)
    state.start()
    print("Magic Hour worker started", file=sys.stderr)
    while not stop.wait(0.5):
        pass
    print("Magic Hour worker stopping: finishing or handing back its tasks", file=sys.stderr)
    state.stop()
    return 0


def _settings(args: argparse.Namespace, tokens: list[str], public_url: str) -> Any:
    from magic_hour_server._config import Settings, default_data_dir, default_workers

    return Settings(
        data_dir=args.data_dir or default_data_dir(),
        tokens=tokens,
        public_url=public_url,
        allow_private_urls=args.allow_private_urls,
        retention_days=args.retention_days,
        workers=default_workers() if args.workers is None else args.workers,
        video_sample_fps=args.video_sample_fps,
        keep_all_faces=args.keep_all_faces,
        max_wait_seconds=args.max_wait,
        detector_precision=args.detector_precision,
        multi_scale_detection=args.multi_scale,
        database=args.database,
        role=args.role,
        lease_seconds=args.lease_seconds,
        database_wait_seconds=args.database_wait,
        shutdown_grace_seconds=args.shutdown_grace,
        **{name: getattr(args, name) for name in _LIMITS},
    )
