"""The protocol tables of the docs, written from the schemas
(`hearth.otp.schemas`), so the docs and the services can't drift.

A table sits between two marker comments in a Markdown file::

    <!-- schema:time -->
    ...generated; edit hearth/otp/protocols/*.toml instead...
    <!-- /schema:time -->

``time`` is a *section*: the table lists every op of every schema whose
``section`` it is (ops a schema `extends` from another are in the
other's). ``python -m hearth.otp.protocols docs [FILE...]`` rewrites the
tables (default: docs/protocols.md and docs/world.md), and tests/schema
checks that the files are up to date. Nothing here switches.
"""

from __future__ import annotations

import re

from ._schema import Op, Schema, schemas

__all__ = ["section_table", "render", "MARKED", "DOC_FILES"]

DOC_FILES = ("docs/protocols.md", "docs/world.md")
MARKED = re.compile(r"(<!-- schema:([\w.-]+) -->\n).*?(<!-- /schema:\2 -->)", re.S)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return text if "`" in text else f"`{text}`"


def _fields(op: Op) -> str:
    out = [f"`{f.spec}`" for f in op.fields]
    out += [f"`{f.spec}` (map form only)" for f in op.map_only]
    return ", ".join(out)


def _args(op: Op) -> str:
    out = []
    for i, f in enumerate(op.args, 1):
        where = f"caps[{i}..]" if f.rest else f"caps[{i}]"
        out.append(f"{where}: `{f.spec}`")
    return ", ".join(out)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def section_table(section: str) -> str:
    """The Markdown table of `section`: one row per op, and a line naming
    the types the rows use by alias.

    Raises:
        KeyError: no schema is in `section`.
    """
    found: list[Schema] = [s for s in schemas().values() if s.section == section]
    if not found:
        raise KeyError(f"no schema has section {section!r}")
    several = len(found) > 1
    head = (["service"] if several else []) + ["request", "fields", "caps[1..]", "`ok`",
                                               "errors"]
    lines = [_row(head), "|" + "---|" * len(head)]
    used: dict[str, str] = {}
    for s in found:
        where = ", ".join(f"`{n}`" for n in s.registered) or f"`{s.name}`"
        for op in s.all_ops():
            if op.service != s.name:
                continue  # inherited (`extends`): in its own schema's table
            cells = [_code(op.request), _fields(op), _args(op), op.doc,
                     ", ".join(f"`{e}`" for e in op.errors)]
            lines.append(_row(([where] if several else []) + cells))
            specs = [f.spec for f in op.fields + op.map_only + op.args]
            for word in _WORD.findall(" ".join(s.split(":", 1)[1] for s in specs)):
                if word in s.aliases:
                    used.setdefault(word, s.aliases[word])
    if used:
        defs = "; ".join(f"`{k}` = `{v}`" for k, v in used.items())
        lines.append("")
        lines.append(f"Types by name: {defs}.")
    how = {s.how for s in found}
    checked = all(s.checked for s in found)
    lines.append("")
    lines.append("Generated from `hearth/otp/protocols/` (" +
                 ", ".join(sorted({s.file for s in found})) + ")" +
                 (": the services check requests against the same schema." if checked else
                  ": the services do not check requests against it yet (they check by"
                  " hand, to the same rules).") +
                 (" These speak `$call`." if how == {"$call"} else ""))
    return "\n".join(lines) + "\n"


def render(text: str) -> str:
    """`text` with every marked table rewritten from the schemas."""
    return MARKED.sub(lambda m: m.group(1) + section_table(m.group(2)) + m.group(3), text)


def sections_in(text: str) -> list[str]:
    """The sections marked in `text`, in order."""
    return [m.group(2) for m in MARKED.finditer(text)]
