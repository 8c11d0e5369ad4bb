"""Run the server like `magic-hour serve`, with limits the CLI does not expose.

    MAGIC_HOUR_SERVER_TOKENS=T1,T2 python -m tests.faults._serve --port P --data-dir D
        [--max-upload-bytes N] [--pretend-public 127.0.0.77] [--set SETTING=VALUE ...]

`--set` gives any other `Settings` field (`--set header_timeout=1`).

`--pretend-public ADDRESS` lets the SSRF guard treat one loopback address as a public
one, so that a test can stand up an "allowed public host" on this machine (for
instance one that redirects to 127.0.0.1). Every other address is judged as usual.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-upload-bytes", type=int, default=None)
    parser.add_argument("--max-json-bytes", type=int, default=None)
    parser.add_argument("--max-download-bytes", type=int, default=None)
    parser.add_argument("--download-timeout", type=float, default=None)
    parser.add_argument("--pretend-public", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE")
    args = parser.parse_args()

    import dataclasses
    import socket

    from magic_hour_server._config import Settings
    from magic_hour_server.api._app import create_app
    from magic_hour_server.api._uvicorn import Server, config
    from magic_hour_server.storage import _fetch

    if args.pretend_public:
        judge = _fetch.refused_reason

        def refused_reason(address: str) -> str | None:
            return None if address == args.pretend_public else judge(address)

        _fetch.refused_reason = refused_reason
    limits = {
        name: getattr(args, name)
        for name in ("max_upload_bytes", "max_json_bytes", "max_download_bytes", "download_timeout")
        if getattr(args, name) is not None
    }
    kinds = {field.name: field.type for field in dataclasses.fields(Settings)}
    for item in args.set:
        name, _, value = item.partition("=")
        kind = {"int": int, "float": float, "bool": lambda v: v == "true"}[str(kinds[name])]
        limits[name] = kind(value)  # type: ignore[operator]
    settings = Settings(
        data_dir=args.data_dir,
        # As `serve` takes them: from the environment, never the command line.
        tokens=os.environ["MAGIC_HOUR_SERVER_TOKENS"].split(","),
        public_url=f"http://127.0.0.1:{args.port}",
        workers=args.workers,
        **limits,
    )
    # As `magic-hour serve` does: the access log and every warning go to stderr.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app, state = create_app(settings)
    # As `magic-hour serve` runs it: uvicorn behind the connection limits.
    listener = socket.create_server(("127.0.0.1", args.port))
    Server(config(app, settings), state.waiters).run(sockets=[listener])


if __name__ == "__main__":
    main()
