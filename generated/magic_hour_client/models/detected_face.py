from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.bounding_box import BoundingBox


T = TypeVar("T", bound="DetectedFace")


@_attrs_define
class DetectedFace:
    path: str
    """ The path to the face image. This should be used in face swap photo/video API calls as
    `.assets.face_mappings.original_face` """
    url: str
    """ The url to the face image. This is used to render the image in your applications. """
    box: BoundingBox | Unset = UNSET
    """ Extension: a face's box in the input's pixels, before any margin. """
    score: float | Unset = UNSET
    """ Extension: the detector's confidence in this face. """
    frame: int | Unset = UNSET
    """ Extension: the frame number the face image was taken from. """
    frame_time: float | Unset = UNSET
    """ Extension, for a video: the time of that frame, in seconds. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        path = self.path

        url = self.url

        box: dict[str, Any] | Unset = UNSET
        if not isinstance(self.box, Unset):
            box = self.box.to_dict()

        score = self.score

        frame = self.frame

        frame_time = self.frame_time

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "path": path,
                "url": url,
            }
        )
        if box is not UNSET:
            field_dict["box"] = box
        if score is not UNSET:
            field_dict["score"] = score
        if frame is not UNSET:
            field_dict["frame"] = frame
        if frame_time is not UNSET:
            field_dict["frame_time"] = frame_time

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.bounding_box import BoundingBox

        d = dict(src_dict)
        path = d.pop("path")

        url = d.pop("url")

        _box = d.pop("box", UNSET)
        box: BoundingBox | Unset
        if isinstance(_box, Unset):
            box = UNSET
        else:
            box = BoundingBox.from_dict(_box)

        score = d.pop("score", UNSET)

        frame = d.pop("frame", UNSET)

        frame_time = d.pop("frame_time", UNSET)

        detected_face = cls(
            path=path,
            url=url,
            box=box,
            score=score,
            frame=frame,
            frame_time=frame_time,
        )

        detected_face.additional_properties = d
        return detected_face

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
