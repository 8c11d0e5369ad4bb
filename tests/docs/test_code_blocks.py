"""Every command and code block in README.md and docs/ runs here, or says which test runs it.

Blocks run as written, in a scratch folder holding the files they name, against a local
server started for the purpose. What a block names that this machine cannot reach (the
hosted API, `/path/to/...`) is replaced by the nearest real thing, each replacement listed
in `REPLACEMENTS` with why. A command that cannot run inside a test (it is the test
suite, it installs into this environment, it needs Docker or a database host named
`db`) is in `RUN_ELSEWHERE` with the test that runs it. A command written on two pages
runs once, with its first block. A new command in the docs fails
here until it runs or is listed. The reference pages' examples run in
test_reference_examples.py, the pytest-plugin example in tests/plugin.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import make_samples

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PLUGIN_EXAMPLE = "<!-- pytest-plugin-example"

# Commands that run elsewhere, each with where (the first words of the command suffice).
RUN_ELSEWHERE = {
    "make test": "the test suite itself; .ci/run runs it on a clean clone",
    "make demo": "the same `magic-hour detect` on scripts/demo_samples.py's samples runs in"
    " tests/cli/test_cli_e2e.py; the clean-clone check runs the target itself",
    "pip install": "installs into this environment; scripts/check-package (make test) installs"
    " the built wheel with its extras into a fresh one and uses it",
    "make update-spec": "rewrites the repository; tests/spec/test_update_spec.py runs it in a"
    " scratch copy",
    "make generate": "rewrites generated/; make check-generated (make test) runs it in a scratch"
    " copy",
    "make check-generated": "a step of make test",
    "magic-hour contract": "tests/cli/test_contract_command.py runs it against a local server",
    "export MAGIC_HOUR_DATABASE_URL": "needs a database host named db: tests/cluster runs api"
    " and worker roles on PostgreSQL",
    "MAGIC_HOUR_SERVER_TOKENS=$KEY magic-hour serve --role": "tests/cluster/test_cluster.py",
    'MAGIC_HOUR_SERVER_TOKENS="$T" magic-hour serve --role': "tests/cluster/test_cluster.py",
    "magic-hour serve --role worker": "tests/cluster/test_cluster.py",
    "magic-hour serve --role api": "needs PostgreSQL: tests/cluster/test_metrics.py runs api and"
    " worker roles with --log-format json and --metrics-port",
    "prometheus --config.file": "a Prometheus server; tests/deploy/test_monitoring.py checks"
    " the configuration with promtool",
    "MAGIC_HOUR_TOKEN=... docker compose": "needs Docker, which this machine lacks",
    "docker compose": "needs Docker, which this machine lacks",
    ".venv/bin/pytest tests/faults": "a part of make test",
    ".venv/bin/python -m tests.faults.hostile": "runs the hostile-input cases, as"
    " tests/faults/test_hostile.py does, which also holds the table in the doc equal to them",
}

# (text in a block, what runs instead, why).
REPLACEMENTS = [
    ("/path/to/1234.png", "1234.png", "a sample photo in the scratch folder"),
    ("/path/to/video.mp4", "clip.mp4", "a sample video in the scratch folder"),
    ("api-assets/id/1234.png", "$ASSET", "a file uploaded to the local server first"),
    (
        "MAGIC_HOUR_API_TOKEN=... magic-hour",
        'MAGIC_HOUR_BASE_URL="$LOCAL_URL" MAGIC_HOUR_API_TOKEN="$KEY" magic-hour',
        "the hosted API is out of reach: the same command against the local server",
    ),
    (
        "<token>",
        '"$(cat "$XDG_DATA_HOME/magic-hour-server/generated-api-key")"',
        "the key `serve` wrote where the doc says",
    ),
]


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    code: str
    marker: str  # the HTML comment just above the fence, if any

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


_FENCE = re.compile(r"(?:(<!--[^>]*-->)\n)?^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [
        Block(page, text[: m.start(2)].count("\n") + 1, m.group(2), m.group(3), m.group(1) or "")
        for m in _FENCE.finditer(text)
    ]


ALL = [block for page in PAGES for block in blocks(page)]


def commands(code: str) -> list[str]:
    """A shell block's commands: continuation lines joined, comments and blanks dropped."""
    joined = code.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        command = re.sub(r"\s+#.*$", "", line).strip()
        if command and not command.startswith("#"):
            found.append(command)
    return found


def _first_blocks() -> dict[str, str]:
    """Each command's first block (a command written on two pages runs once)."""
    first: dict[str, str] = {}
    for block in ALL:
        if block.language == "sh":
            for command in commands(block.code):
                first.setdefault(command, block.where)
    return first


def elsewhere(command: str) -> str | None:
    return next((why for start, why in RUN_ELSEWHERE.items() if command.startswith(start)), None)


