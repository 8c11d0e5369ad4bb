"""The README's pytest-plugin example, run as a user's test file would be."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- pytest-plugin-example[^>]*-->\n```python\n(.*?)```", text, re.S)
    assert match is not None, "the README lost its pytest-plugin example"
    return match.group(1)


def run_as_a_user(folder: Path) -> subprocess.CompletedProcess[str]:
    """pytest on `folder/test_my_app.py`, in that folder, with the installed plugin."""
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_app.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )


def test_the_readme_example_passes_with_the_installed_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_my_app.py").write_text(readme_example(), encoding="utf-8")
    run = run_as_a_user(tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 passed" in run.stdout


def test_the_plugin_fixtures_catch_a_bug_in_error_handling(tmp_path: Path) -> None:
    # A user's test that expects success while the server was told to fail must fail:
    # the outcomes really reach the client.
    (tmp_path / "test_my_app.py").write_text(
        readme_example()
        + "\n\ndef test_wrong(magic_hour_server, magic_hour_client, photo):\n"
        + "    magic_hour_server.outcomes.fail_next_task('nope')\n"
        + "    magic_hour_client.v1.face_detection.generate(assets={'target_file_path': photo})\n",
        encoding="utf-8",
    )
    run = run_as_a_user(tmp_path)
    assert run.returncode == 1
    assert "2 passed" in run.stdout and "1 failed" in run.stdout
    assert "TaskFailedError" in run.stdout and "nope" in run.stdout
