/* hearth.h — write Hearth guest processes in C.
 *
 * A guest is a WebAssembly module (wasm32, no libc) that runs as a Hearth
 * process. Build one with
 *
 *     python -m kindling.sdk build guest.c -o guest.wasm
 *
 * which compiles it together with the SDK's runtime (hearth_rt.c,
 * hearth_mp.c) and puts this header on the include path. The guest ABI
 * itself is docs/abi.md; this header declares it (the `hearth_abi_*`
 * functions, one per host function) and wraps it in a friendlier API.
 * docs/sdk.md is the tour.
 *
 * Entry points: define `void run(void)` (required unless the guest is only
 * spawned by index), and optionally `void hearth_metadata(void)` (exported
 * as `_hearth_metadata`: only metadata and logging calls are allowed in it)
 * and `void hearth_init(void)` (exported as `_hearth_init`, runs before the
 * entry point). Returning from the entry point ends the process with reason
 * `normal`. The runtime exports `_hearth_spawn_by_index`, which calls the
 * function whose table index it is given: that is what `hearth_spawn` passes.
 *
 * Ownership: every capability handle the guest gets (received in a message,
 * in a Down or Exit, minted, demoted, returned by a spawn) is one reference
 * it owns; drop it with `hearth_dec_ref` when done. Misuse of a handle is a
 * trap: the guest dies with a reason naming the call, never the runtime.
 */
#ifndef HEARTH_H
#define HEARTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- handles and constants ------------------------------------------------ */

typedef uint32_t hearth_cap;  /* a capability: index into the process's table */
typedef uint32_t hearth_mb;   /* a mailbox of this process; 0 is the parent mailbox */
typedef uint32_t hearth_sig;  /* a received signal (raw API only) */
typedef uint32_t hearth_lump; /* a loaded lump */
typedef uint32_t hearth_account; /* an account, by this guest's id for it; 0: the server's own side */

typedef struct hearth_lump_id { uint8_t bytes[32]; } hearth_lump_id; /* a BLAKE3 digest */

typedef void (*hearth_entry)(void); /* a function a child process runs */

#define HEARTH_NONE 0xFFFFFFFFu /* "no signal" / "not found" */
#define HEARTH_PARENT 0u        /* the parent mailbox: where messages to the process arrive */

/* Permissions of a capability. */
#define HEARTH_SEND 1u
#define HEARTH_MONITOR 2u
#define HEARTH_KILL 4u
#define HEARTH_LINK 8u
#define HEARTH_ALL 15u

/* Kinds of signal. */
#define HEARTH_MESSAGE 0u
#define HEARTH_DOWN 1u /* a monitored route closed */
#define HEARTH_EXIT 2u /* an exit signal, received because the process traps exits */

/* Log levels. */
#define HEARTH_TRACE 0u
#define HEARTH_DEBUG 1u
#define HEARTH_INFO 2u
#define HEARTH_WARNING 3u
#define HEARTH_ERROR 4u

/* ---- entry points the guest defines --------------------------------------- */

#define HEARTH_EXPORT(name) __attribute__((export_name(name)))

HEARTH_EXPORT("run") void run(void);
HEARTH_EXPORT("_hearth_init") void hearth_init(void);
HEARTH_EXPORT("_hearth_metadata") void hearth_metadata(void);

/* ---- the raw ABI (docs/abi.md), one declaration per host function --------- */

#define HEARTH_IMPORT(ns, name) __attribute__((import_module("hearth::" ns), import_name(name)))

HEARTH_IMPORT("log", "log") void hearth_abi_log(uint32_t level, const char *module, uint32_t module_len, const char *text, uint32_t text_len);

HEARTH_IMPORT("lump", "this_lump") void hearth_abi_lump_this_lump(hearth_lump_id *id);
HEARTH_IMPORT("lump", "load_by_id") hearth_lump hearth_abi_lump_load_by_id(const hearth_lump_id *id);
HEARTH_IMPORT("lump", "load") hearth_lump hearth_abi_lump_load(const void *data, uint32_t len);
HEARTH_IMPORT("lump", "get_id") void hearth_abi_lump_get_id(hearth_lump lump, hearth_lump_id *id);
HEARTH_IMPORT("lump", "get_len") uint32_t hearth_abi_lump_get_len(hearth_lump lump);
HEARTH_IMPORT("lump", "get_data") void hearth_abi_lump_get_data(hearth_lump lump, void *dst);
HEARTH_IMPORT("lump", "free") void hearth_abi_lump_free(hearth_lump lump);

