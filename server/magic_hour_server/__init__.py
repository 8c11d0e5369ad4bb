"""Local reference server for the Magic Hour face-detection API.

`with LocalServer() as server:` runs it on a free loopback port; `server.url` and
`server.token` are what a client needs.
"""

from magic_hour_server._local import LocalServer

__all__ = ["LocalServer"]
