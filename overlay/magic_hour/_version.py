"""The installed distribution: its version, and the other distribution that provides
the same import name.

`magic_hour` is also the official Magic Hour SDK's package (distribution `magic-hour`),
whose examples this SDK keeps working. Installed side by side, the two write the same
folder: whichever was installed last is what `import magic_hour` gives, and
uninstalling either removes files the other needs. `warn_if_official_sdk_installed`
says so, once, at import.
"""

from __future__ import annotations

import warnings
from importlib import metadata
from importlib.metadata import PackageNotFoundError, version

__all__ = [
    "OFFICIAL_DISTRIBUTION",
    "ShadowedPackageWarning",
    "__version__",
    "warn_if_official_sdk_installed",
]

try:
    __version__ = version("magic-hour-face-detection")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

OFFICIAL_DISTRIBUTION = "magic-hour"


class ShadowedPackageWarning(UserWarning):
    """Two installed distributions provide the `magic_hour` package."""


def warn_if_official_sdk_installed() -> None:
    try:
        official = metadata.distribution(OFFICIAL_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return
    warnings.warn(
        f"both {OFFICIAL_DISTRIBUTION} {official.version} (the official SDK) and "
        "magic-hour-face-detection are installed, and both provide the package magic_hour: "
        "the one installed last is imported, and uninstalling either breaks the other. "
        "Keep them in separate virtual environments.",
        ShadowedPackageWarning,
        stacklevel=3,
    )
