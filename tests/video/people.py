"""Labelled clips of people, and how a video's result is scored against their labels.

Two kinds of labels: clips built from photographs (`people_clips.json` beside this file,
labelled by construction) and real footage labelled by hand, as regions that hold a
person's face in a range of frames (`benchmarks/labels/*.json`). Either answers one
question, `who(frame, box)`: the labelled person whose face is there, or None. A result is
then judged as a person would judge it (`score`): one entry per usable person, none for
people no one could use, and no two people taken for one.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from magic_hour_server.video._video import VideoPeople
from PIL import Image, ImageFilter

from tests.video.clips import RGB, MovingFace, astronaut_face, cameraman_face, face_box, write_clip

CLIPS_FILE = Path(__file__).with_name("people_clips.json")
Box = tuple[int, int, int, int]  # x, y, width, height


class IgnoringSink:
    """A face sink that keeps nothing: for a video pass judged by the people it returns."""

    def add_face(self, **_: Any) -> None:
        pass

    def set_progress(self, fraction: float) -> None:
        pass


class Labels(Protocol):
    usable: dict[str, bool]

    def who(self, frame: int, box: Box) -> str | None: ...


def _photo(name: str) -> RGB:
    if name == "astronaut":
        return astronaut_face()
    if name == "cameraman":
        return cameraman_face()
    raise ValueError(f"unknown photo {name!r}")


def _effect(face: RGB, effect: str | None) -> RGB:
    """The photograph as the clip shows it: in grey, in dim warm light, dark, blurred."""
    if effect is None:
        return face
    image = Image.fromarray(face)
    if effect == "grey":
        return np.asarray(image.convert("L").convert("RGB"))
    if effect == "dim-warm":
        light = np.array([0.75, 0.55, 0.35], dtype=np.float32)
        return (face.astype(np.float32) * light).clip(0, 255).astype(np.uint8)
    if effect == "blurred":
        return np.asarray(image.filter(ImageFilter.GaussianBlur(2.5)))
    if effect == "dark-blurred":
        blurred = np.asarray(image.filter(ImageFilter.GaussianBlur(4)), dtype=np.float32)
        return (blurred * 0.18).astype(np.uint8)
    raise ValueError(f"unknown effect {effect!r}")


@dataclass
class BuiltClip:
    """A clip of `people_clips.json`: its people's faces and where they are when."""

    name: str
    about: str
    seconds: float
    width: int
    height: int
    fps: int
    usable: dict[str, bool]
    faces: list[tuple[str, MovingFace]]

    def write(self, path: Path) -> Path:
        write_clip(
            path,
            [face for _, face in self.faces],
            width=self.width,
            height=self.height,
            fps=self.fps,
            seconds=self.seconds,
        )
        return path

    def who(self, frame: int, box: Box) -> str | None:
        x, y, w, h = box
        cx, cy = x + w / 2, y + h / 2
        for name, face in self.faces:
            place = face_box(face, frame / self.fps)
            if place is not None:
                px, py, pw, ph = place
                if px <= cx <= px + pw and py <= cy <= py + ph:
                    return name
        return None


def built_clips() -> list[BuiltClip]:
    data = json.loads(CLIPS_FILE.read_text(encoding="utf-8"))
    clips = []
    for clip in data["clips"]:
        faces = []
        for person in clip["people"]:
            for seen in person["seen"]:
                effect = seen.get("effect", person.get("effect"))
                picture = _effect(_photo(person["photo"]), effect)
                (x0, y0), (x1, y1) = seen["path"]
                moving = MovingFace(
                    picture, seen["height"], seen["from"], seen["to"], (x0, y0), (x1, y1)
                )
                faces.append((person["name"], moving))
        clips.append(
            BuiltClip(
                name=clip["name"],
                about=clip["about"],
                seconds=clip["seconds"],
                width=data["width"],
                height=data["height"],
                fps=data["fps"],
                usable={p["name"]: p["usable"] for p in clip["people"]},
                faces=faces,
            )
        )
    return clips


