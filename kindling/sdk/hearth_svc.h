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
 * has no reply capability: then there is nobody to answer), or is an array
 * or map of more than 256 items (refused at its header, unread). */
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
    struct hearth_watches *watches; /* routes watched (hearth_patterns.h), or NULL; */
    void (*down)(void *state, hearth_cap watched, const hearth_signal *sig); /* when one closes */
} hearth_server;
void hearth_serve(const hearth_server *server);

/* End this process with the reason of a crash, ("error", name, message, ""),
 * as a Python process that raised `name` has: supervisors restart it and
 * `hearth.vm.format_reason` shows "name: message". */
__attribute__((noreturn)) void hearth_exit_error(const char *name, const char *message);

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
 * and exits; it exits at once, sending nothing, if this process ends first
 * (it monitors us). Returns a capability to it (kill it to cancel), or HEARTH_NONE
 * if `data` is too long. Never waits. Needs the module's spawn-by-index
 * entry, which every SDK guest has. */
hearth_cap hearth_timer_after(uint64_t nanos, hearth_cap to, const void *data, uint32_t len);

/* A ticker: a child process that sends `data` (at most 256 bytes) to `to`
 * every `nanos` of the runtime's clock until this process ends (it
 * monitors us) or it is killed (the capability returned). Never waits. */
hearth_cap hearth_ticker_start(uint64_t nanos, hearth_cap to, const void *data, uint32_t len);

/* ---- lumps of the client's formats (docs/client.md) --------------------------- */

/* A cube texture lump ({"label", "size": [n, n], "faces": 6 x n*n*4 rgba}). */
hearth_lump hearth_lump_cube_texture(const char *label, uint32_t size, const uint8_t *const faces[6]);
/* A 2D texture lump, rgba rows from the top. */
hearth_lump hearth_lump_texture(const char *label, uint32_t width, uint32_t height, const uint8_t *rgba);
/* A mesh lump: `nvertices` positions (x, y, z), optional normals (NULL: up),
 * `nindices` u32 indices, three per triangle. */
hearth_lump hearth_lump_mesh(const float *positions, const float *normals, uint32_t nvertices,
                             const uint32_t *indices, uint32_t nindices);
/* A material lump: albedo r, g, b, a in [0, 1], and a texture (HEARTH_NONE: none). */
hearth_lump hearth_lump_material(const float albedo[4], hearth_lump texture);
/* The cube [-half, half]^3 with one normal per face (hearth.gfx.cube_mesh). */
hearth_lump hearth_lump_cube_mesh(float half);

/* ---- hearth.Renderer -------------------------------------------------------------
 * What add_* make belongs to `owner` (a capability with MONITOR, such as
 * hearth_make_capability(HEARTH_PARENT, HEARTH_MONITOR)): it goes when the
 * owner's route closes, or when its capability (`*out`) is killed. */

hearth_status hearth_renderer_set_skybox(hearth_cap renderer, hearth_lump texture); /* waits */
hearth_status hearth_renderer_set_ambient(hearth_cap renderer, const float color[4]); /* waits */
hearth_status hearth_renderer_add_object(hearth_cap renderer, hearth_cap owner, hearth_lump mesh,
                                         hearth_lump material, const float transform[16],
                                         hearth_cap *out); /* waits */
hearth_status hearth_renderer_add_directional_light(hearth_cap renderer, hearth_cap owner,
                                                    const float color[3], float intensity,
                                                    const float direction[3], hearth_cap *out); /* waits */
/* Move an object (a sink: no reply, never waits); false if it did not fit. */
bool hearth_object_set_transform(hearth_cap object, const float transform[16]);

/* ---- hearth.canvas.CanvasFactory --------------------------------------------------- */

typedef struct hearth_canvas_position {
    float origin[3];
    float orientation[4]; /* a quaternion x, y, z, w */
    float half_size[2];
} hearth_canvas_position;

hearth_status hearth_canvas_create(hearth_cap factory, hearth_cap owner, const hearth_canvas_position *position,
                                   uint32_t width, uint32_t height, const uint8_t *rgba, bool linear,
                                   hearth_cap *out); /* waits */
/* Sinks (never wait): draw pixels at column x, row y; move the quad. */
bool hearth_canvas_blit(hearth_cap canvas, int32_t x, int32_t y, uint32_t width, uint32_t height,
                        const uint8_t *rgba);
bool hearth_canvas_relocate(hearth_cap canvas, const hearth_canvas_position *position);

/* ---- hearth.DebugDrawFactory ---------------------------------------------------------- */

hearth_status hearth_debug_draw_new(hearth_cap factory, hearth_cap owner, hearth_cap *out); /* waits */
/* Replace the lines: positions x, y, z and colors rgba8 per vertex, two
 * indices per line. Waits. */
hearth_status hearth_debug_draw_contents(hearth_cap draw, const float *positions, const uint8_t *colors,
                                         uint32_t nvertices, const uint32_t *indices, uint32_t nindices);

/* ---- hearth.Window ---------------------------------------------------------------------- */

/* Send window events to `target` (SEND and MONITOR). Waits. */
hearth_status hearth_window_subscribe(hearth_cap window, hearth_cap target);
/* vfov in degrees, near > 0, view: world to camera, column-major. Waits. */
hearth_status hearth_window_set_camera(hearth_cap window, double vfov, double near, const float view[16]);
/* The camera as last set: its view (world to camera, 16 floats, column-major). */
hearth_status hearth_window_camera(hearth_cap window, float view[16]);
/* The same without waiting: the reply goes to `reply_to` (read and drop it). */
bool hearth_window_set_camera_send(hearth_cap window, hearth_cap reply_to, double vfov, double near,
                                   const float view[16]);

