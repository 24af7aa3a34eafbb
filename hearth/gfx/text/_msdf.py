"""Multi-channel signed distance fields of glyphs (Chlumský's method).

A glyph's outline is read from FreeType in font units (`outline`): closed
contours of edges, each a Bézier curve of degree 1 to 3 (lines, TrueType's
quadratic and CFF's cubic segments). `color_edges` gives every edge a set of
the three channels so that the two edges meeting at a corner share only
one channel; `field` then computes, for every pixel at once (numpy over
pixels x edges), each channel's signed pseudo-distance to the nearest edge
of that channel's color. The median of the three channels is a distance
whose zero line keeps the corners sharp where a single-channel field rounds
them off.

How distances are computed: a line is one chord, a curve is cut into
`_PIECES` chords at equal parameter steps; a pixel's distance to an edge
is its distance to the nearest chord, so a curve is approximated to
within a chord's sag (a few hundredths of a pixel at the sizes used
here). Past an end of its edge a distance becomes the
pseudo-distance: the distance to the line through that end along the
edge's tangent there, which is what lets two channels meet at a corner.
A last pass corrects the pixels where the median's sign disagrees with
the true inside/outside test (the nonzero winding rule), the artifacts
the plain method leaves where edges of one color come close.

Nothing here needs a window or switches greenlets; everything is CPU work
of a few milliseconds a glyph.
"""

import math

import freetype
import numpy as np

__all__ = ["Edge", "outline", "color_edges", "field", "signed_distance", "median",
           "RED", "GREEN", "BLUE", "WHITE", "CYAN", "MAGENTA", "YELLOW"]

RED, GREEN, BLUE = 1, 2, 4
WHITE, CYAN, MAGENTA, YELLOW = 7, GREEN | BLUE, RED | BLUE, RED | GREEN

_PIECES = 6  # chords a curve is cut into
_CORNER_SIN = math.sin(3.0)  # an angle of more than ~8 degrees between tangents is a corner


class Edge:
    """A Bézier curve from ``points[0]`` to ``points[-1]`` (2 to 4 points
    as an ``(n, 2)`` float64 array) and its `color` (channel bits)."""

    __slots__ = ("points", "color")

    def __init__(self, points, color=WHITE):
        self.points = np.asarray(points, np.float64)
        self.color = color

    def __repr__(self):
        return f"Edge({self.points.tolist()}, color={self.color})"

    def at(self, t):
        """Points at parameters `t` (a float64 array) as ``(len(t), 2)``."""
        t = np.asarray(t, np.float64)[:, None]
        p = self.points
        while len(p) > 1:  # de Casteljau
            p = [(1 - t) * a + t * b for a, b in zip(p[:-1], p[1:])]
        return np.broadcast_to(p[0], (len(t), 2)).copy()

    def split(self, t):
        """The two edges before and after parameter `t`, same color."""
        p = [np.asarray(q) for q in self.points]
        left, right = [p[0]], [p[-1]]
        while len(p) > 1:
            p = [(1 - t) * a + t * b for a, b in zip(p[:-1], p[1:])]
            left.append(p[0])
            right.append(p[-1])
        return Edge(left, self.color), Edge(right[::-1], self.color)

    def direction(self, end):
        """The unit tangent at the start (`end` False) or the end."""
        p = self.points
        pairs = ([(p[i], p[i + 1]) for i in range(len(p) - 1)] if not end else
                 [(p[i - 1], p[i]) for i in range(len(p) - 1, 0, -1)])
        for a, b in pairs:  # a control point on an end: the next one gives the tangent
            d = b - a
            n = math.hypot(d[0], d[1])
            if n > 1e-12:
                return d / n
        d = p[-1] - p[0]
        n = math.hypot(d[0], d[1])
        return d / n if n > 1e-12 else np.array([1.0, 0.0])


