"""The protocol tables of the docs are the schemas' own: regenerating them
changes nothing, and every op of every schema is in a table."""

import pathlib

from hearth.otp import schemas
from hearth.otp._schema_docs import DOC_FILES, render, section_table, sections_in

REPO = pathlib.Path(__file__).resolve().parent.parent.parent


def test_the_docs_tables_match_the_schemas():
    for name in DOC_FILES:
        text = (REPO / name).read_text()
        assert render(text) == text, (
            f"{name} is out of date with hearth/otp/protocols: run"
            " `python -m hearth.otp.protocols docs`")


def test_every_schema_has_a_table_in_the_docs_and_every_op_a_row():
    marked = {s for name in DOC_FILES for s in sections_in((REPO / name).read_text())}
    for s in schemas().values():
        assert s.section in marked, f"{s.name}'s section {s.section!r} is in no doc"
        table = section_table(s.section)
        for op in s.all_ops():
            if op.service == s.name:
                assert op.request.replace("|", "\\|") in table or f"`{op.request}`" in table


def test_a_changed_schema_shows_in_the_table(monkeypatch):
    """The check above can fail: the table follows the schema."""
    op = schemas()["hearth.UnixTime"].ops["now"]
    before = section_table("time")
    monkeypatch.setattr(op, "doc", "a different sentence")
    after = section_table("time")
    assert before != after and "a different sentence" in after
    text = (REPO / "docs/protocols.md").read_text()
    assert render(text) != text