HEARTH_IMPORT("table", "inc_ref") void hearth_abi_table_inc_ref(hearth_cap cap);
HEARTH_IMPORT("table", "dec_ref") void hearth_abi_table_dec_ref(hearth_cap cap);
HEARTH_IMPORT("table", "get_permissions") uint32_t hearth_abi_table_get_permissions(hearth_cap cap);
HEARTH_IMPORT("table", "demote") hearth_cap hearth_abi_table_demote(hearth_cap cap, uint32_t perms);
HEARTH_IMPORT("table", "send") void hearth_abi_table_send(hearth_cap cap, const void *data, uint32_t len, const hearth_cap *caps, uint32_t ncaps);
HEARTH_IMPORT("table", "kill") void hearth_abi_table_kill(hearth_cap cap);

HEARTH_IMPORT("mailbox", "create") hearth_mb hearth_abi_mailbox_create(void);
HEARTH_IMPORT("mailbox", "destroy") void hearth_abi_mailbox_destroy(hearth_mb mb);
HEARTH_IMPORT("mailbox", "make_capability") hearth_cap hearth_abi_mailbox_make_capability(hearth_mb mb, uint32_t perms);
HEARTH_IMPORT("mailbox", "monitor") void hearth_abi_mailbox_monitor(hearth_mb mb, hearth_cap cap);
HEARTH_IMPORT("mailbox", "recv") hearth_sig hearth_abi_mailbox_recv(hearth_mb mb);
HEARTH_IMPORT("mailbox", "try_recv") hearth_sig hearth_abi_mailbox_try_recv(hearth_mb mb);
HEARTH_IMPORT("mailbox", "poll") uint64_t hearth_abi_mailbox_poll(const hearth_mb *mbs, uint32_t n);
HEARTH_IMPORT("mailbox", "destroy_signal") void hearth_abi_mailbox_destroy_signal(hearth_sig sig);
HEARTH_IMPORT("mailbox", "get_signal_kind") uint32_t hearth_abi_mailbox_get_signal_kind(hearth_sig sig);
HEARTH_IMPORT("mailbox", "get_down_capability") hearth_cap hearth_abi_mailbox_get_down_capability(hearth_sig sig);
HEARTH_IMPORT("mailbox", "get_message_data_len") uint32_t hearth_abi_mailbox_get_message_data_len(hearth_sig sig);
HEARTH_IMPORT("mailbox", "get_message_data") void hearth_abi_mailbox_get_message_data(hearth_sig sig, void *dst);
HEARTH_IMPORT("mailbox", "get_message_caps_num") uint32_t hearth_abi_mailbox_get_message_caps_num(hearth_sig sig);
HEARTH_IMPORT("mailbox", "get_message_caps") void hearth_abi_mailbox_get_message_caps(hearth_sig sig, hearth_cap *dst);

HEARTH_IMPORT("metadata", "set_name") void hearth_abi_metadata_set_name(const char *s, uint32_t len);
HEARTH_IMPORT("metadata", "set_description") void hearth_abi_metadata_set_description(const char *s, uint32_t len);
HEARTH_IMPORT("metadata", "add_author") void hearth_abi_metadata_add_author(const char *s, uint32_t len);
HEARTH_IMPORT("metadata", "set_repository") void hearth_abi_metadata_set_repository(const char *s, uint32_t len);
HEARTH_IMPORT("metadata", "set_homepage") void hearth_abi_metadata_set_homepage(const char *s, uint32_t len);
HEARTH_IMPORT("metadata", "set_license") void hearth_abi_metadata_set_license(const char *s, uint32_t len);

