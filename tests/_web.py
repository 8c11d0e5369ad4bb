"""A small static web server on loopback, for tests that need a URL to fetch from."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

Route = tuple[int, dict[str, str], bytes]
"""status, headers, body"""


class StaticWeb:
    """Serves `routes` (path -> route; unknown paths get 404) on `host` in a thread.

    `routes` is read on every request, so it may be filled in after the port is known.
    """

    def __init__(self, routes: dict[str, Route], host: str = "127.0.0.1") -> None:
        self.routes = routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler) -> None:
                status, headers, body = self.routes.get(handler.path, (404, {}, b"missing"))
                handler.send_response(status)
                for key, value in headers.items():
                    handler.send_header(key, value)
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self.port = int(self._httpd.server_address[1])
        self.url = f"http://{host}:{self.port}"

    def __enter__(self) -> StaticWeb:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
