"""Terminal progress bars drawn by the detect command."""

from __future__ import annotations

import io

from magic_hour.cli._progress import ProgressBoard, Row, human_bytes, render_bar, render_row, up


def test_bar_fills_with_the_fraction() -> None:
    assert render_bar(0.0, 12) == "[" + "░" * 10 + "]"
    assert render_bar(0.5, 12) == "[" + "█" * 5 + "░" * 5 + "]"
    assert render_bar(1.0, 12, unicode=False) == "[" + "#" * 10 + "]"
    assert render_bar(7.0, 12) == render_bar(1.0, 12)


def test_unknown_fraction_draws_a_short_moving_block() -> None:
    bar = render_bar(None, 22)
    assert len(bar) == 22
    assert bar.count("█") == 4


def test_row_fits_the_terminal_width() -> None:
    row = Row("a-very-long-input-name-that-goes-on.mp4", "detect", 0.4, "3 faces")
    text = render_row(row, 60)
    assert len(text) <= 59
    assert " 40%" in text
    assert text.startswith("a-very-long-input-n…")


def test_human_bytes() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 * 1024**3) == "3.0 GiB"


def _board(stream: io.StringIO, enabled: bool = True) -> ProgressBoard:
    return ProgressBoard(
        stream, enabled=enabled, total=2, min_interval=0.0, terminal_size=lambda: (80, 24)
    )


def test_disabled_board_writes_nothing() -> None:
    stream = io.StringIO()
    board = _board(stream, enabled=False)
    board.start("a", "a.jpg")
    board.update("a", "upload", 0.5)
    board.finish("a")
    board.close()
    assert stream.getvalue() == ""


def test_board_redraws_in_place_and_erases_itself() -> None:
    stream = io.StringIO()
    board = _board(stream)
    board.start("a", "a.jpg")
    board.start("b", "b.mp4")
    board.update("a", "upload", 0.5, "1.0 KiB")
    assert board.lines()[0] == "0/2 done"
    assert "a.jpg" in board.lines()[1] and "upload" in board.lines()[1]
    board.finish("a")
    board.finish("b", failed=True)
    assert board.lines() == ["2/2 done, 1 failed"]
    board.close()
    output = stream.getvalue()
    # Every redraw after the first goes back up over what was drawn before.
    assert output.count(up(2)) >= 1 and output.count(up(3)) >= 1
    assert output.endswith("\x1b[J")


def test_board_keeps_to_the_terminal_height() -> None:
    board = ProgressBoard(
        io.StringIO(), enabled=True, min_interval=0.0, terminal_size=lambda: (80, 6)
    )
    for n in range(10):
        board.start(str(n), f"{n}.jpg")
    lines = board.lines()
    assert len(lines) == 5
    assert lines[-1] == "… and 7 more under way"


def test_message_goes_above_the_board() -> None:
    stream = io.StringIO()
    board = _board(stream)
    board.start("a", "a.jpg")
    board.message("hello")
    output = stream.getvalue()
    assert "hello\n" in output
    assert output.rindex("hello") < output.rindex("a.jpg")
