"""The engine settings and per-guest limits the guest host relies on.

Kept free of imports: `hearth/vm/_runtime.py` merges these into the settings
of the runtime's one wasmtime engine (`Runtime.engine`), so that modules
compiled by the runtime's module cache run as guests.

Why each one:

- ``epoch_interruption``: `kill` must end a guest spinning in wasm without
  host calls (rule V16). The hub bumps the engine's epoch; each running
  guest's epoch callback then checks whether its process is dead.
- ``memory_may_move`` off, with a fixed ``memory_reservation``: a linear
  memory stays at one address for its whole life, so host calls can keep
  its base address (`_memory.py`), and a guest can never grow past the
  reservation.
- a small ``memory_reservation``: wasmtime's default reserves about 4 GiB
  of address space per instance, which runs out near 32,000 live instances;
  64 MiB allows two million.
- no ``memory_guard_size``: below a 4 GiB reservation wasmtime checks every
  access explicitly anyway (the guard only lets it skip checks of small
  constant offsets), and a guard is one more kernel memory map per guest.
  An idle guest costs about 6 maps (its thread stack, wasmtime's signal
  stack for the thread, its memory, each with a guard or reserved part), so
  10,000 guests fit under Linux's default ``vm.max_map_count`` of 65,530;
  with a 64 KiB guard they did not (8 maps each).
- ``max_wasm_stack``: guest threads get small OS stacks (many guests, one
  thread each); wasm must overflow into a trap well before the thread's own
  stack ends.
"""

__all__ = [
    "REQUIRED_ENGINE_SETTINGS",
    "DEFAULT_ENGINE_SETTINGS",
    "engine_settings",
    "DEFAULT_MEMORY_LIMIT",
    "thread_stack_size",
]

KiB = 1024
MiB = 1024 * KiB

REQUIRED_ENGINE_SETTINGS = {
    "epoch_interruption": True,
    "memory_may_move": False,
}

DEFAULT_ENGINE_SETTINGS = {
    "memory_reservation": 64 * MiB,
    "memory_guard_size": 0,
    "memory_reservation_for_growth": 0,
    "max_wasm_stack": 256 * KiB,
}

# A guest's memory cap unless its spawner asks otherwise (Store.set_limits);
# never above the engine's memory_reservation.
DEFAULT_MEMORY_LIMIT = 16 * MiB

# What the guest thread needs below its wasm frames: the thread's start, the
# Python that enters wasm, and the host calls wasm makes (ctypes callbacks
# into Python).
_HOST_STACK = 256 * KiB


def engine_settings(user_settings=None):
    """The settings of a runtime's engine: the guest host's defaults, then
    the user's, then what the guest host can't run without."""
    return {**DEFAULT_ENGINE_SETTINGS, **(user_settings or {}), **REQUIRED_ENGINE_SETTINGS}


def thread_stack_size(settings):
    """The OS stack of a guest thread for an engine with `settings`."""
    return settings["max_wasm_stack"] + _HOST_STACK
