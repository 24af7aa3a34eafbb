"""``python -m hearth.otp.protocols docs [FILE...]``: rewrite the protocol
tables of the docs from the schemas (default: docs/protocols.md and
docs/world.md, from the current directory).

``python -m hearth.otp.protocols c-header [--schemas DIR] [--service NAME]...
[OUT]``: write the C request encoders (`hearth.otp._schema_c`) to OUT or
stdout; the SDK's copy is kindling/sdk_generated/hearth_protocols.h.
``--schemas`` reads the TOML files of DIR instead of the installed ones,
``--service`` (repeated) generates for those services only.

A schema the tools can't read is reported on stderr (exit status 1)."""

import argparse
import pathlib
import sys

from .._schema_docs import DOC_FILES, render
from .._schema_types import SchemaSyntaxError


def _c_header(argv):
    from .._schema import load, schemas
    from .._schema_c import C_SERVICES, header

    parser = argparse.ArgumentParser(prog="python -m hearth.otp.protocols c-header")
    parser.add_argument("--schemas", metavar="DIR", help="read the schemas of DIR")
    parser.add_argument("--service", action="append", metavar="NAME",
                        help="generate for this service (repeatable; default: the SDK's)")
    parser.add_argument("out", nargs="?", help="the header to write (default: stdout)")
    args = parser.parse_args(argv)
    found = load(args.schemas) if args.schemas else schemas()
    names = tuple(args.service or C_SERVICES)
    missing = [n for n in names if n not in found]
    if missing:
        raise SchemaSyntaxError(f"no schema named {', '.join(missing)}")
    text = header(names, found)
    if args.out:
        pathlib.Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv):
    if not argv or argv[0] not in ("docs", "c-header"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[0] == "c-header":
            return _c_header(argv[1:])
        for name in argv[1:] or DOC_FILES:
            path = pathlib.Path(name)
            old = path.read_text()
            new = render(old)
            if new != old:
                path.write_text(new)
                print(f"rewrote the tables of {name}")
    except SchemaSyntaxError as e:
        print(f"hearth.otp.protocols: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # importing it (a walk of the package, say) runs nothing
    sys.exit(main(sys.argv[1:]))