HEARTH_IMPORT("process", "link") void hearth_abi_process_link(hearth_cap cap);
HEARTH_IMPORT("process", "unlink") void hearth_abi_process_unlink(hearth_cap cap);
HEARTH_IMPORT("process", "trap_exit") uint32_t hearth_abi_process_trap_exit(uint32_t flag);
HEARTH_IMPORT("process", "pid") int64_t hearth_abi_process_pid(void);
HEARTH_IMPORT("process", "now") int64_t hearth_abi_process_now(void);
HEARTH_IMPORT("process", "exit") __attribute__((noreturn)) void hearth_abi_process_exit(const void *reason, uint32_t len);
HEARTH_IMPORT("process", "exit_with") void hearth_abi_process_exit_with(hearth_cap cap, const void *reason, uint32_t len);
HEARTH_IMPORT("process", "recv_timeout") hearth_sig hearth_abi_process_recv_timeout(hearth_mb mb, int64_t nanos);
HEARTH_IMPORT("process", "poll_timeout") int64_t hearth_abi_process_poll_timeout(const hearth_mb *mbs, uint32_t n, int64_t nanos);
HEARTH_IMPORT("process", "get_down_reason_len") uint32_t hearth_abi_process_get_down_reason_len(hearth_sig sig);
HEARTH_IMPORT("process", "get_down_reason") void hearth_abi_process_get_down_reason(hearth_sig sig, void *dst);
HEARTH_IMPORT("process", "spawn_by_index") hearth_cap hearth_abi_process_spawn_by_index(uint32_t index, const hearth_cap *caps, uint32_t ncaps);
HEARTH_IMPORT("process", "spawn_link_by_index") hearth_cap hearth_abi_process_spawn_link_by_index(uint32_t index, const hearth_cap *caps, uint32_t ncaps);
HEARTH_IMPORT("process", "spawn_monitor_by_index") hearth_cap hearth_abi_process_spawn_monitor_by_index(uint32_t index, const hearth_cap *caps, uint32_t ncaps, hearth_mb mb);

HEARTH_IMPORT("account", "of_message") hearth_account hearth_abi_account_of_message(hearth_sig sig);
HEARTH_IMPORT("account", "of_capability") hearth_account hearth_abi_account_of_capability(hearth_cap cap);
HEARTH_IMPORT("account", "mine") hearth_account hearth_abi_account_mine(void);
HEARTH_IMPORT("account", "is_closed") uint32_t hearth_abi_account_is_closed(hearth_account account);
HEARTH_IMPORT("account", "name") uint32_t hearth_abi_account_name(hearth_account account, char *dst, uint32_t size);

/* ---- memory: a bump allocator, and what the compiler expects of libc ------ */

/* `size` bytes, 8-aligned, uninitialized; the memory grows as needed and the
 * guest traps if it can't (the limit is the spawner's `memory_limit`). */
void *hearth_alloc(uint32_t size);
/* Everything allocated after `hearth_mark()` is freed by `hearth_release()`
 * with its result: mark before handling a message, release after. */
uint32_t hearth_mark(void);
void hearth_release(uint32_t mark);

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
uint32_t hearth_strlen(const char *s);
bool hearth_streq(const char *a, const char *b);
/* Decimal digits of `v` into `out` (at least 21 bytes), NUL-terminated;
 * returns the length. For log lines. */
uint32_t hearth_itoa(int64_t v, char *out);

/* ---- logging and metadata -------------------------------------------------- */

/* Log `text` at `level` (HEARTH_TRACE..HEARTH_ERROR) under the process's name,
 * tagged with `module`. Allowed in both phases. */
void hearth_log(uint32_t level, const char *module, const char *text);

/* Metadata phase only (`hearth_metadata`); they trap anywhere else. */
void hearth_set_name(const char *s);
void hearth_set_description(const char *s);
void hearth_add_author(const char *s);
void hearth_set_repository(const char *s);
void hearth_set_homepage(const char *s);
void hearth_set_license(const char *s);

/* ---- lumps: immutable blobs named by their BLAKE3 digest ------------------ */

void hearth_this_lump(hearth_lump_id *out); /* the id of this guest's own module */
hearth_lump hearth_lump_load(const void *data, uint32_t len); /* store bytes */
hearth_lump hearth_lump_load_by_id(const hearth_lump_id *id); /* traps if absent */
void hearth_lump_get_id(hearth_lump lump, hearth_lump_id *out);
uint32_t hearth_lump_len(hearth_lump lump);
void hearth_lump_read(hearth_lump lump, void *dst); /* dst holds hearth_lump_len bytes */
void *hearth_lump_data(hearth_lump lump, uint32_t *len); /* copy into hearth_alloc'd memory */
void hearth_lump_free(hearth_lump lump); /* the handle; the lump stays stored */

