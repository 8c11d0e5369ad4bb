"""Facts the API document states in prose, as data: written by the build
(scripts/apispec/_facts.py) from `x-accepted-extensions` in openapi/face-detection.yaml.
Never edit it: `make generate` writes it and `make check-generated` checks it."""

UPLOAD_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "video": (
        "mp4",
        "m4v",
        "mov",
        "webm",
    ),
    "audio": (
        "mp3",
        "wav",
        "aac",
        "flac",
        "webm",
        "weba",
        "m4a",
        "opus",
        "ogg",
        "oga",
        "aiff",
        "amr",
    ),
    "image": (
        "png",
        "jpg",
        "jpeg",
        "jfif",
        "heic",
        "heif",
        "webp",
        "avif",
        "jp2",
        "tiff",
        "tif",
        "bmp",
    ),
    "gif": (
        "gif",
        "webp",
        "webm",
    ),
}
"""The file extensions the API takes for an upload, by asset type, in the
document's order.
"""
