"""The registry of benchmarks, the figure record, and the two report formats.

A benchmark is a function registered with `@benchmark("name")`. It is given
the number of repeats and returns a list of `Figure`s, each the project's
figure beside a baseline measured in the same run. To add one, write a
``benchmarks/bench_<topic>.py`` module that uses the decorator: the entry
point imports every ``bench_*`` module of this package.
"""

import contextlib
import gc
import json
import math
import os
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass, field

__all__ = [
    "Benchmark",
    "Figure",
    "benchmark",
    "registry",
    "figure",
    "trials",
    "median",
    "percentile",
    "Stopwatch",
    "format_table",
    "format_json",
]

_REGISTRY = {}  # name -> Benchmark, in registration order


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark: `fn(repeat)` returns a list of `Figure`s."""

    name: str
    fn: object
    doc: str
    repeat: int  # default number of repeats (``--repeat`` overrides it)


def benchmark(name, *, repeat=5):
    """Register the decorated function as the benchmark `name`.

    Args:
        name: what ``python -m benchmarks NAME`` selects; figure names start
            with it.
        repeat: the default number of repeats; the figures are medians.
    """

    def register(fn):
        if name in _REGISTRY:
            raise ValueError(f"benchmark {name!r} is registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Benchmark(name, fn, doc[0] if doc else "", repeat)
        return fn

    return register


def registry():
    """The registered benchmarks, by name, in registration order."""
    return dict(_REGISTRY)


@dataclass
class Figure:
    """One measured figure beside its baseline.

    `ratio` is ``value / baseline_value`` in the figure's own unit: for a
    throughput higher is better, for a time or a size lower is better
    (`better` says which). `ok` is whether the goal was met, or None when
    the figure is a reference with no goal.
    """

    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    better: str  # "higher" or "lower"
    goal: str = ""
    ok: object = None
    p50: object = None  # latency percentiles of the project's figure, if relevant
    p99: object = None
    baseline_p50: object = None
    baseline_p99: object = None
    latency_unit: str = ""
    extra: dict = field(default_factory=dict)
    round_ratio: object = None  # the median of the per-round ratios, when known

    @property
    def ratio(self):
        """The median of the ratios of each round (project and baseline
        measured back to back), when the figure was built from rounds; else
        the ratio of the two figures. A median of ratios keeps a round where
        the machine was slow for both from skewing the ratio."""
        if self.round_ratio is not None:
            return self.round_ratio
        if not self.baseline_value:
            return math.nan
        return self.value / self.baseline_value

    def as_dict(self):
        d = {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_value": self.baseline_value,
            "ratio": self.ratio,
            "better": self.better,
            "goal": self.goal,
            "ok": self.ok,
        }
        if self.p50 is not None:
            d.update(
                p50=self.p50,
                p99=self.p99,
                baseline_p50=self.baseline_p50,
                baseline_p99=self.baseline_p99,
                latency_unit=self.latency_unit,
            )
        d.update(self.extra)
        return d


def figure(name, samples, key, baseline_key, *, unit, baseline, better, goal="", check=None,
           **kw):
    """Build a `Figure` from the medians of `samples[key]` and
    `samples[baseline_key]`; its ratio is the median of the per-round ratios.

    `check(fig)` decides `ok`; without it the figure is a reference.
    """
    rounds = [a / b for a, b in zip(samples[key], samples[baseline_key]) if b]
    kw.setdefault("round_ratio", median(rounds) if rounds else None)
    fig = Figure(
        name,
        median(samples[key]),
        unit,
        baseline,
        median(samples[baseline_key]),
        better,
        goal,
        **kw,
    )
    if check is not None:
        fig.ok = bool(check(fig))
    return fig


def trials(repeat, trial):
    """Run `trial()` `repeat` times; return ``{key: [value per repeat]}``.

    `trial` returns a dict of measurements. The heap is collected before
    each repeat so one repeat's garbage doesn't land in the next's timing.
    """
    samples = {}
    for i in range(repeat):
        gc.collect()
        for key, value in trial(i).items():
            samples.setdefault(key, []).append(value)
    return samples


def median(values):
    return statistics.median(values)


def percentile(sorted_values, q):
    """The `q`-th percentile (0-100) of already sorted values, nearest rank."""
    if not sorted_values:
        return math.nan
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.seconds``."""

    __slots__ = ("seconds", "_t0")

    def __enter__(self):
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0


# -- reports ----------------------------------------------------------------------------


def _num(v):
    if v is None:
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def _goal(fig):
    if fig.ok is None:
        return fig.goal or "-"
    return f"{'ok' if fig.ok else 'MISSED'}: {fig.goal}"


def format_table(figures):
    """A fixed-width text table of the figures."""
    head = ("name", "value", "unit", "baseline", "baseline value", "ratio", "p50", "p99",
            "goal")
    rows = [head]
    for f in figures:
        lat = f" {f.latency_unit}" if f.latency_unit else ""
        rows.append((
            f.name,
            _num(f.value),
            f.unit,
            f.baseline,
            _num(f.baseline_value),
            f"{f.ratio:.3f}",
            "-" if f.p50 is None else f"{_num(f.p50)} / {_num(f.baseline_p50)}{lat}",
            "-" if f.p99 is None else f"{_num(f.p99)} / {_num(f.baseline_p99)}{lat}",
            _goal(f),
        ))
    numeric = {1, 4, 5}
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.rjust(w) if i in numeric else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("ratio = value / baseline value, in the figure's unit; "
                 "p50 / p99 columns: project / baseline.")
    return "\n".join(lines)


def format_json(fig, **context):
    """One JSON object (one line) for a figure."""
    d = fig.as_dict()
    d.update(context)
    return json.dumps(d, allow_nan=True, ensure_ascii=False)


@contextlib.contextmanager
def x_display():
    """DISPLAY as it is, or a fresh Xvfb for the run (the client benchmarks)."""
    if os.environ.get("DISPLAY"):
        yield
        return
    exe = shutil.which("Xvfb")
    if exe is None:
        raise RuntimeError("no DISPLAY and no Xvfb (apt-get install xvfb)")
    read, write = os.pipe()
    server = subprocess.Popen([exe, "-displayfd", str(write), "-screen", "0", "1024x768x24",
                               "-nolisten", "tcp"], pass_fds=(write,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        number = pipe.readline().decode().strip()
    os.environ["DISPLAY"] = ":" + number
    os.environ.setdefault("SDL_VIDEODRIVER", "x11")
    try:
        yield
    finally:
        del os.environ["DISPLAY"]
        server.terminate()
        server.wait()
