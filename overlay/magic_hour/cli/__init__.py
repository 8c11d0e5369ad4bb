"""The `magic-hour` command: `detect`, `serve` and `contract`. Built on the SDK's public
API; the server is imported only by `serve` and `detect --local`."""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
