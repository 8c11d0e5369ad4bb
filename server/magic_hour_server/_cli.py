"""`magic-hour serve`: run the local reference server with uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from pathlib import Path
from typing import Any

from magic_hour_server._limits import add_limit_arguments, limit_settings, room_for_connections
from magic_hour_server._logs import announce, configure


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
        "--metrics-port",
        type=int,
        default=None,
        metavar="PORT",
        help=(
            "--role worker: serve Prometheus metrics on this port (at /metrics, on --host); "
            "API processes serve them at /metrics on their own port"
        ),
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="log lines as readable text (default) or one JSON object per line",
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
    add_limit_arguments(parser)


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
    if args.metrics_port is not None and args.role != "worker":
        print(
            "magic-hour serve: --metrics-port is for --role worker; this process serves "
            f"/metrics on its own port ({args.port})",
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
    configure(args.log_format)
    room_for_connections(settings.max_connections)
    # Alembic narrates each step of a migration (plugins, dialect, DDL mode); the store
    # logs one line per migration run instead.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from magic_hour_server._secrets import scrub
    from magic_hour_server.detection._detector_model import shipped_path
    from magic_hour_server.detection._embedder import model_path
    from magic_hour_server.detection._onnx_graph import ModelFileError
    from magic_hour_server.tasks._database import DatabaseError

    if args.metrics_port is not None:
        # A busy metrics port is refused before anything starts (it is bound again below).
        try:
            _listen(args.host, args.metrics_port).close()
        except OSError as err:
            print(
                f"magic-hour serve: cannot serve metrics on {args.host} port "
                f"{args.metrics_port}: {err.strerror or err} (choose another --metrics-port)",
                file=sys.stderr,
            )
            return 2
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
        if args.metrics_port is not None:
            try:
                _serve_metrics(state, args.host, args.metrics_port)
            except OSError as err:
                state.stop()
                print(
                    f"magic-hour serve: cannot serve metrics on {args.host} port "
                    f"{args.metrics_port}: {err.strerror or err} (choose another --metrics-port)",
                    file=sys.stderr,
                )
                return 2
        return _run_worker(state)
    announce(f"Magic Hour local server on {public_url}")
    announce(f"Data directory: {settings.data_dir}")
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
    announce(f"API key (generated for this run): in {path} (chmod 600)")


def _serve_metrics(state: Any, host: str, port: int) -> None:
    """A worker's /metrics, from a thread (prometheus_client's own HTTP server)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=state.metrics.registry)
    announce(f"Metrics on http://{_url_host(host)}:{port}/metrics")


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
    announce("Magic Hour worker started")
    while not stop.wait(0.5):
        pass
    announce("Magic Hour worker stopping: finishing or handing back its tasks")
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
        **limit_settings(args),
    )
