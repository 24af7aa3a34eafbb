/* hearth_rt.c — the SDK's runtime: memory, the friendly wrappers of the ABI,
 * spawning by index, and requests to services. See hearth.h. */
#include "hearth.h"
#include "hearth_protocols.h" /* the request encoders, generated from the schemas */

/* ---- memory ------------------------------------------------------------------ */

#ifdef HEARTH_LIBC
/* With libc (`build --libc`), malloc owns the memory past the data, so the
 * bump allocator takes chunks from malloc instead: a mark is an address in
 * one of them, and releasing to it frees the chunks allocated after it. */
#include <stdlib.h>

typedef struct hearth_chunk {
    struct hearth_chunk *prev;
    uint32_t start, end;
} hearth_chunk;

static hearth_chunk *chunks; /* the newest chunk; heap_top lies in it */
static uint32_t heap_top;

void *hearth_alloc(uint32_t size) {
    uint64_t start = (heap_top + 7ull) & ~7ull;
    if (chunks == NULL || start + size > chunks->end) {
        uint64_t want = (uint64_t)size + 8u + sizeof(hearth_chunk);
        if (want < 65536u)
            want = 65536u;
        hearth_chunk *c = want > 0xFFFFFFFFull ? NULL : malloc((size_t)want);
        if (c == NULL)
            __builtin_trap(); /* out of memory: the spawner's memory_limit */
        c->prev = chunks;
        c->start = (uint32_t)(uintptr_t)(c + 1);
        c->end = (uint32_t)((uintptr_t)c + want);
        chunks = c;
        start = (c->start + 7ull) & ~7ull;
    }
    heap_top = (uint32_t)(start + size);
    return (void *)(uintptr_t)start;
}

uint32_t hearth_mark(void) { return heap_top; }

void hearth_release(uint32_t mark) {
    while (chunks != NULL && !(mark >= chunks->start && mark <= chunks->end)) {
        hearth_chunk *prev = chunks->prev;
        free(chunks);
        chunks = prev;
    }
    heap_top = chunks == NULL ? 0 : mark;
}

#else
extern unsigned char __heap_base; /* the linker puts the heap after the stack and data */

static uint32_t heap_top; /* the next free byte; 0 until the first allocation */

void *hearth_alloc(uint32_t size) {
    if (heap_top == 0)
        heap_top = (uint32_t)(uintptr_t)&__heap_base;
    uint64_t start = (heap_top + 7ull) & ~7ull;
    uint64_t end = start + size;
    uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * 65536u;
    if (end > have) {
        if (end > 0xFFFFFFFFull)
            __builtin_trap(); /* more than wasm32 can address */
        size_t pages = (size_t)((end - have + 65535u) / 65536u);
        /* memory.grow returns -1 at the spawner's memory_limit; the host
         * can't trap for us there, so the guest does (docs/abi.md, Memory). */
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1)
            __builtin_trap();
    }
    heap_top = (uint32_t)end;
    return (void *)(uintptr_t)start;
}

uint32_t hearth_mark(void) {
    if (heap_top == 0)
        heap_top = (uint32_t)(uintptr_t)&__heap_base;
    return heap_top;
}

void hearth_release(uint32_t mark) { heap_top = mark; }

/* The compiler may emit calls to these four even without a libc. */
void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s)
        while (n--)
            *d++ = *s++;
    else
        while (n--)
            d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}
#endif /* HEARTH_LIBC */

uint32_t hearth_strlen(const char *s) {
    uint32_t n = 0;
    while (s[n])
        n++;
    return n;
}

