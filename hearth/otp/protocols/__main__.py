"""``python -m hearth.otp.protocols docs [FILE...]``: rewrite the protocol
tables of the docs from the schemas (default: docs/protocols.md and
docs/world.md, from the current directory); ``c-header [OUT]``: write the
C request encoders (`hearth.otp._schema_c`) to OUT or stdout."""

import pathlib
import sys

from .._schema_docs import DOC_FILES, render


def main(argv):
    if not argv or argv[0] not in ("docs", "c-header"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "c-header":
        from .._schema_c import header

        text = header()
        if len(argv) > 1:
            pathlib.Path(argv[1]).write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    for name in argv[1:] or DOC_FILES:
        path = pathlib.Path(name)
        old = path.read_text()
        new = render(old)
        if new != old:
            path.write_text(new)
            print(f"rewrote the tables of {name}")
    return 0


if __name__ == "__main__":  # importing it (a walk of the package, say) runs nothing
    sys.exit(main(sys.argv[1:]))