/* ---- capabilities ----------------------------------------------------------- */

void hearth_inc_ref(hearth_cap cap);
void hearth_dec_ref(hearth_cap cap);
uint32_t hearth_permissions(hearth_cap cap);
hearth_cap hearth_demote(hearth_cap cap, uint32_t perms); /* a new reference */
/* Send bytes and capabilities (the sender keeps its references). Never
 * blocks; a message to a closed route is dropped. Needs SEND. */
void hearth_send(hearth_cap to, const void *data, uint32_t len, const hearth_cap *caps, uint32_t ncaps);
void hearth_send_str(hearth_cap to, const char *s); /* the bytes of `s`, no caps */
void hearth_kill(hearth_cap cap); /* needs KILL */

/* ---- mailboxes and signals --------------------------------------------------- */

hearth_mb hearth_mailbox_create(void);
void hearth_mailbox_destroy(hearth_mb mb); /* its monitors get Down `closed` */
hearth_cap hearth_make_capability(hearth_mb mb, uint32_t perms);
void hearth_monitor(hearth_mb mb, hearth_cap cap); /* one Down to `mb`; needs MONITOR */

/* A received signal, copied out of the host (data, caps and reason live in
 * hearth_alloc'd memory; the host's signal handle is already freed). */
typedef struct hearth_signal {
    uint32_t kind;       /* HEARTH_MESSAGE, HEARTH_DOWN or HEARTH_EXIT */
    uint32_t index;      /* which mailbox of a poll delivered it */
    uint8_t *data;       /* message bytes */
    uint32_t len;
    hearth_cap *caps;    /* message capabilities, one reference each */
    uint32_t ncaps;
    hearth_cap cap;      /* Down: no-permission cap to the closed route;
                            Exit: to the sender's parent mailbox; else HEARTH_NONE */
    uint8_t *reason;     /* Down / Exit: the exit reason, msgpack */
    uint32_t reason_len;
    uint32_t refused_len; /* a message longer than hearth_max_message: its
                             length; its bytes were not copied (data NULL, len 0) */
} hearth_signal;

/* The longest message data the receive calls copy into the guest (default
 * 1 MiB): a longer one arrives with `refused_len` set and no data, so a
 * sender can't make the guest allocate past its memory limit and trap.
 * A guest that expects bigger messages raises it. */
extern uint32_t hearth_max_message;

void hearth_recv(hearth_mb mb, hearth_signal *out);                       /* waits */
bool hearth_try_recv(hearth_mb mb, hearth_signal *out);                   /* never waits */
bool hearth_recv_timeout(hearth_mb mb, uint64_t nanos, hearth_signal *out);
void hearth_poll(const hearth_mb *mbs, uint32_t n, hearth_signal *out);   /* out->index */
bool hearth_poll_timeout(const hearth_mb *mbs, uint32_t n, uint64_t nanos, hearth_signal *out);
/* Copy a raw signal handle into `out` and destroy the handle. */
void hearth_signal_read(hearth_sig sig, hearth_signal *out);
/* hearth_poll_timeout (HEARTH_FOREVER: hearth_poll) that also says on whose
 * behalf a message came: `*account` is the account it was sent for (a
 * peer's connection's, or the sending guest's; 0: the server's own side),
 * 0 for a Down or Exit. False on timeout. For services that bound each peer. */
bool hearth_poll_account(const hearth_mb *mbs, uint32_t n, uint64_t nanos, hearth_signal *out,
                         hearth_account *account);
/* Drop the references a signal carried (its caps, and its Down/Exit cap). */
void hearth_signal_release(const hearth_signal *s);
/* Is a Down's or Exit's reason the atom `atom` ("normal", "killed", ...)? */
bool hearth_reason_is(const hearth_signal *s, const char *atom);

/* ---- processes: links, exits, spawning ------------------------------------- */

void hearth_link(hearth_cap cap);   /* needs LINK */
void hearth_unlink(hearth_cap cap); /* needs LINK */
bool hearth_trap_exit(bool flag);   /* returns the old flag */
int64_t hearth_pid(void);           /* this process's pid (as hearth-ctl ps shows it) */
/* The runtime's clock in nanoseconds (monotonic, arbitrary origin; what the
 * receive timeouts wait on). Never waits. */
