"""The `magic-hour` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata

from ._detect import EPILOG as DETECT_EPILOG
from ._detect import add_detect_arguments, run_detect

_SERVER_EXTRA = "pip install 'magic-hour-face-detection[server]'"
_MAIN_EPILOG = """\
examples:
  magic-hour detect photo.jpg clip.mp4 --out faces   # faces, crops and previews
  magic-hour serve --port 8000                       # the API on this machine
  magic-hour detect --help                           # every option, with examples
"""
_SERVE_EPILOG = """\
examples:
  magic-hour serve                                   # prints the token it made
  magic-hour serve --port 8000 --token-file keys.txt --data-dir ./server-data
  export MAGIC_HOUR_API_TOKEN=$(head -1 keys.txt)   # keys stay off the command line
  MAGIC_HOUR_BASE_URL=http://127.0.0.1:8000 magic-hour detect photo.jpg
"""


def _version() -> str:
    try:
        return metadata.version("magic-hour-face-detection")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="magic-hour",
        description="Magic Hour face detection from the command line.",
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"magic-hour {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    detect = commands.add_parser(
        "detect",
        help="detect faces in images and videos; save crops and previews",
        description="Detect faces in each image or video, download the face crops and "
        "draw an annotated preview.",
        epilog=DETECT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_detect_arguments(detect)
    contract = commands.add_parser(
        "contract",
        help="test a deployment of the API against the document",
        description=(
            "Contract-test a deployment (default: a local server started for the run) against "
            "the OpenAPI document this package ships, with schemathesis."
        ),
    )
    from ._contract import add_contract_arguments

    add_contract_arguments(contract)
    serve = commands.add_parser(
        "serve",
        help="run the local reference server",
        description="Run the local server.",
        epilog=_SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    try:
        from magic_hour_server._cli import add_serve_arguments
    except ImportError:
        serve.set_defaults(missing_extra=True)
    else:
        add_serve_arguments(serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `magic-hour`; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(parser, args)
    except KeyboardInterrupt:
        # Ctrl-C: while a command starts, or after the server's graceful shutdown, which
        # uvicorn ends by raising the signal again. Not a failure to show a traceback for.
        done = "stopped" if args.command == "serve" else "interrupted"
        print(f"magic-hour {args.command}: {done}", file=sys.stderr)
        return 130


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "detect":
        return run_detect(args)
    if args.command == "contract":
        from ._contract import run_contract

        return run_contract(args)
    if args.command == "serve":
        if getattr(args, "missing_extra", False):
            parser.exit(2, f"magic-hour serve needs the server extra:\n    {_SERVER_EXTRA}\n")
        from magic_hour_server._cli import run_serve

        return run_serve(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
