"""Hostile input: the table of what is tried against the server and what must happen.

    python -m tests.faults.hostile --table            print the table (markdown)
    python -m tests.faults.hostile --write docs/reliability.md   refresh it in the doc

Each case names the documented answer: an HTTP status, or "task error" (the task
ends in status `error` with a reason). tests/faults/test_hostile.py runs the same
list and also checks, after every case, that the server is up, that nothing was
written outside its data directory, and that no secret appears in a response or log.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.faults._attacks import (
    detect,
    get_raw,
    png_bomb,
    post_json,
    put,
    score,
    sdk_unicode_name,
    signed_face,
    tamper,
)
from tests.faults._target import MAX_UPLOAD, TOKEN, Observed, Target
from tests.server.images import astronaut, encode, jpeg_claiming


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    expected: str  # the allowed outcomes, separated by " or "
    run: Callable[[Target], Observed]

    def accepts(self, observed: Observed) -> bool:
        return observed.outcome in self.expected.split(" or ")


TRAVERSAL = "path traversal"
SSRF = "SSRF"
INPUT = "uploads and inputs"
BODY = "request bodies"
ACCESS = "ids, tokens and signatures"
NAMES = "file names"
SCORE = "confidence_score"

CASES: list[Case] = [
    Case(
        TRAVERSAL,
        "target_file_path `api-assets/../../etc/passwd`",
        "422",
        detect("api-assets/../../etc/passwd"),
    ),
    Case(
        TRAVERSAL,
        "target_file_path `api-assets/%2e%2e/%2e%2e/etc/passwd`",
        "422",
        detect("api-assets/%2e%2e/%2e%2e/etc/passwd"),
    ),
    Case(
        TRAVERSAL,
        "target_file_path `api-assets/%252e%252e%252fetc/passwd` (double)",
        "422",
        detect("api-assets/%252e%252e%252fetc/passwd"),
    ),
    Case(
        TRAVERSAL,
        "target_file_path `api-assets/x/../../canary/keep.txt`",
        "422",
        detect("api-assets/x/../../canary/keep.txt"),
    ),
    Case(TRAVERSAL, "target_file_path `/etc/passwd`", "422", detect("/etc/passwd")),
    Case(TRAVERSAL, "target_file_path `file:///etc/passwd`", "422", detect("file:///etc/passwd")),
    Case(
        TRAVERSAL,
        "GET `/api-assets/../../etc/passwd` (raw)",
        "403 or 404",
        get_raw("/api-assets/../../etc/passwd"),
    ),
    Case(
        TRAVERSAL,
        "GET `/api-assets/%2e%2e/%2e%2e/etc/passwd`",
        "403 or 404",
        get_raw("/api-assets/%2e%2e/%2e%2e/etc/passwd"),
    ),
    Case(
        TRAVERSAL,
        "GET `/api-assets/x/..%2f..%2fetc%2fpasswd`",
        "403 or 404",
        get_raw("/api-assets/x/..%2f..%2fetc%2fpasswd"),
    ),
    Case(
        TRAVERSAL,
        "GET `/api-assets/%252e%252e/%252e%252e%252fetc%252fpasswd` (double)",
        "403 or 404",
        get_raw("/api-assets/%252e%252e/%252e%252e%252fetc%252fpasswd"),
    ),
    Case(
        TRAVERSAL,
        "PUT `/api-assets/x/..%2f..%2f..%2fcanary%2fevil.png`",
        "403 or 404",
        lambda t: t.raw("PUT", "/api-assets/x/..%2f..%2f..%2fcanary%2fevil.png", {}, b"x"),
    ),
    Case(
        TRAVERSAL,
        "upload-urls extension `../../x`",
        "400",
        lambda t: t.record(
            t.api.post(
                "/v1/files/upload-urls", json={"items": [{"type": "image", "extension": "../../x"}]}
            )
        ),
    ),
    Case(
        SSRF,
        "`http://127.0.0.1:<port>/astronaut.png`",
        "task error",
        detect("http://127.0.0.1:{web}/astronaut.png"),
    ),
    Case(
        SSRF,
        "`http://localhost:<port>/astronaut.png` (a name for loopback)",
        "task error",
        detect("http://localhost:{web}/astronaut.png"),
    ),
    Case(SSRF, "`http://[::1]:<port>/a.png`", "task error", detect("http://[::1]:{web}/a.png")),
    Case(
        SSRF,
        "`http://169.254.169.254/latest/meta-data`",
        "task error",
        detect("http://169.254.169.254/latest/meta-data"),
    ),
    Case(SSRF, "`http://10.0.0.1/a.png`", "task error", detect("http://10.0.0.1/a.png")),
    Case(
        SSRF,
        "`http://2130706433:<port>/astronaut.png` (127.0.0.1 as a number)",
        "task error",
        detect("http://2130706433:{web}/astronaut.png"),
    ),
    Case(
        SSRF,
        "allowed host redirecting to `http://127.0.0.1:<port>/...`",
        "task error",
        detect("http://{host}:{public}/to-loopback"),
    ),
    Case(
        SSRF,
        "control: the allowed host itself",
        "task complete",
        detect("http://{host}:{public}/astronaut.png"),
    ),
    Case(
        INPUT,
        f"upload of {MAX_UPLOAD + 1:,} bytes (limit {MAX_UPLOAD:,})",
        "413",
        lambda t: put(t, b"\0" * (MAX_UPLOAD + 1)),
    ),
    Case(
        INPUT,
        "the same, chunked, with no Content-Length",
        "413",
        lambda t: put(t, b"\0" * (MAX_UPLOAD + 1), chunked=True),
    ),
    Case(
        INPUT,
        "decompression bomb: PNG claiming 60000 x 60000",
        "task error",
        lambda t: t.detect(t.upload(png_bomb(60_000, 60_000))),
    ),
    Case(
        INPUT,
        "decompression bomb: JPEG claiming 60000 x 60000 (past what even 1/8 size fits)",
        "task error",
        lambda t: t.detect(t.upload(jpeg_claiming(60_000, 60_000), "jpg")),
    ),
    Case(
        INPUT,
        "JPEG whose header claims 8000 x 6000 over a 512 x 512 picture",
        "task error",
        lambda t: t.detect(t.upload(jpeg_claiming(8000, 6000), "jpg")),
    ),
    Case(
        INPUT,
        "text bytes named `.png`",
        "task error",
        lambda t: t.detect(t.upload(b"#!/bin/sh\necho not an image\n")),
    ),
    Case(INPUT, "zero bytes", "task error", lambda t: t.detect(t.upload(b""))),
    Case(
        INPUT,
        "a PNG cut in half",
        "task error",
        lambda t: t.detect(t.upload(encode(astronaut())[:20_000])),
    ),
    Case(
        BODY,
        "JSON body of 1 MiB",
        "400",
        lambda t: post_json(t, '{"assets": {"target_file_path": "' + "a" * 2**20 + '"}}'),
    ),
    Case(
        BODY,
        "JSON body of 1 MiB, chunked",
        "400",
        lambda t: t.record(
            t.api.post(
                "/v1/face-detection",
                content=iter([b"[" * 2**20]),
                headers={"Content-Type": "application/json"},
            )
        ),
    ),
    Case(
        BODY,
        "deeply nested JSON (30,000 levels)",
        "400",
        lambda t: post_json(t, "[" * 30_000 + "]" * 30_000),
    ),
    Case(
        BODY,
        "wrong content type: text/plain",
        "400",
        lambda t: post_json(t, '{"assets": {"target_file_path": "https://x/a.png"}}', "text/plain"),
    ),
    Case(
        BODY,
        "wrong content type: multipart/form-data",
        "400",
        lambda t: post_json(t, "--b\r\n\r\nx\r\n--b--", "multipart/form-data; boundary=b"),
    ),
    Case(BODY, "malformed JSON", "400", lambda t: post_json(t, '{"assets": ')),
    Case(
        BODY,
        "invalid UTF-8",
        "400",
        lambda t: t.raw(
            "POST",
            "/v1/face-detection",
            {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            b'{"assets": {"target_file_path": "\xff\xfe"}}',
        ),
    ),
    Case(
        ACCESS,
        "malformed id `..%2f..%2fetc%2fpasswd`",
        "404",
        get_raw("/v1/face-detection/..%2f..%2fetc%2fpasswd"),
    ),
    Case(
        ACCESS,
        "id of 10,000 characters",
        "404 or 414 or 400",
        get_raw("/v1/face-detection/" + "a" * 10_000),
    ),
    Case(
        ACCESS,
        "another token's task id",
        "404",
        lambda t: t.record(t.other.get(f"/v1/face-detection/{t.completed_task()['id']}")),
    ),
    Case(
        ACCESS,
        "another token's upload as target_file_path",
        "422",
        lambda t: t.create(
            {"assets": {"target_file_path": t.upload(encode(astronaut()))}}, t.other
        ),
    ),
    Case(ACCESS, "no token", "401", lambda t: t.raw("GET", "/v1/face-detection/abc")),
    Case(
        ACCESS,
        "wrong token",
        "401",
        lambda t: t.raw("GET", "/v1/face-detection/abc", {"Authorization": "Bearer nope"}),
    ),
    Case(ACCESS, "face URL with a tampered signature", "403", lambda t: signed_face(t, tamper)),
    Case(
        ACCESS,
        "face URL signed correctly but expired",
        "403",
        lambda t: signed_face(t, lambda _url, path: t.sign("GET", "/" + path, -60)),
    ),
    Case(
        ACCESS,
        "face URL's signature used for another face",
        "403",
        lambda t: signed_face(t, lambda url, _p: url.replace("/0-0.png", "/0-1.png")),
    ),
    Case(
        ACCESS,
        "PUT with a face URL's GET signature",
        "403",
        lambda t: t.record(httpx.put(t.completed_task()["faces"][0]["url"], content=b"x")),
    ),
    Case(
        NAMES,
        "upload-urls extension `pñg`",
        "400",
        lambda t: post_json(
            t, '{"items": [{"type": "image", "extension": "pñg"}]}', path="/v1/files/upload-urls"
        ),
    ),
    Case(
        NAMES,
        "upload-urls extension with a newline",
        "400",
        lambda t: post_json(
            t, '{"items": [{"type": "image", "extension": "png\\n"}]}', path="/v1/files/upload-urls"
        ),
    ),
    Case(
        NAMES,
        "GET `/api-assets/<id>/%C3%AFnput.png` (unicode name)",
        "403 or 404",
        get_raw("/api-assets/abc/%C3%AFnput.png"),
    ),
    Case(
        NAMES,
        "GET `/api-assets/<id>/a%00.png` (NUL)",
        "403 or 404",
        get_raw("/api-assets/abc/a%00.png"),
    ),
    Case(
        NAMES,
        "GET `/api-assets/<id>/a%0d%0aSet-Cookie:x.png` (CRLF)",
        "403 or 404",
        get_raw("/api-assets/abc/a%0d%0aSet-Cookie:x.png"),
    ),
    Case(
        NAMES,
        "SDK upload of a local file named `fäce ☺ \\t\\a name.png`",
        "task complete",
        sdk_unicode_name,
    ),
    Case(SCORE, "`NaN`", "400", score("NaN")),
    Case(SCORE, "`Infinity`", "400", score("Infinity")),
    Case(SCORE, '`"0.5"` (a string)', "400", score('"0.5"')),
    Case(SCORE, "`1e308`", "400", score("1e308")),
    Case(SCORE, "`1e999` (overflows to infinity)", "400", score("1e999")),
    Case(SCORE, "`-0.05`", "400", score("-0.05")),
    Case(SCORE, "`true`", "400", score("true")),
    Case(SCORE, "`0.33` (not a multiple of 0.05)", "400", score("0.33")),
]


def run_all(work: Path) -> list[tuple[Case, Observed]]:
    with Target(work).running() as target:
        return [(case, case.run(target)) for case in CASES]


def _cell(text: str) -> str:
    text = re.sub(r"[a-z0-9]{24}", "<id>", text)  # ids differ from run to run
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 90 else text[:87] + "..."


def table(results: list[tuple[Case, Observed]]) -> str:
    lines = [
        "| group | input | expected | observed | message |",
        "| --- | --- | --- | --- | --- |",
    ]
    for case, observed in results:
        mark = "" if case.accepts(observed) else " **(unexpected)**"
        lines.append(
            f"| {case.group} | {case.name} | {case.expected} | {observed.outcome}{mark} "
            f"| {_cell(observed.detail)} |"
        )
    return "\n".join(lines)


START, END = "<!-- hostile-table:start -->", "<!-- hostile-table:end -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.hostile")
    parser.add_argument("--table", action="store_true", help="print the table")
    parser.add_argument("--write", type=Path, help="replace the table in this markdown file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="magic-hour-hostile-") as temp:
        results = run_all(Path(temp))
    text = table(results)
    if args.write:
        doc = args.write.read_text("utf-8")
        before, _, rest = doc.partition(START)
        _, _, after = rest.partition(END)
        args.write.write_text(f"{before}{START}\n{text}\n{END}{after}", "utf-8")
    if args.table or not args.write:
        print(text)
    return 0 if all(case.accepts(observed) for case, observed in results) else 1


if __name__ == "__main__":
    sys.exit(main())