typedef enum hearth_event_kind {
    HEARTH_EV_UNKNOWN, HEARTH_EV_REDRAW, HEARTH_EV_RESIZED, HEARTH_EV_RECEIVED_CHARACTER,
    HEARTH_EV_KEYBOARD_INPUT, HEARTH_EV_MODIFIERS_CHANGED, HEARTH_EV_CURSOR_MOVED,
    HEARTH_EV_CURSOR_ENTERED, HEARTH_EV_CURSOR_LEFT, HEARTH_EV_MOUSE_INPUT, HEARTH_EV_MOUSE_WHEEL,
    HEARTH_EV_MOUSE_MOTION, HEARTH_EV_FOCUSED, HEARTH_EV_CLOSE_REQUESTED
} hearth_event_kind;

#define HEARTH_MOD_SHIFT 1u
#define HEARTH_MOD_CTRL 2u
#define HEARTH_MOD_ALT 4u
#define HEARTH_MOD_LOGO 8u

/* A window event (hearth/gfx/_events.py), decoded. Fields an event does not
 * have are zero. */
typedef struct hearth_window_event {
    hearth_event_kind kind;
    double dt;              /* redraw: seconds since the previous frame */
    uint32_t width, height; /* resized */
    char text[8];           /* received_character: the character, UTF-8, NUL-terminated */
    char key[32];           /* keyboard_input: pygame's key name ("w", "left shift"), truncated */
    int64_t scancode;
    bool pressed;           /* keyboard_input, mouse_input: "pressed" (else released) */
    int32_t button;         /* mouse_input: 1 left, 2 middle, 3 right, or the number sent */
    double x, y;            /* cursor_moved */
    double dx, dy;          /* mouse_motion, mouse_wheel */
    bool focused;           /* focused */
    uint32_t modifiers;     /* keyboard_input, modifiers_changed: HEARTH_MOD_* bits */
} hearth_window_event;

/* Decode a window event message; HEARTH_ERR_BAD_REPLY if it is not one (an
 * unknown event name is HEARTH_OK with kind HEARTH_EV_UNKNOWN). */
hearth_status hearth_window_event_decode(const hearth_signal *s, hearth_window_event *out);
/* Is the keyboard event's key `name`? */
bool hearth_key_is(const hearth_window_event *e, const char *name);

/* ---- hearth.terminal.TerminalFactory (the client's; never the server's) ------------ */

/* Open a terminal: `argv` a NULL-terminated command (NULL: the user's
 * shell) in a pty of `columns` x `rows`, shown on a quad at `position`,
 * owned by `owner`. Waits. */
hearth_status hearth_terminal_create(hearth_cap factory, hearth_cap owner, const hearth_canvas_position *position,
                                     uint32_t columns, uint32_t rows, const char *const *argv,
                                     hearth_cap *out);
/* Type `text` into it (a sink: never waits). */
bool hearth_terminal_input(hearth_cap terminal, const char *text);
/* End the program and the terminal (a sink). */
bool hearth_terminal_quit(hearth_cap terminal);

/* ---- hearth.World (docs/world.md) -------------------------------------------------
 * An entity belongs to `owner` (MONITOR): it leaves the world when the
 * owner's route closes. Its capability is the right to change it. */

/* Add an entity: a mesh lump, a material lump (HEARTH_NONE: white), a
 * transform (column-major), a label (NULL: none). `*id` and `*entity` get
 * its id and capability. Waits. */
hearth_status hearth_world_add(hearth_cap world, hearth_cap owner, hearth_lump mesh, hearth_lump material,
                               const float transform[16], const char *label, int64_t *id,
                               hearth_cap *entity);
hearth_status hearth_world_move(hearth_cap entity, const float transform[16]);  /* waits */
hearth_status hearth_world_relabel(hearth_cap entity, const char *label);      /* waits */
hearth_status hearth_world_remove(hearth_cap entity);                          /* waits */
/* Send the world's events to `subscriber` (SEND and MONITOR). Waits. */
hearth_status hearth_world_subscribe(hearth_cap world, hearth_cap subscriber);

/* ---- hearth.fs.Filesystem (paths relative to its root) -------------------------- */

/* Read a file: `*out` the id of a lump of its bytes, stored by the service
 * (hearth_lump_load_by_id loads it; it traps for an id the store lacks,
 * so a service the guest does not trust is asked no further). Waits. */
hearth_status hearth_fs_get(hearth_cap fs, const char *path, hearth_lump_id *out);
/* Write a lump's bytes to a file, atomically. Waits. */
hearth_status hearth_fs_put(hearth_cap fs, const char *path, hearth_lump lump);
/* A directory's entries: the reply's value is an array of
 * {"name", "kind", "size", "mtime"} maps (release the reply). Waits. */
hearth_status hearth_fs_list(hearth_cap fs, const char *path, hearth_reply *out);

/* ---- hearth.wasm.WasmProcessSpawner -------------------------------------------------- */

/* Spawn a guest of another module (a lump) with `caps` at its handles
 * 0..n-1 (at most 15); `*out` gets its capability (all permissions). Waits. */
hearth_status hearth_spawner_spawn(hearth_cap spawner, hearth_lump module, const hearth_cap *caps,
                                   uint32_t ncaps, hearth_cap *out);

/* ---- numbers: what the compiler does not bring without a libc -------------------- */

double hearth_sin(double x);
double hearth_cos(double x);
double hearth_atan2(double y, double x); /* the angle of (x, y), -pi..pi; 0 for (0, 0) */
static inline double hearth_sqrt(double x) { return __builtin_sqrt(x); }
#define HEARTH_PI 3.14159265358979323846

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_SVC_H */
