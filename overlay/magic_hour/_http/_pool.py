"""httpcore 1.0's connection pools with their bookkeeping in one pass (`assign`)."""

from __future__ import annotations

from typing import Any

import httpcore

__all__ = ["AsyncPool", "SyncPool", "assign"]


def assign(pool: Any) -> list[Any]:
    """httpcore's `_assign_requests_to_connections`, in one pass: the connections to
    close, for the caller to close outside the pool's lock.

    A connection given to a request that has not started on it yet still reads as idle:
    it is neither closed as surplus nor given to a second request (httpcore closes it,
    encode/httpcore#1110, and the request goes back in the queue for a new one).

    Whether an idle connection has expired (its keep-alive time is up, or the server
    closed it: a `poll` of its socket) is asked when it is about to be given a request,
    not of every idle connection on every pass: httpcore's pass made a system call per
    idle connection at each request's start and end. An expired connection is closed
    then, and the request gets the next one.
    """
    taken = {id(request.connection) for request in pool._requests if request.connection}
    closing: list[Any] = []
    kept: list[Any] = []
    idle: list[Any] = []
    for connection in pool._connections:
        if connection.is_closed():
            continue
        kept.append(connection)
        if connection.is_idle() and id(connection) not in taken:
            idle.append(connection)
    surplus = len(idle) - pool._max_keepalive_connections
    if surplus > 0:
        # The longest idle first: connections are appended as they are made.
        for connection in idle[:surplus]:
            kept.remove(connection)
            closing.append(connection)
        idle = idle[surplus:]
    pool._connections = kept
    queued = [request for request in pool._requests if request.is_queued()]
    for pool_request in queued:
        origin = pool_request.request.url.origin
        usable = None
        for candidate in [c for c in idle if c.can_handle_request(origin)]:
            idle.remove(candidate)
            if not candidate.has_expired():
                usable = candidate
                break
            kept.remove(candidate)
            closing.append(candidate)
        if usable is not None:
            pool_request.assign_to_connection(usable)
            continue
        if len(kept) >= pool._max_connections:
            if not idle:
                continue  # the request waits for a connection to come free
            spare = idle.pop(0)  # idle, for another origin
            kept.remove(spare)
            closing.append(spare)
        connection = pool.create_connection(origin)
        kept.append(connection)
        pool_request.assign_to_connection(connection)
    return closing


class SyncPool(httpcore.ConnectionPool):
    """httpcore's pool, its bookkeeping in one pass (`assign`)."""

    def _assign_requests_to_connections(self) -> list[Any]:
        return assign(self)


class AsyncPool(httpcore.AsyncConnectionPool):
    """httpcore's async pool, its bookkeeping in one pass (`assign`)."""

    def _assign_requests_to_connections(self) -> list[Any]:
        return assign(self)
