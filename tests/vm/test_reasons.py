"""Error reasons: the text of a crash's traceback (rule V14).

`error_reason` formats a lone exception on a fast path and remembers each
frame's text and each stack's; these hold it to `traceback`'s own layout (less the column
carets) and to the source a code object really has.
"""

import traceback

import pytest

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
        line + "\n" for line in text.splitlines()
        if not (line.strip() and set(line.strip()) <= set("^~"))
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


# -- the stack key's two implementations ------------------------------------------

def _caught(fn, *args):
    try:
        fn(*args)
    except BaseException as e:  # noqa: B902 - any exception is a case
        return e
    raise AssertionError("did not raise")


def _deep(n):
    if n:
        _deep(n - 1)
    raise RuntimeError("deep")


def _chained_cause():
    try:
        _raise_lone()
    except ValueError as e:
        raise KeyError("cause") from e


def _chained_context():
    try:
        _raise_lone()
    except ValueError:
        raise KeyError("context")  # noqa: B904 - the context is the case


def _context_suppressed():
    try:
        _raise_lone()
    except ValueError:
        raise KeyError("suppressed") from None


def _twin_cases():
    """Exceptions from assorted stacks: each pair from the same stack and
    each from another, chains shown or suppressed, none raised at all."""
    cases = [_caught(_raise_lone), _caught(_raise_lone), _caught(_raise_bare),
             _caught(_raise_from_either_line, True), _caught(_raise_from_either_line, True),
             _caught(_raise_from_either_line, False), _caught(_deep, 3), _caught(_deep, 3),
             _caught(_deep, 4), _caught(_deep, 100), _caught(_chained_cause),
             _caught(_chained_context), _caught(_context_suppressed),
             _caught(_context_suppressed), ValueError("never raised")]
    stripped = _caught(_raise_lone)
    stripped.__traceback__ = None
    return cases + [stripped]


def test_the_c_stack_key_tells_the_same_stacks_apart_as_the_python_one():
    from hearth.vm import _reasons

    if not vm.COMPILED:
        pytest.skip("the kernel is not compiled in this install: only the Python key runs")
    from hearth.vm._stackkey import crash_key

    cases = _twin_cases()
    py = [_reasons._crash_key(e) for e in cases]
    c = [crash_key(e) for e in cases]
    for e, a, b in zip(cases, py, c):
        # None for a chain shown (cause, or context not suppressed); empty
        # without a traceback; one entry per frame otherwise.
        assert (a is None) == (b is None), e
        if a is not None:
            assert len(a) // 2 == len(b) // 16 and (not a) == (not b), e
    for i in range(len(cases)):
        for j in range(len(cases)):
            assert (py[i] == py[j]) == (c[i] == c[j]), (cases[i], cases[j])
    assert py[0] == py[1] and py[0] != py[2] and py[3] != py[5] and py[6] != py[8]
    assert py[10] is None and py[11] is None and py[12] is not None


def test_the_python_stack_key_says_the_same_of_each_case():
    from hearth.vm import _reasons

    cases = _twin_cases()
    keys = [_reasons._crash_key(e) for e in cases]
    assert keys[0] == keys[1] != keys[2]
    assert keys[3] == keys[4] != keys[5]
    assert keys[6] == keys[7] != keys[8]
    assert len(keys[9]) == 2 * 102  # the test's frame, _caught's, and 101 of _deep
    assert keys[10] is None and keys[11] is None  # a cause, a context
    assert keys[12] == keys[13] != ()  # a context suppressed: the key covers it
    assert keys[14] == () and keys[15] == ()  # no traceback


def test_a_deep_stack_gets_its_text_and_is_not_remembered(proc):
    from hearth.vm import _reasons

    before = len(_reasons._STACKS)
    e = _caught(_deep, 100)
    reason = error_reason(e)
    # Every frame, the repeated ones too (the interpreter would fold them).
    assert reason[3] == format_traceback(e)
    assert reason[3].count(", in _deep\n") == 101
    assert len(_reasons._STACKS) == before


def test_every_case_gets_the_interpreters_text(proc):
    # The key decides only which text is looked up: each case's reason is
    # the text `traceback` gives it (a chain's too), but for the frames the
    # interpreter folds as repeated (more than three of one line).
    for e in _twin_cases():
        if e.__traceback__ is None and e.__context__ is None:
            name = type(e).__qualname__
            assert error_reason(e) == ("error", name, str(e), f"{name}: {e}\n")
        elif "repeated" in _standard(e):
            assert error_reason(e)[3] == format_traceback(e), e
        else:
            assert error_reason(e)[3] == _standard(e), e


def test_error_reason_of_what_is_not_an_exception_is_misuse():
    for bad in (None, 42, "ValueError", ValueError):
        with pytest.raises(vm.Misuse, match="needs an exception"):
            error_reason(bad)
