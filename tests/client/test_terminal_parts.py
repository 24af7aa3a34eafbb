"""The terminal's parts on their own (`hearth.gfx.terminal`'s `_pty`,
`_screen`, `_draw`), without a window: a real pty and real programs, a
real pyte screen, a real font. The service as a whole is in
test_terminal.py."""

import os

import numpy as np
import pytest

from hearth import vm
from hearth.gfx._scene import Canvas
from hearth.gfx._text import FontCache
from hearth.gfx.terminal._draw import Layout, blank, check_layout, paint
from hearth.gfx.terminal._pty import MAX_INPUT, Pty, read_loop
from hearth.gfx.terminal._screen import BG, DEFAULT_PALETTE, FG, Screen
from hearth.native._service import INVALID_REQUEST, NOT_FOUND
from hearth.otp import ServiceError

PALETTE = np.array([[round(c * 255) for c in rgb] for rgb in DEFAULT_PALETTE], np.uint8)


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _open_fds():
    return len(os.listdir("/proc/self/fd"))


# -- _pty ----------------------------------------------------------------------------------


def test_close_hangs_up_the_program_and_reaps_it():
    pty = Pty()
    pty.start(["/bin/sh", "-c", "sleep 30"], 80, 24, 640, 384)
    pid = pty.pid
    assert not _gone(pid)
    pty.close()
    assert _gone(pid), "the child is still there (or a zombie nobody reaped)"
    assert pty.pid is None and pty.master is None
    pty.close()  # idempotent


def test_close_kills_a_program_that_ignores_the_hang_up():
    pty = Pty()
    pty.start(["/bin/sh", "-c", "trap '' HUP; sleep 30"], 80, 24, 640, 384)
    pid = pty.pid
    pty.close()
    assert _gone(pid)


def test_a_missing_program_is_not_found_and_leaks_no_fd():
    before = _open_fds()
    pty = Pty()
    with pytest.raises(ServiceError) as e:
        pty.start(["/no/such/program"], 80, 24, 640, 384)
    assert e.value.kind == NOT_FOUND
    assert "/no/such/program" in str(e.value)
    assert _open_fds() == before


