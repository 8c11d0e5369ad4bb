from enum import StrEnum


class FaceDetectionStatus(StrEnum):
    COMPLETE = "complete"
    ERROR = "error"
    QUEUED = "queued"
    RENDERING = "rendering"

    def __str__(self) -> str:
        return str(self.value)
