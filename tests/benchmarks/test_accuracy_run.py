"""The accuracy benchmark end to end on a tiny labelled set made here, with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import _accuracy
from benchmarks._common import Figure, astronaut_640x480, save_jpeg


def _labelled_set(root: Path, boxes: list[dict[str, object]]) -> Path:
    (root / "images").mkdir(parents=True)
    save_jpeg(astronaut_640x480(), root / "images" / "astronaut.jpg")
    entry = {"file": "images/astronaut.jpg", "width": 640, "height": 480, "faces": boxes}
    (root / "annotations.json").write_text(json.dumps([entry]))
    return root


def _by_name(figures: list[Figure]) -> dict[str, float]:
    return {figure.name: figure.value for figure in figures}


@pytest.mark.timeout(120)
def test_a_labelled_face_is_found_and_a_label_on_empty_sky_is_missed(tmp_path: Path) -> None:
    # The astronaut's face, hand-labelled hairline to chin, and a box on the empty sky.
    face: dict[str, object] = {"x": 222, "y": 62, "w": 118, "h": 160, "ignore": False}
    sky: dict[str, object] = {"x": 560, "y": 10, "w": 40, "h": 40, "ignore": False}
    values = _by_name(_accuracy.run(_labelled_set(tmp_path / "set", [face, sky])))
    assert values["recall at confidence 0.5, all"] == pytest.approx(0.5)
    assert values["precision at confidence 0.5, all"] == pytest.approx(1.0)
    assert values["recall at confidence 0.5, h > 96 px"] == pytest.approx(1.0)
    assert values["recall at confidence 0.5, h 32-96 px"] == pytest.approx(0.0)
    assert 0.45 <= values["AP@IoU0.5, all"] <= 0.5


def test_an_absent_set_is_skipped_not_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _accuracy.run(tmp_path / "missing") == []
    assert "skipped" in capsys.readouterr().out


@pytest.mark.timeout(180)
def test_each_set_is_reported_apart_and_a_set_of_tiny_faces_is_not_shrunk(
    tmp_path: Path,
) -> None:
    face: dict[str, object] = {"x": 222, "y": 62, "w": 118, "h": 160, "ignore": False}
    tiny: list[dict[str, object]] = [
        {"x": 20 * n, "y": 400, "w": 12, "h": 16, "ignore": False} for n in range(1, 4)
    ]
    news = _labelled_set(tmp_path / "news", [face])
    crowd = _labelled_set(tmp_path / "crowd", [face, *tiny])
    figures = _accuracy.run_sets([news, crowd])
    sections = {figure.section for figure in figures}
    assert sections == {_accuracy.SECTION, f"{_accuracy.SECTION} - crowd"}
    shrunk = [f.name for f in figures if "shrunk" in f.name]
    assert shrunk and all(f.section == _accuracy.SECTION for f in figures if "shrunk" in f.name)
    crowd_values = {f.name: f.value for f in figures if f.section.endswith("crowd")}
    assert crowd_values["recall at confidence 0.5, h > 96 px"] == pytest.approx(1.0)
    assert crowd_values["recall at confidence 0.5, h < 32 px"] == pytest.approx(0.0)
