"""What an exception is answered with: status, a `message` in the hosted API's words, and
headers. Shared by every path a request can take (connexion, the direct operations, the
storage routes)."""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
from typing import Any

import sqlalchemy.exc
from connexion.exceptions import ProblemException
from starlette.exceptions import HTTPException
from starlette.responses import Response

from magic_hour_server.api._logging import BodyTimeout, BodyTooLarge
from magic_hour_server.tasks._database import database_went_away

__all__ = ["json_response", "problem", "problem_response"]

log = logging.getLogger("magic_hour_server")

# connexion's own wording for a missing body, in the hosted API's words.
_MESSAGES = {
    "RequestBody is required": "Missing request body",
    "Request body must not be empty": "Missing request body",
}
_STATUS_MESSAGES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


def _message(status: int, detail: Any, title: Any) -> str:
    if status in _STATUS_MESSAGES:
        return _STATUS_MESSAGES[status]
    text = str(detail or title or "Error")
    # A schema validator's report ends with the schema and the instance: the first line
    # says what is wrong.
    text = text.split("\n\nFailed validating", 1)[0].strip()
    return _MESSAGES.get(text, text)


def _out_of_space(exc: Exception) -> bool:
    """True when `exc` says the data directory's disk (or quota) is full."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and isinstance(exc.orig, Exception):
        exc = exc.orig
        if getattr(exc, "sqlstate", None) == "53100":  # PostgreSQL: disk_full
            return True
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    if isinstance(exc, sqlite3.OperationalError):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return False


def problem(exc: Exception) -> tuple[int, str, dict[str, str]]:
    """The status, `message` and headers an exception is answered with."""
    if isinstance(exc, ProblemException):
        status, detail, title = exc.status, exc.detail, exc.title
        headers = exc.headers
    elif isinstance(exc, HTTPException):
        status, detail, title, headers = exc.status_code, exc.detail, None, exc.headers
    elif isinstance(exc, BodyTooLarge | BodyTimeout):
        status, detail, title, headers = 400, str(exc), None, None
    elif _out_of_space(exc):
        # Not the caller's mistake and not a crash: say so, and keep serving reads.
        log.error("out of storage space: %s", exc)
        status, title, headers = 507, None, None
        detail = "Insufficient storage: the server has no space left to keep this"
    elif database_went_away(exc):
        # A database restart or failover: brief, and safe to retry; clients honour Retry-After.
        log.warning("the task database is unavailable: %s", exc)
        status, title, headers = 503, None, {"Retry-After": "1"}
        detail = "Service unavailable: the task database cannot be reached; retry shortly"
    else:
        log.error("unhandled error", exc_info=exc)
        status, detail, title, headers = 500, "Internal Server Error", None, None
    if status == 415:
        # The document's operations answer a body they cannot read with 400, like the hosted API.
        status = 400
    return status, _message(status, detail, title), dict(headers or {})


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """`data` as connexion's JSON responses are written (`json.dumps`, a final newline)."""
    body = (json.dumps(data) + "\n").encode()
    return Response(body, status, headers=headers, media_type="application/json")


def problem_response(exc: Exception) -> Response:
    """The answer to `exc`: its status and headers, and `{"message": ...}`."""
    status, message, headers = problem(exc)
    return json_response({"message": message}, status, headers)