def outline(face, char, *, shear=0.0):
    """The outline of `char` (a str of one character) in `face` (a
    `freetype.Face`), in font units, as a list of contours (lists of
    `Edge`); a character the face lacks gets its missing-glyph box.
    `shear` slants it: x += shear * y (a synthetic italic)."""
    face.load_char(char, freetype.FT_LOAD_NO_SCALE | freetype.FT_LOAD_NO_BITMAP)
    contours = []
    state = {"pen": None}

    def move_to(a, _):
        contours.append([])
        state["pen"] = (a.x, a.y)

    def line_to(a, _):
        contours[-1].append(Edge([state["pen"], (a.x, a.y)]))
        state["pen"] = (a.x, a.y)

    def conic_to(a, b, _):
        contours[-1].append(Edge([state["pen"], (a.x, a.y), (b.x, b.y)]))
        state["pen"] = (b.x, b.y)

    def cubic_to(a, b, c, _):
        contours[-1].append(Edge([state["pen"], (a.x, a.y), (b.x, b.y), (c.x, c.y)]))
        state["pen"] = (c.x, c.y)

    face.glyph.outline.decompose(None, move_to=move_to, line_to=line_to, conic_to=conic_to,
                                 cubic_to=cubic_to)
    out = []
    for contour in contours:
        edges = [e for e in contour if np.ptp(e.points, axis=0).any()]  # no zero-length edges
        if not edges:
            continue
        start, end = edges[0].points[0], edges[-1].points[-1]
        if np.any(start != end):  # FreeType leaves the closing line implicit
            edges.append(Edge([end, start]))
        if shear:
            for e in edges:
                e.points[:, 0] += shear * e.points[:, 1]
        out.append(edges)
    return out


def _is_corner(a, b):
    return float(a @ b) <= 0 or abs(float(a[0] * b[1] - a[1] * b[0])) > _CORNER_SIN


