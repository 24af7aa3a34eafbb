"""The inspector's lump transfer sessions: chunks in order, within the
declared size, checked against the sender's id; at most MAX_SESSIONS at
once; a session ends when its owner goes away or it sits idle."""

import pytest

from hearth import vm
from hearth.native._inspector import BUSY, start_inspector
from hearth.native._lump_transfer import IDLE, MAX_SESSIONS
from hearth.native._service import INVALID_REQUEST, NOT_FOUND
from hearth.otp import ServiceError, request, start_registry
from hearth.vm import MONITOR, lump_id



@pytest.fixture
def inspector(proc):
    return start_inspector(start_registry()).cap


def ask(cap, term, args=()):
    return request(cap, term, args, timeout=10)


def refused(cap, term, args=()):
    with pytest.raises(ServiceError) as e:
        ask(cap, term, args)
    return e.value.kind, e.value.message


def test_an_upload_in_chunks_stores_the_lump_and_a_download_reads_it_back(runtime, inspector):
    data = bytes(range(256)) * 1000
    session = ask(inspector, ["lump_upload", len(data)])["upload"]
    assert ask(session, ["chunk", 0, data[:100_000]]) == {"received": 100_000}
    # Out of order, twice, or past the declared size: refused, the upload goes on.
    assert refused(session, ["chunk", 0, data[:10]])[0] == INVALID_REQUEST
    assert "more than the" in refused(session, ["chunk", 100_000, data[100_000:] + b"x"])[1]
    assert "of the 256000 declared" in refused(session, ["finish", None])[1]
    assert ask(session, ["chunk", 100_000, data[100_000:]]) == {"received": len(data)}
    ref = session.monitor()
    lid = ask(session, ["finish", bytes(lump_id(data))])
    assert bytes(lid) == bytes(lump_id(data)) and runtime.lumps.get(lid) == data
    assert down(ref) == "normal"  # a finished session ends
    got = ask(inspector, ["lump_download", bytes(lid)])
    assert got["size"] == len(data)
    reader = got["download"]
    assert ask(reader, ["read", 1000, 24]) == data[1000:1024]
    assert ask(reader, ["read", len(data) - 5, 100]) == data[-5:]
    assert ask(reader, "close") == {"closed": True}
    assert refused(inspector, ["lump_download", b"\0" * 32])[0] == NOT_FOUND


def test_an_upload_whose_bytes_do_not_match_the_id_stores_nothing(runtime, inspector):
    session = ask(inspector, ["lump_upload", 3])["upload"]
    ask(session, ["chunk", 0, b"abc"])
    assert "does not match" in refused(session, ["finish", bytes(lump_id(b"abd"))])[1]
    assert not runtime.lumps.has(lump_id(b"abc"))


def test_transfers_are_bounded_and_a_session_ends_with_its_owner(runtime, inspector):
    owners = [vm.create_mailbox() for _ in range(MAX_SESSIONS)]
    sessions = [ask(inspector, ["lump_upload", 10], [o.make_capability(MONITOR)])["upload"]
                for o in owners]
    kind, message = refused(inspector, ["lump_upload", 10])
    assert kind == BUSY and f"{MAX_SESSIONS} lump transfers" in message
    ask(sessions[0], ["chunk", 0, b"half"])
    ref = sessions[0].monitor()
    owners[0].destroy()  # the tool's connection closed mid-upload
    assert down(ref) == "normal"
    # Its slot is free again (the inspector saw it end).
    new = ask(inspector, ["lump_upload", 10])["upload"]
    ref = new.monitor()
    assert ask(new, "abort") == {"aborted": True}
    assert down(ref) == "normal"


def test_an_idle_session_ends(proc, virtual_clock):
    inspector = start_inspector(start_registry()).cap
    session = ask(inspector, ["lump_upload", 10])["upload"]
    assert down(session.monitor(), IDLE * 2) == "normal"
    assert virtual_clock.now() >= IDLE


def down(ref, seconds=10):
    while True:
        sig = vm.recv(seconds)
        assert sig is not None, "no Down"
        if type(sig) is vm.Down and sig.ref == ref:
            sig.cap.release()
            return sig.reason


def test_an_upload_declaring_a_silly_size_is_refused(inspector):
    assert refused(inspector, ["lump_upload", -1])[0] == INVALID_REQUEST
    assert refused(inspector, ["lump_upload", 1 << 50])[0] == INVALID_REQUEST