bool hearth_streq(const char *a, const char *b) {
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

uint32_t hearth_itoa(int64_t v, char *out) {
    char tmp[20];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    uint32_t n = 0, len = 0;
    do
        tmp[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = tmp[--n];
    out[len] = 0;
    return len;
}

/* ---- logging, metadata, lumps, capabilities, mailboxes ------------------------- */

void hearth_log(uint32_t level, const char *module, const char *text) {
    hearth_abi_log(level, module, hearth_strlen(module), text, hearth_strlen(text));
}

void hearth_set_name(const char *s) { hearth_abi_metadata_set_name(s, hearth_strlen(s)); }
void hearth_set_description(const char *s) { hearth_abi_metadata_set_description(s, hearth_strlen(s)); }
void hearth_add_author(const char *s) { hearth_abi_metadata_add_author(s, hearth_strlen(s)); }
void hearth_set_repository(const char *s) { hearth_abi_metadata_set_repository(s, hearth_strlen(s)); }
void hearth_set_homepage(const char *s) { hearth_abi_metadata_set_homepage(s, hearth_strlen(s)); }
void hearth_set_license(const char *s) { hearth_abi_metadata_set_license(s, hearth_strlen(s)); }

void hearth_this_lump(hearth_lump_id *out) { hearth_abi_lump_this_lump(out); }
hearth_lump hearth_lump_load(const void *data, uint32_t len) { return hearth_abi_lump_load(data, len); }
hearth_lump hearth_lump_load_by_id(const hearth_lump_id *id) { return hearth_abi_lump_load_by_id(id); }
void hearth_lump_get_id(hearth_lump lump, hearth_lump_id *out) { hearth_abi_lump_get_id(lump, out); }
uint32_t hearth_lump_len(hearth_lump lump) { return hearth_abi_lump_get_len(lump); }
void hearth_lump_read(hearth_lump lump, void *dst) { hearth_abi_lump_get_data(lump, dst); }
void hearth_lump_free(hearth_lump lump) { hearth_abi_lump_free(lump); }

void *hearth_lump_data(hearth_lump lump, uint32_t *len) {
    *len = hearth_abi_lump_get_len(lump);
    void *data = hearth_alloc(*len);
    hearth_abi_lump_get_data(lump, data);
    return data;
}

void hearth_inc_ref(hearth_cap cap) { hearth_abi_table_inc_ref(cap); }
void hearth_dec_ref(hearth_cap cap) { hearth_abi_table_dec_ref(cap); }
uint32_t hearth_permissions(hearth_cap cap) { return hearth_abi_table_get_permissions(cap); }
hearth_cap hearth_demote(hearth_cap cap, uint32_t perms) { return hearth_abi_table_demote(cap, perms); }
void hearth_kill(hearth_cap cap) { hearth_abi_table_kill(cap); }

void hearth_send(hearth_cap to, const void *data, uint32_t len, const hearth_cap *caps, uint32_t ncaps) {
    hearth_abi_table_send(to, data, len, caps, ncaps);
}

void hearth_send_str(hearth_cap to, const char *s) {
    hearth_abi_table_send(to, s, hearth_strlen(s), 0, 0);
}

hearth_mb hearth_mailbox_create(void) { return hearth_abi_mailbox_create(); }
void hearth_mailbox_destroy(hearth_mb mb) { hearth_abi_mailbox_destroy(mb); }
hearth_cap hearth_make_capability(hearth_mb mb, uint32_t perms) { return hearth_abi_mailbox_make_capability(mb, perms); }
void hearth_monitor(hearth_mb mb, hearth_cap cap) { hearth_abi_mailbox_monitor(mb, cap); }

/* ---- signals ------------------------------------------------------------------ */

uint32_t hearth_max_message = 1u << 20;

void hearth_signal_read(hearth_sig sig, hearth_signal *out) {
    memset(out, 0, sizeof *out);
    out->kind = hearth_abi_mailbox_get_signal_kind(sig);
    out->cap = HEARTH_NONE;
    if (out->kind == HEARTH_MESSAGE) {
        out->len = hearth_abi_mailbox_get_message_data_len(sig);
        if (out->len > hearth_max_message) {
            out->refused_len = out->len; /* not copied: see hearth_max_message */
            out->len = 0;
        } else {
            out->data = hearth_alloc(out->len);
            hearth_abi_mailbox_get_message_data(sig, out->data);
        }
        out->ncaps = hearth_abi_mailbox_get_message_caps_num(sig);
        out->caps = hearth_alloc(out->ncaps * sizeof(hearth_cap));
        hearth_abi_mailbox_get_message_caps(sig, out->caps);
    } else {
        out->cap = hearth_abi_mailbox_get_down_capability(sig);
        out->reason_len = hearth_abi_process_get_down_reason_len(sig);
        out->reason = hearth_alloc(out->reason_len);
        hearth_abi_process_get_down_reason(sig, out->reason);
    }
    hearth_abi_mailbox_destroy_signal(sig);
}

void hearth_recv(hearth_mb mb, hearth_signal *out) {
    hearth_signal_read(hearth_abi_mailbox_recv(mb), out);
}

bool hearth_try_recv(hearth_mb mb, hearth_signal *out) {
    hearth_sig sig = hearth_abi_mailbox_try_recv(mb);
    if (sig == HEARTH_NONE)
        return false;
    hearth_signal_read(sig, out);
    return true;
}

/* The ABI takes a signed i64; larger waits are as good as forever. */
static int64_t clamp_nanos(uint64_t nanos) {
    return nanos > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)nanos;
}

bool hearth_recv_timeout(hearth_mb mb, uint64_t nanos, hearth_signal *out) {
    hearth_sig sig = hearth_abi_process_recv_timeout(mb, clamp_nanos(nanos));
    if (sig == HEARTH_NONE)
        return false;
    hearth_signal_read(sig, out);
    return true;
}

void hearth_poll(const hearth_mb *mbs, uint32_t n, hearth_signal *out) {
    uint64_t got = hearth_abi_mailbox_poll(mbs, n);
    hearth_signal_read((hearth_sig)got, out);
    out->index = (uint32_t)(got >> 32);
}

bool hearth_poll_timeout(const hearth_mb *mbs, uint32_t n, uint64_t nanos, hearth_signal *out) {
    int64_t got = hearth_abi_process_poll_timeout(mbs, n, clamp_nanos(nanos));
    if (got == -1)
        return false;
    hearth_signal_read((hearth_sig)got, out);
    out->index = (uint32_t)((uint64_t)got >> 32);
    return true;
}

bool hearth_poll_account(const hearth_mb *mbs, uint32_t n, uint64_t nanos, hearth_signal *out,
                         hearth_account *account) {
    int64_t got = nanos == HEARTH_FOREVER ? (int64_t)hearth_abi_mailbox_poll(mbs, n)
                                           : hearth_abi_process_poll_timeout(mbs, n, clamp_nanos(nanos));
    if (got == -1)
        return false;
    hearth_sig sig = (hearth_sig)got;
    *account = hearth_abi_mailbox_get_signal_kind(sig) == HEARTH_MESSAGE
                   ? hearth_abi_account_of_message(sig) : 0;
    hearth_signal_read(sig, out);
    out->index = (uint32_t)((uint64_t)got >> 32);
    return true;
}

void hearth_signal_release(const hearth_signal *s) {
    for (uint32_t i = 0; i < s->ncaps; i++)
        hearth_abi_table_dec_ref(s->caps[i]);
    if (s->cap != HEARTH_NONE)
        hearth_abi_table_dec_ref(s->cap);
}

bool hearth_reason_is(const hearth_signal *s, const char *atom) {
    hearth_mp_reader r;
    hearth_mp_value v;
    hearth_mp_reader_init(&r, s->reason, s->reason_len, 0, 0);
    return s->kind != HEARTH_MESSAGE && hearth_mp_read(&r, &v) && hearth_mp_str_is(&v, atom);
}

/* ---- processes ----------------------------------------------------------------- */

void hearth_link(hearth_cap cap) { hearth_abi_process_link(cap); }
void hearth_unlink(hearth_cap cap) { hearth_abi_process_unlink(cap); }
bool hearth_trap_exit(bool flag) { return hearth_abi_process_trap_exit(flag) != 0; }

void hearth_exit(const void *reason, uint32_t len) { hearth_abi_process_exit(reason, len); }

void hearth_exit_with(hearth_cap cap, const void *reason, uint32_t len) {
    hearth_abi_process_exit_with(cap, reason, len);
}

/* An atom is a msgpack str; reasons are short, so a small buffer will do. */
static uint32_t encode_atom(const char *atom, uint8_t *buf, uint32_t size) {
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, size);
    hearth_mp_put_str(&w, atom);
    if (w.overflow)
        __builtin_trap();
    return w.len;
}

