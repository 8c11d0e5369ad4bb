"""Contains all the data models used in inputs/outputs"""

from .asset_type import AssetType
from .bounding_box import BoundingBox
from .detected_face import DetectedFace
from .error_message import ErrorMessage
from .face_detection import FaceDetection
from .face_detection_assets import FaceDetectionAssets
from .face_detection_created import FaceDetectionCreated
from .face_detection_request import FaceDetectionRequest
from .face_detection_status import FaceDetectionStatus
from .upload_url import UploadUrl
from .upload_urls import UploadUrls
from .upload_urls_request import UploadUrlsRequest
from .upload_urls_request_item import UploadUrlsRequestItem

__all__ = (
    "AssetType",
    "BoundingBox",
    "DetectedFace",
    "ErrorMessage",
    "FaceDetection",
    "FaceDetectionAssets",
    "FaceDetectionCreated",
    "FaceDetectionRequest",
    "FaceDetectionStatus",
    "UploadUrl",
    "UploadUrls",
    "UploadUrlsRequest",
    "UploadUrlsRequestItem",
)
