"""What the entry points (`hearth-server`, `hearth-client`) share: loading
init by name, finding the bundled world root, reading the shared secret.

Imports no gevent and monkey-patches nothing: each entry point patches
first, then imports this.
"""

import argparse
import importlib
import importlib.util
import os

__all__ = ["resolve", "bundled_root", "read_secret", "period"]


def resolve(spec):
    """The object named ``MODULE:NAME`` (imported now)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def bundled_root():
    """The world root shipped with Kindling, or None if it is not installed."""
    spec = importlib.util.find_spec("kindling")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = os.path.join(list(spec.submodule_search_locations)[0], "root")
    return root if os.path.isdir(root) else None


def read_secret(path, parser, needed_by):
    """The shared secret: the first line of `path`, else
    ``$HEARTH_SECRET_FILE``'s, else ``$HEARTH_SECRET``. A missing one, or a
    file that can't be read, is a usage error through `parser` naming the
    option that needs it (`needed_by`)."""
    from hearth.net import default_secret

    try:
        if path:
            with open(path, "rb") as f:
                secret = f.read().strip()
        else:
            secret = default_secret()
    except OSError as e:
        parser.error(f"can't read the secret: {e}")
    if not secret:
        parser.error(f"{needed_by} needs a shared secret: --secret-file FILE, or set"
                     " HEARTH_SECRET_FILE or HEARTH_SECRET")
    return secret


def period(text):
    """A period in seconds for argparse: a number >= 0, where 0 means off."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a period is a number of seconds, not {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"a period is 0 (off) or a positive number of seconds,"
                                         f" not {text!r}")
    return value
