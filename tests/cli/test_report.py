"""The detect command's report: the table a person reads and the JSON a script reads."""

from __future__ import annotations

import json

from magic_hour.cli._report import FaceRecord, InputResult, render_json, render_table, summary_line


def _ok(name: str, faces: int, preview: str | None = None) -> InputResult:
    records = [FaceRecord(file=f"out/{name}/0-{i}.png", url="u", path="p") for i in range(faces)]
    return InputResult(
        input=f"{name}.jpg",
        name=name,
        kind="image",
        ok=True,
        seconds=1.25,
        output_dir=f"out/{name}",
        faces=records,
        preview=preview,
    )


def _failed(name: str, reason: str) -> InputResult:
    return InputResult(input=name, name=name, error=reason)


def test_table_lists_each_input_with_faces_and_time() -> None:
    table = render_table([_ok("group", 5, "out/group/preview.png"), _ok("solo", 1)])
    header, first, second = table.splitlines()
    assert header.split() == ["file", "faces", "time", "output"]
    assert first.split() == ["group.jpg", "5", "1.2s", "out/group/preview.png"]
    assert second.split() == ["solo.jpg", "1", "1.2s", "out/solo"]


def test_failures_follow_the_table_with_their_full_reason() -> None:
    reason = "file not found: check the path " + "x" * 150
    table = render_table([_ok("group", 2), _failed("missing.jpg", reason)], width=60)
    lines = table.splitlines()
    row = next(line for line in lines if line.startswith("missing.jpg"))
    assert "failed" in row
    assert f"  missing.jpg: {reason}" in lines
    assert all(len(line) <= 60 for line in lines[:3])


def test_long_file_names_are_cut_to_the_width() -> None:
    table = render_table([_ok("a" * 200 + "-end", 1)], width=80)
    assert all(len(line) <= 80 for line in table.splitlines())
    cell = table.splitlines()[1].split()[0]
    assert cell.startswith("…a") and cell.endswith("a-end.jpg")


def test_notes_are_shown_for_successful_inputs() -> None:
    result = _ok("solo", 1)
    result.note = "no boxes in the API's answer: preview not drawn"
    assert "solo.jpg: no boxes in the API's answer" in render_table([result])


def test_json_document_counts_failures_and_keeps_every_field() -> None:
    document = json.loads(
        render_json(
            [_ok("group", 2), _failed("bad.txt", "unsupported file type")],
            server="local",
            base_url="http://127.0.0.1:1",
        )
    )
    assert document["server"] == "local"
    assert document["inputs"] == 2
    assert document["failed"] == 1
    good, bad = document["results"]
    assert good["status"] == "ok"
    assert [face["file"] for face in good["faces"]] == ["out/group/0-0.png", "out/group/0-1.png"]
    assert bad == {
        "input": "bad.txt",
        "name": "bad.txt",
        "kind": None,
        "status": "failed",
        "seconds": 0.0,
        "task_id": None,
        "output_dir": None,
        "faces": [],
        "preview": None,
        "note": None,
        "error": "unsupported file type",
        "error_code": None,
    }


def test_summary_line_counts_faces_and_failures() -> None:
    assert summary_line([_ok("a", 1)]) == "1 input, 1 face"
    results = [_ok("a", 2), _ok("b", 3), _failed("c", "x")]
    assert summary_line(results) == "3 inputs, 5 faces, 1 failed"
