from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.face_detection_status import FaceDetectionStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.detected_face import DetectedFace


T = TypeVar("T", bound="FaceDetection")


@_attrs_define
class FaceDetection:
    id: str
    """ The id of the task. This value is returned by the [face detection API](https://docs.magichour.ai/api-
    reference/files/face-detection#response-id). """
    credits_charged: int
    """ The credits charged for the task. """
    status: FaceDetectionStatus
    """ The status of the detection. """
    faces: list[DetectedFace]
    """ The faces detected in the image or video. The list is populated as faces are detected. """
    progress: float | Unset = UNSET
    """ Extension: the share of the input processed so far, from 0 to 1. """
    error_message: str | Unset = UNSET
    """ Extension, on a task in status `error`: why it failed. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        credits_charged = self.credits_charged

        status = self.status.value

        faces = []
        for faces_item_data in self.faces:
            faces_item = faces_item_data.to_dict()
            faces.append(faces_item)

        progress = self.progress

        error_message = self.error_message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "credits_charged": credits_charged,
                "status": status,
                "faces": faces,
            }
        )
        if progress is not UNSET:
            field_dict["progress"] = progress
        if error_message is not UNSET:
            field_dict["error_message"] = error_message

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.detected_face import DetectedFace

        d = dict(src_dict)
        id = d.pop("id")

        credits_charged = d.pop("credits_charged")

        status = FaceDetectionStatus(d.pop("status"))

        faces = []
        _faces = d.pop("faces")
        for faces_item_data in _faces:
            faces_item = DetectedFace.from_dict(faces_item_data)

            faces.append(faces_item)

        progress = d.pop("progress", UNSET)

        error_message = d.pop("error_message", UNSET)

        face_detection = cls(
            id=id,
            credits_charged=credits_charged,
            status=status,
            faces=faces,
            progress=progress,
            error_message=error_message,
        )

        face_detection.additional_properties = d
        return face_detection

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
