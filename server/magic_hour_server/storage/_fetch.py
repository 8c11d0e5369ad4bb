"""Downloading `target_file_path` URLs: size limit, time limit, and an SSRF guard.

The guard sits in the connection itself: every host name is resolved, every address it
resolves to must be public, and the socket connects to one of the checked addresses. So
a redirect to a private address, or a name that resolves differently the second time
(DNS rebinding), is refused as well.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore

from magic_hour_server._media import MediaError

_MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}
_EXTENSION = re.compile(r"[a-z0-9]{1,5}")


class DownloadError(MediaError):
    """The input URL could not be downloaded; `str(err)` says why."""


def refused_reason(address: str) -> str | None:
    """Why connecting to `address` is refused (not a public unicast address), else None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for label, flag in (
        ("a loopback", ip.is_loopback),
        ("an unspecified", ip.is_unspecified),
        ("a link-local", ip.is_link_local),
        ("a multicast", ip.is_multicast),
        ("a private", ip.is_private or not ip.is_global),
    ):
        if flag:
            return f"{label} address ({ip})"
    return None


class _GuardedBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as err:
            raise DownloadError(f"cannot resolve the host {host!r}") from err
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            reason = refused_reason(address)
            if reason is not None:
                raise DownloadError(f"refusing to download from {host!r}: it resolves to {reason}")
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                last = err
        raise DownloadError(f"cannot connect to {host!r}: {last}")


def extension_of(url: str) -> str:
    """The lower-case extension of the URL's path ("" when it has none that looks like one)."""
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower().lstrip(".")
    return suffix if _EXTENSION.fullmatch(suffix) else ""


def download(
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    timeout: float,
    allow_private: bool = False,
) -> str:
    """Save the body at `url` to `dest`, following redirects; returns the final URL.

    Raises DownloadError (a MediaError) when the URL is refused, fails, is too large
    or takes longer than `timeout` seconds in all.
    """
    deadline = time.monotonic() + timeout
    backend = None if allow_private else _GuardedBackend()
    timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    with httpcore.ConnectionPool(
        ssl_context=ssl.create_default_context(), network_backend=backend, retries=0
    ) as pool:
        for _ in range(_MAX_REDIRECTS + 1):
            scheme = urlsplit(url).scheme.lower()
            if scheme not in {"http", "https"}:
                raise DownloadError(f"only http and https URLs can be downloaded, not {scheme!r}")
            try:
                with pool.stream(
                    "GET",
                    url,
                    headers={"User-Agent": "magic-hour-server", "Accept": "*/*"},
                    extensions={"timeout": timeouts},
                ) as response:
                    if response.status in _REDIRECTS:
                        location = _header(response.headers, b"location")
                        if not location:
                            raise DownloadError(f"HTTP {response.status} without a Location")
                        url = urljoin(url, location)
                        continue
                    if not 200 <= response.status < 300:
                        raise DownloadError(f"the download failed with HTTP {response.status}")
                    _save(response, dest, max_bytes, deadline)
                    return url
            except httpcore.TimeoutException as err:
                raise DownloadError(f"the download timed out after {timeout:g} s") from err
            except (
                httpcore.ProtocolError,
                httpcore.NetworkError,
                httpcore.UnsupportedProtocol,
                httpcore.LocalProtocolError,
            ) as err:
                raise DownloadError(f"the download failed: {err or type(err).__name__}") from err
        raise DownloadError(f"more than {_MAX_REDIRECTS} redirects")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _save(response: httpcore.Response, dest: Path, max_bytes: int, deadline: float) -> None:
    declared = _header(response.headers, b"content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise DownloadError(f"the file is larger than the {max_bytes:,} byte limit")
    size = 0
    with dest.open("wb") as file:
        for chunk in response.iter_stream():
            size += len(chunk)
            if size > max_bytes:
                raise DownloadError(f"the file is larger than the {max_bytes:,} byte limit")
            if time.monotonic() > deadline:
                raise DownloadError("the download took too long")
            file.write(chunk)
