"""Run the benchmarks: ``python -m benchmarks [NAME ...] [--json] [--repeat N]``.

An entry point, so it patches the standard library for gevent before
anything else is imported (pykka's threads must be greenlets).
"""

import os

# With --json, stdout is JSON lines only: pygame's import banner stays off
# (progress goes to stderr).
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from gevent import monkey  # noqa: E402

monkey.patch_all()

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib  # noqa: E402
import pkgutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import benchmarks  # noqa: E402
from benchmarks._harness import format_json, format_table, registry  # noqa: E402
from hearth import otp, vm  # noqa: E402


def _load_all():
    """Import every ``bench_*`` module, which registers its benchmarks."""
    for info in pkgutil.iter_modules(benchmarks.__path__):
        if info.name.startswith("bench_"):
            importlib.import_module(f"benchmarks.{info.name}")


def _parse(argv, names):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Hearth's benchmarks, each beside a baseline measured in the same run.",
        epilog="benchmarks: " + ", ".join(names),
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="benchmarks to run (default: all)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per figure, one per line")
    parser.add_argument("--repeat", type=int, metavar="N",
                        help="repeats per benchmark (default: each benchmark's own); "
                             "figures are medians")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv=None):
    _load_all()
    benches = registry()
    args = _parse(sys.argv[1:] if argv is None else argv, list(benches))
    if args.list:
        for b in benches.values():
            print(f"{b.name:14} {b.doc}")
        return 0
    selected = [benches[n] for n in (args.names or benches)]
    figures = []
    date = datetime.date.today().isoformat()
    # Which kernel the figures are of (docs/design.md, section 4.1).
    kernel = "compiled" if vm.COMPILED else "python"
    print(f"kernel: {kernel} (hearth.vm.COMPILED is {vm.COMPILED},"
          f" hearth.otp.COMPILED is {otp.COMPILED})", file=sys.stderr, flush=True)
    for b in selected:
        repeat = args.repeat or b.repeat
        if not args.json:
            print(f"running {b.name} ({repeat} repeats) ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        figs = b.fn(repeat)
        elapsed = time.perf_counter() - t0
        if args.json:
            for f in figs:
                print(format_json(f, benchmark=b.name, repeat=repeat, date=date,
                                  kernel=kernel), flush=True)
        else:
            print(f"  {b.name}: {elapsed:.1f} s", file=sys.stderr, flush=True)
        figures.extend(figs)
    if not args.json:
        print(format_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