def built_clip(name: str) -> BuiltClip:
    for clip in built_clips():
        if clip.name == name:
            return clip
    raise KeyError(name)


@dataclass
class HandLabels:
    """Real footage labelled by hand: regions (x1, y1, x2, y2) holding a face in some frames."""

    clip: str
    usable: dict[str, bool]
    regions: list[tuple[str, int, int, tuple[int, int, int, int]]]

    @classmethod
    def load(cls, path: Path) -> HandLabels:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        regions = [
            (person["name"], seen["frames"][0], seen["frames"][1], tuple(seen["region"]))
            for person in data["people"]
            for seen in person["seen"]
        ]
        usable = {person["name"]: person["usable"] for person in data["people"]}
        return cls(data["clip"], usable, regions)

    def who(self, frame: int, box: Box) -> str | None:
        """The smallest region seen in `frame` that holds the box's centre names the person."""
        x, y, w, h = box
        cx, cy = x + w / 2, y + h / 2
        best, best_area = None, float("inf")
        for name, first, last, (x1, y1, x2, y2) in self.regions:
            if first <= frame <= last and x1 <= cx <= x2 and y1 <= cy <= y2:
                area = (x2 - x1) * (y2 - y1)
                if area < best_area:
                    best, best_area = name, area
        return best


@dataclass
class Score:
    """A video's result judged against its labels."""

    entries: dict[str, int]  # per labelled person, how many entries show them
    unlabelled_entries: int  # entries showing no labelled person
    merged: list[list[str]] = field(default_factory=list)  # labelled people taken for one
    usable: dict[str, bool] = field(default_factory=dict)

    @property
    def usable_people(self) -> list[str]:
        return [name for name, ok in self.usable.items() if ok]

    @property
    def missed(self) -> list[str]:
        return [name for name in self.usable_people if self.entries.get(name, 0) == 0]

    @property
    def duplicated(self) -> list[str]:
        return [name for name in self.usable_people if self.entries.get(name, 0) > 1]

    @property
    def unusable_reported(self) -> int:
        """Entries that show someone no one could use, or no labelled person at all."""
        bad = sum(n for name, n in self.entries.items() if not self.usable[name])
        return bad + self.unlabelled_entries

    @property
    def people_merged(self) -> int:
        return sum(len(group) for group in self.merged)

    def summary(self) -> str:
        return (
            f"{len(self.usable_people)} usable people, entries "
            + ", ".join(f"{n}: {self.entries.get(n, 0)}" for n in self.usable_people)
            + f"; unusable crops reported {self.unusable_reported}"
            + f"; merged {self.merged or 'none'}"
        )


def score(labels: Labels, found: VideoPeople) -> Score:
    entries: Counter[str] = Counter()
    unlabelled = 0
    for entry in found.entries:
        name = labels.who(entry.view.frame, entry.view.box)
        if name is None:
            unlabelled += 1
        else:
            entries[name] += 1
    # Each track stands for the labelled person most of its faces show.
    votes: dict[int, Counter[str]] = defaultdict(Counter)
    for seen in found.observations:
        name = labels.who(seen.frame, seen.box)
        if name is not None:
            votes[seen.track][name] += 1
    shown: dict[int, set[str]] = defaultdict(set)
    for track, person in found.person_of_track.items():
        if votes[track]:
            shown[person].add(votes[track].most_common(1)[0][0])
    merged = [sorted(names) for names in shown.values() if len(names) > 1]
    return Score(dict(entries), unlabelled, merged, dict(labels.usable))


def faces_of(found: VideoPeople, labels: Labels, name: str) -> Sequence[int]:
    """The frames of the entries that show `name`."""
    return [e.view.frame for e in found.entries if labels.who(e.view.frame, e.view.box) == name]
