"""The `magic-hour` command."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from importlib import metadata

_SERVER_EXTRA = "pip install 'magic-hour-face-detection[server]'"


def _version() -> str:
    try:
        return metadata.version("magic-hour-face-detection")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="magic-hour", description="Magic Hour face detection from the command line."
    )
    parser.add_argument("--version", action="version", version=f"magic-hour {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="run the local reference server", description="Run the local server."
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
    if args.command == "serve":
        if getattr(args, "missing_extra", False):
            parser.exit(2, f"magic-hour serve needs the server extra:\n    {_SERVER_EXTRA}\n")
        from magic_hour_server._cli import run_serve

        return run_serve(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