int64_t hearth_now(void);

/* ---- accounts: on whose behalf (docs/abi.md, hearth::account) --------------
 * Ids are this guest's own: 0 is the server's own side; others mean one
 * account each, for as long as this guest lives. */

/* The account whose route `cap` names (0: the server's); no permission needed.
 * A peer's request may name as owner or member only routes of its own account. */
hearth_account hearth_account_of(hearth_cap cap);
hearth_account hearth_account_mine(void); /* this guest's own (0: the server's) */
bool hearth_account_closed(hearth_account account); /* its connection has closed */
/* Its name ("peer 127.0.0.1#3"), NUL-terminated and cut to fit `size`;
 * returns the whole length in bytes. A guest charged to an account reads
 * only its own account's name (another traps). */
uint32_t hearth_account_name(hearth_account account, char *dst, uint32_t size);
/* End this process with a msgpack-encoded reason, or an atom. */
__attribute__((noreturn)) void hearth_exit(const void *reason, uint32_t len);
__attribute__((noreturn)) void hearth_exit_atom(const char *atom);
/* Erlang's exit/2: an exit signal to the owner of `cap` (needs KILL). */
void hearth_exit_with(hearth_cap cap, const void *reason, uint32_t len);
void hearth_exit_with_atom(hearth_cap cap, const char *atom);

/* Spawn a process of this same module running `fn`, with `caps` at its
 * handles 0..n-1; returns a capability with all permissions to it. */
hearth_cap hearth_spawn(hearth_entry fn, const hearth_cap *caps, uint32_t n);
hearth_cap hearth_spawn_link(hearth_entry fn, const hearth_cap *caps, uint32_t n);
hearth_cap hearth_spawn_monitor(hearth_entry fn, const hearth_cap *caps, uint32_t n, hearth_mb mb);

/* ---- msgpack ------------------------------------------------------------------
 * Hearth's services speak msgpack. A capability inside the data is ext type 1
 * whose 4-byte payload is its index into the message's caps (little-endian).
 */

#define HEARTH_MP_CAP_EXT 1
#define HEARTH_MP_MAX_CAPS 16

/* Writes into a caller's buffer; collects the capabilities it embeds. On
 * overflow it stops writing and sets `overflow`: check it (or the result of
 * hearth_mp_send) once at the end. */
typedef struct hearth_mp_writer {
    uint8_t *buf;
    uint32_t len, size;
    hearth_cap caps[HEARTH_MP_MAX_CAPS];
    uint32_t ncaps;
    bool overflow;
} hearth_mp_writer;

void hearth_mp_writer_init(hearth_mp_writer *w, void *buf, uint32_t size);
void hearth_mp_put_nil(hearth_mp_writer *w);
void hearth_mp_put_bool(hearth_mp_writer *w, bool v);
void hearth_mp_put_int(hearth_mp_writer *w, int64_t v);
void hearth_mp_put_uint(hearth_mp_writer *w, uint64_t v);
void hearth_mp_put_double(hearth_mp_writer *w, double v);
void hearth_mp_put_str(hearth_mp_writer *w, const char *s);
void hearth_mp_put_strn(hearth_mp_writer *w, const char *s, uint32_t len);
void hearth_mp_put_bin(hearth_mp_writer *w, const void *data, uint32_t len);
void hearth_mp_put_array(hearth_mp_writer *w, uint32_t n); /* then n values */
void hearth_mp_put_map(hearth_mp_writer *w, uint32_t n);   /* then n keys and values */
void hearth_mp_put_ext(hearth_mp_writer *w, int8_t type, const void *data, uint32_t len);
/* Append an already encoded value (one read with hearth_mp_read_raw, say). */
void hearth_mp_put_raw(hearth_mp_writer *w, const void *data, uint32_t len);
/* Attach `cap` to the message and embed it here (ext type 1). */
void hearth_mp_put_cap(hearth_mp_writer *w, hearth_cap cap);
/* Attach `cap` to the message without embedding it; returns its index. */
uint32_t hearth_mp_attach(hearth_mp_writer *w, hearth_cap cap);
/* Send the bytes and attached caps; false (nothing sent) on overflow. */
bool hearth_mp_send(const hearth_mp_writer *w, hearth_cap to);

