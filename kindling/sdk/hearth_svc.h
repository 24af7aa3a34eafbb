/* hearth_svc.h — typed clients of Hearth's services, and the guest side of
 * the request/response convention (docs/protocols.md). Included by
 * hearth.h; docs/sdk.md is the tour.
 *
 * Every client call returns a `hearth_status`: HEARTH_OK, or why not. A bad
 * reply (not msgpack, not {"ok"}/{"err"}, a value of the wrong type) is
 * HEARTH_ERR_BAD_REPLY, never a trap. Calls that wait say so.
 */
#ifndef HEARTH_SVC_H
#define HEARTH_SVC_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hearth_status {
    HEARTH_OK = 0,
    HEARTH_ERR_REPLY = 1,     /* the service answered {"err": {...}}: see the reply's err_kind */
    HEARTH_ERR_GONE = 2,      /* the service's route closed before it answered */
    HEARTH_ERR_TIMEOUT = 3,   /* no answer in time (a late answer is dropped) */
    HEARTH_ERR_OVERFLOW = 4,  /* the request did not fit its buffer: nothing was sent */
    HEARTH_ERR_BAD_REPLY = 5, /* the answer is not a well-formed reply of the expected type */
    HEARTH_ERR_NOT_FOUND = 6, /* a lookup found nothing */
} hearth_status;

/* A short name of a status ("ok", "gone", ...), for logs. */
const char *hearth_status_name(hearth_status s);

#define HEARTH_FOREVER UINT64_MAX /* a timeout that never ends */
#define HEARTH_SECOND 1000000000ull

/* A reply: the message, and a reader at the `ok` value (status HEARTH_OK)
 * or at the `err` map (HEARTH_ERR_REPLY; err_kind/err_message point into
 * it, not NUL-terminated). Release it with hearth_reply_release. */
typedef struct hearth_reply {
    hearth_signal sig;
    hearth_mp_reader value;
    const char *err_kind, *err_message;
    uint32_t err_kind_len, err_message_len;
} hearth_reply;

/* Send a request begun with hearth_mp_request_init and wait at most
 * `nanos` (HEARTH_FOREVER: no limit) for its reply. Waits. */
hearth_status hearth_ask(hearth_cap service, const hearth_mp_writer *request, uint64_t nanos,
                             hearth_reply *out);
/* Drop the capabilities a reply carried (those the caller did not take). */
void hearth_reply_release(hearth_reply *reply);
/* Take a capability out of a reply: it is not dropped by hearth_reply_release. */
void hearth_reply_keep(hearth_reply *reply, hearth_cap cap);
/* Is the reply's error of kind `kind`? */
bool hearth_reply_err_is(const hearth_reply *reply, const char *kind);

/* Copy the next whole value of `r` into `w`, re-attaching the capabilities
 * it embeds (so a value can be passed on with its caps). */
bool hearth_mp_copy(hearth_mp_writer *w, hearth_mp_reader *r);

/* ---- serving requests ------------------------------------------------------- */

/* A request received by a service, in any of the three op forms of
 * docs/protocols.md: "op", ["op", field, ...], {"op": "op", field: value}. */
typedef struct hearth_request {
    const hearth_signal *sig;
    hearth_cap reply_to;  /* caps[0], or HEARTH_NONE */
    const char *op;       /* not NUL-terminated */
    uint32_t op_len;
    uint8_t form;         /* 0 str, 1 array, 2 map */
    uint32_t nfields;     /* array form: the fields given; map form: its pairs */
    hearth_mp_reader rest; /* array form: at the first field; map form: at the map */
} hearth_request;

/* Parse a message as a request. False if it is not one of the forms (or
 * has no reply capability: then there is nobody to answer). */
bool hearth_request_parse(const hearth_signal *s, hearth_request *req);
/* Is the request's op `op`, given with `nfields` fields in the array form
 * (the other forms: any)? */
