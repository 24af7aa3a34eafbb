// hearth.zig: kindling/sdk/hearth.h translated by `zig translate-c`; regenerate with
// `python -m kindling.sdk zig-header`, never edit.
const __root = @This();
pub const __builtin = @import("std").zig.c_translation.builtins;
pub const __helpers = @import("std").zig.c_translation.helpers;
pub const ptrdiff_t = c_long;
pub const wchar_t = c_int;
pub const max_align_t = extern struct {
    __aro_max_align_ll: c_longlong = 0,
    __aro_max_align_ld: c_longdouble = 0,
};
pub const intmax_t = c_longlong;
pub const uintmax_t = c_ulonglong;
pub const int_least64_t = c_longlong;
pub const int_least32_t = c_int;
pub const int_least16_t = c_short;
pub const int_least8_t = i8;
pub const uint_least64_t = c_ulonglong;
pub const uint_least32_t = c_uint;
pub const uint_least16_t = c_ushort;
pub const uint_least8_t = u8;
pub const int_fast64_t = c_longlong;
pub const int_fast32_t = c_int;
pub const int_fast16_t = c_short;
pub const int_fast8_t = i8;
pub const uint_fast64_t = c_ulonglong;
pub const uint_fast32_t = c_uint;
pub const uint_fast16_t = c_ushort;
pub const uint_fast8_t = u8;
pub const int128_t = i128;
pub const uint128_t = u128;
pub const int_fast128_t = i128;
pub const uint_fast128_t = u128;
pub const int_least128_t = i128;
pub const uint_least128_t = u128;
pub const hearth_cap = u32;
pub const hearth_mb = u32;
pub const hearth_sig = u32;
pub const hearth_lump = u32;
pub const hearth_account = u32;
pub const struct_hearth_lump_id = extern struct {
    bytes: [32]u8 = @import("std").mem.zeroes([32]u8),
    pub const hearth_abi_lump_this_lump = __root.hearth_abi_lump_this_lump;
    pub const hearth_abi_lump_load_by_id = __root.hearth_abi_lump_load_by_id;
    pub const hearth_this_lump = __root.hearth_this_lump;
    pub const hearth_lump_load_by_id = __root.hearth_lump_load_by_id;
    pub const lump = __root.hearth_abi_lump_this_lump;
    pub const id = __root.hearth_abi_lump_load_by_id;
};
pub const hearth_lump_id = struct_hearth_lump_id;
pub const hearth_entry = ?*const fn () callconv(.c) void;
pub extern fn run() void;
pub extern fn hearth_init() void;
pub extern fn hearth_metadata() void;
pub extern fn hearth_abi_log(level: u32, module: [*c]const u8, module_len: u32, text: [*c]const u8, text_len: u32) void;
pub extern fn hearth_abi_lump_this_lump(id: [*c]hearth_lump_id) void;
pub extern fn hearth_abi_lump_load_by_id(id: [*c]const hearth_lump_id) hearth_lump;
pub extern fn hearth_abi_lump_load(data: ?*const anyopaque, len: u32) hearth_lump;
pub extern fn hearth_abi_lump_get_id(lump: hearth_lump, id: [*c]hearth_lump_id) void;
pub extern fn hearth_abi_lump_get_len(lump: hearth_lump) u32;
pub extern fn hearth_abi_lump_get_data(lump: hearth_lump, dst: ?*anyopaque) void;
pub extern fn hearth_abi_lump_free(lump: hearth_lump) void;
pub extern fn hearth_abi_table_inc_ref(cap: hearth_cap) void;
pub extern fn hearth_abi_table_dec_ref(cap: hearth_cap) void;
pub extern fn hearth_abi_table_get_permissions(cap: hearth_cap) u32;
pub extern fn hearth_abi_table_demote(cap: hearth_cap, perms: u32) hearth_cap;
pub extern fn hearth_abi_table_send(cap: hearth_cap, data: ?*const anyopaque, len: u32, caps: [*c]const hearth_cap, ncaps: u32) void;
pub extern fn hearth_abi_table_kill(cap: hearth_cap) void;
pub extern fn hearth_abi_mailbox_create() hearth_mb;
pub extern fn hearth_abi_mailbox_destroy(mb: hearth_mb) void;
pub extern fn hearth_abi_mailbox_make_capability(mb: hearth_mb, perms: u32) hearth_cap;
pub extern fn hearth_abi_mailbox_monitor(mb: hearth_mb, cap: hearth_cap) void;
pub extern fn hearth_abi_mailbox_recv(mb: hearth_mb) hearth_sig;
pub extern fn hearth_abi_mailbox_try_recv(mb: hearth_mb) hearth_sig;
pub extern fn hearth_abi_mailbox_poll(mbs: [*c]const hearth_mb, n: u32) u64;
pub extern fn hearth_abi_mailbox_destroy_signal(sig: hearth_sig) void;
pub extern fn hearth_abi_mailbox_get_signal_kind(sig: hearth_sig) u32;
pub extern fn hearth_abi_mailbox_get_down_capability(sig: hearth_sig) hearth_cap;
pub extern fn hearth_abi_mailbox_get_message_data_len(sig: hearth_sig) u32;
pub extern fn hearth_abi_mailbox_get_message_data(sig: hearth_sig, dst: ?*anyopaque) void;
pub extern fn hearth_abi_mailbox_get_message_caps_num(sig: hearth_sig) u32;
pub extern fn hearth_abi_mailbox_get_message_caps(sig: hearth_sig, dst: [*c]hearth_cap) void;
pub extern fn hearth_abi_metadata_set_name(s: [*c]const u8, len: u32) void;
pub extern fn hearth_abi_metadata_set_description(s: [*c]const u8, len: u32) void;
pub extern fn hearth_abi_metadata_add_author(s: [*c]const u8, len: u32) void;
pub extern fn hearth_abi_metadata_set_repository(s: [*c]const u8, len: u32) void;
pub extern fn hearth_abi_metadata_set_homepage(s: [*c]const u8, len: u32) void;
pub extern fn hearth_abi_metadata_set_license(s: [*c]const u8, len: u32) void;
pub extern fn hearth_abi_process_link(cap: hearth_cap) void;
pub extern fn hearth_abi_process_unlink(cap: hearth_cap) void;
pub extern fn hearth_abi_process_trap_exit(flag: u32) u32;
pub extern fn hearth_abi_process_pid() i64;
pub extern fn hearth_abi_process_now() i64;
pub extern fn hearth_abi_process_exit(reason: ?*const anyopaque, len: u32) noreturn;
pub extern fn hearth_abi_process_exit_with(cap: hearth_cap, reason: ?*const anyopaque, len: u32) void;
pub extern fn hearth_abi_process_recv_timeout(mb: hearth_mb, nanos: i64) hearth_sig;
pub extern fn hearth_abi_process_poll_timeout(mbs: [*c]const hearth_mb, n: u32, nanos: i64) i64;
pub extern fn hearth_abi_process_get_down_reason_len(sig: hearth_sig) u32;
pub extern fn hearth_abi_process_get_down_reason(sig: hearth_sig, dst: ?*anyopaque) void;
pub extern fn hearth_abi_process_spawn_by_index(index: u32, caps: [*c]const hearth_cap, ncaps: u32) hearth_cap;
pub extern fn hearth_abi_process_spawn_link_by_index(index: u32, caps: [*c]const hearth_cap, ncaps: u32) hearth_cap;
pub extern fn hearth_abi_process_spawn_monitor_by_index(index: u32, caps: [*c]const hearth_cap, ncaps: u32, mb: hearth_mb) hearth_cap;
pub extern fn hearth_abi_account_of_message(sig: hearth_sig) hearth_account;
pub extern fn hearth_abi_account_of_capability(cap: hearth_cap) hearth_account;
pub extern fn hearth_abi_account_mine() hearth_account;
pub extern fn hearth_abi_account_is_closed(account: hearth_account) u32;
pub extern fn hearth_abi_account_name(account: hearth_account, dst: [*c]u8, size: u32) u32;
pub extern fn hearth_alloc(size: u32) ?*anyopaque;
pub extern fn hearth_mark() u32;
pub extern fn hearth_release(mark: u32) void;
pub extern fn memcpy(dst: ?*anyopaque, src: ?*const anyopaque, n: usize) ?*anyopaque;
pub extern fn memmove(dst: ?*anyopaque, src: ?*const anyopaque, n: usize) ?*anyopaque;
pub extern fn memset(dst: ?*anyopaque, c: c_int, n: usize) ?*anyopaque;
pub extern fn memcmp(a: ?*const anyopaque, b: ?*const anyopaque, n: usize) c_int;
pub extern fn hearth_strlen(s: [*c]const u8) u32;
pub extern fn hearth_streq(a: [*c]const u8, b: [*c]const u8) bool;
pub extern fn hearth_itoa(v: i64, out: [*c]u8) u32;
pub extern fn hearth_log(level: u32, module: [*c]const u8, text: [*c]const u8) void;
pub extern fn hearth_set_name(s: [*c]const u8) void;
pub extern fn hearth_set_description(s: [*c]const u8) void;
pub extern fn hearth_add_author(s: [*c]const u8) void;
pub extern fn hearth_set_repository(s: [*c]const u8) void;
pub extern fn hearth_set_homepage(s: [*c]const u8) void;
pub extern fn hearth_set_license(s: [*c]const u8) void;
pub extern fn hearth_this_lump(out: [*c]hearth_lump_id) void;
pub extern fn hearth_lump_load(data: ?*const anyopaque, len: u32) hearth_lump;
pub extern fn hearth_lump_load_by_id(id: [*c]const hearth_lump_id) hearth_lump;
pub extern fn hearth_lump_get_id(lump: hearth_lump, out: [*c]hearth_lump_id) void;
pub extern fn hearth_lump_len(lump: hearth_lump) u32;
pub extern fn hearth_lump_read(lump: hearth_lump, dst: ?*anyopaque) void;
pub extern fn hearth_lump_data(lump: hearth_lump, len: [*c]u32) ?*anyopaque;
pub extern fn hearth_lump_free(lump: hearth_lump) void;
pub extern fn hearth_inc_ref(cap: hearth_cap) void;
pub extern fn hearth_dec_ref(cap: hearth_cap) void;
pub extern fn hearth_permissions(cap: hearth_cap) u32;
pub extern fn hearth_demote(cap: hearth_cap, perms: u32) hearth_cap;
pub extern fn hearth_send(to: hearth_cap, data: ?*const anyopaque, len: u32, caps: [*c]const hearth_cap, ncaps: u32) void;
pub extern fn hearth_send_str(to: hearth_cap, s: [*c]const u8) void;
pub extern fn hearth_kill(cap: hearth_cap) void;
pub extern fn hearth_mailbox_create() hearth_mb;
pub extern fn hearth_mailbox_destroy(mb: hearth_mb) void;
pub extern fn hearth_make_capability(mb: hearth_mb, perms: u32) hearth_cap;
pub extern fn hearth_monitor(mb: hearth_mb, cap: hearth_cap) void;
pub const struct_hearth_signal = extern struct {
    kind: u32 = 0,
    index: u32 = 0,
    data: [*c]u8 = null,
    len: u32 = 0,
    caps: [*c]hearth_cap = null,
    ncaps: u32 = 0,
    cap: hearth_cap = 0,
    reason: [*c]u8 = null,
    reason_len: u32 = 0,
    refused_len: u32 = 0,
    pub const hearth_signal_release = __root.hearth_signal_release;
    pub const hearth_reason_is = __root.hearth_reason_is;
    pub const hearth_request_parse = __root.hearth_request_parse;
    pub const hearth_window_event_decode = __root.hearth_window_event_decode;
    pub const hearth_handover_take = __root.hearth_handover_take;
    pub const release = __root.hearth_signal_release;
    pub const is = __root.hearth_reason_is;
    pub const parse = __root.hearth_request_parse;
    pub const decode = __root.hearth_window_event_decode;
    pub const take = __root.hearth_handover_take;
};
pub const hearth_signal = struct_hearth_signal;
pub extern var hearth_max_message: u32;
pub extern fn hearth_recv(mb: hearth_mb, out: [*c]hearth_signal) void;
pub extern fn hearth_try_recv(mb: hearth_mb, out: [*c]hearth_signal) bool;
pub extern fn hearth_recv_timeout(mb: hearth_mb, nanos: u64, out: [*c]hearth_signal) bool;
pub extern fn hearth_poll(mbs: [*c]const hearth_mb, n: u32, out: [*c]hearth_signal) void;
pub extern fn hearth_poll_timeout(mbs: [*c]const hearth_mb, n: u32, nanos: u64, out: [*c]hearth_signal) bool;
pub extern fn hearth_signal_read(sig: hearth_sig, out: [*c]hearth_signal) void;
pub extern fn hearth_poll_account(mbs: [*c]const hearth_mb, n: u32, nanos: u64, out: [*c]hearth_signal, account: [*c]hearth_account) bool;
pub extern fn hearth_signal_release(s: [*c]const hearth_signal) void;
pub extern fn hearth_reason_is(s: [*c]const hearth_signal, atom: [*c]const u8) bool;
pub extern fn hearth_link(cap: hearth_cap) void;
pub extern fn hearth_unlink(cap: hearth_cap) void;
pub extern fn hearth_trap_exit(flag: bool) bool;
pub extern fn hearth_pid() i64;
pub extern fn hearth_now() i64;
pub extern fn hearth_account_of(cap: hearth_cap) hearth_account;
pub extern fn hearth_account_mine() hearth_account;
pub extern fn hearth_account_closed(account: hearth_account) bool;
pub extern fn hearth_account_name(account: hearth_account, dst: [*c]u8, size: u32) u32;
pub extern fn hearth_exit(reason: ?*const anyopaque, len: u32) noreturn;
pub extern fn hearth_exit_atom(atom: [*c]const u8) noreturn;
pub extern fn hearth_exit_with(cap: hearth_cap, reason: ?*const anyopaque, len: u32) void;
pub extern fn hearth_exit_with_atom(cap: hearth_cap, atom: [*c]const u8) void;
pub extern fn hearth_spawn(@"fn": hearth_entry, caps: [*c]const hearth_cap, n: u32) hearth_cap;
pub extern fn hearth_spawn_link(@"fn": hearth_entry, caps: [*c]const hearth_cap, n: u32) hearth_cap;
pub extern fn hearth_spawn_monitor(@"fn": hearth_entry, caps: [*c]const hearth_cap, n: u32, mb: hearth_mb) hearth_cap;
pub const struct_hearth_mp_writer = extern struct {
    buf: [*c]u8 = null,
    len: u32 = 0,
    size: u32 = 0,
    caps: [16]hearth_cap = @import("std").mem.zeroes([16]hearth_cap),
    ncaps: u32 = 0,
    overflow: bool = false,
    pub const hearth_mp_writer_init = __root.hearth_mp_writer_init;
    pub const hearth_mp_put_nil = __root.hearth_mp_put_nil;
    pub const hearth_mp_put_bool = __root.hearth_mp_put_bool;
    pub const hearth_mp_put_int = __root.hearth_mp_put_int;
    pub const hearth_mp_put_uint = __root.hearth_mp_put_uint;
    pub const hearth_mp_put_double = __root.hearth_mp_put_double;
    pub const hearth_mp_put_str = __root.hearth_mp_put_str;
    pub const hearth_mp_put_strn = __root.hearth_mp_put_strn;
    pub const hearth_mp_put_bin = __root.hearth_mp_put_bin;
    pub const hearth_mp_put_array = __root.hearth_mp_put_array;
    pub const hearth_mp_put_map = __root.hearth_mp_put_map;
    pub const hearth_mp_put_ext = __root.hearth_mp_put_ext;
    pub const hearth_mp_put_raw = __root.hearth_mp_put_raw;
    pub const hearth_mp_put_cap = __root.hearth_mp_put_cap;
    pub const hearth_mp_attach = __root.hearth_mp_attach;
    pub const hearth_mp_send = __root.hearth_mp_send;
    pub const hearth_mp_request_init = __root.hearth_mp_request_init;
    pub const hearth_mp_copy = __root.hearth_mp_copy;
    pub const hearth_reply_begin = __root.hearth_reply_begin;
    pub const init = __root.hearth_mp_writer_init;
    pub const nil = __root.hearth_mp_put_nil;
    pub const int = __root.hearth_mp_put_int;
    pub const uint = __root.hearth_mp_put_uint;
    pub const double = __root.hearth_mp_put_double;
    pub const str = __root.hearth_mp_put_str;
    pub const strn = __root.hearth_mp_put_strn;
    pub const bin = __root.hearth_mp_put_bin;
    pub const array = __root.hearth_mp_put_array;
    pub const map = __root.hearth_mp_put_map;
    pub const ext = __root.hearth_mp_put_ext;
    pub const raw = __root.hearth_mp_put_raw;
    pub const cap = __root.hearth_mp_put_cap;
    pub const attach = __root.hearth_mp_attach;
    pub const send = __root.hearth_mp_send;
    pub const copy = __root.hearth_mp_copy;
    pub const begin = __root.hearth_reply_begin;
};
pub const hearth_mp_writer = struct_hearth_mp_writer;
pub extern fn hearth_mp_writer_init(w: [*c]hearth_mp_writer, buf: ?*anyopaque, size: u32) void;
pub extern fn hearth_mp_put_nil(w: [*c]hearth_mp_writer) void;
pub extern fn hearth_mp_put_bool(w: [*c]hearth_mp_writer, v: bool) void;
pub extern fn hearth_mp_put_int(w: [*c]hearth_mp_writer, v: i64) void;
pub extern fn hearth_mp_put_uint(w: [*c]hearth_mp_writer, v: u64) void;
pub extern fn hearth_mp_put_double(w: [*c]hearth_mp_writer, v: f64) void;
pub extern fn hearth_mp_put_str(w: [*c]hearth_mp_writer, s: [*c]const u8) void;
pub extern fn hearth_mp_put_strn(w: [*c]hearth_mp_writer, s: [*c]const u8, len: u32) void;
pub extern fn hearth_mp_put_bin(w: [*c]hearth_mp_writer, data: ?*const anyopaque, len: u32) void;
pub extern fn hearth_mp_put_array(w: [*c]hearth_mp_writer, n: u32) void;
pub extern fn hearth_mp_put_map(w: [*c]hearth_mp_writer, n: u32) void;
pub extern fn hearth_mp_put_ext(w: [*c]hearth_mp_writer, @"type": i8, data: ?*const anyopaque, len: u32) void;
pub extern fn hearth_mp_put_raw(w: [*c]hearth_mp_writer, data: ?*const anyopaque, len: u32) void;
pub extern fn hearth_mp_put_cap(w: [*c]hearth_mp_writer, cap: hearth_cap) void;
pub extern fn hearth_mp_attach(w: [*c]hearth_mp_writer, cap: hearth_cap) u32;
pub extern fn hearth_mp_send(w: [*c]const hearth_mp_writer, to: hearth_cap) bool;
pub const HEARTH_MP_NIL: c_int = 0;
pub const HEARTH_MP_BOOL: c_int = 1;
pub const HEARTH_MP_INT: c_int = 2;
pub const HEARTH_MP_UINT: c_int = 3;
pub const HEARTH_MP_FLOAT: c_int = 4;
pub const HEARTH_MP_STR: c_int = 5;
pub const HEARTH_MP_BIN: c_int = 6;
pub const HEARTH_MP_ARRAY: c_int = 7;
pub const HEARTH_MP_MAP: c_int = 8;
pub const HEARTH_MP_CAP: c_int = 9;
pub const HEARTH_MP_EXT: c_int = 10;
pub const enum_hearth_mp_type = c_uint;
pub const hearth_mp_type = enum_hearth_mp_type;
pub const struct_hearth_mp_value = extern struct {
    type: hearth_mp_type = @import("std").mem.zeroes(hearth_mp_type),
    b: bool = false,
    i: i64 = 0,
    u: u64 = 0,
    f: f64 = 0,
    ptr: [*c]const u8 = null,
    len: u32 = 0,
    ext_type: i8 = 0,
    cap: hearth_cap = 0,
    pub const hearth_mp_str_is = __root.hearth_mp_str_is;
    pub const is = __root.hearth_mp_str_is;
};
pub const hearth_mp_value = struct_hearth_mp_value;
pub const struct_hearth_mp_reader = extern struct {
    p: [*c]const u8 = null,
    end: [*c]const u8 = null,
    caps: [*c]const hearth_cap = null,
    ncaps: u32 = 0,
    @"error": bool = false,
    pub const hearth_mp_reader_init = __root.hearth_mp_reader_init;
    pub const hearth_mp_reader_of = __root.hearth_mp_reader_of;
    pub const hearth_mp_read = __root.hearth_mp_read;
    pub const hearth_mp_skip = __root.hearth_mp_skip;
    pub const hearth_mp_read_raw = __root.hearth_mp_read_raw;
    pub const hearth_mp_at_end = __root.hearth_mp_at_end;
    pub const hearth_mp_find = __root.hearth_mp_find;
    pub const hearth_mp_read_int = __root.hearth_mp_read_int;
    pub const hearth_mp_read_bool = __root.hearth_mp_read_bool;
    pub const hearth_mp_read_str = __root.hearth_mp_read_str;
    pub const hearth_mp_read_cap = __root.hearth_mp_read_cap;
    pub const hearth_mp_read_array = __root.hearth_mp_read_array;
    pub const hearth_mp_read_map = __root.hearth_mp_read_map;
    pub const init = __root.hearth_mp_reader_init;
    pub const of = __root.hearth_mp_reader_of;
    pub const read = __root.hearth_mp_read;
    pub const skip = __root.hearth_mp_skip;
    pub const raw = __root.hearth_mp_read_raw;
    pub const find = __root.hearth_mp_find;
    pub const int = __root.hearth_mp_read_int;
    pub const str = __root.hearth_mp_read_str;
    pub const cap = __root.hearth_mp_read_cap;
    pub const array = __root.hearth_mp_read_array;
    pub const map = __root.hearth_mp_read_map;
};
pub const hearth_mp_reader = struct_hearth_mp_reader;
pub extern fn hearth_mp_reader_init(r: [*c]hearth_mp_reader, data: ?*const anyopaque, len: u32, caps: [*c]const hearth_cap, ncaps: u32) void;
pub extern fn hearth_mp_reader_of(r: [*c]hearth_mp_reader, s: [*c]const hearth_signal) void;
pub extern fn hearth_mp_read(r: [*c]hearth_mp_reader, v: [*c]hearth_mp_value) bool;
pub extern fn hearth_mp_skip(r: [*c]hearth_mp_reader) bool;
pub extern fn hearth_mp_read_raw(r: [*c]hearth_mp_reader, data: [*c][*c]const u8, len: [*c]u32) bool;
pub extern fn hearth_mp_at_end(r: [*c]const hearth_mp_reader) bool;
pub extern fn hearth_mp_find(r: [*c]hearth_mp_reader, key: [*c]const u8) bool;
pub extern fn hearth_mp_read_int(r: [*c]hearth_mp_reader, v: [*c]i64) bool;
pub extern fn hearth_mp_read_bool(r: [*c]hearth_mp_reader, v: [*c]bool) bool;
pub extern fn hearth_mp_read_str(r: [*c]hearth_mp_reader, s: [*c][*c]const u8, len: [*c]u32) bool;
pub extern fn hearth_mp_read_cap(r: [*c]hearth_mp_reader, cap: [*c]hearth_cap) bool;
pub extern fn hearth_mp_read_array(r: [*c]hearth_mp_reader, n: [*c]u32) bool;
pub extern fn hearth_mp_read_map(r: [*c]hearth_mp_reader, n: [*c]u32) bool;
pub extern fn hearth_mp_str_is(v: [*c]const hearth_mp_value, s: [*c]const u8) bool;
pub extern fn hearth_mp_request_init(w: [*c]hearth_mp_writer, buf: ?*anyopaque, size: u32) void;
pub extern fn hearth_call(service: hearth_cap, request: [*c]const hearth_mp_writer, reply: [*c]hearth_signal) bool;
pub extern fn hearth_registry_get(registry: hearth_cap, name: [*c]const u8) hearth_cap;
pub extern fn hearth_registry_register(registry: hearth_cap, name: [*c]const u8, cap: hearth_cap) bool;
pub const HEARTH_OK: c_int = 0;
pub const HEARTH_ERR_REPLY: c_int = 1;
pub const HEARTH_ERR_GONE: c_int = 2;
pub const HEARTH_ERR_TIMEOUT: c_int = 3;
pub const HEARTH_ERR_OVERFLOW: c_int = 4;
pub const HEARTH_ERR_BAD_REPLY: c_int = 5;
pub const HEARTH_ERR_NOT_FOUND: c_int = 6;
pub const enum_hearth_status = c_uint;
pub const hearth_status = enum_hearth_status;
pub extern fn hearth_status_name(s: hearth_status) [*c]const u8;
pub const struct_hearth_reply = extern struct {
    sig: hearth_signal = @import("std").mem.zeroes(hearth_signal),
    value: hearth_mp_reader = @import("std").mem.zeroes(hearth_mp_reader),
    err_kind: [*c]const u8 = null,
    err_message: [*c]const u8 = null,
    err_kind_len: u32 = 0,
    err_message_len: u32 = 0,
    pub const hearth_reply_release = __root.hearth_reply_release;
    pub const hearth_reply_keep = __root.hearth_reply_keep;
    pub const hearth_reply_err_is = __root.hearth_reply_err_is;
    pub const release = __root.hearth_reply_release;
    pub const keep = __root.hearth_reply_keep;
    pub const err_is = __root.hearth_reply_err_is;
};
pub const hearth_reply = struct_hearth_reply;
pub extern fn hearth_ask(service: hearth_cap, request: [*c]const hearth_mp_writer, nanos: u64, out: [*c]hearth_reply) hearth_status;
pub extern fn hearth_reply_release(reply: [*c]hearth_reply) void;
pub extern fn hearth_reply_keep(reply: [*c]hearth_reply, cap: hearth_cap) void;
pub extern fn hearth_reply_err_is(reply: [*c]const hearth_reply, kind: [*c]const u8) bool;
pub extern fn hearth_mp_copy(w: [*c]hearth_mp_writer, r: [*c]hearth_mp_reader) bool;
pub const struct_hearth_request = extern struct {
    sig: [*c]const hearth_signal = null,
    reply_to: hearth_cap = 0,
    op: [*c]const u8 = null,
    op_len: u32 = 0,
    form: u8 = 0,
    nfields: u32 = 0,
    rest: hearth_mp_reader = @import("std").mem.zeroes(hearth_mp_reader),
    pub const hearth_request_is = __root.hearth_request_is;
    pub const hearth_request_field = __root.hearth_request_field;
    pub const hearth_reply_send = __root.hearth_reply_send;
    pub const hearth_reply_nil = __root.hearth_reply_nil;
    pub const hearth_reply_int = __root.hearth_reply_int;
    pub const hearth_reply_str = __root.hearth_reply_str;
    pub const hearth_reply_bool = __root.hearth_reply_bool;
    pub const hearth_reply_error = __root.hearth_reply_error;
    pub const is = __root.hearth_request_is;
    pub const field = __root.hearth_request_field;
    pub const send = __root.hearth_reply_send;
    pub const nil = __root.hearth_reply_nil;
    pub const int = __root.hearth_reply_int;
    pub const str = __root.hearth_reply_str;
    pub const @"error" = __root.hearth_reply_error;
};
pub const hearth_request = struct_hearth_request;
pub extern fn hearth_request_parse(s: [*c]const hearth_signal, req: [*c]hearth_request) bool;
pub extern fn hearth_request_is(req: [*c]const hearth_request, op: [*c]const u8, nfields: u32) bool;
pub extern fn hearth_request_field(req: [*c]const hearth_request, index: u32, name: [*c]const u8, out: [*c]hearth_mp_reader) bool;
pub extern fn hearth_reply_begin(w: [*c]hearth_mp_writer, buf: ?*anyopaque, size: u32) void;
pub extern fn hearth_reply_send(req: [*c]const hearth_request, w: [*c]const hearth_mp_writer) bool;
pub extern fn hearth_reply_nil(req: [*c]const hearth_request) void;
pub extern fn hearth_reply_int(req: [*c]const hearth_request, v: i64) void;
pub extern fn hearth_reply_str(req: [*c]const hearth_request, s: [*c]const u8) void;
pub extern fn hearth_reply_bool(req: [*c]const hearth_request, v: bool) void;
pub extern fn hearth_reply_error(req: [*c]const hearth_request, kind: [*c]const u8, message: [*c]const u8) void;
pub const struct_hearth_watches = extern struct {
    caps: [48]hearth_cap = @import("std").mem.zeroes([48]hearth_cap),
    mbs: [48]hearth_mb = @import("std").mem.zeroes([48]hearth_mb),
    n: u32 = 0,
    pub const hearth_watch = __root.hearth_watch;
    pub const hearth_unwatch = __root.hearth_unwatch;
    pub const hearth_watch_find = __root.hearth_watch_find;
    pub const hearth_unwatch_at = __root.hearth_unwatch_at;
    pub const hearth_pubsub_join = __root.hearth_pubsub_join;
    pub const hearth_pubsub_leave = __root.hearth_pubsub_leave;
    pub const hearth_pubsub_publish = __root.hearth_pubsub_publish;
    pub const hearth_pubsub_publish_mp = __root.hearth_pubsub_publish_mp;
    pub const watch = __root.hearth_watch;
    pub const unwatch = __root.hearth_unwatch;
    pub const find = __root.hearth_watch_find;
    pub const at = __root.hearth_unwatch_at;
    pub const join = __root.hearth_pubsub_join;
    pub const leave = __root.hearth_pubsub_leave;
    pub const publish = __root.hearth_pubsub_publish;
    pub const mp = __root.hearth_pubsub_publish_mp;
};
pub const struct_hearth_server = extern struct {
    handle: ?*const fn (state: ?*anyopaque, req: [*c]const hearth_request) callconv(.c) bool = null,
    info: ?*const fn (state: ?*anyopaque, sig: [*c]const hearth_signal) callconv(.c) void = null,
    deadline: ?*const fn (state: ?*anyopaque) callconv(.c) u64 = null,
    timeout: ?*const fn (state: ?*anyopaque) callconv(.c) bool = null,
    state: ?*anyopaque = null,
    mailboxes: [*c]const hearth_mb = null,
    nmailboxes: u32 = 0,
    watches: [*c]struct_hearth_watches = null,
    down: ?*const fn (state: ?*anyopaque, watched: hearth_cap, sig: [*c]const hearth_signal) callconv(.c) void = null,
    pub const hearth_serve = __root.hearth_serve;
    pub const serve = __root.hearth_serve;
};
pub const hearth_server = struct_hearth_server;
pub extern fn hearth_serve(server: [*c]const hearth_server) void;
pub extern fn hearth_exit_error(name: [*c]const u8, message: [*c]const u8) noreturn;
pub extern fn hearth_registry_lookup(registry: hearth_cap, name: [*c]const u8, out: [*c]hearth_cap) hearth_status;
pub extern fn hearth_registry_put(registry: hearth_cap, name: [*c]const u8, cap: hearth_cap) hearth_status;
pub extern fn hearth_registry_list(registry: hearth_cap, out: [*c]hearth_reply) hearth_status;
pub extern fn hearth_time_unix_now(unix_time: hearth_cap, out: [*c]i64) hearth_status;
pub extern fn hearth_sleep(nanos: u64) void;
pub extern fn hearth_timer_after(nanos: u64, to: hearth_cap, data: ?*const anyopaque, len: u32) hearth_cap;
pub extern fn hearth_ticker_start(nanos: u64, to: hearth_cap, data: ?*const anyopaque, len: u32) hearth_cap;
pub extern fn hearth_lump_cube_texture(label: [*c]const u8, size: u32, faces: [*c]const [*c]const u8) hearth_lump;
pub extern fn hearth_lump_texture(label: [*c]const u8, width: u32, height: u32, rgba: [*c]const u8) hearth_lump;
pub extern fn hearth_lump_mesh(positions: [*c]const f32, normals: [*c]const f32, nvertices: u32, indices: [*c]const u32, nindices: u32) hearth_lump;
pub extern fn hearth_lump_material(albedo: [*c]const f32, texture: hearth_lump) hearth_lump;
pub extern fn hearth_lump_cube_mesh(half: f32) hearth_lump;
pub extern fn hearth_renderer_set_skybox(renderer: hearth_cap, texture: hearth_lump) hearth_status;
pub extern fn hearth_renderer_set_ambient(renderer: hearth_cap, color: [*c]const f32) hearth_status;
pub extern fn hearth_renderer_add_object(renderer: hearth_cap, owner: hearth_cap, mesh: hearth_lump, material: hearth_lump, transform: [*c]const f32, out: [*c]hearth_cap) hearth_status;
pub extern fn hearth_renderer_add_directional_light(renderer: hearth_cap, owner: hearth_cap, color: [*c]const f32, intensity: f32, direction: [*c]const f32, out: [*c]hearth_cap) hearth_status;
pub extern fn hearth_object_set_transform(object: hearth_cap, transform: [*c]const f32) bool;
pub const struct_hearth_canvas_position = extern struct {
    origin: [3]f32 = @import("std").mem.zeroes([3]f32),
    orientation: [4]f32 = @import("std").mem.zeroes([4]f32),
    half_size: [2]f32 = @import("std").mem.zeroes([2]f32),
};
pub const hearth_canvas_position = struct_hearth_canvas_position;
pub extern fn hearth_canvas_create(factory: hearth_cap, owner: hearth_cap, position: [*c]const hearth_canvas_position, width: u32, height: u32, rgba: [*c]const u8, linear: bool, out: [*c]hearth_cap) hearth_status;
pub extern fn hearth_canvas_blit(canvas: hearth_cap, x: i32, y: i32, width: u32, height: u32, rgba: [*c]const u8) bool;
pub extern fn hearth_canvas_relocate(canvas: hearth_cap, position: [*c]const hearth_canvas_position) bool;
pub extern fn hearth_debug_draw_new(factory: hearth_cap, owner: hearth_cap, out: [*c]hearth_cap) hearth_status;
pub extern fn hearth_debug_draw_contents(draw: hearth_cap, positions: [*c]const f32, colors: [*c]const u8, nvertices: u32, indices: [*c]const u32, nindices: u32) hearth_status;
pub extern fn hearth_window_subscribe(window: hearth_cap, target: hearth_cap) hearth_status;
pub extern fn hearth_window_set_camera(window: hearth_cap, vfov: f64, near: f64, view: [*c]const f32) hearth_status;
pub extern fn hearth_window_camera(window: hearth_cap, view: [*c]f32) hearth_status;
pub extern fn hearth_window_set_camera_send(window: hearth_cap, reply_to: hearth_cap, vfov: f64, near: f64, view: [*c]const f32) bool;
pub const HEARTH_EV_UNKNOWN: c_int = 0;
pub const HEARTH_EV_REDRAW: c_int = 1;
pub const HEARTH_EV_RESIZED: c_int = 2;
pub const HEARTH_EV_RECEIVED_CHARACTER: c_int = 3;
pub const HEARTH_EV_KEYBOARD_INPUT: c_int = 4;
pub const HEARTH_EV_MODIFIERS_CHANGED: c_int = 5;
pub const HEARTH_EV_CURSOR_MOVED: c_int = 6;
pub const HEARTH_EV_CURSOR_ENTERED: c_int = 7;
pub const HEARTH_EV_CURSOR_LEFT: c_int = 8;
pub const HEARTH_EV_MOUSE_INPUT: c_int = 9;
pub const HEARTH_EV_MOUSE_WHEEL: c_int = 10;
pub const HEARTH_EV_MOUSE_MOTION: c_int = 11;
pub const HEARTH_EV_FOCUSED: c_int = 12;
pub const HEARTH_EV_CLOSE_REQUESTED: c_int = 13;
pub const enum_hearth_event_kind = c_uint;
pub const hearth_event_kind = enum_hearth_event_kind;
pub const struct_hearth_window_event = extern struct {
    kind: hearth_event_kind = @import("std").mem.zeroes(hearth_event_kind),
    dt: f64 = 0,
    width: u32 = 0,
    height: u32 = 0,
    text: [8]u8 = @import("std").mem.zeroes([8]u8),
    key: [32]u8 = @import("std").mem.zeroes([32]u8),
    scancode: i64 = 0,
    pressed: bool = false,
    button: i32 = 0,
    x: f64 = 0,
    y: f64 = 0,
    dx: f64 = 0,
    dy: f64 = 0,
    focused: bool = false,
    modifiers: u32 = 0,
    pub const hearth_key_is = __root.hearth_key_is;
    pub const is = __root.hearth_key_is;
};
pub const hearth_window_event = struct_hearth_window_event;
pub extern fn hearth_window_event_decode(s: [*c]const hearth_signal, out: [*c]hearth_window_event) hearth_status;
pub extern fn hearth_key_is(e: [*c]const hearth_window_event, name: [*c]const u8) bool;
pub extern fn hearth_terminal_create(factory: hearth_cap, owner: hearth_cap, position: [*c]const hearth_canvas_position, columns: u32, rows: u32, argv: [*c]const [*c]const u8, out: [*c]hearth_cap) hearth_status;
pub extern fn hearth_terminal_input(terminal: hearth_cap, text: [*c]const u8) bool;
pub extern fn hearth_terminal_quit(terminal: hearth_cap) bool;
pub extern fn hearth_world_add(world: hearth_cap, owner: hearth_cap, mesh: hearth_lump, material: hearth_lump, transform: [*c]const f32, label: [*c]const u8, id: [*c]i64, entity: [*c]hearth_cap) hearth_status;
pub extern fn hearth_world_move(entity: hearth_cap, transform: [*c]const f32) hearth_status;
pub extern fn hearth_world_relabel(entity: hearth_cap, label: [*c]const u8) hearth_status;
pub extern fn hearth_world_remove(entity: hearth_cap) hearth_status;
pub extern fn hearth_world_subscribe(world: hearth_cap, subscriber: hearth_cap) hearth_status;
pub extern fn hearth_fs_get(fs: hearth_cap, path: [*c]const u8, out: [*c]hearth_lump_id) hearth_status;
pub extern fn hearth_fs_put(fs: hearth_cap, path: [*c]const u8, lump: hearth_lump) hearth_status;
pub extern fn hearth_fs_list(fs: hearth_cap, path: [*c]const u8, out: [*c]hearth_reply) hearth_status;
pub extern fn hearth_spawner_spawn(spawner: hearth_cap, module: hearth_lump, caps: [*c]const hearth_cap, ncaps: u32, out: [*c]hearth_cap) hearth_status;
pub extern fn hearth_sin(x: f64) f64;
pub extern fn hearth_cos(x: f64) f64;
pub extern fn hearth_atan2(y: f64, x: f64) f64;
pub fn hearth_sqrt(arg_x: f64) callconv(.c) f64 {
    var x = arg_x;
    _ = &x;
    return @sqrt(@as(f64, x));
}
pub const hearth_watches = struct_hearth_watches;
pub extern fn hearth_watch(w: [*c]hearth_watches, cap: hearth_cap) bool;
pub extern fn hearth_unwatch(w: [*c]hearth_watches, cap: hearth_cap) bool;
pub extern fn hearth_watch_find(w: [*c]const hearth_watches, cap: hearth_cap) i32;
pub extern fn hearth_unwatch_at(w: [*c]hearth_watches, i: u32) void;
pub extern fn hearth_pubsub_join(members: [*c]hearth_watches, subscriber: hearth_cap) bool;
pub extern fn hearth_pubsub_leave(members: [*c]hearth_watches, subscriber: hearth_cap) bool;
pub extern fn hearth_pubsub_publish(members: [*c]const hearth_watches, data: ?*const anyopaque, len: u32) u32;
pub extern fn hearth_pubsub_publish_mp(members: [*c]const hearth_watches, w: [*c]const hearth_mp_writer) bool;
pub const struct_hearth_child_spec = extern struct {
    @"fn": hearth_entry = null,
    caps: [*c]const hearth_cap = null,
    ncaps: u32 = 0,
    restart: u32 = 0,
    pub const hearth_supervise = __root.hearth_supervise;
    pub const supervise = __root.hearth_supervise;
};
pub const hearth_child_spec = struct_hearth_child_spec;
pub extern fn hearth_supervise(specs: [*c]const hearth_child_spec, n: u32, intensity: u32, period: u64) noreturn;
pub const struct_hearth_handover = extern struct {
    data: [*c]const u8 = null,
    len: u32 = 0,
    caps: [*c]const hearth_cap = null,
    ncaps: u32 = 0,
};
pub const hearth_handover = struct_hearth_handover;
pub extern fn hearth_handover_leave(to: hearth_cap, data: ?*const anyopaque, len: u32, caps: [*c]const hearth_cap, ncaps: u32, nanos: u64) hearth_status;
pub extern fn hearth_handover_take(s: [*c]const hearth_signal, out: [*c]hearth_handover) bool;