typedef enum hearth_mp_type {
    HEARTH_MP_NIL, HEARTH_MP_BOOL, HEARTH_MP_INT, HEARTH_MP_UINT, HEARTH_MP_FLOAT,
    HEARTH_MP_STR, HEARTH_MP_BIN, HEARTH_MP_ARRAY, HEARTH_MP_MAP, HEARTH_MP_CAP, HEARTH_MP_EXT
} hearth_mp_type;

/* One item. INT holds any integer that fits int64_t in `i`; UINT a larger
 * one in `u`. STR, BIN and EXT point into the data (`ptr`, `len`; a STR is
 * not NUL-terminated); ARRAY and MAP give their count in `len`, and their
 * elements (a map's as key, value, key, value...) are the next items. */
typedef struct hearth_mp_value {
    hearth_mp_type type;
    bool b;
    int64_t i;
    uint64_t u;
    double f;
    const uint8_t *ptr;
    uint32_t len;
    int8_t ext_type;
    hearth_cap cap;
} hearth_mp_value;

/* Reads from bytes, resolving capability extensions against `caps`. Any
 * malformed or truncated input sets `error`, and every read fails after. */
typedef struct hearth_mp_reader {
    const uint8_t *p, *end;
    const hearth_cap *caps;
    uint32_t ncaps;
    bool error;
} hearth_mp_reader;

void hearth_mp_reader_init(hearth_mp_reader *r, const void *data, uint32_t len,
                           const hearth_cap *caps, uint32_t ncaps);
/* A reader over a message's data and caps, or a Down's/Exit's reason. */
void hearth_mp_reader_of(hearth_mp_reader *r, const hearth_signal *s);
bool hearth_mp_read(hearth_mp_reader *r, hearth_mp_value *v); /* the next item */
bool hearth_mp_skip(hearth_mp_reader *r);                     /* the next whole value */
/* The bytes of the next whole value, to copy elsewhere (hearth_mp_put_raw). */
bool hearth_mp_read_raw(hearth_mp_reader *r, const uint8_t **data, uint32_t *len);
bool hearth_mp_at_end(const hearth_mp_reader *r);             /* all read, no error */
/* The reader is at a map: move to the value of `key` (a str key). If the
 * map has no such key: false, the reader after the map, `error` not set. */
bool hearth_mp_find(hearth_mp_reader *r, const char *key);
/* Typed reads: false (and `error` set) if the next item is of another type. */
bool hearth_mp_read_int(hearth_mp_reader *r, int64_t *v);
bool hearth_mp_read_bool(hearth_mp_reader *r, bool *v);
bool hearth_mp_read_str(hearth_mp_reader *r, const char **s, uint32_t *len);
bool hearth_mp_read_cap(hearth_mp_reader *r, hearth_cap *cap);
bool hearth_mp_read_array(hearth_mp_reader *r, uint32_t *n);
bool hearth_mp_read_map(hearth_mp_reader *r, uint32_t *n);
/* Is `v` the string `s`? */
bool hearth_mp_str_is(const hearth_mp_value *v, const char *s);

/* ---- talking to services --------------------------------------------------- */

/* Start a request: a writer whose caps[0] is kept for the reply capability
 * (docs/protocols.md: caps[0] of a request is where the reply goes). */
void hearth_mp_request_init(hearth_mp_writer *w, void *buf, uint32_t size);
/* Send the request to `service` with a fresh reply capability in caps[0] and
 * wait for the one reply. Returns false, with no reply, if the request
 * overflowed, or if `service` has MONITOR and its route closes first. */
bool hearth_call(hearth_cap service, const hearth_mp_writer *request, hearth_signal *reply);

/* The registry (docs/protocols.md; hearth/otp/_registry.py): the capability
 * registered under `name`, a reference the caller owns, or HEARTH_NONE. */
hearth_cap hearth_registry_get(hearth_cap registry, const char *name);
/* Register `cap` under `name`; false if the name is taken or on error. */
bool hearth_registry_register(hearth_cap registry, const char *name, hearth_cap cap);

#ifdef __cplusplus
}
#endif

#include "hearth_svc.h"      /* typed service clients and the server side */
#include "hearth_patterns.h" /* watches, pub-sub, a supervisor */

#endif /* HEARTH_H */
