"""One result folder per input, replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from magic_hour.cli import _outputs


def test_folder_names_come_from_the_stem_made_safe() -> None:
    assert _outputs.folder_name(Path("a/b/group photo.jpg")) == "group_photo"
    assert _outputs.folder_name(Path("..jpg")) == "input"
    assert _outputs.folder_name(Path("/x/élan.png")) == "élan"


def test_duplicate_stems_get_numbered_folders(tmp_path: Path) -> None:
    planned = _outputs.plan(
        [Path("a/face.jpg"), Path("b/face.jpg"), Path("FACE.mp4"), Path("other.png")], tmp_path
    )
    assert [p.name for p in planned] == ["face", "face-2", "FACE-3", "other"]
    assert planned[1].directory == tmp_path / "face-2"


def test_a_folder_we_did_not_write_is_never_reused(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "keep.txt").write_text("mine")
    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / _outputs.MANIFEST).write_text("{}")
    planned = _outputs.plan([Path("photos.jpg"), Path("earlier.jpg")], tmp_path)
    assert [p.name for p in planned] == ["photos-2", "earlier"]


def test_publish_replaces_an_earlier_run_whole(tmp_path: Path) -> None:
    final = tmp_path / "face"
    final.mkdir()
    (final / _outputs.MANIFEST).write_text("{}")
    (final / "0-7.png").write_bytes(b"old")
    staging = _outputs.staging_for(final)
    (staging / "0-0.png").write_bytes(b"new")
    _outputs.write_manifest(staging, {"faces": 1})
    _outputs.publish(staging, final)
    assert sorted(p.name for p in final.iterdir()) == ["0-0.png", _outputs.MANIFEST]
    assert [p.name for p in tmp_path.iterdir()] == ["face"]  # no staging or old folder left


def test_publish_refuses_to_replace_a_folder_that_is_not_ours(tmp_path: Path) -> None:
    final = tmp_path / "photos"
    final.mkdir()
    (final / "keep.txt").write_text("mine")
    staging = _outputs.staging_for(final)
    with pytest.raises(FileExistsError):
        _outputs.publish(staging, final)
    assert (final / "keep.txt").read_text() == "mine"


def test_discard_removes_the_staging_folder(tmp_path: Path) -> None:
    staging = _outputs.staging_for(tmp_path / "out" / "face")
    (staging / "0-0.png").write_bytes(b"x")
    assert staging.name.startswith(".face.partial-")
    _outputs.discard(staging)
    assert list((tmp_path / "out").iterdir()) == []
