"""Every benchmark module loads and registers its benchmarks (they run by
hand, `python -m benchmarks`, never in CI: this catches a module that no
longer imports, as a helper moved between modules once did)."""

import importlib
import pathlib

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCHMARKS.glob("bench_*.py")))
def test_the_benchmark_module_loads(name):
    module = importlib.import_module(f"benchmarks.{name}")
    assert module.__doc__, f"benchmarks/{name}.py says what it measures"


def test_the_benchmarks_of_this_session_are_registered():
    from benchmarks._harness import registry

    for name in sorted(p.stem for p in BENCHMARKS.glob("bench_*.py")):
        importlib.import_module(f"benchmarks.{name}")
    for name in ("wm_flood", "wm_key_latency", "text_flood", "text_atlas",
                 "shell_edit_to_pixels", "guest_fly_camera", "guest_images", "world_fanout"):
        assert name in registry(), name


@pytest.mark.parametrize("name", ["ab", "storm_phases", "storm_instructions"])
def test_the_benchmark_tools_load(name):
    # Tools run by hand (`python -m benchmarks.NAME`), not benchmarks.
    module = importlib.import_module(f"benchmarks.{name}")
    assert module.__doc__ and callable(module.main)