def test_input_past_the_backlog_is_refused_and_the_pty_keeps_working():
    pty = Pty()
    pty.start(["/bin/sh", "-c", "sleep 30"], 80, 24, 640, 384)  # never reads its input
    try:
        with pytest.raises(ServiceError) as e:
            for _ in range(MAX_INPUT // 4096 + 64):
                pty.write(b"x" * 4096)
        assert e.value.kind == INVALID_REQUEST
        assert "backlog" in str(e.value)
        assert pty.master is not None and not pty.closed
    finally:
        pty.close()


def test_the_reader_feeds_the_output_and_ends_normally_with_the_program(proc):
    pty = Pty()
    pty.start(["/bin/sh", "-c", "printf 'hello from the pty'"], 80, 24, 640, 384)
    chunks = []
    try:
        _, ref = vm.spawn_monitor(read_loop, pty, chunks.append, name="reader")
        down = vm.recv(timeout=10)
        assert type(down) is vm.Down and down.ref == ref
        assert down.reason == vm.NORMAL
        down.cap.release()
    finally:
        pty.close()
    assert b"hello from the pty" in b"".join(chunks)


def test_a_flood_is_parsed_for_a_share_of_each_frame_only(proc):
    """A program flooding its terminal: the reader rests once its parsing
    has taken `FLOOD_SHARE` of a frame's time, so the frame loop on the
    same thread keeps its frames (without the rest it took all of it)."""
    import time

    from hearth.gfx.terminal._pty import FLOOD_SHARE

    pty = Pty()
    pty.start(["yes", "a flood of lines"], 80, 24, 640, 384)
    busy = []

    def slow_feed(data):  # parsing as dear as pyte's on a big chunk
        started = time.monotonic()
        while time.monotonic() - started < 0.004:
            pass
        busy.append(0.004)

    try:
        reader, ref = vm.spawn_monitor(read_loop, pty, slow_feed, name="reader")
        started = time.monotonic()
        assert vm.recv(timeout=0.5) is None  # the test's process waits, the reader floods
        wall = time.monotonic() - started
        reader.kill()
        down = vm.recv(timeout=10)
        assert type(down) is vm.Down and down.ref == ref
        down.cap.release()
        reader.release()
    finally:
        pty.close()
    assert len(busy) > 10, "the flood was read"
    assert FLOOD_SHARE <= 0.5
    assert sum(busy) / wall < 0.75, (sum(busy), wall)  # about FLOOD_SHARE; all of it before


# -- _screen -------------------------------------------------------------------------------


def test_the_screen_repaints_the_rows_that_changed_and_the_cursors():
    screen = Screen(10, 4, answer=lambda data: None)
    screen.feed(b"ab\r\ncd")
    assert screen.take_dirty() == [0, 1, 2, 3]  # a new screen is all dirty
    assert screen.take_dirty() == [1]  # only the cursor's row, where it may move
    screen.feed(b"\r\n\r\nz")
    assert screen.take_dirty() == [1, 3]  # the cursor left row 1; row 3 changed
    assert screen.text()[:2] == ["ab        ", "cd        "]
    assert screen.cursor() == [1, 3]


def test_cell_colors_come_from_the_palette_and_the_cursor_is_reversed():
    screen = Screen(4, 1, answer=lambda data: None)
    screen.feed(b"\x1b[31mR\x1b[0mn")
    cells, fg, bg = screen.row(0, PALETTE)
    assert [c[0] for c in cells[:2]] == ["R", "n"]
    assert fg[0].tolist() == PALETTE[1].tolist()  # red
    assert fg[1].tolist() == PALETTE[FG].tolist()
    assert bg[1].tolist() == PALETTE[BG].tolist()
    # the cursor sits on cell 2: its colors are swapped
    assert fg[2].tolist() == PALETTE[BG].tolist() and bg[2].tolist() == PALETTE[FG].tolist()


def test_the_screen_answers_the_programs_queries():
    answers = []
    screen = Screen(10, 4, answer=answers.append)
    screen.feed(b"ab\x1b[6n")  # where is the cursor?
    assert answers == [b"\x1b[1;3R"]


# -- _draw ---------------------------------------------------------------------------------


def test_a_grid_too_large_for_a_texture_is_refused():
    fonts = FontCache()
    check_layout(fonts, 16, 80, 24, 0.5)
    with pytest.raises(ServiceError) as e:
        check_layout(fonts, 128, 500, 200, 8)
    assert e.value.kind == INVALID_REQUEST
    assert "texture" in str(e.value)


def test_paint_draws_the_dirty_lines_and_marks_them_for_upload():
    font = FontCache().get(16)
    layout = Layout(font, pad=4, opacity=1.0, palette=PALETTE)
    screen = Screen(8, 3, answer=lambda data: None)
    canvas = Canvas(np.identity(4, np.float32), blank(layout, screen), linear=True)
    canvas.reallocate = False
    w, h = layout.size(8, 3)
    assert canvas.pixels.shape == (h, w, 4)
    assert (canvas.pixels[:, :, :3] == PALETTE[BG]).all()
    screen.take_dirty()
    screen.feed(b"\r\n\x1b[1;33mMMMM")
    paint(canvas, layout, screen)
    # row 1 changed, row 0 lost the cursor: one rectangle of both goes up,
    # row 2 stays as it was
    assert canvas.dirty == [(4, 4, 8 * font.cell_w, 2 * font.cell_h)]
    row1 = canvas.pixels[4 + font.cell_h:4 + 2 * font.cell_h, 4:4 + 4 * font.cell_w, :3]
    assert (row1 == PALETTE[11]).all(axis=-1).any(), "no bright yellow pixel in row 1"
    row0 = canvas.pixels[4:4 + font.cell_h, 4:4 + 8 * font.cell_w, :3]
    assert (row0 == PALETTE[BG]).all()
