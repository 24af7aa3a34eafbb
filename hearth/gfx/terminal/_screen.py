"""The terminal's screen: a `pyte` VT102 emulator (256 colors) fed with
the program's output, which lines need repainting, and the cells' colors
resolved against a palette. No pty and no pixels here (`_pty`, `_draw`).
Nothing here switches greenlets.
"""

import numpy as np
import pyte

__all__ = ["Screen", "DEFAULT_PALETTE", "FG", "BG"]

# xterm's colors: the 16 ANSI ones, then the default foreground and background.
DEFAULT_PALETTE = tuple(tuple(round(c / 255, 4) for c in rgb) for rgb in (
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
    (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
    (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    (229, 229, 229), (0, 0, 0),
))
FG, BG = 16, 17  # the palette's default foreground and background
_NAMES = {name: i for i, name in enumerate(
    ("black", "red", "green", "brown", "blue", "magenta", "cyan", "white"))}
_NAMES.update({"bright" + name: i + 8 for name, i in list(_NAMES.items())})
# pyte reports colors 0..15 of the 256-color escapes as hex: they are the palette's.
_HEX16 = {h: i for i, h in enumerate(pyte.graphics.FG_BG_256[:16])}


class _PyteScreen(pyte.Screen):
    """A pyte screen whose answers to the program's queries (cursor
    position, device attributes) go to `answer` (back into the pty)."""

    def __init__(self, columns, lines, answer):
        super().__init__(columns, lines)
        self._answer = answer

    def write_process_input(self, data):
        self._answer(data.encode())


class Screen:
    """A grid of `columns` x `rows` cells and a cursor.

    Args:
        columns, rows: the grid.
        answer: called with bytes the terminal must send back to the
            program (answers to its queries); must not switch.
    """

    def __init__(self, columns, rows, answer):
        self._screen = _PyteScreen(columns, rows, answer)
        self._stream = pyte.ByteStream(self._screen)
        self._cursor_row = None
        self._selection = None  # ((x0, y0), (x1, y1)) in reading order, or None

    @property
    def columns(self):
        return self._screen.columns

    @property
    def rows(self):
        return self._screen.lines

    def feed(self, data):
        """The program wrote `data` (bytes)."""
        self._stream.feed(data)

    def resize(self, columns, rows):
        """Change the grid (the program's text is kept where it fits)."""
        self._screen.resize(lines=rows, columns=columns)

    def touch_all(self):
        """Mark every line to be repainted."""
        self._screen.dirty.update(range(self.rows))

    def take_dirty(self):
        """The sorted rows to repaint since the last call: those the
        program changed, and the cursor's old and new rows."""
        screen = self._screen
        dirty = screen.dirty
        cursor = screen.cursor
        row = None if cursor.hidden else cursor.y
        if row != self._cursor_row:
            for r in (row, self._cursor_row):
                if r is not None and r < screen.lines:
                    dirty.add(r)
            self._cursor_row = row
        elif row is not None:
            dirty.add(row)  # the cursor may have moved along its row
        rows = sorted(r for r in dirty if 0 <= r < screen.lines)
        dirty.clear()
        return rows

    def row(self, r, palette):
        """Row `r` as ``(cells, fg, bg)``: `cells` a list of ``(text, bold,
        underscore)``, `fg` and `bg` ``(columns, 3)`` uint8 colors from
        `palette` (an ``(18, 3)`` uint8 array), the cursor's cell shown
        reversed."""
        screen = self._screen
        line = screen.buffer[r]
        n = screen.columns
        cursor = screen.cursor
        cursor_x = cursor.x if not cursor.hidden and cursor.y == r else -1
        cells = []
        fg = np.empty((n, 3), np.uint8)
        bg = np.empty((n, 3), np.uint8)
        for x in range(n):
            char = line[x]
            f = _color(char.fg, FG, char.bold, palette)
            b = _color(char.bg, BG, False, palette)
            if char.reverse != (x == cursor_x):
                f, b = b, f
            fg[x], bg[x] = f, b
            cells.append((char.data, char.bold, char.underscore))
        return cells, fg, bg

    def select(self, start=None, end=None):
        """Show the cells from `start` to `end` (``(x, y)`` each, both
        included, in reading order: the rest of the start's row, whole rows,
        the end's row up to it) as selected (reversed), or none without
        arguments. The rows concerned are marked to be repainted."""
        old = self._selection
        if start is not None:
            (x0, y0), (x1, y1) = sorted([tuple(start), tuple(end)], key=lambda p: (p[1], p[0]))
            self._selection = ((x0, y0), (x1, y1))
        else:
            self._selection = None
        for sel in (old, self._selection):
            if sel is not None:
                self._screen.dirty.update(range(sel[0][1], sel[1][1] + 1))

    def _selected(self, r, n):
        """The selected columns of row `r` as a (start, stop) range."""
        sel = self._selection
        if sel is None or not sel[0][1] <= r <= sel[1][1]:
            return 0, 0
        start = sel[0][0] if r == sel[0][1] else 0
        stop = sel[1][0] + 1 if r == sel[1][1] else n
        return start, stop

    def cells(self, r, palette):
        """Row `r` for the MSDF path, as ``(chars, styles, fg, bg,
        attrs)``: `chars` a list of strs, `styles` of ints (1 bold, 2
        italics: the atlas's style), `attrs` of ints (1 underline, 2
        strikethrough), `fg` and `bg` ``(columns, 3)`` uint8 colors from
        `palette`, swapped for reverse video, the cursor's cell and the
        selection (each flips them once more)."""
        screen = self._screen
        line = screen.buffer[r]
        n = screen.columns
        cursor = screen.cursor
        cursor_x = cursor.x if not cursor.hidden and cursor.y == r else -1
        sel0, sel1 = self._selected(r, n)
        chars, styles, attrs = [], [], []
        fg = np.empty((n, 3), np.uint8)
        bg = np.empty((n, 3), np.uint8)
        for x in range(n):
            char = line[x]
            f = _color(char.fg, FG, char.bold, palette)
            b = _color(char.bg, BG, False, palette)
            if char.reverse ^ (x == cursor_x) ^ (sel0 <= x < sel1):
                f, b = b, f
            fg[x], bg[x] = f, b
            chars.append(char.data)
            styles.append(char.bold | char.italics << 1)
            attrs.append(char.underscore | char.strikethrough << 1)
        return chars, styles, fg, bg, attrs

    def text(self):
        """The screen as a list of strs, one a row."""
        return list(self._screen.display)

    def cursor(self):
        """``[x, y]``: the cursor's cell."""
        return [self._screen.cursor.x, self._screen.cursor.y]


def _color(value, default, bold, palette):
    if value == "default":
        return palette[default]
    i = _NAMES.get(value)
    if i is not None:
        return palette[i + 8 if bold and i < 8 else i]
    i = _HEX16.get(value)
    if i is not None:
        return palette[i]
    try:
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    except (ValueError, TypeError):
        return palette[default]
