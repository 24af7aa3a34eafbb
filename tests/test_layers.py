"""Layers import only downward (docs/design.md, section 2), and the layers
above the kernel use its public calls, not its private attributes.

    vm  <  otp  <  net, native  <  world, gfx, terminal, tui, kindling,
                                    the entry points

Every import in hearth/ and kindling/ is read from the source (at module
level, inside functions, and under ``if TYPE_CHECKING:`` alike), so a lazy
import can't hide an upward edge.
"""

import ast
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parent.parent

# Layer -> the layers it may import (besides itself). "leaf": helpers that
# import nothing of Hearth (the package itself, the IPC socket's path), so
# any layer may use them.
MAY_IMPORT = {
    "leaf": set(),
    "vm": {"leaf"},
    "otp": {"leaf", "vm"},
    "net": {"leaf", "vm", "otp"},
    "native": {"leaf", "vm", "otp"},
    "testing": {"leaf", "vm"},  # the pytest plugin, on the kernel only
    "top": {"leaf", "vm", "otp", "net", "native", "testing", "top"},
}

# Top-level packages and modules of hearth, by layer. A new one must be
# placed here (the test fails on an unknown one, rather than let it import
# anything).
HEARTH_LAYER = {
    "vm": "vm",
    "otp": "otp",
    "net": "net",
    "native": "native",
    "testing": "testing",
    "world": "top",
    "gfx": "top",
    "terminal": "top",
    "tui": "top",
    "shell": "top",
    "wm": "top",
    "server": "top",
    "client": "top",
    "ctl": "top",
    "_entry": "top",
    "_sockpath": "leaf",
    "_views": "top",
    "__init__": "leaf",
    "__version__": "leaf",
}


def _module_name(path):
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1] or parts
    return ".".join(parts), path.name == "__init__.py"


def layer_of(module):
    """The layer of a dotted module name of hearth or kindling, None for
    anything else (the standard library, third parties)."""
    parts = module.split(".")
    if parts[0] == "kindling":
        return "top"
    if parts[0] != "hearth":
        return None
    if len(parts) == 1:
        return "leaf"  # the package's own __init__, which imports nothing
    layer = HEARTH_LAYER.get(parts[1])
    assert layer is not None, f"hearth.{parts[1]} is in no layer: add it to HEARTH_LAYER"
    return layer


def _imports(path):
    """(line, imported module) for every import in the file."""
    name, is_package = _module_name(path)
    package = name if is_package else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            yield node.lineno, target
            # ``from hearth import otp`` imports hearth.otp.
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def _sources():
    for top in ("hearth", "kindling"):
        yield from sorted((REPO / top).rglob("*.py"))


def test_every_import_goes_down_the_layers():
    wrong = []
    for path in _sources():
        here = layer_of(_module_name(path)[0])
        for line, target in _imports(path):
            there = layer_of(target)
            if there is None or there == here:
                continue
            if there not in MAY_IMPORT[here]:
                wrong.append(f"{path.relative_to(REPO)}:{line}: {here} imports {target} ({there})")
    assert wrong == []


def test_the_layer_check_sees_an_upward_import():
    # The check itself: an otp module importing net, and a net module
    # importing native, would be caught.
    assert layer_of("hearth.otp._call") == "otp" and "net" not in MAY_IMPORT["otp"]
    assert "native" not in MAY_IMPORT["net"] and "net" not in MAY_IMPORT["native"]
    assert layer_of("kindling.init._order") == "top" and layer_of("msgpack") is None
    assert all("top" not in MAY_IMPORT[layer] for layer in ("vm", "otp", "net", "native"))
    assert MAY_IMPORT["leaf"] == set()


def test_a_leaf_imports_nothing_of_hearth():
    for path in _sources():
        if layer_of(_module_name(path)[0]) == "leaf":
            assert [t for _, t in _imports(path) if layer_of(t) is not None] == [], path


# The kernel's private attributes the upper layers used to read; they ask
# through hearth.vm's calls now (docs/design.md, section 3.11).
PRIVATE = re.compile(r"\._route\b|\._proc\b|\.at_exit\b|\._new_ref\b|\._perms\b"
                     r"|\._deliver\b|\._carrier\b|\broute\.carrier\b")

# Network modules being reworked on another branch; they still act on
# foreign routes' internals and switch to the kernel's calls when that
# work lands.
PRIVATE_NOT_YET: set[str] = set()


def test_no_layer_above_the_kernel_reads_its_private_attributes():
    found = []
    for path in _sources():
        rel = str(path.relative_to(REPO))
        if rel.startswith("hearth/vm/") or rel in PRIVATE_NOT_YET:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if PRIVATE.search(code) and not code.lstrip().startswith(("\"", "'", "`")):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []
