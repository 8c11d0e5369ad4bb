from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FaceDetectionAssets")


@_attrs_define
class FaceDetectionAssets:
    """The input of a face detection.

    Example:
        {'target_file_path': 'api-assets/id/1234.png'}

    """

    target_file_path: str
    """ The image or video to detect faces in: an `http(s)` URL, or the `file_path`
    that `POST /v1/files/upload-urls` returned, such as `api-assets/id/1234.png`.
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        target_file_path = self.target_file_path

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "target_file_path": target_file_path,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        target_file_path = d.pop("target_file_path")

        face_detection_assets = cls(
            target_file_path=target_file_path,
        )

        face_detection_assets.additional_properties = d
        return face_detection_assets

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