def replaced(text: str) -> str:
    for old, new, _why in REPLACEMENTS:
        text = text.replace(old, new)
    return text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files the docs name: photo.jpg, 1234.png, group.png, clip.mp4."""
    folder = tmp_path_factory.mktemp("docs")
    samples = make_samples(tmp_path_factory.mktemp("samples"))
    from PIL import Image

    shutil.copy(samples / "group.jpg", folder / "photo.jpg")
    shutil.copy(samples / "astronaut.png", folder / "1234.png")
    shutil.copy(samples / "two-people.mp4", folder / "clip.mp4")
    with Image.open(samples / "group.jpg") as image:
        image.save(folder / "group.png")
    return folder


@pytest.fixture(scope="module")
def server_env(scratch: Path) -> Iterator[dict[str, str]]:
    """The environment the blocks run in, with a local server's URL and key in it."""
    from magic_hour import Client
    from magic_hour_server import LocalServer

    with LocalServer() as server:
        with Client(token=server.token, base_url=server.url) as client:
            asset = client.v1.files.upload_file(str(scratch / "1234.png"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAGIC_HOUR_")}
        env.pop("TERM", None)
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            LOCAL_URL=server.url,
            KEY=server.token,
            T=server.token,
            ASSET=asset,
            XDG_DATA_HOME=str(scratch / "xdg"),
            PYTHONPATH=str(ROOT),
        )
        yield env


def run_shell(block: Block, env: dict[str, str], cwd: Path) -> list[str]:
    """Run a block's commands in order; a `serve` runs in the background until the block
    ends. Returns the commands run."""
    ran, servers = [], []
    port = str(free_port())
    try:
        for command in commands(block.code):
            if not runs_here(block, command):
                continue
            line = replaced(command).replace("8000", port)
            if " serve" in line:
                servers.append(
                    subprocess.Popen(
                        ["bash", "-c", line],
                        env=env,
                        cwd=cwd,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        text=True,
                        start_new_session=True,  # the shell and the server, stopped as one
                    )
                )
                wait_until_up(f"http://127.0.0.1:{port}/healthz", servers[-1])
            else:
                result = subprocess.run(
                    ["bash", "-c", line],
                    env=env,
                    cwd=cwd,
                    capture_output=True,
                    text=True,
                    timeout=240,
                )
                assert result.returncode == 0, (
                    f"{block.where}: `{command}` exited {result.returncode}:\n"
                    f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
                )
                assert "Traceback" not in result.stderr, f"{block.where}: {result.stderr}"
            ran.append(command)
    finally:
        for process in servers:
            os.killpg(process.pid, signal.SIGINT)
            process.communicate(timeout=30)
    return ran


def wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, errors = process.communicate()
            raise AssertionError(f"serve exited {process.returncode}: {errors}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within 60 s")


def test_every_block_says_its_language() -> None:
    untagged = [block.where for block in ALL if not block.language]
    assert untagged == [], "tag these fences (`text` for diagrams and trees)"


def test_every_command_runs_here_or_names_where() -> None:
    for start, why in RUN_ELSEWHERE.items():
        assert why, start
        named = re.findall(r"(?:tests|scripts)/[\w/.-]*\w", why)
        assert all((ROOT / path).exists() for path in named), (start, named)
    used = {
        start
        for block in ALL
        if block.language == "sh"
        for command in commands(block.code)
        for start in RUN_ELSEWHERE
        if command.startswith(start)
    }
    assert used == set(RUN_ELSEWHERE), "entries no page uses any more"
    used_replacements = {old for old, _new, _why in REPLACEMENTS if any(old in b.code for b in ALL)}
    assert used_replacements == {old for old, _new, _why in REPLACEMENTS}


FIRST = _first_blocks()


def runs_here(block: Block, command: str) -> bool:
    return not elsewhere(command) and FIRST[command] == block.where


SHELL = [b for b in ALL if b.language == "sh" and any(runs_here(b, c) for c in commands(b.code))]


@pytest.mark.parametrize("block", SHELL, ids=[b.where for b in SHELL])
def test_shell_block_runs(block: Block, server_env: dict[str, str], scratch: Path) -> None:
    cwd = scratch / f"sh-{block.page.stem}-{block.line}"
    shutil.copytree(scratch, cwd, ignore=shutil.ignore_patterns("sh-*", "py-*", "xdg"))
    ran = run_shell(block, server_env, cwd)
    assert ran, f"{block.where}: nothing ran"
    for written in cwd.glob("*.json"):
        json.loads(written.read_text(encoding="utf-8"))  # `--json > faces.json` is JSON


def python_pages() -> list[Path]:
    return [
        page
        for page in PAGES
        if any(b.language == "python" and PLUGIN_EXAMPLE not in b.marker for b in blocks(page))
    ]


@pytest.mark.parametrize("page", python_pages(), ids=lambda page: page.name)
def test_python_blocks_run_in_order(page: Path, server_env: dict[str, str], scratch: Path) -> None:
    """A page's Python blocks run one after the other in one process (a later block
    uses what an earlier one made, as a reader would)."""
    cwd = scratch / f"py-{page.stem}"
    shutil.copytree(scratch, cwd, ignore=shutil.ignore_patterns("sh-*", "py-*", "xdg"))
    parts = [
        replaced(b.code).replace('"$ASSET"', repr(server_env["ASSET"]))
        for b in blocks(page)
        if b.language == "python" and PLUGIN_EXAMPLE not in b.marker
    ]
    script = cwd / "blocks.py"
    script.write_text("\n\n".join(textwrap.dedent(p) for p in parts), encoding="utf-8")
    env = {
        **server_env,
        "API_TOKEN": server_env["KEY"],
        "MAGIC_HOUR_API_TOKEN": server_env["KEY"],
        "MAGIC_HOUR_BASE_URL": server_env["LOCAL_URL"],
    }
    result = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=cwd, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, f"{page.name}:\n{result.stdout}{result.stderr[-3000:]}"
    assert list((cwd / "outputs").rglob("*.png")) or "outputs" not in script.read_text()
