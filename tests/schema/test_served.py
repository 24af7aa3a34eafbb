"""What the code serves is what the schemas say: the ported services name
a schema and no longer list ops of their own; init answers each op of its
schema."""

import ast
import importlib
import inspect
import pathlib
import pkgutil

import pytest

from hearth import otp
from hearth.otp import Service, schemas
from kindling.init import boot

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
PORTED = [*sorted((REPO / "hearth" / "native").glob("_*.py")),
          REPO / "hearth" / "world" / "_world.py", REPO / "hearth" / "otp" / "_registry.py",
          REPO / "kindling" / "init" / "_init.py", REPO / "hearth" / "net" / "_peers.py",
          *sorted((REPO / "hearth" / "gfx").glob("**/_*.py"))]


def _calls(path, name):
    tree = ast.parse(path.read_text())
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "id", getattr(n.func, "attr", None)) == name]


def test_the_ported_services_list_no_ops_of_their_own():
    for path in PORTED:
        if path.name == "_service.py":
            continue  # re-exports parse_op for the services not ported yet
        assert not _calls(path, "parse_op"), f"{path.name} still parses ops by hand"


def _service_classes():
    for package in ("hearth.native", "hearth.world"):
        pkg = importlib.import_module(package)
        for info in pkgutil.iter_modules(pkg.__path__, package + "."):
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, Service) and cls.__module__ == module.__name__:
                    yield cls


def test_every_headless_service_that_handles_requests_names_its_schema():
    found = list(_service_classes())
    assert len(found) >= 10
    for cls in found:
        if cls.__subclasses__():
            continue  # a base: its subclasses name theirs
        assert cls.schema in schemas(), f"{cls.__qualname__} names no schema"


def test_the_peers_service_checks_requests_with_its_schema():
    from hearth.net._peers import PeersService

    assert PeersService.schema == "hearth.net.Peers" in schemas()


@pytest.mark.hearth_timeout(60)
def test_init_answers_every_op_of_its_schema_with_its_reply_type(proc, tmp_path):
    (tmp_path / "init").mkdir()
    registry = otp.start_registry()
    init = boot(tmp_path, registry)
    spec = otp.schema("hearth.init")
    for op in spec.ops.values():
        value = otp.call(init, op.name, timeout=30)
        op.reply.check(value, f"hearth.init {op.name} ok")
    for bad, needle in (("nope", "unknown op 'nope'"),
                        (("services", 1), "services takes 0 field(s)")):
        answer = otp.call(init, bad, timeout=30)
        assert answer[0] == "error" and needle in answer[1], answer
