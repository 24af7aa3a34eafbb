"""The attacker's harness itself: a real server, an honest peer, and a
snapshot that sees a change when there is one."""

from hearth import otp


def test_a_peer_sees_the_public_services_and_the_snapshot_is_stable(hearth_server, attacker):
    names = otp.registered(attacker.root)
    assert "clock" in names and "hearth.Inspector" not in names
    before = hearth_server.snapshot()
    assert before["processes"] and "hearth.Inspector" in before["names"]
    assert "init/clock/service.toml" in before["files"]
    hearth_server.assert_unchanged(before)


def test_the_snapshot_sees_a_changed_file(hearth_server, proc):
    before = hearth_server.snapshot()
    (hearth_server.root / "init" / "clock" / "extra.txt").write_text("x")
    after = hearth_server.snapshot()
    assert after["files"] != before["files"]
