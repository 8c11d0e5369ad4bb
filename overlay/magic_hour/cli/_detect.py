"""`magic-hour detect`: faces from many images and videos at once, with previews."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import shutil
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from . import _outputs
from ._messages import HOSTED_URL, as_source, check_input
from ._preview import INSTALL_HINT, pillow_available
from ._progress import ProgressBoard
from ._report import InputResult, render_json, render_table, summary_line

TOKEN_ENV = "MAGIC_HOUR_API_TOKEN"  # noqa: S105 -- the variable's name, not a secret
BASE_URL_ENV = "MAGIC_HOUR_BASE_URL"

SERVER_EXTRA_HINT = "pip install 'magic-hour-face-detection[server]'"

EPILOG = """\
examples:
  magic-hour detect photo.jpg                      # on this machine, no account needed
  magic-hour detect *.jpg clip.mp4 --out faces --concurrency 4
  magic-hour detect group.png --confidence 0.3 --json > faces.json
  MAGIC_HOUR_API_TOKEN=... magic-hour detect photo.jpg   # on the hosted API

Where it runs: --base-url, else $MAGIC_HOUR_BASE_URL, else the hosted API when
$MAGIC_HOUR_API_TOKEN is set; otherwise (or with --local) an embedded local server.
Each input gets a folder OUT/<name>/ with the face crops, preview.png (boxes and
scores on the image; a contact sheet for a video) and magic-hour.json.
Exit status: 0 when every input succeeded, 1 when any failed, 2 for a usage error.
"""


def confidence(text: str) -> float:
    """A `--confidence` value: a multiple of 0.05 from 0 to 1, as the API accepts."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    steps = value / 0.05
    if not (0.0 <= value <= 1.0) or abs(steps - round(steps)) > 1e-9:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a multiple of 0.05 between 0 and 1 (e.g. 0.5, 0.35)"
        )
    return round(round(steps) * 0.05, 2)


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0 or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
        return value

    return parse


