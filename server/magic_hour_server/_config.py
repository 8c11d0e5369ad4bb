"""The server's settings: where it keeps data, who may call it, and its limits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024


def default_data_dir() -> Path:
    """The per-user data directory (e.g. ~/.local/share/magic-hour-server on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("magic-hour-server", appauthor=False))


def default_workers() -> int:
    # Two workers keep one slow video from holding up every image, and on a small machine
    # more would only make the detections share the same cores.
    return max(1, min(2, os.cpu_count() or 1))


@dataclass
class Settings:
    """Everything `create_app` needs; the CLI and `LocalServer` fill it in."""

    data_dir: Path
    tokens: list[str] = field(repr=False)
    public_url: str = "http://127.0.0.1:8000"
    allow_private_urls: bool = False
    workers: int = field(default_factory=default_workers)
    retention_days: float = 7.0
    sweep_interval: float = 3600.0
    max_upload_bytes: int = 500 * MIB
    max_json_bytes: int = 64 * 1024
    max_download_bytes: int = 500 * MIB
    download_timeout: float = 60.0
    body_timeout: float = 30.0
    upload_url_ttl: float = 3600.0
    face_url_ttl: float = 7 * 24 * 3600.0
    video_sample_fps: float = 4.0
    database: str | None = field(default=None, repr=False)
    """A database URL (`postgresql://...`); None: SQLite in the data directory."""
    role: str = "all"
    """"api" only answers HTTP, "worker" only detects, "all" does both (one process)."""
    lease_seconds: float = 30.0
    """How long a worker's claim on a task lasts without a heartbeat (PostgreSQL)."""
    database_wait_seconds: float = 5.0
    """How long a request waits for a database that went away (a restart, a failover)
    before it is answered 503 with Retry-After."""
    shutdown_grace_seconds: float = 10.0
    """On SIGTERM, how long a worker lets its current detections finish before it hands
    them back to the queue for another worker."""
    max_wait_seconds: float = 30.0
    """The longest `Prefer: wait=N` honoured on reading a task (longer ones are capped)."""
    keep_all_faces: bool = False
    """Videos: also list faces too small, dark or blurred for a face swap (photos list
    every face regardless)."""
    detector_precision: str = "fp32"
    """"int8" runs the statically quantized detector (faster; see the README's figures)."""
    multi_scale_detection: bool = False
    """Photos: a second, finer detector pass for small faces (about five times the cost)."""
    # Limits against hostile or broken clients (docs/reliability.md, "Limits").
    max_header_bytes: int = 32 * 1024
    """A request's headers past this are answered 431 and the connection closed."""
    header_timeout: float = 10.0
    """Seconds a request (or a new connection) has to send its headers, else 408."""
    keep_alive_timeout: int = 5
    """Seconds an idle kept-alive connection stays open."""
    min_body_rate: float = 8 * 1024
    """Bytes a second a request body must average once `body_timeout` seconds have
    passed; a slower one is cut."""
    max_connections: int = 1000
    """Connections open at once per process; past it, 503 with Retry-After."""
    max_held_polls: int = 500
    """Reads held by `Prefer: wait` at once per process; past it, reads answer at once."""
    quota_per_minute: int = 1200
    """Creates and upload URLs per API token per minute (in bursts of as many), per
    process; past it, 429 with Retry-After. 0: no quota. A photo through `generate()`
    takes two: 600 photos go through at full speed, then 10 a second."""
    max_video_seconds: float = 1800.0
    """A video longer than this ends in error (declared or decoded)."""
    max_video_frames: int = 108_000
    """A video with more frames than this ends in error (30 minutes at 60 fps)."""
    max_task_seconds: float = 900.0
    """A task still running after this ends in error; its download counts too."""

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.public_url = self.public_url.rstrip("/")
        if not self.tokens:
            raise ValueError("at least one API token is needed")
        if self.workers < 0:
            raise ValueError("workers must be 0 or more")
        if not 0 <= self.max_wait_seconds <= 3600:
            raise ValueError("max_wait_seconds must be between 0 and 3600")
        if self.role not in ("all", "api", "worker"):
            raise ValueError("role must be 'all', 'api' or 'worker'")
        if self.role != "all" and not (self.database or "").startswith("postgres"):
            raise ValueError(
                "--role api and --role worker need a shared database: --database postgresql://..."
            )
        if self.detector_precision not in ("fp32", "int8"):
            raise ValueError("detector_precision must be 'fp32' or 'int8'")
        if not self.video_sample_fps > 0:
            raise ValueError("video_sample_fps must be more than 0")
        for name in (
            "max_header_bytes", "header_timeout", "keep_alive_timeout", "max_connections",
            "max_video_seconds", "max_video_frames", "max_task_seconds",
        ):  # fmt: skip
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be more than 0")
        if self.quota_per_minute < 0 or self.max_held_polls < 0 or self.min_body_rate < 0:
            raise ValueError("quota_per_minute, max_held_polls and min_body_rate must be 0 or more")