def color_edges(contours):
    """Color the edges of `contours` in place (Chlumský's simple coloring):
    a contour without corners is white; one with a single corner is cut in
    three runs (magenta, white, yellow); otherwise the color changes at
    every corner, cycling cyan, magenta, yellow, and never equals the
    first run's color on the last run. Edges may be split (a contour of
    fewer than three edges with one corner). Returns `contours`."""
    for k, edges in enumerate(contours):
        n = len(edges)
        corners = [i for i in range(n)
                   if _is_corner(edges[i - 1].direction(True), edges[i].direction(False))]
        if not corners:
            for e in edges:
                e.color = WHITE
        elif len(corners) == 1:
            start = corners[0]
            edges = edges[start:] + edges[:start]
            while len(edges) < 3:  # cut the longest-indexed edges into thirds
                edges = [part for e in edges for part in _thirds(e)]
            m = len(edges)
            for i, e in enumerate(edges):
                e.color = (MAGENTA, WHITE, YELLOW)[min(3 * i // m, 2)]
            contours[k] = edges
        else:
            cycle = (CYAN, MAGENTA, YELLOW)
            runs = len(corners)
            colors = [cycle[j % 3] for j in range(runs)]
            if colors[-1] == colors[0]:
                colors[-1] = next(c for c in cycle if c not in (colors[0], colors[-2]))
            for j, start in enumerate(corners):
                stop = corners[(j + 1) % runs]
                i = start
                while True:
                    edges[i].color = colors[j]
                    i = (i + 1) % n
                    if i == stop:
                        break
    return contours


def _thirds(edge):
    first, rest = edge.split(1 / 3)
    second, third = rest.split(0.5)
    return [first, second, third]


def _orientation(contours):
    """+1 if the filled side is left of the direction of travel (the
    contours run counter-clockwise, as in CFF fonts), -1 for TrueType's
    clockwise outer contours: the sign of the total area."""
    area = 0.0
    for edges in contours:
        for e in edges:
            pts = e.at(np.linspace(0, 1, _PIECES + 1))
            area += float(np.sum(pts[:-1, 0] * pts[1:, 1] - pts[1:, 0] * pts[:-1, 1]))
    return 1.0 if area >= 0 else -1.0


def _chords(contours):
    """Every edge cut into chords (a line is one, a curve `_PIECES`):
    their starts and ends ``(K, 2)``, the edge of each ``(K,)``, whether it
    is its edge's first or last chord ``(K,)``, and per edge its color,
    unit tangents at its start and end and its end points."""
    edges = [e for c in contours for e in c]
    starts, ends, owner, first, last = [], [], [], [], []
    for i, e in enumerate(edges):
        n = 1 if len(e.points) == 2 else _PIECES
        pts = e.at(np.linspace(0, 1, n + 1))
        starts.append(pts[:-1])
        ends.append(pts[1:])
        owner += [i] * n
        first += [True] + [False] * (n - 1)
        last += [False] * (n - 1) + [True]
    colors = np.array([e.color for e in edges], np.int64)
    d0 = np.stack([e.direction(False) for e in edges])
    d1 = np.stack([e.direction(True) for e in edges])
    p0 = np.stack([e.points[0] for e in edges])
    p1 = np.stack([e.points[-1] for e in edges])
    return (np.concatenate(starts), np.concatenate(ends), np.array(owner), np.array(first),
            np.array(last), colors, d0, d1, p0, p1)


def _inside(points, a, b):
    """Nonzero winding of every point ``(M, 2)`` over the chords a->b."""
    px, py = points[:, 0:1], points[:, 1:2]
    c = (b[:, 0] - a[:, 0]) * (py - a[:, 1]) - (b[:, 1] - a[:, 1]) * (px - a[:, 0])  # (M, K)
    up = (a[:, 1] <= py) & (b[:, 1] > py) & (c > 0)
    down = (b[:, 1] <= py) & (a[:, 1] > py) & (c < 0)
    return np.count_nonzero(up, axis=1) != np.count_nonzero(down, axis=1)


def _chord_distances(points, contours):
    """Per point and chord ``(M, K)``: the distance, the pseudo-distance
    of the chord's edge (signed: positive on the filled side), and how
    square to the chord the nearest point is (1 = perpendicular); and the
    chords' colors, starts and ends. The x and y parts are kept apart
    (``(M, K)`` arrays, not ``(M, K, 2)``): numpy is several times faster so."""
    a, b, owner, first, last, colors, d0, d1, p0, p1 = _chords(contours)
    o = _orientation(contours)
    px, py = points[:, 0:1], points[:, 1:2]  # (M, 1)
    dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]  # (K,)
    dd = np.maximum(dx * dx + dy * dy, 1e-18)
    wx, wy = px - a[:, 0], py - a[:, 1]  # (M, K)
    t = np.clip((wx * dx + wy * dy) / dd, 0.0, 1.0)
    vx, vy = wx - t * dx, wy - t * dy
    dist = np.sqrt(vx * vx + vy * vy)
    cr = dx * vy - dy * vx
    pseudo = np.where(cr * o >= 0, dist, -dist)
    square = np.abs(cr) / np.maximum(np.sqrt(dd) * dist, 1e-18)
    # Before the start of an edge along its start tangent, or past its end
    # along its end one: the distance to that tangent line, if nearer.
    for at_end, tangent, anchor, ends in ((False, d0, p0, first), (True, d1, p1, last)):
        k = np.nonzero(ends)[0]
        tx, ty = tangent[owner[k], 0], tangent[owner[k], 1]
        ux, uy = px - anchor[owner[k], 0], py - anchor[owner[k], 1]  # (M, k)
        along = ux * tx + uy * ty
        tk = t[:, k]
        beyond = (tk >= 1.0) & (along > 0) if at_end else (tk <= 0.0) & (along < 0)
        pd = (tx * uy - ty * ux) * o
        pseudo[:, k] = np.where(beyond & (np.abs(pd) <= dist[:, k]), pd, pseudo[:, k])
    return dist, pseudo, square, colors[owner], a, b


def median(r, g, b):
    """The median of three arrays, element by element."""
    return np.maximum(np.minimum(r, g), np.minimum(np.maximum(r, g), b))


def field(contours, points, *, correct=True):
    """The three channels' signed pseudo-distances at `points` (``(M, 2)``,
    the same units as the outline) as ``(M, 3)`` float64: positive inside.
    `contours` must be colored (`color_edges`). With no contour every
    channel is far outside (-inf). `correct` fixes the pixels whose median
    has the wrong sign (see the module's docstring)."""
    m = len(points)
    if not contours:
        return np.full((m, 3), -np.inf)
    dist, pseudo, square, colors, a, b = _chord_distances(points, contours)
    # Nearest chord first; of two equally near (a shared end), the squarer.
    key = dist - 1e-9 * (1.0 + dist) * square
    true = _true_distance(dist, points, a, b)
    out = np.empty((m, 3))
    rows = np.arange(m)
    for ch, bit in enumerate((RED, GREEN, BLUE)):
        mine = (colors & bit) != 0
        if not mine.any():
            out[:, ch] = true
            continue
        pick = np.argmin(np.where(mine[None, :], key, np.inf), axis=1)
        out[:, ch] = pseudo[rows, pick]
    if correct:
        med = median(out[:, 0], out[:, 1], out[:, 2])
        wrong = (np.sign(med) != np.sign(true)) & (np.abs(true) > 1e-9)
        out[wrong] = true[wrong, None]
    return out


def _true_distance(dist, points, a, b):
    nearest = np.min(dist, axis=1)
    return np.where(_inside(points, a, b), nearest, -nearest)


def signed_distance(contours, points):
    """The true signed distance (positive inside, nonzero winding) of
    `points` ``(M, 2)`` to the outline: one channel, corners rounded."""
    if not contours:
        return np.full(len(points), -np.inf)
    dist, _, _, _, a, b = _chord_distances(points, contours)
    return _true_distance(dist, points, a, b)