bool hearth_request_is(const hearth_request *req, const char *op, uint32_t nfields);
/* A reader at field `index` (array form) or `name` (map form); false if the
 * request does not give it (then use the field's default). */
bool hearth_request_field(const hearth_request *req, uint32_t index, const char *name,
                          hearth_mp_reader *out);

/* Start an ok reply: the writer holds {"ok": ...}; write the value, then
 * hearth_reply_send. */
void hearth_reply_begin(hearth_mp_writer *w, void *buf, uint32_t size);
/* Send it to the request's reply capability; false on overflow. Never waits. */
bool hearth_reply_send(const hearth_request *req, const hearth_mp_writer *w);
void hearth_reply_nil(const hearth_request *req);
void hearth_reply_int(const hearth_request *req, int64_t v);
void hearth_reply_str(const hearth_request *req, const char *s);
void hearth_reply_bool(const hearth_request *req, bool v);
/* {"err": {"kind": kind, "message": message}} */
void hearth_reply_error(const hearth_request *req, const char *kind, const char *message);

/* The server loop: receive on mailbox 0 and call `handle` for each request
 * (a message that is not a well-formed request with a reply capability is
 * answered `invalid_request`, or dropped without one), `info` (may be NULL)
 * for Down signals and other mailboxes' signals. Returns when an Exit
 * arrives (an upgrade, or the owner ending: docs/sdk.md) or `handle`
 * returns false. Memory each signal allocates is released after it. Waits.
 * With `deadline` (may be NULL) the loop asks it before every wait for the
 * nanoseconds to wait at most (HEARTH_FOREVER: none), and calls `timeout`
 * when that passes. */
typedef struct hearth_server {
    bool (*handle)(void *state, const hearth_request *req);
    void (*info)(void *state, const hearth_signal *sig);
    uint64_t (*deadline)(void *state);
    bool (*timeout)(void *state);
    void *state;
    const hearth_mb *mailboxes; /* more mailboxes to receive on (timers, replies); */
    uint32_t nmailboxes;        /* their signals go to `info`, with `index` 1.. */
} hearth_server;
void hearth_serve(const hearth_server *server);

/* ---- registry (hearth/otp/_registry.py) ---------------------------------------- */

/* `*out`: the capability under `name` (a reference the caller owns);
 * HEARTH_ERR_NOT_FOUND if none. Waits. */
hearth_status hearth_registry_lookup(hearth_cap registry, const char *name, hearth_cap *out);
/* Register `cap` under `name`. Waits. */
hearth_status hearth_registry_put(hearth_cap registry, const char *name, hearth_cap cap);
/* The names registered: a reply whose value reader is at an array of str. Waits. */
hearth_status hearth_registry_list(hearth_cap registry, hearth_reply *out);

/* ---- time (hearth/native/_time.py) and timers ------------------------------- */

/* hearth.UnixTime's "now": nanoseconds since the epoch. Waits. */
hearth_status hearth_time_unix_now(hearth_cap unix_time, int64_t *out);
/* Wait `nanos` of the runtime's clock; signals stay queued. Waits. */
void hearth_sleep(uint64_t nanos);

/* A timer: a small child process (of this module) that waits `nanos` of
 * the runtime's clock, sends `data` (at most 256 bytes, no caps) to `to`,
 * and exits. Returns a capability to it (kill it to cancel), or HEARTH_NONE
 * if `data` is too long. Never waits. Needs the module's spawn-by-index
 * entry, which every SDK guest has. */
hearth_cap hearth_timer_after(uint64_t nanos, hearth_cap to, const void *data, uint32_t len);

/* ---- renderer (docs/client.md) ----------------------------------------------- */

/* Put a cube texture lump ({"label", "size": [n, n], "faces": [6 x rgba]}). */
hearth_lump hearth_lump_cube_texture(const char *label, uint32_t size, const uint8_t *const faces[6]);
/* hearth.Renderer's set_skybox with that lump. Waits. */
hearth_status hearth_renderer_set_skybox(hearth_cap renderer, hearth_lump texture);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_SVC_H */
