"""What the command line says when an input fails: the reason and what to do, no traceback."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from .._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    MagicHourError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    TaskFailedError,
    TaskTimeoutError,
)
from .._uploads import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, path_from_file_url

SUPPORTED = ", ".join(sorted({*IMAGE_EXTENSIONS, *VIDEO_EXTENSIONS}))


Source = Path | str
"""An input: a local file, or (as a str) an http(s) URL or an `api-assets/...` path,
which the API reads itself."""

_REMOTE = ("http://", "https://", "api-assets/")


def as_source(text: str) -> Source:
    """An input as given on the command line: URLs and `api-assets/` paths stay text (a
    Path would fold `https://` into `https:/`); a `file:` URL is its local path."""
    if text.lower().startswith(_REMOTE):
        return text
    if text.lower().startswith("file:"):
        return path_from_file_url(text)
    return Path(text)


def source_name(source: Source) -> str:
    """The input's file name: the last part of its path (of a URL's path)."""
    if isinstance(source, Path):
        return source.name
    return PurePosixPath(urlsplit(source).path).name or urlsplit(source).netloc


def kind_of(source: Source) -> str | None:
    """`image` or `video` from the extension, as the API decides; None when unsupported."""
    extension = PurePosixPath(source_name(source)).suffix.lower().lstrip(".")
    if extension in VIDEO_EXTENSIONS:
        return "video"
    if extension in IMAGE_EXTENSIONS:
        return "image"
    return None


def check_input(path: Source) -> str | None:
    """Why `path` cannot be sent, before any request; None when it can. A URL is read by
    the API: only its extension is checked here."""
    if isinstance(path, str):
        if kind_of(path) is None:
            shown = PurePosixPath(source_name(path)).suffix or "(no extension)"
            return f"unsupported file type {shown}: use an image or video ({SUPPORTED})"
        return None
    if not path.exists():
        return "file not found: check the path"
    if path.is_dir():
        return "is a folder: pass the image or video files inside it"
    if kind_of(path) is None:
        shown = path.suffix or "(no extension)"
        return f"unsupported file type {shown}: use an image or video ({SUPPORTED})"
    try:
        with path.open("rb"):
            pass
    except OSError as err:
        return f"cannot read the file: {err.strerror or err}"
    return None


HOSTED_URL = "https://api.magichour.ai"

# Stable codes for scripts reading `--json`, most specific first; the messages may change.
_CODES: tuple[tuple[type[BaseException], str], ...] = (
    (AuthenticationError, "unauthorized"),
    (PaymentRequiredError, "payment_required"),
    (RateLimitError, "rate_limited"),
    (NotFoundError, "not_found"),
    (TaskFailedError, "detection_failed"),
    (TaskTimeoutError, "timed_out"),
    (APITimeoutError, "timed_out"),
    (APIConnectionError, "unreachable"),
    (TimeoutError, "timed_out"),
    (FileNotFoundError, "file_not_found"),
    (PermissionError, "permission_denied"),
    (ValueError, "invalid_input"),
    (OSError, "write_failed"),
)


def error_code(err: BaseException) -> str:
    """The stable code of an input's failure (`--json`'s `error_code`)."""
    if isinstance(err, APIStatusError) and not isinstance(
        err, AuthenticationError | PaymentRequiredError | RateLimitError | NotFoundError
    ):
        return "server_error" if err.status_code >= 500 else "rejected"
    for kind, code in _CODES:
        if isinstance(err, kind):
            return code
    return "unexpected"


def unauthorized(base_url: str) -> str:
    """What to do when the API refuses the key: the advice depends on which API it is."""
    if base_url.rstrip("/") == HOSTED_URL:
        return (
            "the hosted API refused the key (401 Unauthorized): set MAGIC_HOUR_API_TOKEN to a "
            "valid API key, or unset it to use the embedded local server"
        )
    return (
        f"{base_url} refused the key (401 Unauthorized): set MAGIC_HOUR_API_TOKEN to a key "
        "that server accepts (its MAGIC_HOUR_SERVER_TOKENS), or use --local for the embedded "
        "local server"
    )


def describe(
    err: BaseException, *, base_url: str, timeout: float, status: str | None = None
) -> str:
    """One line that says what went wrong and what to do about it."""
    if isinstance(err, AuthenticationError):
        return unauthorized(base_url)
    if isinstance(err, PaymentRequiredError):
        return "payment required (402): the account has no credits left for this detection"
    if isinstance(err, RateLimitError):
        return "rate limited (429) after retries: use a lower --concurrency or try again later"
    if isinstance(err, NotFoundError):
        return f"not found (404) at {base_url}: check that --base-url points to the API"
    if isinstance(err, APIStatusError):
        if err.status_code >= 500:
            return f"the server failed ({err.status_code}: {err.message}): try again later"
        return f"the API refused this input ({err.status_code}): {err.message}"
    if isinstance(err, TaskFailedError):
        return f"detection failed on the server: {err.error_message or 'no reason given'}"
    if isinstance(err, TaskTimeoutError):
        return (
            f"detection did not finish within {timeout:g} s (last status: {err.status}): "
            "raise --timeout"
        )
    if isinstance(err, APITimeoutError):
        return f"{base_url} did not answer in time: check the network, or raise --timeout"
    if isinstance(err, APIConnectionError):
        return (
            f"cannot reach {base_url} ({err}): check the address and the network, or that "
            "the server is running (magic-hour serve), or use --local"
        )
    if isinstance(err, MagicHourError):
        return str(err)
    if isinstance(err, TimeoutError):
        last = f" (last status: {status})" if status else ""
        return f"not done within {timeout:g} s{last}: raise --timeout"
    if isinstance(err, FileNotFoundError):
        return f"file not found: {err.filename or err}"
    if isinstance(err, PermissionError):
        return f"permission denied: {err.filename or err}"
    if isinstance(err, ValueError):
        return str(err)
    if isinstance(err, OSError):
        where = f" ({err.filename})" if err.filename else ""
        return f"cannot write the results{where}: {err.strerror or err}"
    return f"unexpected error: {type(err).__name__}: {err}"
