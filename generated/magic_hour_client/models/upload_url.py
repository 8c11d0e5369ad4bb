from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="UploadUrl")


@_attrs_define
class UploadUrl:
    """Where to upload one file, and the path to use it by.

    Example:
        {'upload_url': 'https://videos.magichour.ai/api-assets/id/video.mp4?auth-value=1234567890', 'expires_at':
            '2024-07-25T16:56:21.932Z', 'file_path': 'api-assets/id/video.mp4'}

    """

    upload_url: str
    """ Send `PUT` here with the file's raw bytes. Needs no API key. """
    expires_at: datetime.datetime
    """ When `upload_url` stops working. """
    file_path: str
    """ The path to pass as `target_file_path` once uploaded. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        upload_url = self.upload_url

        expires_at = self.expires_at.isoformat()

        file_path = self.file_path

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "upload_url": upload_url,
                "expires_at": expires_at,
                "file_path": file_path,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        upload_url = d.pop("upload_url")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        file_path = d.pop("file_path")

        upload_url = cls(
            upload_url=upload_url,
            expires_at=expires_at,
            file_path=file_path,
        )

        upload_url.additional_properties = d
        return upload_url

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
