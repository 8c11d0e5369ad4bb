"""`magic-hour` end to end: a subprocess, the embedded server, real photos, real files."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
from pathlib import Path
from typing import Any

import pytest
from magic_hour import __version__
from PIL import Image

from .conftest import MAGIC_HOUR, clean_env, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

# Where scripts/demo_samples.py pastes the five faces of group.jpg: (left, top, right, bottom).
GROUP_FACES = [
    (30, 150, 210, 356),
    (240, 60, 390, 210),
    (420, 260, 570, 438),
    (600, 100, 730, 230),
    (770, 300, 930, 460),
]


def _centre_inside(box: dict[str, int], area: tuple[int, int, int, int]) -> bool:
    x = box["x"] + box["width"] / 2
    y = box["y"] + box["height"] / 2
    return area[0] <= x <= area[2] and area[1] <= y <= area[3]


def _is_png(path: Path) -> bool:
    with Image.open(path) as image:
        image.verify()
        return image.format == "PNG"


@pytest.fixture(scope="module")
def mixed_run(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two good images, a missing file, an unsupported one and one the server cannot
    read, in one JSON run."""
    out = tmp_path_factory.mktemp("mixed") / "out"
    notes = samples / "notes.txt"
    notes.write_text("not an image")
    broken = samples / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but nothing of an image after it")
    result = run_cli(
        "detect",
        samples / "astronaut.png",
        samples / "group.jpg",
        samples / "missing.jpg",
        notes,
        broken,
        "--out",
        out,
        "--json",
    )
    return {"process": result, "out": out, "document": json.loads(result.stdout)}


def test_a_failing_input_does_not_stop_the_others(mixed_run: dict[str, Any]) -> None:
    process = mixed_run["process"]
    assert process.returncode == 1
    document = mixed_run["document"]
    assert document["server"] == "local" and document["failed"] == 3
    statuses = {Path(r["input"]).name: r["status"] for r in document["results"]}
    assert statuses == {
        "astronaut.png": "ok",
        "group.jpg": "ok",
        "missing.jpg": "failed",
        "notes.txt": "failed",
        "broken.png": "failed",
    }
    by_name = {Path(r["input"]).name: r for r in document["results"]}
    assert by_name["missing.jpg"]["error"].startswith("file not found")
    assert by_name["notes.txt"]["error"].startswith("unsupported file type .txt")
    # Stable codes for scripts; a task the server made and failed is named.
    codes = {name: r["error_code"] for name, r in by_name.items()}
    assert codes == {"astronaut.png": None, "group.jpg": None, "missing.jpg": "invalid_input",
                     "notes.txt": "invalid_input", "broken.png": "detection_failed"}  # fmt: skip
    assert by_name["broken.png"]["task_id"]
    assert by_name["broken.png"]["error"].startswith("detection failed on the server: ")
    assert "Traceback" not in process.stderr


def test_embedded_server_is_announced_in_one_line_and_nothing_else(
    mixed_run: dict[str, Any],
) -> None:
    lines = mixed_run["process"].stderr.splitlines()
    assert len(lines) == 1, lines
    assert "embedded local server" in lines[0]
    assert "\x1b[" not in mixed_run["process"].stderr + mixed_run["process"].stdout


def test_faces_found_left_to_right_where_they_were_pasted(mixed_run: dict[str, Any]) -> None:
    group = next(r for r in mixed_run["document"]["results"] if r["name"] == "group")
    boxes = [face["box"] for face in group["faces"]]
    assert len(boxes) == len(GROUP_FACES)
    for box, area in zip(boxes, GROUP_FACES, strict=True):
        assert _centre_inside(box, area), (box, area)
    assert all(0.5 <= face["score"] <= 1 for face in group["faces"])


def test_crops_preview_and_manifest_are_written(mixed_run: dict[str, Any]) -> None:
    out: Path = mixed_run["out"]
    assert sorted(p.name for p in out.iterdir()) == ["astronaut", "group"]
    astronaut = next(r for r in mixed_run["document"]["results"] if r["name"] == "astronaut")
    assert len(astronaut["faces"]) == 1
    crop = Path(astronaut["faces"][0]["file"])
    assert crop == out / "astronaut" / "0-0.png" and _is_png(crop)
    assert Path(astronaut["preview"]) == out / "astronaut" / "preview.png"
    with Image.open(astronaut["preview"]) as preview:
        assert preview.size == (512, 512)
    manifest = json.loads((out / "astronaut" / "magic-hour.json").read_text())
    assert manifest["faces"] == astronaut["faces"]
    assert not [p for p in out.rglob(".*")]  # no staging folder or temporary file left


