from enum import StrEnum


class AssetType(StrEnum):
    AUDIO = "audio"
    IMAGE = "image"
    VIDEO = "video"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "AssetType | None":
        """A value the document does not list, which the API may add: kept as a member of
        its own (compares equal to its string), not a parse failure."""
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member
