"""Error reasons: the text of a crash's traceback (rule V14).

`error_reason` formats a lone exception on a fast path and remembers each
frame's text and each stack's; these hold it to `traceback`'s own layout (less the column
carets) and to the source a code object really has.
"""

import traceback

from hearth import vm
from hearth.vm._reasons import error_reason, format_traceback


def _raise_lone():
    raise ValueError("lone failure")


def _raise_bare():
    raise KeyError


def _standard(exc):
    """The interpreter's own text, without the caret lines."""
    lines = traceback.format_exception(exc)
    text = "".join(lines)
    return "".join(
        line + "\n" for line in text.splitlines() if not set(line.strip()) <= set("^~")
    )


def test_a_lone_exception_is_formatted_as_the_interpreter_does(proc):
    for fn in (_raise_lone, _raise_bare):
        for _ in range(2):  # the second time its frames come from the cache
            try:
                fn()
            except Exception as e:
                reason = error_reason(e)
                assert reason[:3] == ("error", type(e).__qualname__, str(e))
                assert reason[3] == format_traceback(e) == _standard(e)


def test_a_crash_reason_names_the_line_that_raised(proc):
    vm.spawn_monitor(_raise_lone)
    sig = vm.recv(timeout=5)
    _, name, message, tb = sig.reason
    assert (name, message) == ("ValueError", "lone failure")
    assert tb.endswith('    raise ValueError("lone failure")\nValueError: lone failure\n')


def test_new_code_at_the_same_line_gets_its_own_source_text(tmp_path):
    # Two code objects from one file name and line, as a reloaded module
    # has: each shows the source its file had when it was first formatted.
    path = tmp_path / "mod.py"
    texts = []
    for body in ('raise ValueError("first")', 'raise ValueError("second")'):
        path.write_text(f"def f():\n    {body}\n")
        import linecache

        linecache.checkcache(str(path))
        namespace = {}
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        try:
            namespace["f"]()
        except ValueError as e:
            texts.append(error_reason(e)[3])
    assert 'raise ValueError("first")' in texts[0]
    assert 'raise ValueError("second")' in texts[1]


def _raise_with(message):
    raise ValueError(message)


def _raise_deeper(message):
    _raise_with(message)


def test_a_repeated_crash_gets_the_text_of_its_own_message_and_stack(proc):
    # Stack texts are remembered by code objects and instructions: a hit
    # must never hand back the text of another path to the raise, and the
    # message is always this exception's.
    for _ in range(3):
        for fn in (_raise_with, _raise_deeper):
            for message in ("one", "two", "", "x" * 5000):
                try:
                    fn(message)
                except ValueError as e:
                    reason = error_reason(e)
                    assert reason == ("error", "ValueError", message, _standard(e))


class _OtherError(ValueError):
    pass


def _raise(exc):
    raise exc


def test_the_same_crash_again_reuses_its_reason_and_a_new_message_does_not(proc):
    # The last reason made from a stack is handed back when the type and
    # the message match; another type or message from the very same line
    # gets its own.
    reasons = []
    for exc in (ValueError("same"), ValueError("same"), ValueError("other"),
                _OtherError("same"), ValueError("same")):
        try:
            _raise(exc)
        except ValueError as e:
            reasons.append(error_reason(e))
            assert reasons[-1][:3] == ("error", type(exc).__qualname__, str(exc))
            assert reasons[-1][3].endswith(f"raise exc\n{type(exc).__qualname__}: {exc}\n")
    assert reasons[1] is reasons[0]
    assert reasons[0] != reasons[2] != reasons[3] != reasons[4]
    assert reasons[4] == reasons[0]
    # A long message (it may hold what a peer sent) is not kept for reuse.
    for _ in range(2):
        try:
            _raise(ValueError("x" * 5000))
        except ValueError as e:
            reasons.append(error_reason(e))
    assert reasons[-1] == reasons[-2] and reasons[-1] is not reasons[-2]


class _Held:
    pass


def test_a_crash_reason_keeps_nothing_of_the_crashed_frames_alive(proc):
    import gc
    import weakref

    def crash():
        held = _Held()
        refs.append(weakref.ref(held))
        raise ValueError("dropped")

    refs = []
    for _ in range(2):  # the second reason comes from the cache
        try:
            crash()
        except ValueError as e:
            reason = error_reason(e)
        gc.collect()
        assert refs[-1]() is None
        assert reason[3].endswith("ValueError: dropped\n")


def _raise_from_either_line(first):
    if first:
        raise ValueError("same")
    raise ValueError("same")


def test_one_function_raising_from_two_lines_gets_each_line(proc):
    texts = set()
    for _ in range(2):
        for first in (True, False):
            try:
                _raise_from_either_line(first)
            except ValueError as e:
                reason = error_reason(e)
                assert reason[3] == _standard(e)
                texts.add(reason[3])
    assert len(texts) == 2
