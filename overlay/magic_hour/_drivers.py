"""The two drivers that carry out workflow actions: one blocking, one for asyncio.

They hold no decisions: each only sends, sleeps, makes blocking disk calls (the async one
in a thread) and runs sub-workflows side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from ._actions import Action, Blocking, Flow, Gather, Reading, Sleep, Stepper, past_deadline

__all__ = ["AsyncDriver", "SyncDriver"]

T = TypeVar("T")


class SyncDriver:
    """Runs workflows with an `httpx.Client`, blocking; parallel work runs in threads."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.sleep: Callable[[float], None] = time.sleep

    def run(self, flow: Flow[T]) -> T:
        """Carry out the workflow's actions until it returns; its result."""
        with Stepper(flow) as stepper:
            for action, outcome in stepper:
                with outcome:
                    outcome.value = self._perform(action)
        return stepper.result

    def _perform(self, action: Action) -> Any:
        if isinstance(action, Sleep):
            return self.sleep(action.seconds)
        if isinstance(action, Blocking):
            return action.function()
        if isinstance(action, Gather):
            with ThreadPoolExecutor(action.limit, thread_name_prefix="magic_hour") as pool:
                futures = [pool.submit(self.run, flow) for flow in action.flows]
                try:
                    return [future.result() for future in futures]
                finally:  # after a failure, start nothing more
                    pool.shutdown(cancel_futures=True)
        # A trickled body is stopped between chunks; per-phase timeouts are httpx's own.
        started = time.monotonic()
        response = self.http.send(action.request, stream=True)
        with contextlib.closing(response):
            reading = Reading(action, response, started)
            reading.check_time(time.monotonic())
            for chunk in response.iter_bytes():
                reading.take(chunk, time.monotonic())
        return reading.result()


class AsyncDriver:
    """Runs workflows with an `httpx.AsyncClient` on asyncio; parallel work runs as tasks."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def run(self, flow: Flow[T]) -> T:
        """Carry out the workflow's actions until it returns; its result."""
        with Stepper(flow) as stepper:
            for action, outcome in stepper:
                with outcome:
                    outcome.value = await self._perform(action)
        return stepper.result

    async def _perform(self, action: Action) -> Any:
        if isinstance(action, Sleep):
            return await self.sleep(action.seconds)
        if isinstance(action, Blocking):
            return await asyncio.to_thread(action.function)
        if isinstance(action, Gather):
            return await self._gather(action)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            # The whole exchange, headers included, within the deadline.
            async with asyncio.timeout(action.deadline):
                response = await self.http.send(action.request, stream=True)
                try:
                    reading = Reading(action, response, started)
                    async for chunk in response.aiter_bytes():
                        reading.take(chunk, loop.time())
                finally:
                    await response.aclose()
        except TimeoutError:
            raise past_deadline(action) from None
        return reading.result()

    async def _gather(self, gather: Gather) -> list[Any]:
        slots = asyncio.Semaphore(gather.limit)

        async def run_one(flow: Flow[Any]) -> Any:
            async with slots:
                return await self.run(flow)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(run_one(flow)) for flow in gather.flows]
        except BaseExceptionGroup as failure:
            # One face failing is one error to the caller, not a group of them.
            raise failure.exceptions[0] from None
        return [task.result() for task in tasks]