void hearth_exit_atom(const char *atom) {
    uint8_t buf[256];
    hearth_abi_process_exit(buf, encode_atom(atom, buf, sizeof buf));
}

void hearth_exit_with_atom(hearth_cap cap, const char *atom) {
    uint8_t buf[256];
    hearth_abi_process_exit_with(cap, buf, encode_atom(atom, buf, sizeof buf));
}

/* A function pointer in wasm32 is its index in the module's function table:
 * the index names the function, and the child calls it through the table
 * (a bad index is a wasm trap in the child, never in the parent). */
HEARTH_EXPORT("_hearth_spawn_by_index") void hearth_spawn_entry(uint32_t index) {
    ((hearth_entry)(uintptr_t)index)();
}

hearth_cap hearth_spawn(hearth_entry fn, const hearth_cap *caps, uint32_t n) {
    return hearth_abi_process_spawn_by_index((uint32_t)(uintptr_t)fn, caps, n);
}

hearth_cap hearth_spawn_link(hearth_entry fn, const hearth_cap *caps, uint32_t n) {
    return hearth_abi_process_spawn_link_by_index((uint32_t)(uintptr_t)fn, caps, n);
}

hearth_cap hearth_spawn_monitor(hearth_entry fn, const hearth_cap *caps, uint32_t n, hearth_mb mb) {
    return hearth_abi_process_spawn_monitor_by_index((uint32_t)(uintptr_t)fn, caps, n, mb);
}

