"""The documentation stands on its own: nothing in the repository points
at files outside it, and every rule a test names is stated in
docs/semantics.md."""

import pathlib
import re
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
SEMANTICS = REPO / "docs" / "semantics.md"

# Spelled in pieces so that this file does not match itself.
OUTSIDE = [
    re.compile(re.escape("../" + "shared")),
    re.compile(re.escape("/work/" + "shared")),
    re.compile(r"\b" + "SEMANTICS" + r"\.md\b"),
    re.compile(r"\b" + "PROTOCOLS" + r"\.md\b"),
]

# A rule id in a comment or docstring (`V9`, `R2`), or in a test's name,
# where several may follow each other (`test_v18_v19_...`).
RULE_IN_TEXT = re.compile(r"\b([VRON][0-9]+)\b")
RULE_IN_NAME = re.compile(r"\btest_((?:[vron][0-9]+_)+)")
RULE_STATED = re.compile(r"^- \*\*([VRON][0-9]+)\.\*\*", re.MULTILINE)


def tracked_files():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: no list of tracked files")
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [REPO / name for name in out.decode().split("\0") if name]


def text_of(path):
    try:
        data = path.read_bytes()
    except OSError:  # a tracked file deleted in the work tree
        return None
    if b"\0" in data[:8192]:
        return None  # binary: a screenshot, a wasm module
    return data.decode("utf-8", errors="replace")


def test_no_tracked_file_refers_to_notes_outside_the_repository():
    found = []
    for path in tracked_files():
        text = text_of(path)
        if text is None:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if any(p.search(line) for p in OUTSIDE):
                found.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not found, (
        "these lines point outside the repository (say it in docs/semantics.md "
        "or docs/protocols.md instead):\n" + "\n".join(found)
    )


def rules_named_by_tests():
    named = {}
    for path in sorted((REPO / "tests").rglob("*")):
        if path.suffix not in (".py", ".c", ".h") or not path.is_file():
            continue
        if path.resolve() == pathlib.Path(__file__).resolve():
            continue  # its own examples are not rules under test
        text = path.read_text(encoding="utf-8", errors="replace")
        ids = set(RULE_IN_TEXT.findall(text))
        for group in RULE_IN_NAME.findall(text):
            ids.update(part.upper() for part in group.split("_") if part)
        for rule in ids:
            named.setdefault(rule, set()).add(str(path.relative_to(REPO)))
    return named


def test_the_tests_name_rules_at_all():
    # Guards the check below against a pattern that silently finds nothing.
    named = rules_named_by_tests()
    assert {"V1", "V25", "R1", "O5", "N6"} <= set(named)


def test_every_rule_a_test_names_is_stated_in_docs_semantics_md():
    stated = set(RULE_STATED.findall(SEMANTICS.read_text(encoding="utf-8")))
    missing = {
        rule: sorted(files)
        for rule, files in rules_named_by_tests().items()
        if rule not in stated
    }
    assert not missing, (
        "rules named by tests but not stated in docs/semantics.md "
        "(as a line '- **ID.** ...'): " + repr(missing)
    )


def test_each_rule_in_docs_semantics_md_lists_test_files_that_exist():
    text = SEMANTICS.read_text(encoding="utf-8")
    rules = RULE_STATED.split(text)[1:]
    assert rules, "docs/semantics.md states no rules"
    problems = []
    for rule, body in zip(rules[::2], rules[1::2]):
        body = body.split("\n## ")[0]
        files = re.findall(r"`(tests/[^`]+)`", body.split("Tests:", 1)[-1])
        if "Tests:" not in body or not files:
            problems.append(f"{rule}: no 'Tests:' list")
        problems += [f"{rule}: {f} does not exist" for f in files
                     if not (REPO / f).is_file()]
    assert not problems, "\n".join(problems)