def add_detect_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `magic-hour detect`."""
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="INPUT",
        type=as_source,
        help="images or videos: files, file: URLs, or http(s) URLs the API reads itself",
    )
    parser.add_argument(
        "--confidence",
        type=confidence,
        default=0.5,
        metavar="SCORE",
        help="smallest detector score to keep, a multiple of 0.05 in 0..1 (default 0.5)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("faces"),
        metavar="DIR",
        help="where to write one folder per input (default ./faces)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--base-url", metavar="URL", help=f"API to use (default ${BASE_URL_ENV}, else hosted)"
    )
    where.add_argument(
        "--local", action="store_true", help="use the embedded local server, whatever is set"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--concurrency",
        type=_positive(int),
        default=4,
        metavar="N",
        help="inputs processed at once (default 4)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive(float),
        default=600.0,
        metavar="S",
        help="seconds allowed for one input, upload to download (default 600)",
    )


@dataclass(frozen=True)
class Target:
    """Where detection runs: `local` (embedded server) or `remote` (a URL and its key)."""

    mode: str
    base_url: str | None = None
    token: str | None = None
    reason: str = ""


class UsageError(Exception):
    """A mistake in the command or its environment; exit status 2."""


def resolve_target(args: argparse.Namespace, environ: dict[str, str]) -> Target:
    """`--local`, `--base-url`, $MAGIC_HOUR_BASE_URL, $MAGIC_HOUR_API_TOKEN, else local."""
    token = environ.get(TOKEN_ENV) or None
    if args.local:
        return Target("local", reason="--local")
    base_url = args.base_url or environ.get(BASE_URL_ENV) or None
    if base_url:
        if not base_url.startswith(("http://", "https://")):
            raise UsageError(f"the API address must start with http:// or https://: {base_url}")
        if token is None:
            raise UsageError(
                f"{base_url} needs an API key: set {TOKEN_ENV} (magic-hour serve prints "
                "its token), or use --local"
            )
        return Target("remote", base_url.rstrip("/"), token)
    if token is not None:
        return Target("remote", HOSTED_URL, token)
    return Target("local", reason="no API set; see magic-hour detect --help")


@contextlib.contextmanager
def _quiet_server_logs() -> Iterator[None]:
    """The embedded server logs every request; the command shows only its own output."""
    loggers = [logging.getLogger(n) for n in ("magic_hour_server", "uvicorn", "uvicorn.access")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def _connect(target: Target, board: ProgressBoard) -> Iterator[tuple[str, str]]:
    """Yield (base URL, token); for `local`, with the embedded server running."""
    if target.mode == "remote":
        assert target.base_url is not None and target.token is not None
        yield target.base_url, target.token
        return
    try:
        from magic_hour_server import LocalServer
    except ImportError:
        raise UsageError(
            f"the embedded local server needs the server extra: {SERVER_EXTRA_HINT} "
            f"(or set {TOKEN_ENV} to use the hosted API)"
        ) from None
    with _quiet_server_logs(), contextlib.ExitStack() as stack:
        try:
            with warnings.catch_warnings():
                # The server's web stack warns about its own dependencies as it loads;
                # a person running `detect` can do nothing about that.
                warnings.simplefilter("ignore")
                server = stack.enter_context(LocalServer())
        except Exception as err:
            raise UsageError(f"could not start the embedded local server: {err}") from err
        board.message(
            f"magic-hour: using the embedded local server at {server.url} ({target.reason})"
        )
        yield server.url, server.token


async def _run_all(
    planned: Sequence[_outputs.Planned],
    base_url: str,
    token: str,
    args: argparse.Namespace,
    board: ProgressBoard,
    previews: bool,
    finished: dict[int, InputResult],
) -> list[InputResult]:
    """Every input's result, in order; each is put in `finished` as soon as it is known,
    so that an interrupted run can still say what finished."""
    from .._client import AsyncClient
    from ._job import JobSettings, run_job

    settings = JobSettings(args.confidence, args.timeout, base_url, previews)
    limit = asyncio.Semaphore(args.concurrency)

    async def one(index: int, item: _outputs.Planned) -> InputResult:
        finished[index] = await run_job(client, item, settings, board, limit)
        return finished[index]

    async with AsyncClient(token=token, base_url=base_url) as client:
        return list(await asyncio.gather(*(one(i, item) for i, item in enumerate(planned))))


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: unfinished inputs are discarded, finished ones
    reported."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(*_: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_results(
    results: Sequence[InputResult], args: argparse.Namespace, target: Target, url: str
) -> None:
    if args.json:
        print(render_json(results, server=target.mode, base_url=url))
        return
    # Piped output is for reading in full; only a terminal's width cuts the columns.
    width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 10_000
    print(render_table(results, width=width))
    print(summary_line(results) + (f" -> {args.out}" if any(r.ok for r in results) else ""))


def run_detect(
    args: argparse.Namespace,
    *,
    environ: dict[str, str] | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run `magic-hour detect`; returns the exit status."""
    err = stderr or sys.stderr
    env = dict(os.environ if environ is None else environ)
    show_bars = not args.json and err.isatty() and env.get("TERM") != "dumb"
    board = ProgressBoard(err, enabled=show_bars, total=len(args.paths))
    previews = pillow_available()
    finished: dict[int, InputResult] = {}
    base_url = ""
    if not previews:
        board.message(f"magic-hour: no previews: {INSTALL_HINT}")
    try:
        target = resolve_target(args, env)
        if args.out.exists() and not args.out.is_dir():
            raise UsageError(f"--out {args.out} is a file: name a folder for the results")
        planned = _outputs.plan(args.paths, args.out)
        _outputs.sweep_abandoned(args.out)
        if all(check_input(item.source) for item in planned):
            # Nothing can be sent: say why for each input without starting anything.
            base_url = target.base_url or ""
            results = [
                InputResult(str(p.source), p.name, error=check_input(p.source)) for p in planned
            ]
        else:
            with _sigterm_as_interrupt(), _connect(target, board) as (base_url, token):
                results = asyncio.run(
                    _run_all(planned, base_url, token, args, board, previews, finished)
                )
    except UsageError as problem:
        board.close()
        print(f"magic-hour detect: {problem}", file=err)
        return 2
    except KeyboardInterrupt as stop:
        board.close()
        if finished:
            # What finished is reported (and, with --json, a whole document is printed).
            _print_results(
                [
                    finished.get(i)
                    or InputResult(
                        str(p.source),
                        p.name,
                        error="interrupted before it finished; nothing was written",
                        error_code="interrupted",
                    )
                    for i, p in enumerate(planned)
                ],
                args,
                target,
                base_url,
            )
        print(
            f"magic-hour detect: {'terminated' if isinstance(stop, Terminated) else 'interrupted'}"
            f"; finished inputs are in {args.out}, unfinished ones left nothing behind",
            file=err,
        )
        return 143 if isinstance(stop, Terminated) else 130
    board.close()
    refused = [r for r in results if r.error_code == "unauthorized"]
    if refused:
        # Said once, not once per input: no input can succeed with this key.
        if args.json:
            print(render_json(results, server=target.mode, base_url=base_url))
        print(f"magic-hour detect: {refused[0].error}", file=err)
        return 2
    _print_results(results, args, target, base_url)
    return 0 if all(r.ok for r in results) else 1