/* ---- services --------------------------------------------------------------- */

void hearth_mp_request_init(hearth_mp_writer *w, void *buf, uint32_t size) {
    hearth_mp_writer_init(w, buf, size);
    hearth_mp_attach(w, HEARTH_NONE); /* caps[0]: the reply capability, filled by hearth_call */
}

bool hearth_call(hearth_cap service, const hearth_mp_writer *request, hearth_signal *reply) {
    if (request->overflow || request->ncaps == 0)
        return false;
    hearth_mb mb = hearth_abi_mailbox_create();
    hearth_cap caps[HEARTH_MP_MAX_CAPS];
    memcpy(caps, request->caps, request->ncaps * sizeof(hearth_cap));
    caps[0] = hearth_abi_mailbox_make_capability(mb, HEARTH_SEND);
    /* A service that dies before it answers must not leave us waiting. */
    if (hearth_abi_table_get_permissions(service) & HEARTH_MONITOR)
        hearth_abi_mailbox_monitor(mb, service);
    hearth_abi_table_send(service, request->buf, request->len, caps, request->ncaps);
    hearth_abi_table_dec_ref(caps[0]);
    hearth_recv(mb, reply);
    hearth_abi_mailbox_destroy(mb); /* and with it the monitor */
    if (reply->kind == HEARTH_MESSAGE)
        return true;
    hearth_signal_release(reply);
    return false;
}

/* The `ok` value of a reply {"ok": value} or {"err": ...}: the reader is left
 * at the value. */
static bool reply_ok(hearth_mp_reader *r, const hearth_signal *reply) {
    hearth_mp_reader_of(r, reply);
    return hearth_mp_find(r, "ok");
}

hearth_cap hearth_registry_get(hearth_cap registry, const char *name) {
    uint8_t buf[512];
    hearth_mp_writer w;
    hearth_signal reply;
    hearth_mp_reader r;
    hearth_cap found = HEARTH_NONE;
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_req_registry_get(&w, name);
    uint32_t mark = hearth_mark();
    if (hearth_call(registry, &w, &reply)) {
        if (!reply_ok(&r, &reply) || !hearth_mp_read_cap(&r, &found))
            found = HEARTH_NONE;
        bool kept = false; /* keep one reference to what was found, drop the rest */
        for (uint32_t i = 0; i < reply.ncaps; i++) {
            if (reply.caps[i] == found && !kept)
                kept = true;
            else
                hearth_abi_table_dec_ref(reply.caps[i]);
        }
    }
    hearth_release(mark);
    return found;
}

bool hearth_registry_register(hearth_cap registry, const char *name, hearth_cap cap) {
    uint8_t buf[512];
    hearth_mp_writer w;
    hearth_signal reply;
    hearth_mp_reader r;
    bool ok = false;
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_req_registry_register(&w, cap, name); /* caps[1]: what to register */
    uint32_t mark = hearth_mark();
    if (hearth_call(registry, &w, &reply)) {
        ok = reply_ok(&r, &reply);
        hearth_signal_release(&reply);
    }
    hearth_release(mark);
    return ok;
}

int64_t hearth_pid(void) { return hearth_abi_process_pid(); }
int64_t hearth_now(void) { return hearth_abi_process_now(); }

/* ---- accounts ----------------------------------------------------------------- */

hearth_account hearth_account_of(hearth_cap cap) { return hearth_abi_account_of_capability(cap); }
hearth_account hearth_account_mine(void) { return hearth_abi_account_mine(); }
bool hearth_account_closed(hearth_account account) { return hearth_abi_account_is_closed(account) != 0; }

uint32_t hearth_account_name(hearth_account account, char *dst, uint32_t size) {
    if (size == 0)
        return hearth_abi_account_name(account, dst, 0);
    uint32_t len = hearth_abi_account_name(account, dst, size - 1);
    dst[len < size - 1 ? len : size - 1] = 0;
    return len;
}
