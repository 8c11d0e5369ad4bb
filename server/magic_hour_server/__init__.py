"""Local reference server for the Magic Hour face-detection API.

`with LocalServer() as server:` runs it on a free loopback port; `server.url` and
`server.token` are what a client needs.

It needs the `server` extra. Without it, importing this package raises ImportError at
once, naming the extra, rather than a ModuleNotFoundError from deep inside when the
server starts.
"""

import importlib.util

SERVER_EXTRA = "pip install 'magic-hour-face-detection[server]'"
_NEEDS = ("connexion", "uvicorn", "onnxruntime", "numpy", "PIL", "av", "sqlalchemy", "alembic")
_missing = [name for name in _NEEDS if importlib.util.find_spec(name) is None]
if _missing:
    raise ImportError(
        f"the local server needs the server extra ({SERVER_EXTRA}); "
        f"not installed: {', '.join(_missing)}",
        name=_missing[0],
    )

from magic_hour_server._local import LocalServer  # noqa: E402

__all__ = ["SERVER_EXTRA", "LocalServer"]
