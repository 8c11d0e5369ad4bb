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

from ._actions import Action, Blocking, Flow, Gather, Sleep, Stepper

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
        response = self.http.send(action.request, stream=True)
        with contextlib.closing(response):
            if action.sink is None or not response.is_success:
                response.read()
                return response
            action.sink.start(response)
            for chunk in response.iter_bytes():
                action.sink.write(chunk)
        return response


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
        response = await self.http.send(action.request, stream=True)
        try:
            if action.sink is None or not response.is_success:
                await response.aread()
            else:
                action.sink.start(response)
                async for chunk in response.aiter_bytes():
                    action.sink.write(chunk)
        finally:
            await response.aclose()
        return response

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
