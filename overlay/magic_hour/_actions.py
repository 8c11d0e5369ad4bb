"""The actions a workflow asks its driver to carry out, and the stepper that runs it.

A workflow is a generator: it yields an action (send this request, sleep this long, run
these sub-workflows at once, make this blocking disk call), the driver performs it and
sends back the outcome (or throws the exception it raised). All decisions live in the
workflow; the sync and the async driver differ only in how they wait and do I/O.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any, Generic, TypeVar

import attrs
import httpx

from ._downloads import DownloadFile
from ._errors import ResponseTooLargeError

__all__ = [
    "Action",
    "Blocking",
    "Flow",
    "Gather",
    "Outcome",
    "Reading",
    "Send",
    "Sleep",
    "Stepper",
    "past_deadline",
]

T = TypeVar("T")


@attrs.frozen
class Send:
    """Send `request`; the outcome is the `httpx.Response`, its body read.

    With a `sink`, a successful body is streamed into it instead of being kept. The
    driver stops the exchange when its decoded body passes `max_bytes` (so compression
    cannot smuggle more) or when it lasts longer than `deadline` seconds in all, however
    the peer trickles its headers or body.
    """

    request: httpx.Request
    sink: DownloadFile | None = None
    max_bytes: int | None = None
    deadline: float | None = None


class Reading:
    """The body of one `Send` as it streams in: kept (or handed to the sink) chunk by
    chunk, and stopped when it passes the action's size or time limit. Both drivers read
    through it; they differ only in how they wait for the next chunk."""

    def __init__(self, action: Send, response: httpx.Response, started: float) -> None:
        self.action, self.response, self.started = action, response, started
        self.received = 0
        self.body: bytearray | None = None
        if action.sink is None or not response.is_success:
            self.body = bytearray()
        else:
            action.sink.start(response)

    def take(self, chunk: bytes, now: float) -> None:
        self.received += len(chunk)
        limit = self.action.max_bytes
        if limit is not None and self.received > limit:
            raise ResponseTooLargeError(
                f"the answer to {self.action.request.method} {self.action.request.url.path} "
                f"is larger than the {limit:,} bytes this client reads (max_"
                f"{'face' if self.action.sink else 'response'}_bytes); it was cut off",
                response=self.response,
            )
        self.check_time(now)
        if self.body is not None:
            self.body += chunk
        else:
            assert self.action.sink is not None
            self.action.sink.write(chunk)

    def check_time(self, now: float) -> None:
        deadline = self.action.deadline
        if deadline is not None and now - self.started > deadline:
            raise past_deadline(self.action)

    def result(self) -> httpx.Response:
        """The response, with the body that was read (already decoded)."""
        if self.body is None:
            return self.response
        skip = {"content-encoding", "content-length", "transfer-encoding"}
        return httpx.Response(
            self.response.status_code,
            headers=[(k, v) for k, v in self.response.headers.multi_items() if k not in skip],
            content=bytes(self.body),
            request=self.action.request,
            extensions=self.response.extensions,
        )


def past_deadline(action: Send) -> httpx.ReadTimeout:
    """What a request that outlived its deadline raises: a timeout, as httpx's are."""
    return httpx.ReadTimeout(
        f"{action.request.method} {action.request.url.path} took longer than its "
        f"timeout ({action.deadline:g} s) in all",
        request=action.request,
    )


@attrs.frozen
class Sleep:
    """Wait `seconds`; the outcome is None."""

    seconds: float


@attrs.frozen
class Blocking:
    """Call `function`, which waits on the local disk (a download's fsync); the outcome is
    what it returns. The async driver calls it in a thread: its event loop must not wait
    milliseconds for a disk."""

    function: Callable[[], Any]


@attrs.frozen
class Gather:
    """Run `flows` concurrently, at most `limit` at a time; the outcome is their results
    in order. The first failure cancels the rest and is raised."""

    flows: Sequence[Flow[Any]]
    limit: int


Action = Send | Sleep | Gather | Blocking
Flow = Generator[Action, Any, T]


class Outcome:
    """The result of one action, filled by the driver inside `with outcome:`.

    An exception raised in the block is kept, to be thrown into the workflow, so that
    the workflow decides (retry, clean up, give up). BaseExceptions such as
    KeyboardInterrupt or a cancellation are not caught: they end the run.
    """

    def __init__(self) -> None:
        self.value: Any = None
        self.error: Exception | None = None

    def __enter__(self) -> Outcome:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> bool:
        if isinstance(exc, Exception):
            self.error = exc
            return True
        return False


class Stepper(Generic[T]):
    """Steps a workflow: iterating gives `(action, outcome)` pairs until it returns.

    Use it as a context manager: leaving closes the workflow, so its clean-up (such as
    deleting a half-written download) runs even when the driver is interrupted.
    """

    def __init__(self, flow: Flow[T]) -> None:
        self._flow = flow
        self._result: T | None = None
        self._done = False

    @property
    def result(self) -> T:
        """What the workflow returned."""
        assert self._done, "the workflow has not finished"
        return self._result  # type: ignore[return-value]

    def __iter__(self) -> Iterator[tuple[Action, Outcome]]:
        outcome = Outcome()
        while True:
            try:
                if outcome.error is not None:
                    action = self._flow.throw(outcome.error)
                else:
                    action = self._flow.send(outcome.value)
            except StopIteration as stop:
                self._result, self._done = stop.value, True
                return
            outcome = Outcome()
            yield action, outcome

    def __enter__(self) -> Stepper[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._flow.close()
