/* terminal-demo: opens terminals in the world through the terminal factory
 * — a guest service of the client.
 *
 * It opens nothing on its own (a shell is the user's machine): ask it.
 *
 *   "open", ["open", n]   open n terminals (default 3, at most 8 open at
 *                         once), each the user's shell in a 60 x 16 pty, on
 *                         quads in an arc in front of the origin.
 *                         ok: the capabilities of those open (SEND|MONITOR).
 *   ["type", text]        type `text` into every open terminal. ok: how many.
 *   "close"               end them all. ok: how many there were.
 *   "count"               ok: how many are open.
 *
 * The terminals belong to the guest (its owner capability): they close
 * when it ends, an upgrade included. A terminal whose program exits is
 * noticed through its monitor and forgotten. Errors: invalid_request, and
 * unavailable when the factory refuses (the reason in the message).
 */
#include <hearth.h>

#define REGISTRY 0u
#define MAX_TERMINALS 8

typedef struct demo {
    hearth_cap factory, owner;
    hearth_cap terms[MAX_TERMINALS];
    hearth_mb watch[MAX_TERMINALS]; /* a Down here: terminal i ended */
    uint32_t n, placed;
} demo;

static demo D;

static void forget(uint32_t i) {
    hearth_dec_ref(D.terms[i]);
    hearth_mailbox_destroy(D.watch[i]);
    D.n--;
    D.terms[i] = D.terms[D.n];
    D.watch[i] = D.watch[D.n];
}

/* Drop the terminals whose program has exited. */
static void reap(void) {
    for (uint32_t i = 0; i < D.n;) {
        hearth_signal s;
        if (hearth_try_recv(D.watch[i], &s)) {
            hearth_signal_release(&s);
            forget(i);
        } else
            i++;
    }
}

static hearth_status open_one(void) {
    /* Around the origin, 4 units away, facing it. */
    double a = -0.6 + 0.4 * (D.placed++ % 4);
    hearth_canvas_position at = {
        {(float)(4 * hearth_sin(a)), 1.5f, (float)(-4 * hearth_cos(a))},
        {0, (float)hearth_sin(-a / 2), 0, (float)hearth_cos(-a / 2)}, /* +z toward the origin */
        {1.2f, 0.6f}};
    hearth_cap term;
    hearth_status st = hearth_terminal_create(D.factory, D.owner, &at, 60, 16, NULL, &term);
    if (st != HEARTH_OK)
        return st;
    hearth_mb mb = hearth_mailbox_create();
    hearth_monitor(mb, term);
    D.terms[D.n] = term;
    D.watch[D.n++] = mb;
    return HEARTH_OK;
}

static void reply_open(const hearth_request *req) {
    hearth_mp_writer w;
    uint32_t size = 16 + 8 * D.n;
    hearth_reply_begin(&w, hearth_alloc(size), size);
    hearth_mp_put_array(&w, D.n);
    for (uint32_t i = 0; i < D.n; i++)
        hearth_mp_put_cap(&w, hearth_demote(D.terms[i], HEARTH_SEND | HEARTH_MONITOR));
    hearth_reply_send(req, &w);
    for (uint32_t i = 0; i < w.ncaps; i++) /* the message took its own references */
        hearth_dec_ref(w.caps[i]);
}

static bool handle(void *state, const hearth_request *req) {
    (void)state;
    hearth_mp_reader f;
    reap();
    if (hearth_request_is(req, "open", 1)) {
        int64_t n = 3;
        if (hearth_request_field(req, 0, "n", &f) && (!hearth_mp_read_int(&f, &n) || n < 1)) {
            hearth_reply_error(req, "invalid_request", "open takes a count >= 1");
            return true;
        }
        if (D.n + n > MAX_TERMINALS) {
            hearth_reply_error(req, "invalid_request", "at most 8 terminals open at once");
            return true;
        }
        for (int64_t i = 0; i < n; i++) {
            hearth_status st = open_one();
            if (st != HEARTH_OK) {
                hearth_reply_error(req, "unavailable", hearth_status_name(st));
                return true;
            }
        }
        reply_open(req);
    } else if (hearth_request_is(req, "type", 1)) {
        const char *text;
        uint32_t len;
        if (!hearth_request_field(req, 0, "text", &f) || !hearth_mp_read_str(&f, &text, &len)) {
            hearth_reply_error(req, "invalid_request", "type takes a str");
            return true;
        }
        char *z = hearth_alloc(len + 1);
        memcpy(z, text, len);
        z[len] = 0;
        for (uint32_t i = 0; i < D.n; i++)
            hearth_terminal_input(D.terms[i], z);
        hearth_reply_int(req, D.n);
    } else if (hearth_request_is(req, "close", 0)) {
        uint32_t n = D.n;
        while (D.n > 0) {
            hearth_terminal_quit(D.terms[0]);
            forget(0);
        }
        hearth_reply_int(req, n);
    } else if (hearth_request_is(req, "count", 0))
        hearth_reply_int(req, D.n);
    else
        hearth_reply_error(req, "invalid_request", "ops: open [n], type text, close, count");
    return true;
}

void hearth_metadata(void) {
    hearth_set_name("terminal-demo");
    hearth_set_description("Opens terminals in the world through hearth.terminal.TerminalFactory, when asked");
}

void run(void) {
    if (hearth_registry_lookup(REGISTRY, "hearth.terminal.TerminalFactory", &D.factory) != HEARTH_OK)
        hearth_exit_error("Unavailable", "hearth.terminal.TerminalFactory");
    D.owner = hearth_make_capability(HEARTH_PARENT, HEARTH_MONITOR);
    hearth_server server = {.handle = handle};
    hearth_serve(&server);
}
