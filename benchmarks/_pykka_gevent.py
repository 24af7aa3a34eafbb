"""pykka 2.0.3's gevent actor, the fair pykka peer of a gevent runtime.

pykka 4 (the version the project's environment has) has only thread
actors; pykka 2.x had `pykka.gevent.GeventActor`, whose actors are
greenlets, as Hearth's processes are. It is installed on demand, with
``python3 -m venv`` and pip, in a virtualenv under the system's temporary
directory, and timed by `benchmarks/_probe_pykka_gevent.py` in that
interpreter. If it can't be installed (no network, no index), `seconds`
returns None and `reason()` says why; the figures that need it are left out.
"""

import json
import os
import subprocess
import sys
import tempfile

__all__ = ["seconds", "reason", "VERSION"]

VERSION = "2.0.3"
_VENV = os.path.join(tempfile.gettempdir(), f"hearth-bench-pykka-{VERSION}")
_READY = os.path.join(_VENV, "hearth-bench-ready")
_PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_probe_pykka_gevent.py")
_failure = []  # the reason the install failed in this run, once known


def _python():
    return os.path.join(_VENV, "bin", "python")


def _install():
    """Make the virtualenv if it isn't complete yet; True if it is usable."""
    if _failure:
        return False
    if os.path.exists(_READY):
        return True
    print(f"installing pykka {VERSION} and gevent into {_VENV} ...", file=sys.stderr,
          flush=True)
    try:
        subprocess.run(["python3", "-m", "venv", "--clear", _VENV], check=True,
                       capture_output=True, text=True, timeout=300)
        subprocess.run([_python(), "-m", "pip", "install", "-q", f"pykka=={VERSION}", "gevent"],
                       check=True, capture_output=True, text=True, timeout=600)
        subprocess.run([_python(), "-c", "import pykka.gevent"], check=True,
                       capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        detail = getattr(e, "stderr", "") or ""
        lines = [line for line in detail.strip().splitlines() if not line.startswith("WARNING")]
        _failure.append(f"pykka {VERSION} with gevent could not be installed in {_VENV}: "
                        f"{e.__class__.__name__}" + (f" ({lines[-1]})" if lines else ""))
        print(f"skipped: {_failure[0]}", file=sys.stderr, flush=True)
        return False
    with open(_READY, "w") as f:
        f.write(VERSION + "\n")
    return True


def reason():
    """Why the gevent actor is not available, or None if it is (or untried)."""
    return _failure[0] if _failure else None


def seconds(n, timeout=None):
    """Seconds `n` asks to an echo `GeventActor` took (each waiting at most
    `timeout` seconds; None, pykka's default, waits for ever), or None if
    pykka 2.0.3 can't be installed. Runs a subprocess (the caller's
    greenlet blocks in gevent's subprocess wait)."""
    if not _install():
        return None
    argv = [_python(), _PROBE, str(n)] + ([] if timeout is None else [str(timeout)])
    out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
