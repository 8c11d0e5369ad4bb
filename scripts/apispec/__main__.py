"""python -m scripts.apispec generate | check | update FROM [--no-release] | diff OLD NEW

`update` vendors a new upstream document, regenerates, prints the change report, then
sets the version in pyproject.toml by semver from it and prepends a CHANGELOG.md entry
(unless --no-release).

Exit status: 0 done (update: nothing breaks callers), 1 differences (check) or breaking
changes (update, diff), 2 bad input (unreadable file, not OpenAPI, our operations
missing, an overlay action that matches nothing); on 2 nothing was changed.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from ._changes import compare
from ._documents import load_openapi
from ._errors import SpecError
from ._pipeline import check, generate, update


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.apispec", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate", help="build the document, the client and the reference docs")
    commands.add_parser("check", help="fail with a diff if anything differs from what it gives")
    vendor = commands.add_parser("update", help="vendor a new upstream document and regenerate")
    vendor.add_argument("source", metavar="FROM", help="the new upstream document: file or URL")
    vendor.add_argument(
        "--no-release",
        action="store_true",
        help="leave the version in pyproject.toml and CHANGELOG.md alone",
    )
    diff = commands.add_parser("diff", help="the change report between two built documents")
    diff.add_argument("old")
    diff.add_argument("new")
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            generate()
        elif args.command == "check":
            problems = check()
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print(
                    "Never edit the built document, generated/ or the reference docs by hand: "
                    "change openapi/overlay.yaml (or the generator's config), then run "
                    "`make generate`.",
                    file=sys.stderr,
                )
                return 1
            print("openapi/face-detection.yaml, generated/ and docs/reference/ match their inputs")
        elif args.command == "update":
            report, release = update(args.source, release=not args.no_release)
            print(report.render(), end="")
            if release is not None:
                print(release.summary())
            return 1 if report.breaking else 0
        else:
            old, new = (
                yaml.safe_load(yaml.safe_dump(load_openapi(p))) for p in (args.old, args.new)
            )
            report = compare(old, new)
            print(report.render(), end="")
            return 1 if report.breaking else 0
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