def test_table_on_a_terminal_less_run_and_rerun_replaces_results(
    samples: Path, tmp_path: Path
) -> None:
    for _ in range(2):
        result = run_cli("detect", samples / "astronaut.png", "--out", tmp_path)
        assert result.returncode == 0, result.stderr
    header, row, summary = result.stdout.splitlines()
    assert header.split() == ["file", "faces", "time", "output"]
    assert row.split()[:2] == [str(samples / "astronaut.png"), "1"]
    assert summary.startswith("1 input, 1 face")
    assert [p.name for p in tmp_path.iterdir()] == ["astronaut"]


def test_video_gives_a_contact_sheet_of_its_people(samples: Path, tmp_path: Path) -> None:
    result = run_cli("detect", samples / "two-people.mp4", "--out", tmp_path, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    (video,) = json.loads(result.stdout)["results"]
    assert video["kind"] == "video" and len(video["faces"]) == 2
    assert all(_is_png(Path(face["file"])) for face in video["faces"])
    with Image.open(video["preview"]) as sheet:
        assert sheet.width > 2 * 160


def test_progress_bars_are_drawn_on_a_terminal(samples: Path, tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    env = clean_env(TERM="xterm", COLUMNS="100", LINES="30")
    with subprocess.Popen(
        [str(MAGIC_HOUR), "detect", str(samples / "group.jpg"), "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
        env=env,
    ) as process:
        os.close(terminal)
        drawn = b""
        while True:
            ready, _, _ = select.select([controller], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            drawn += chunk
        stdout = process.stdout.read() if process.stdout else ""
    os.close(controller)
    assert process.returncode == 0
    text = drawn.decode()
    assert "\x1b[2K" in text and "group.jpg" in text and "detect" in text
    assert text.endswith("\x1b[J")  # the board erased itself at the end
    assert "\x1b[" not in stdout and "5" in stdout.splitlines()[1].split()


def test_remote_server_with_its_token(
    samples: Path, tmp_path: Path, local_server: tuple[str, str]
) -> None:
    url, token = local_server
    env = clean_env(MAGIC_HOUR_API_TOKEN=token)
    result = run_cli(
        "detect", samples / "astronaut.png", "--base-url", url, "--out", tmp_path, "--json", env=env
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["server"] == "remote" and document["base_url"] == url
    assert result.stderr == ""


def test_wrong_token_stops_the_run_once_with_advice_for_that_server(
    samples: Path, tmp_path: Path, local_server: tuple[str, str]
) -> None:
    url, _ = local_server
    env = clean_env(MAGIC_HOUR_BASE_URL=url, MAGIC_HOUR_API_TOKEN="not-the-token")
    inputs = [samples / "astronaut.png"] * 6
    result = run_cli("detect", *inputs, "--concurrency", "2", "--out", tmp_path, env=env)
    assert result.returncode == 2
    # One line, once: no input can succeed with this key; no advice that cannot work
    # (without MAGIC_HOUR_BASE_URL's key the run would go to the hosted API, not a local one).
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"magic-hour detect: {url} refused the key (401 Unauthorized): set "
        "MAGIC_HOUR_API_TOKEN to a key that server accepts (its MAGIC_HOUR_SERVER_TOKENS), "
        "or use --local for the embedded local server"
    ]
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
    as_json = run_cli("detect", *inputs, "--out", tmp_path, "--json", env=env)
    assert as_json.returncode == 2
    codes = [r["error_code"] for r in json.loads(as_json.stdout)["results"]]
    assert "unauthorized" in codes and set(codes) <= {"unauthorized", "not_sent"}


def test_unreachable_server_says_what_to_do(samples: Path, tmp_path: Path) -> None:
    env = clean_env(MAGIC_HOUR_API_TOKEN="token")
    url = "http://127.0.0.1:9"  # the discard port: nothing listens there
    result = run_cli(
        "detect", samples / "astronaut.png", "--base-url", url, "--out", tmp_path, env=env
    )
    assert result.returncode == 1
    assert f"cannot reach {url}" in result.stdout
    assert "Traceback" not in result.stderr


def test_only_bad_inputs_start_nothing(tmp_path: Path) -> None:
    result = run_cli("detect", tmp_path / "nope.png", "--out", tmp_path / "out")
    assert result.returncode == 1
    assert "file not found" in result.stdout
    assert result.stderr == ""  # no embedded server was started
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["detect", "x.png", "--confidence", "0.33"], "multiple of 0.05"),
        (["detect", "x.png", "--concurrency", "0"], "greater than 0"),
        (["detect", "x.png", "--local", "--base-url", "http://h"], "not allowed with"),
        (["detect"], "required: INPUT"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(arguments: list[str], message: str) -> None:
    result = run_cli(*arguments)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_an_out_that_is_a_file_is_a_usage_error_before_anything_starts(tmp_path: Path) -> None:
    photo, out = tmp_path / "x.png", tmp_path / "results"
    photo.write_bytes(b"not looked at")
    out.write_text("a file")
    result = run_cli("detect", photo, "--out", out)
    assert result.returncode == 2
    assert f"--out {out} is a file" in result.stderr and "Traceback" not in result.stderr
    assert "embedded" not in result.stderr  # no server was started
    assert out.read_text() == "a file"


def test_a_read_only_out_names_the_folder_given_not_a_hidden_one(
    samples: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # Root ignores permission bits but not the immutable attribute.
    as_root = os.geteuid() == 0
    if as_root:
        subprocess.run(["chattr", "+i", str(out)], check=True)
    else:
        out.chmod(0o555)
    try:
        result = run_cli(
            "detect",
            samples / "astronaut.png",
            "--out",
            out,
            # Nothing listens on the discard port; the folder is refused before any request.
            env=clean_env(MAGIC_HOUR_BASE_URL="http://127.0.0.1:9", MAGIC_HOUR_API_TOKEN="t"),
        )
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(out)], check=True)
        out.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert f"astronaut.png: permission denied: {out}\n" in result.stdout
    assert ".partial" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []


def test_base_url_without_a_token_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("detect", tmp_path / "x.png", "--base-url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "set MAGIC_HOUR_API_TOKEN" in result.stderr


@pytest.mark.parametrize("command", [[], ["detect"], ["serve"]])
def test_help_on_every_command_has_an_example(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "magic-hour" in result.stdout and "example" in result.stdout.lower()


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_sigterm_reports_what_finished_and_leaves_nothing_half_written(
    samples: Path, tmp_path: Path
) -> None:
    import signal
    import time

    from magic_hour_server import LocalServer

    out = tmp_path / "out"
    with LocalServer() as server:
        # One task is detected at once, the other holds the run until the signal comes.
        server.outcomes.slow_next_task(0)
        server.outcomes.slow_next_task(120)
        env = clean_env(MAGIC_HOUR_API_TOKEN=server.token)
        process = subprocess.Popen(
            [str(MAGIC_HOUR), "detect", str(samples / "astronaut.png"), str(samples / "group.jpg"),
             "--base-url", server.url, "--concurrency", "2", "--out", str(out), "--json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not list(out.glob("*/magic-hour.json")) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        time.sleep(0.3)  # the slow input is mid-way: its staging folder exists
        assert list(out.glob(".*.partial-*"))
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    document = json.loads(stdout)  # a whole document, not a cut one
    statuses = sorted((r["status"], r["error_code"]) for r in document["results"])
    assert statuses == [("failed", "interrupted"), ("ok", None)]
    assert "terminated; finished inputs are in" in stderr and "Traceback" not in stderr
    finished = next(r for r in document["results"] if r["status"] == "ok")
    assert (Path(finished["output_dir"]) / "magic-hour.json").is_file()
    assert sorted(p.name for p in out.iterdir()) == [finished["name"]]  # no partial left


def test_a_killed_runs_leftovers_are_swept_by_the_next_run(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    dead = subprocess.Popen(["true"])
    dead.wait()
    abandoned = out / f".astronaut.partial-{dead.pid}-0123abcd"
    (abandoned / "0-0.png").parent.mkdir(parents=True)
    (abandoned / "0-0.png").write_bytes(b"half")
    alive = out / f".astronaut.partial-{os.getpid()}-89abcdef"  # a run still going
    alive.mkdir()
    result = run_cli("detect", samples / "astronaut.png", "--out", out)
    assert result.returncode == 0, result.stderr
    assert not abandoned.exists() and alive.exists()
    assert (out / "astronaut" / "magic-hour.json").is_file()


def test_urls_are_inputs_too(samples: Path, tmp_path: Path) -> None:
    from magic_hour_server import LocalServer

    from tests._web import StaticWeb

    photo = (samples / "astronaut.png").read_bytes()
    routes = {"/photos/astronaut.png": (200, {"Content-Type": "image/png"}, photo)}
    with StaticWeb(routes) as web, LocalServer(allow_private_urls=True) as server:
        url = f"{web.url}/photos/astronaut.png"
        env = clean_env(MAGIC_HOUR_API_TOKEN=server.token)
        result = run_cli("detect", url, (samples / "group.jpg").as_uri(), "--base-url",
                         server.url, "--out", tmp_path, "--json", env=env)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    by_name = {r["name"]: r for r in json.loads(result.stdout)["results"]}
    assert by_name["astronaut"]["input"] == url  # not https:/... folded into a path
    assert len(by_name["astronaut"]["faces"]) == 1
    assert by_name["astronaut"]["note"].startswith("no preview: the input is a URL")
    assert len(by_name["group"]["faces"]) == 5  # a file: URL is the local file
