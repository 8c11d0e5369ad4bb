"""Python SDK for Magic Hour face detection.

from magic_hour import Client

client = Client(token="...")
res = client.v1.face_detection.generate(
    assets={"target_file_path": "photo.png"}, download_directory="outputs"
)
print(res.status, res.downloaded_paths)
"""

from magic_hour_client.models import (
    AssetType,
    BoundingBox,
    DetectedFace,
    FaceDetection,
    FaceDetectionCreated,
    FaceDetectionStatus,
    UploadUrl,
    UploadUrls,
)

from ._base_client import Environment
from ._client import AsyncClient, Client
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    MagicHourError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    TaskFailedError,
    TaskTimeoutError,
    UnexpectedTaskStatusError,
    UnprocessableEntityError,
)
from ._events import (
    DownloadFinished,
    DownloadProgress,
    ProgressCallback,
    ProgressEvent,
    TaskCreated,
    TaskProgress,
    UploadProgress,
)
from ._params import RequestOptions
from ._results import Face, Task
from ._transports import AiohttpTransport
from ._version import __version__, warn_if_official_sdk_installed
from ._workflow import FaceDetectionResult

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AiohttpTransport",
    "AssetType",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BoundingBox",
    "Client",
    "ConflictError",
    "DetectedFace",
    "DownloadFinished",
    "DownloadProgress",
    "Environment",
    "Face",
    "FaceDetection",
    "FaceDetectionCreated",
    "FaceDetectionResult",
    "FaceDetectionStatus",
    "InternalServerError",
    "MagicHourError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "ProgressCallback",
    "ProgressEvent",
    "RateLimitError",
    "RequestOptions",
    "ResponseTooLargeError",
    "Task",
    "TaskCreated",
    "TaskFailedError",
    "TaskProgress",
    "TaskTimeoutError",
    "UnexpectedTaskStatusError",
    "UnprocessableEntityError",
    "UploadProgress",
    "UploadUrl",
    "UploadUrls",
    "__version__",
]

warn_if_official_sdk_installed()
