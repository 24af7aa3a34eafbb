"""Running a conformance suite guest and reading its report.

A suite guest (``guests/suite_*.c``, harness ``guests/check.h``) is spawned
with a reporter capability first; it runs its checks and sends one msgpack
report ``{"suite", "passed", "failed", "notes"}``.
"""

from hearth import vm
from hearth.otp import decode
from hearth.vm._wasm import spawn_guest


def start_suite(wasm, *caps, **options):
    """Spawn a suite guest; wait for its report.

    Returns:
        ``(guest, downs, report)``: the guest's capability, the mailbox its
        Down will arrive in, and the decoded report, whose checks all passed.

    Switches: always.
    """
    reports = vm.create_mailbox()
    downs = vm.create_mailbox()
    guest, _ = spawn_guest(wasm, reports.make_capability(vm.SEND), *caps,
                           monitor=True, mailbox=downs, **options)
    got = vm.select([reports, downs], timeout=60)
    assert got is not None, "no report from the suite within 60 s"
    mailbox, signal = got
    assert mailbox is reports, f"the suite died before reporting: {signal.reason!r}"
    report = decode(signal.data, signal.caps)
    failed = "\n".join(report["failed"])
    assert not report["failed"], f"suite {report['suite']}: checks failed:\n{failed}"
    return guest, downs, report


def run_suite(wasm, *caps, **options):
    """`start_suite`, then wait for the guest to end normally; the report."""
    _, downs, report = start_suite(wasm, *caps, **options)
    assert downs.recv(timeout=30).reason == vm.NORMAL
    return report
