//! The clock service (kindling/root/init/clock/clock.c) in Zig, with the
//! same SDK: `hearth.h` comes in as `@import("hearth.zig")` (the build
//! command translates it), the C runtime is linked in. Build it with
//! `.venv/bin/python -m kindling.sdk build examples/guests/clock.zig -o clock.wasm`;
//! tests/sdk/test_zig.py checks it answers as the C one does.
const h = @import("hearth.zig");

const State = struct { unix_time: h.hearth_cap = h.HEARTH_NONE };

fn forget(s: *State) void {
    if (s.unix_time != h.HEARTH_NONE) h.hearth_dec_ref(s.unix_time);
    s.unix_time = h.HEARTH_NONE;
}

fn now(s: *State, req: [*c]const h.hearth_request) void {
    var t: i64 = 0;
    var attempt: u32 = 0;
    var st: h.hearth_status = h.HEARTH_OK;
    while (attempt < 2) : (attempt += 1) {
        if (s.unix_time == h.HEARTH_NONE) {
            st = h.hearth_registry_lookup(0, "hearth.UnixTime", &s.unix_time);
            if (st == h.HEARTH_ERR_NOT_FOUND) return h.hearth_reply_error(req, "unavailable", "hearth.UnixTime is not registered");
            if (st != h.HEARTH_OK) return h.hearth_reply_error(req, "unavailable", "the registry did not answer");
        }
        st = h.hearth_time_unix_now(s.unix_time, &t);
        if (st == h.HEARTH_OK) return h.hearth_reply_int(req, t);
        if (st != h.HEARTH_ERR_GONE) break;
        forget(s);
    }
    if (st == h.HEARTH_ERR_TIMEOUT or st == h.HEARTH_ERR_GONE) forget(s);
    h.hearth_reply_error(req, "unavailable", "hearth.UnixTime did not answer");
}

fn echo(req: [*c]const h.hearth_request) void {
    var value: h.hearth_mp_reader = undefined;
    var w: h.hearth_mp_writer = undefined;
    const size: u32 = req.*.sig.*.len + 16;
    h.hearth_reply_begin(&w, h.hearth_alloc(size), size);
    if (!h.hearth_request_field(req, 0, "value", &value)) {
        h.hearth_mp_put_nil(&w);
    } else if (!h.hearth_mp_copy(&w, &value)) {
        return h.hearth_reply_error(req, "invalid_request", "echo's value is malformed");
    }
    _ = h.hearth_reply_send(req, &w);
}

fn handle(state: ?*anyopaque, req: [*c]const h.hearth_request) callconv(.c) bool {
    const s: *State = @ptrCast(@alignCast(state));
    if (h.hearth_request_is(req, "now", 0)) {
        now(s, req);
    } else if (h.hearth_request_is(req, "echo", 1)) {
        echo(req);
    } else {
        h.hearth_reply_error(req, "invalid_request", "unknown op, or wrong fields; ops: now, echo [value]");
    }
    return true;
}

export fn run() void {
    var s = State{};
    var server = h.hearth_server{ .handle = handle, .state = &s };
    h.hearth_serve(&server);
    forget(&s);
}
