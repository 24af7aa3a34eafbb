"""Drive a real service through its schema: for each op, requests with one
bad field each (each must get ``invalid_request`` naming the field), a
request without each required capability argument, then a valid request
whose ``ok`` value must have the schema's reply type (or whose error must
be one of the kinds the schema lists for the op)."""

import pytest

from hearth import otp, vm
from hearth.otp import ServiceError, schema
from hearth.otp._schema import ALWAYS, NO_INVALID

TIMEOUT = 30


def cap_with(perms):
    """A capability to a fresh mailbox of the caller's with `perms`."""
    return vm.create_mailbox().make_capability(perms or vm.SEND)


class Probe:
    """Checks one service's ops against its schema (`Probe.done` checks
    every op was sent)."""

    def __init__(self, name):
        self.schema = schema(name)
        self.sent = set()

    def _op(self, op):
        return self.schema.term if op == "" else self.schema.ops[op]

    def _values(self, spec, fields):
        fields = fields or {}
        unknown = set(fields) - {f.name for f in spec.fields}
        assert not unknown, f"{self.schema.name} {spec.name}: no fields {unknown}"
        return [fields[f.name] if f.name in fields
                else f.type.example() if f.required else f.default for f in spec.fields]

    def _args(self, spec, args):
        if args is not None:
            return list(args)
        return [cap_with(a.type.perms) for a in spec.args if not a.trailing]

    def _term(self, spec, values):
        if spec.name == "":
            return values[0]
        return [spec.name, *values] if spec.fields else spec.name

    def refuse_bad_fields(self, cap, op, fields=None, args=None):
        """Each field made invalid in turn, then each required capability
        argument left out: every one answered ``invalid_request`` whose
        message names the field. Switches: always."""
        spec = self._op(op)
        values = self._values(spec, fields)
        for i, f in enumerate(spec.fields):
            bad = f.type.invalid()
            if bad is NO_INVALID:
                continue
            term = self._term(spec, values[:i] + [bad] + values[i + 1:])
            with pytest.raises(ServiceError) as e:
                otp.request(cap, term, self._args(spec, args), timeout=TIMEOUT)
            assert e.value.kind == "invalid_request", (self.schema.name, op, f.name, e.value)
            assert f.name in e.value.message, (self.schema.name, op, e.value.message)
        for i, a in enumerate(spec.args):
            if a.trailing:
                continue
            given = self._args(spec, args)[:i]
            with pytest.raises(ServiceError) as e:
                otp.request(cap, self._term(spec, values), given, timeout=TIMEOUT)
            assert e.value.kind == "invalid_request", (self.schema.name, op, a.name)
            assert a.name in e.value.message and f"caps[{i + 1}]" in e.value.message
        if spec.name:
            with pytest.raises(ServiceError) as e:
                otp.request(cap, [spec.name, *values, "extra"], self._args(spec, args),
                            timeout=TIMEOUT)
            assert e.value.kind == "invalid_request"
            assert spec.name in e.value.message

    def ask(self, cap, op, fields=None, args=None, *, form="array", error=None):
        """Send a valid `op` (the schema's example values, `fields` over
        them); return its ``ok`` value, checked against the reply type.
        With `error`, the request must instead be refused with that kind,
        one the schema lists for the op. Switches: always."""
        spec = self._op(op)
        values = self._values(spec, fields)
        if form == "map" and spec.name:
            term = {"op": spec.name, **{f.name: v for f, v in zip(spec.fields, values)}}
        else:
            term = self._term(spec, values)
        self.sent.add(op)
        if error is not None:
            assert error in spec.errors and error not in ALWAYS, (
                f"{self.schema.name} {op}: {error} is not in the schema's errors")
            with pytest.raises(ServiceError) as e:
                otp.request(cap, term, self._args(spec, args), timeout=TIMEOUT)
            assert e.value.kind == error, e.value
            return None
        value = otp.request(cap, term, self._args(spec, args), timeout=TIMEOUT)
        spec.reply.check(value, f"{self.schema.name} {op or 'request'} ok")
        return value

    def done(self):
        """Every op of the schema was sent."""
        ops = {o.name for o in self.schema.all_ops()}
        assert self.sent == ops, f"{self.schema.name}: not sent {sorted(ops - self.sent)}"