pub const __VERSION__ = "Aro aro-zig";
pub const __Aro__ = "";
pub const __STDC__ = @as(c_int, 1);
pub const __STDC_HOSTED__ = @as(c_int, 0);
pub const __STDC_UTF_16__ = @as(c_int, 1);
pub const __STDC_UTF_32__ = @as(c_int, 1);
pub const __STDC_EMBED_NOT_FOUND__ = @as(c_int, 0);
pub const __STDC_EMBED_FOUND__ = @as(c_int, 1);
pub const __STDC_EMBED_EMPTY__ = @as(c_int, 2);
pub const __STDC_VERSION__ = @as(c_long, 201710);
pub const __GNUC__ = @as(c_int, 4);
pub const __GNUC_MINOR__ = @as(c_int, 2);
pub const __GNUC_PATCHLEVEL__ = @as(c_int, 1);
pub const __ARO_EMULATE_NO__ = @as(c_int, 0);
pub const __ARO_EMULATE_CLANG__ = @as(c_int, 1);
pub const __ARO_EMULATE_GCC__ = @as(c_int, 2);
pub const __ARO_EMULATE_MSVC__ = @as(c_int, 3);
pub const __ARO_EMULATE__ = __ARO_EMULATE_CLANG__;
pub inline fn __building_module(x: anytype) @TypeOf(@as(c_int, 0)) {
    _ = &x;
    return @as(c_int, 0);
}
pub const TARGET_OS_WIN32 = @as(c_int, 0);
pub const TARGET_OS_WINDOWS = @as(c_int, 0);
pub const TARGET_OS_LINUX = @as(c_int, 0);
pub const TARGET_OS_UNIX = @as(c_int, 0);
pub const TARGET_OS_MAC = @as(c_int, 0);
pub const TARGET_OS_OSX = @as(c_int, 0);
pub const TARGET_OS_IPHONE = @as(c_int, 0);
pub const TARGET_OS_IOS = @as(c_int, 0);
pub const TARGET_OS_TV = @as(c_int, 0);
pub const TARGET_OS_WATCH = @as(c_int, 0);
pub const TARGET_OS_VISION = @as(c_int, 0);
pub const TARGET_OS_DRIVERKIT = @as(c_int, 0);
pub const TARGET_OS_MACCATALYST = @as(c_int, 0);
pub const TARGET_OS_SIMULATOR = @as(c_int, 0);
pub const TARGET_OS_EMBEDDED = @as(c_int, 0);
pub const TARGET_OS_NANO = @as(c_int, 0);
pub const TARGET_IPHONE_SIMULATOR = @as(c_int, 0);
pub const TARGET_OS_UIKITFORMAC = @as(c_int, 0);
pub const TARGET_OS_UEFI = @as(c_int, 0);
pub const __wasm = @as(c_int, 1);
pub const __wasm__ = @as(c_int, 1);
pub const __wasm32 = @as(c_int, 1);
pub const __wasm32__ = @as(c_int, 1);
pub const __wasm_bulk_memory_opt__ = @as(c_int, 1);
pub const __wasm_call_indirect_overlong__ = @as(c_int, 1);
pub const __wasm_extended_const__ = @as(c_int, 1);
pub const __wasm_multivalue__ = @as(c_int, 1);
pub const __wasm_mutable_globals__ = @as(c_int, 1);
pub const __wasm_nontrapping_fptoint__ = @as(c_int, 1);
pub const __wasm_sign_ext__ = @as(c_int, 1);
pub const _ILP32 = @as(c_int, 1);
pub const __ILP32__ = @as(c_int, 1);
pub const __FLOAT128__ = @as(c_int, 1);
pub const __ORDER_LITTLE_ENDIAN__ = @as(c_int, 1234);
pub const __ORDER_BIG_ENDIAN__ = @as(c_int, 4321);
pub const __ORDER_PDP_ENDIAN__ = @as(c_int, 3412);
pub const __BYTE_ORDER__ = __ORDER_LITTLE_ENDIAN__;
pub const __LITTLE_ENDIAN__ = @as(c_int, 1);
pub const __ATOMIC_RELAXED = @as(c_int, 0);
pub const __ATOMIC_CONSUME = @as(c_int, 1);
pub const __ATOMIC_ACQUIRE = @as(c_int, 2);
pub const __ATOMIC_RELEASE = @as(c_int, 3);
pub const __ATOMIC_ACQ_REL = @as(c_int, 4);
pub const __ATOMIC_SEQ_CST = @as(c_int, 5);
pub const __ATOMIC_BOOL_LOCK_FREE = @as(c_int, 1);
pub const __ATOMIC_CHAR_LOCK_FREE = @as(c_int, 1);
pub const __ATOMIC_CHAR16_T_LOCK_FREE = @as(c_int, 1);
pub const __ATOMIC_CHAR32_T_LOCK_FREE = @as(c_int, 1);
pub const __ATOMIC_WCHAR_T_LOCK_FREE = @as(c_int, 1);
pub const __ATOMIC_WINT_T_LOCK_FREE = @as(c_int, 1);
pub const __ATOMIC_SHORT_LOCK_FREE = @as(c_int, 1);
pub const __ATOMIC_INT_LOCK_FREE = @as(c_int, 1);
pub const __ATOMIC_LONG_LOCK_FREE = @as(c_int, 1);
pub const __ATOMIC_LLONG_LOCK_FREE = @as(c_int, 1);
pub const __ATOMIC_POINTER_LOCK_FREE = @as(c_int, 1);
pub const __CHAR_BIT__ = @as(c_int, 8);
pub const __BOOL_WIDTH__ = @as(c_int, 8);
pub const __SCHAR_MAX__ = @as(c_int, 127);
pub const __SCHAR_WIDTH__ = @as(c_int, 8);
pub const __SHRT_MAX__ = @as(c_int, 32767);
pub const __SHRT_WIDTH__ = @as(c_int, 16);
pub const __INT_MAX__ = __helpers.promoteIntLiteral(c_int, 2147483647, .decimal);
pub const __INT_WIDTH__ = @as(c_int, 32);
pub const __LONG_MAX__ = @as(c_long, 2147483647);
pub const __LONG_WIDTH__ = @as(c_int, 32);
pub const __LONG_LONG_MAX__ = @as(c_longlong, 9223372036854775807);
pub const __LONG_LONG_WIDTH__ = @as(c_int, 64);
pub const __WCHAR_MAX__ = __helpers.promoteIntLiteral(c_int, 2147483647, .decimal);
pub const __WCHAR_WIDTH__ = @as(c_int, 32);
pub const __WINT_MAX__ = __helpers.promoteIntLiteral(c_int, 2147483647, .decimal);
pub const __WINT_WIDTH__ = @as(c_int, 32);
pub const __INTMAX_MAX__ = @as(c_longlong, 9223372036854775807);
pub const __INTMAX_WIDTH__ = @as(c_int, 64);
pub const __SIZE_MAX__ = @as(c_ulong, 4294967295);
pub const __SIZE_WIDTH__ = @as(c_int, 32);
pub const __UINTMAX_MAX__ = @as(c_ulonglong, 18446744073709551615);
pub const __UINTMAX_WIDTH__ = @as(c_int, 64);
pub const __PTRDIFF_MAX__ = @as(c_long, 2147483647);
pub const __PTRDIFF_WIDTH__ = @as(c_int, 32);
pub const __INTPTR_MAX__ = @as(c_long, 2147483647);
pub const __INTPTR_WIDTH__ = @as(c_int, 32);
pub const __UINTPTR_MAX__ = @as(c_ulong, 4294967295);
pub const __UINTPTR_WIDTH__ = @as(c_int, 32);
pub const __SIG_ATOMIC_MAX__ = @as(c_long, 2147483647);
pub const __SIG_ATOMIC_WIDTH__ = @as(c_int, 32);
pub const __BITINT_MAXWIDTH__ = __helpers.promoteIntLiteral(c_int, 65535, .decimal);
pub const __SIZEOF_FLOAT__ = @as(c_int, 4);
pub const __SIZEOF_DOUBLE__ = @as(c_int, 8);
pub const __SIZEOF_LONG_DOUBLE__ = @as(c_int, 16);
pub const __SIZEOF_SHORT__ = @as(c_int, 2);
pub const __SIZEOF_INT__ = @as(c_int, 4);
pub const __SIZEOF_LONG__ = @as(c_int, 4);
pub const __SIZEOF_LONG_LONG__ = @as(c_int, 8);
pub const __SIZEOF_POINTER__ = @as(c_int, 4);
pub const __SIZEOF_PTRDIFF_T__ = @as(c_int, 4);
pub const __SIZEOF_SIZE_T__ = @as(c_int, 4);
pub const __SIZEOF_WCHAR_T__ = @as(c_int, 4);
pub const __SIZEOF_WINT_T__ = @as(c_int, 4);
pub const __SIZEOF_INT128__ = @as(c_int, 16);
pub const __INTPTR_TYPE__ = c_long;
pub const __UINTPTR_TYPE__ = c_ulong;
pub const __INTMAX_TYPE__ = c_longlong;
pub const __INTMAX_C_SUFFIX__ = @compileError("unable to translate macro: undefined identifier `L`");
// <builtin>:122:9
pub const __INTMAX_C = __helpers.L_SUFFIX;
pub const __UINTMAX_TYPE__ = c_ulonglong;
pub const __UINTMAX_C_SUFFIX__ = @compileError("unable to translate macro: undefined identifier `UL`");
// <builtin>:125:9
pub const __UINTMAX_C = __helpers.UL_SUFFIX;
pub const __PTRDIFF_TYPE__ = c_long;
pub const __SIZE_TYPE__ = c_ulong;
pub const __WCHAR_TYPE__ = c_int;
pub const __WINT_TYPE__ = c_int;
pub const __CHAR16_TYPE__ = c_ushort;
pub const __CHAR32_TYPE__ = c_uint;
pub const __INT8_TYPE__ = i8;
pub const __INT8_FMTd__ = "hhd";
pub const __INT8_FMTi__ = "hhi";
pub const __INT8_C_SUFFIX__ = "";
pub inline fn __INT8_C(c: anytype) @TypeOf(c) {
    _ = &c;
    return c;
}
pub const __INT16_TYPE__ = c_short;
pub const __INT16_FMTd__ = "hd";
pub const __INT16_FMTi__ = "hi";
pub const __INT16_C_SUFFIX__ = "";
pub inline fn __INT16_C(c: anytype) @TypeOf(c) {
    _ = &c;
    return c;
}
pub const __INT32_TYPE__ = c_int;
pub const __INT32_FMTd__ = "d";
pub const __INT32_FMTi__ = "i";
pub const __INT32_C_SUFFIX__ = "";
pub inline fn __INT32_C(c: anytype) @TypeOf(c) {
    _ = &c;
    return c;
}
pub const __INT64_TYPE__ = c_longlong;
pub const __INT64_FMTd__ = "lld";
pub const __INT64_FMTi__ = "lli";
pub const __INT64_C_SUFFIX__ = @compileError("unable to translate macro: undefined identifier `LL`");
// <builtin>:151:9
pub const __INT64_C = __helpers.LL_SUFFIX;
pub const __UINT8_TYPE__ = u8;
pub const __UINT8_FMTo__ = "hho";
pub const __UINT8_FMTu__ = "hhu";
pub const __UINT8_FMTx__ = "hhx";
pub const __UINT8_FMTX__ = "hhX";
pub const __UINT8_C_SUFFIX__ = "";
pub inline fn __UINT8_C(c: anytype) @TypeOf(c) {
    _ = &c;
    return c;
}
pub const __UINT8_MAX__ = @as(c_int, 255);
pub const __INT8_MAX__ = @as(c_int, 127);
pub const __UINT16_TYPE__ = c_ushort;
pub const __UINT16_FMTo__ = "ho";
pub const __UINT16_FMTu__ = "hu";
pub const __UINT16_FMTx__ = "hx";
pub const __UINT16_FMTX__ = "hX";
pub const __UINT16_C_SUFFIX__ = "";
pub inline fn __UINT16_C(c: anytype) @TypeOf(c) {
    _ = &c;
    return c;
}
pub const __UINT16_MAX__ = __helpers.promoteIntLiteral(c_int, 65535, .decimal);
pub const __INT16_MAX__ = @as(c_int, 32767);
pub const __UINT32_TYPE__ = c_uint;
pub const __UINT32_FMTo__ = "o";
pub const __UINT32_FMTu__ = "u";
pub const __UINT32_FMTx__ = "x";
pub const __UINT32_FMTX__ = "X";
pub const __UINT32_C_SUFFIX__ = @compileError("unable to translate macro: undefined identifier `U`");
// <builtin>:176:9
pub const __UINT32_C = __helpers.U_SUFFIX;
pub const __UINT32_MAX__ = __helpers.promoteIntLiteral(c_uint, 4294967295, .decimal);
pub const __INT32_MAX__ = __helpers.promoteIntLiteral(c_int, 2147483647, .decimal);
pub const __UINT64_TYPE__ = c_ulonglong;
pub const __UINT64_FMTo__ = "llo";
pub const __UINT64_FMTu__ = "llu";
pub const __UINT64_FMTx__ = "llx";
pub const __UINT64_FMTX__ = "llX";
pub const __UINT64_C_SUFFIX__ = @compileError("unable to translate macro: undefined identifier `ULL`");
// <builtin>:185:9
pub const __UINT64_C = __helpers.ULL_SUFFIX;
pub const __UINT64_MAX__ = @as(c_ulonglong, 18446744073709551615);
pub const __INT64_MAX__ = @as(c_longlong, 9223372036854775807);
pub const __INT_LEAST8_TYPE__ = i8;
pub const __INT_LEAST8_MAX__ = @as(c_int, 127);
pub const __INT_LEAST8_WIDTH__ = @as(c_int, 8);
pub const INT_LEAST8_FMTd__ = "hhd";
pub const INT_LEAST8_FMTi__ = "hhi";
pub const __UINT_LEAST8_TYPE__ = u8;
pub const __UINT_LEAST8_MAX__ = @as(c_int, 255);
pub const UINT_LEAST8_FMTo__ = "hho";
pub const UINT_LEAST8_FMTu__ = "hhu";
pub const UINT_LEAST8_FMTx__ = "hhx";
pub const UINT_LEAST8_FMTX__ = "hhX";
pub const __INT_FAST8_TYPE__ = i8;
pub const __INT_FAST8_MAX__ = @as(c_int, 127);
pub const __INT_FAST8_WIDTH__ = @as(c_int, 8);
pub const INT_FAST8_FMTd__ = "hhd";
pub const INT_FAST8_FMTi__ = "hhi";
pub const __UINT_FAST8_TYPE__ = u8;
pub const __UINT_FAST8_MAX__ = @as(c_int, 255);
pub const UINT_FAST8_FMTo__ = "hho";
pub const UINT_FAST8_FMTu__ = "hhu";
pub const UINT_FAST8_FMTx__ = "hhx";
pub const UINT_FAST8_FMTX__ = "hhX";
pub const __INT_LEAST16_TYPE__ = c_short;
pub const __INT_LEAST16_MAX__ = @as(c_int, 32767);
pub const __INT_LEAST16_WIDTH__ = @as(c_int, 16);
pub const INT_LEAST16_FMTd__ = "hd";
pub const INT_LEAST16_FMTi__ = "hi";
pub const __UINT_LEAST16_TYPE__ = c_ushort;
pub const __UINT_LEAST16_MAX__ = __helpers.promoteIntLiteral(c_int, 65535, .decimal);
pub const UINT_LEAST16_FMTo__ = "ho";
pub const UINT_LEAST16_FMTu__ = "hu";
pub const UINT_LEAST16_FMTx__ = "hx";
pub const UINT_LEAST16_FMTX__ = "hX";
pub const __INT_FAST16_TYPE__ = c_short;
pub const __INT_FAST16_MAX__ = @as(c_int, 32767);
pub const __INT_FAST16_WIDTH__ = @as(c_int, 16);
pub const INT_FAST16_FMTd__ = "hd";
pub const INT_FAST16_FMTi__ = "hi";
pub const __UINT_FAST16_TYPE__ = c_ushort;
pub const __UINT_FAST16_MAX__ = __helpers.promoteIntLiteral(c_int, 65535, .decimal);
pub const UINT_FAST16_FMTo__ = "ho";
pub const UINT_FAST16_FMTu__ = "hu";
pub const UINT_FAST16_FMTx__ = "hx";
pub const UINT_FAST16_FMTX__ = "hX";
pub const __INT_LEAST32_TYPE__ = c_int;
pub const __INT_LEAST32_MAX__ = __helpers.promoteIntLiteral(c_int, 2147483647, .decimal);
pub const __INT_LEAST32_WIDTH__ = @as(c_int, 32);
pub const INT_LEAST32_FMTd__ = "d";
pub const INT_LEAST32_FMTi__ = "i";
pub const __UINT_LEAST32_TYPE__ = c_uint;
pub const __UINT_LEAST32_MAX__ = __helpers.promoteIntLiteral(c_uint, 4294967295, .decimal);
pub const UINT_LEAST32_FMTo__ = "o";
pub const UINT_LEAST32_FMTu__ = "u";
pub const UINT_LEAST32_FMTx__ = "x";
pub const UINT_LEAST32_FMTX__ = "X";
pub const __INT_FAST32_TYPE__ = c_int;
pub const __INT_FAST32_MAX__ = __helpers.promoteIntLiteral(c_int, 2147483647, .decimal);
pub const __INT_FAST32_WIDTH__ = @as(c_int, 32);
pub const INT_FAST32_FMTd__ = "d";
pub const INT_FAST32_FMTi__ = "i";
pub const __UINT_FAST32_TYPE__ = c_uint;
pub const __UINT_FAST32_MAX__ = __helpers.promoteIntLiteral(c_uint, 4294967295, .decimal);
pub const UINT_FAST32_FMTo__ = "o";
pub const UINT_FAST32_FMTu__ = "u";
pub const UINT_FAST32_FMTx__ = "x";
pub const UINT_FAST32_FMTX__ = "X";
pub const __INT_LEAST64_TYPE__ = c_longlong;
pub const __INT_LEAST64_MAX__ = @as(c_longlong, 9223372036854775807);
pub const __INT_LEAST64_WIDTH__ = @as(c_int, 64);
pub const INT_LEAST64_FMTd__ = "lld";
pub const INT_LEAST64_FMTi__ = "lli";
pub const __UINT_LEAST64_TYPE__ = c_ulonglong;
pub const __UINT_LEAST64_MAX__ = @as(c_ulonglong, 18446744073709551615);
pub const UINT_LEAST64_FMTo__ = "llo";
pub const UINT_LEAST64_FMTu__ = "llu";
pub const UINT_LEAST64_FMTx__ = "llx";
pub const UINT_LEAST64_FMTX__ = "llX";
pub const __INT_FAST64_TYPE__ = c_longlong;
pub const __INT_FAST64_MAX__ = @as(c_longlong, 9223372036854775807);
pub const __INT_FAST64_WIDTH__ = @as(c_int, 64);
pub const INT_FAST64_FMTd__ = "lld";
pub const INT_FAST64_FMTi__ = "lli";
pub const __UINT_FAST64_TYPE__ = c_ulonglong;
pub const __UINT_FAST64_MAX__ = @as(c_ulonglong, 18446744073709551615);
pub const UINT_FAST64_FMTo__ = "llo";
pub const UINT_FAST64_FMTu__ = "llu";
pub const UINT_FAST64_FMTx__ = "llx";
pub const UINT_FAST64_FMTX__ = "llX";
pub const __FLT_DENORM_MIN__ = @as(f32, 1.40129846e-45);
pub const __FLT_HAS_DENORM__ = "";
pub const __FLT_DIG__ = @as(c_int, 6);
pub const __FLT_DECIMAL_DIG__ = @as(c_int, 9);
pub const __FLT_EPSILON__ = @as(f32, 1.19209290e-7);
pub const __FLT_HAS_INFINITY__ = "";
pub const __FLT_HAS_QUIET_NAN__ = "";
pub const __FLT_MANT_DIG__ = @as(c_int, 24);
pub const __FLT_MAX_10_EXP__ = @as(c_int, 38);
pub const __FLT_MAX_EXP__ = @as(c_int, 128);
pub const __FLT_MAX__ = @as(f32, 3.40282347e+38);
pub const __FLT_MIN_10_EXP__ = -@as(c_int, 37);
pub const __FLT_MIN_EXP__ = -@as(c_int, 125);
pub const __FLT_MIN__ = @as(f32, 1.17549435e-38);
pub const __DBL_DENORM_MIN__ = @as(f64, 4.9406564584124654e-324);
pub const __DBL_HAS_DENORM__ = "";
pub const __DBL_DIG__ = @as(c_int, 15);
pub const __DBL_DECIMAL_DIG__ = @as(c_int, 17);
pub const __DBL_EPSILON__ = @as(f64, 2.2204460492503131e-16);
pub const __DBL_HAS_INFINITY__ = "";
pub const __DBL_HAS_QUIET_NAN__ = "";
pub const __DBL_MANT_DIG__ = @as(c_int, 53);
pub const __DBL_MAX_10_EXP__ = @as(c_int, 308);
pub const __DBL_MAX_EXP__ = @as(c_int, 1024);
pub const __DBL_MAX__ = @as(f64, 1.7976931348623157e+308);
pub const __DBL_MIN_10_EXP__ = -@as(c_int, 307);
pub const __DBL_MIN_EXP__ = -@as(c_int, 1021);
pub const __DBL_MIN__ = @as(f64, 2.2250738585072014e-308);
pub const __LDBL_DENORM_MIN__ = @as(c_longdouble, 6.47517511943802511092443895822764655e-4966);
pub const __LDBL_HAS_DENORM__ = "";
pub const __LDBL_DIG__ = @as(c_int, 33);
pub const __LDBL_DECIMAL_DIG__ = @as(c_int, 36);
pub const __LDBL_EPSILON__ = @as(c_longdouble, 1.92592994438723585305597794258492732e-34);
pub const __LDBL_HAS_INFINITY__ = "";
pub const __LDBL_HAS_QUIET_NAN__ = "";
pub const __LDBL_MANT_DIG__ = @as(c_int, 113);
pub const __LDBL_MAX_10_EXP__ = @as(c_int, 4932);
pub const __LDBL_MAX_EXP__ = @as(c_int, 16384);
pub const __LDBL_MAX__ = @as(c_longdouble, 1.18973149535723176508575932662800702e+4932);
pub const __LDBL_MIN_10_EXP__ = -@as(c_int, 4931);
pub const __LDBL_MIN_EXP__ = -@as(c_int, 16381);
pub const __LDBL_MIN__ = @as(c_longdouble, 3.36210314311209350626267781732175260e-4932);
pub const __FLT_EVAL_METHOD__ = @as(c_int, 0);
pub const __FLT_RADIX__ = @as(c_int, 2);
pub const __DECIMAL_DIG__ = __LDBL_DECIMAL_DIG__;
pub const HEARTH_H = "";
pub const @"bool" = bool;
pub const @"true" = @as(c_int, 1);
pub const @"false" = @as(c_int, 0);
pub const __bool_true_false_are_defined = @as(c_int, 1);
pub const __STDC_VERSION_STDDEF_H__ = @as(c_long, 202311);
pub const NULL = __helpers.cast(?*anyopaque, @as(c_int, 0));
pub const offsetof = @compileError("unable to translate macro: undefined identifier `__builtin_offsetof`");
// .venv/lib/python3.11/site-packages/ziglang/lib/compiler/aro/include/stddef.h:18:9
pub const __stdint_int_c_cat = @compileError("unable to translate C expr: unexpected token '##'");
// .venv/lib/python3.11/site-packages/ziglang/lib/compiler/aro/include/stdint.h:35:9
pub inline fn __stdint_int_c(V: anytype, SUFFIX: anytype) @TypeOf(__stdint_int_c_cat(V, SUFFIX)) {
    _ = &V;
    _ = &SUFFIX;
    return __stdint_int_c_cat(V, SUFFIX);
}
pub const __stdint_uint_c = @compileError("unable to translate macro: undefined identifier `U`");
// .venv/lib/python3.11/site-packages/ziglang/lib/compiler/aro/include/stdint.h:37:9
pub const INTPTR_MIN = -__INTPTR_MAX__ - @as(c_int, 1);
pub const INTPTR_MAX = __INTPTR_MAX__;
pub const UINTPTR_MAX = __UINTPTR_MAX__;
pub const PTRDIFF_MIN = -__PTRDIFF_MAX__ - @as(c_int, 1);
pub const PTRDIFF_MAX = __PTRDIFF_MAX__;
pub const SIZE_MAX = __SIZE_MAX__;
pub const INTMAX_MIN = -__INTMAX_MAX__ - @as(c_int, 1);
pub const INTMAX_MAX = __INTMAX_MAX__;
pub const UINTMAX_MAX = __UINTMAX_MAX__;
pub const __intptr_t_defined = "";
pub const _INTPTR_T = "";
pub const _UINTPTR_T = "";
pub const __int64_c_suffix = __INT64_C_SUFFIX__;
pub inline fn INT64_C(v: anytype) @TypeOf(__stdint_int_c(v, __int64_c_suffix)) {
    _ = &v;
    return __stdint_int_c(v, __int64_c_suffix);
}
pub inline fn UINT64_C(v: anytype) @TypeOf(__stdint_uint_c(v, __int64_c_suffix)) {
    _ = &v;
    return __stdint_uint_c(v, __int64_c_suffix);
}
pub const INT64_MAX = INT64_C(__helpers.promoteIntLiteral(c_int, 9223372036854775807, .decimal));
pub const INT64_MIN = -INT64_C(__helpers.promoteIntLiteral(c_int, 9223372036854775807, .decimal)) - @as(c_int, 1);
pub const UINT64_MAX = UINT64_C(__helpers.promoteIntLiteral(c_int, 18446744073709551615, .decimal));
pub const __int32_c_suffix = "";
pub inline fn INT32_C(v: anytype) @TypeOf(__stdint_int_c(v, __int32_c_suffix)) {
    _ = &v;
    return __stdint_int_c(v, __int32_c_suffix);
}
pub inline fn UINT32_C(v: anytype) @TypeOf(__stdint_uint_c(v, __int32_c_suffix)) {
    _ = &v;
    return __stdint_uint_c(v, __int32_c_suffix);
}
pub const INT32_MAX = INT32_C(__helpers.promoteIntLiteral(c_int, 2147483647, .decimal));
pub const INT32_MIN = -INT32_C(__helpers.promoteIntLiteral(c_int, 2147483647, .decimal)) - @as(c_int, 1);
pub const UINT32_MAX = UINT32_C(__helpers.promoteIntLiteral(c_int, 4294967295, .decimal));
pub const __int16_c_suffix = "";
pub inline fn INT16_C(v: anytype) @TypeOf(__stdint_int_c(v, __int16_c_suffix)) {
    _ = &v;
    return __stdint_int_c(v, __int16_c_suffix);
}
pub inline fn UINT16_C(v: anytype) @TypeOf(__stdint_uint_c(v, __int16_c_suffix)) {
    _ = &v;
    return __stdint_uint_c(v, __int16_c_suffix);
}
pub const INT16_MAX = INT16_C(@as(c_int, 32767));
pub const INT16_MIN = -INT16_C(@as(c_int, 32767)) - @as(c_int, 1);
pub const UINT16_MAX = UINT16_C(__helpers.promoteIntLiteral(c_int, 65535, .decimal));
pub const __int8_c_suffix = "";
pub inline fn INT8_C(v: anytype) @TypeOf(__stdint_int_c(v, __int8_c_suffix)) {
    _ = &v;
    return __stdint_int_c(v, __int8_c_suffix);
}
pub inline fn UINT8_C(v: anytype) @TypeOf(__stdint_uint_c(v, __int8_c_suffix)) {
    _ = &v;
    return __stdint_uint_c(v, __int8_c_suffix);
}
pub const INT8_MAX = INT8_C(@as(c_int, 127));
pub const INT8_MIN = -INT8_C(@as(c_int, 127)) - @as(c_int, 1);
pub const UINT8_MAX = UINT8_C(@as(c_int, 255));
pub const INT_LEAST8_MAX = __INT_LEAST8_MAX__;
pub const INT_LEAST8_MIN = -__INT_LEAST8_MAX__ - @as(c_int, 1);
pub const UINT_LEAST8_MAX = __UINT_LEAST8_MAX__;
pub const INT_LEAST16_MAX = __INT_LEAST16_MAX__;
pub const INT_LEAST16_MIN = -__INT_LEAST16_MAX__ - @as(c_int, 1);
pub const UINT_LEAST16_MAX = __UINT_LEAST16_MAX__;
pub const INT_LEAST32_MAX = __INT_LEAST32_MAX__;
pub const INT_LEAST32_MIN = -__INT_LEAST32_MAX__ - @as(c_int, 1);
pub const UINT_LEAST32_MAX = __UINT_LEAST32_MAX__;
pub const INT_LEAST64_MAX = __INT_LEAST64_MAX__;
pub const INT_LEAST64_MIN = -__INT_LEAST64_MAX__ - @as(c_int, 1);
pub const UINT_LEAST64_MAX = __UINT_LEAST64_MAX__;
pub const INT_FAST8_MAX = __INT_FAST8_MAX__;
pub const INT_FAST8_MIN = -__INT_FAST8_MAX__ - @as(c_int, 1);
pub const UINT_FAST8_MAX = __UINT_FAST8_MAX__;
pub const INT_FAST16_MAX = __INT_FAST16_MAX__;
pub const INT_FAST16_MIN = -__INT_FAST16_MAX__ - @as(c_int, 1);
pub const UINT_FAST16_MAX = __UINT_FAST16_MAX__;
pub const INT_FAST32_MAX = __INT_FAST32_MAX__;
pub const INT_FAST32_MIN = -__INT_FAST32_MAX__ - @as(c_int, 1);
pub const UINT_FAST32_MAX = __UINT_FAST32_MAX__;
pub const INT_FAST64_MAX = __INT_FAST64_MAX__;
pub const INT_FAST64_MIN = -__INT_FAST64_MAX__ - @as(c_int, 1);
pub const UINT_FAST64_MAX = __UINT_FAST64_MAX__;
pub const UINT128_MAX = __helpers.cast(uint128_t, -@as(c_int, 1));
pub const INT128_MAX = __helpers.cast(int128_t, __helpers.div(UINT128_MAX, @as(c_int, 2)));
pub const INT128_MIN = -INT128_MAX - @as(c_int, 1);
pub const UINT_LEAST128_MAX = UINT128_MAX;
pub const INT_LEAST128_MAX = INT128_MAX;
pub const INT_LEAST128_MIN = INT128_MIN;
pub const UINT_FAST128_MAX = UINT128_MAX;
pub const INT_FAST128_MAX = INT128_MAX;
pub const INT_FAST128_MIN = INT128_MIN;
pub const INT128_WIDTH = @as(c_int, 128);
pub const UINT128_WIDTH = @as(c_int, 128);
pub const INT_LEAST128_WIDTH = @as(c_int, 128);
pub const UINT_LEAST128_WIDTH = @as(c_int, 128);
pub const INT_FAST128_WIDTH = @as(c_int, 128);
pub const UINT_FAST128_WIDTH = @as(c_int, 128);
pub const INT128_C = @compileError("unable to translate macro: undefined identifier `WB`");
// .venv/lib/python3.11/site-packages/ziglang/lib/compiler/aro/include/stdint.h:304:11
pub const UINT128_C = @compileError("unable to translate macro: undefined identifier `WBU`");
// .venv/lib/python3.11/site-packages/ziglang/lib/compiler/aro/include/stdint.h:305:11
pub const HEARTH_NONE = __helpers.promoteIntLiteral(c_uint, 0xFFFFFFFF, .hex);
pub const HEARTH_PARENT = @as(c_uint, 0);
pub const HEARTH_SEND = @as(c_uint, 1);
pub const HEARTH_MONITOR = @as(c_uint, 2);
pub const HEARTH_KILL = @as(c_uint, 4);
pub const HEARTH_LINK = @as(c_uint, 8);
pub const HEARTH_ALL = @as(c_uint, 15);
pub const HEARTH_MESSAGE = @as(c_uint, 0);
pub const HEARTH_DOWN = @as(c_uint, 1);
pub const HEARTH_EXIT = @as(c_uint, 2);
pub const HEARTH_TRACE = @as(c_uint, 0);
pub const HEARTH_DEBUG = @as(c_uint, 1);
pub const HEARTH_INFO = @as(c_uint, 2);
pub const HEARTH_WARNING = @as(c_uint, 3);
pub const HEARTH_ERROR = @as(c_uint, 4);
pub const HEARTH_EXPORT = @compileError("unable to translate macro: undefined identifier `export_name`");
pub const HEARTH_IMPORT = @compileError("unable to translate macro: undefined identifier `import_module`");
pub const HEARTH_MP_CAP_EXT = @as(c_int, 1);
pub const HEARTH_MP_MAX_CAPS = @as(c_int, 16);
pub const HEARTH_SVC_H = "";
pub const HEARTH_FOREVER = UINT64_MAX;
pub const HEARTH_SECOND = @as(c_ulonglong, 1000000000);
pub const HEARTH_MOD_SHIFT = @as(c_uint, 1);
pub const HEARTH_MOD_CTRL = @as(c_uint, 2);
pub const HEARTH_MOD_ALT = @as(c_uint, 4);
pub const HEARTH_MOD_LOGO = @as(c_uint, 8);
pub const HEARTH_PI = @as(f64, 3.14159265358979323846);
pub const HEARTH_PATTERNS_H = "";
pub const HEARTH_MAX_WATCHES = @as(c_int, 48);
pub const HEARTH_PERMANENT = @as(c_uint, 0);
pub const HEARTH_TRANSIENT = @as(c_uint, 1);
pub const HEARTH_TEMPORARY = @as(c_uint, 2);
pub const HEARTH_MAX_CHILDREN = @as(c_int, 16);
pub const HEARTH_HANDOVER_MAX_BYTES = @as(c_uint, 4) << @as(c_int, 20);
pub const HEARTH_HANDOVER_MAX_CAPS = @as(c_uint, 4096);
pub const HEARTH_HANDOVER_MARK_LEN = @as(c_uint, 17);
