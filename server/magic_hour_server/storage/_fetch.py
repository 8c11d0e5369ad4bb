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


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address reaches through a transition form: mapped
    (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4
    (2002:aabb:ccdd::), Teredo (its server and client)."""
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _IPV4_COMPATIBLE or any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [each for each in found if each is not None]


def refused_reason(address: str) -> str | None:
    """Why connecting to `address` is refused (not a public unicast address, or an IPv6
    form that reaches one that is not), else None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return f"a site-local address ({ip})"
        candidates[:0] = _embedded_ipv4(ip)  # what it reaches says most
    for candidate in candidates:
        for label, flag in (
            ("a loopback", candidate.is_loopback),
            ("an unspecified", candidate.is_unspecified),
            ("a link-local", candidate.is_link_local),
            ("a multicast", candidate.is_multicast),
            ("a private", candidate.is_private or not candidate.is_global),
        ):
            if flag:
                shown = str(ip) if candidate == ip else f"{ip}, which reaches {candidate}"
                return f"{label} address ({shown})"
    return None


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the download's
    deadline: a peer that sends a byte just often enough to beat a per-read timeout
    (headers, redirects or body) still runs out of time."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self._stream, self._deadline = stream, deadline

    def _left(self, timeout: float | None) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the download's deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._left(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(ssl_context, server_hostname, self._left(timeout))
        return _DeadlineStream(stream, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.SyncBackend):
    """Connections that end by `deadline`; with `guard`, only to public addresses."""

    def __init__(self, deadline: float, *, guard: bool) -> None:
        self._deadline, self._guard = deadline, guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("the download's deadline passed")
        timeout = left if timeout is None else min(timeout, left)
        options = (timeout, local_address, socket_options)
        if self._guard:
            stream = self._connect_public(host, port, options)
        else:
            stream = super().connect_tcp(host, port, *options)
        return _DeadlineStream(stream, self._deadline)

    def _connect_public(
        self, host: str, port: int, options: tuple[Any, ...]
    ) -> httpcore.NetworkStream:
        """A connection to one of the addresses `host` resolves to, each of them public."""
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
                return super().connect_tcp(address, port, *options)
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
    backend = _Backend(deadline, guard=not allow_private)
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
