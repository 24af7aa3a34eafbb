/* hearth_patterns.c — watches, pub-sub, a supervisor and handovers. See
 * hearth_patterns.h. */
#include "hearth.h"

/* ---- watches ------------------------------------------------------------------ */

int32_t hearth_watch_find(const hearth_watches *w, hearth_cap cap) {
    for (uint32_t i = 0; i < w->n; i++)
        if (w->caps[i] == cap)
            return (int32_t)i;
    return -1;
}

bool hearth_watch(hearth_watches *w, hearth_cap cap) {
    if (w->n == HEARTH_MAX_WATCHES || !(hearth_permissions(cap) & HEARTH_MONITOR) ||
        hearth_watch_find(w, cap) >= 0)
        return false;
    hearth_inc_ref(cap);
    hearth_mb mb = hearth_mailbox_create();
    hearth_monitor(mb, cap);
    w->caps[w->n] = cap;
    w->mbs[w->n++] = mb;
    return true;
}

void hearth_unwatch_at(hearth_watches *w, uint32_t i) {
    if (i >= w->n)
        return;
    hearth_dec_ref(w->caps[i]);
    hearth_mailbox_destroy(w->mbs[i]); /* and its monitor */
    w->n--;
    w->caps[i] = w->caps[w->n];
    w->mbs[i] = w->mbs[w->n];
}

bool hearth_unwatch(hearth_watches *w, hearth_cap cap) {
    int32_t i = hearth_watch_find(w, cap);
    if (i < 0)
        return false;
    hearth_unwatch_at(w, (uint32_t)i);
    return true;
}

/* ---- pub-sub --------------------------------------------------------------------- */

bool hearth_pubsub_join(hearth_watches *members, hearth_cap subscriber) {
    uint32_t need = HEARTH_SEND | HEARTH_MONITOR;
    return (hearth_permissions(subscriber) & need) == need && hearth_watch(members, subscriber);
}

bool hearth_pubsub_leave(hearth_watches *members, hearth_cap subscriber) {
    return hearth_unwatch(members, subscriber);
}

uint32_t hearth_pubsub_publish(const hearth_watches *members, const void *data, uint32_t len) {
    for (uint32_t i = 0; i < members->n; i++)
        hearth_send(members->caps[i], data, len, 0, 0);
    return members->n;
}

bool hearth_pubsub_publish_mp(const hearth_watches *members, const hearth_mp_writer *w) {
    if (w->overflow)
        return false;
    for (uint32_t i = 0; i < members->n; i++)
        hearth_send(members->caps[i], w->buf, w->len, w->caps, w->ncaps);
    return true;
}

/* ---- supervisor ------------------------------------------------------------------ */

typedef struct child {
    hearth_cap cap; /* HEARTH_NONE: not running */
    hearth_mb watch;
} child;

static child kids[HEARTH_MAX_CHILDREN];
static uint32_t nkids;

static void start_child(const hearth_child_spec *spec, uint32_t i) {
    kids[i].cap = hearth_spawn_link(spec->fn, spec->caps, spec->ncaps);
    kids[i].watch = hearth_mailbox_create();
    hearth_monitor(kids[i].watch, kids[i].cap);
}

static void stop_child(uint32_t i) {
    if (kids[i].cap == HEARTH_NONE)
        return;
    hearth_kill(kids[i].cap);
    hearth_dec_ref(kids[i].cap);
    hearth_mailbox_destroy(kids[i].watch);
    kids[i].cap = HEARTH_NONE;
}

__attribute__((noreturn)) static void give_up(const void *reason, uint32_t len) {
    for (uint32_t i = nkids; i-- > 0;) /* in reverse start order */
        stop_child(i);
    hearth_exit(reason, len);
}

static bool restarts_after(uint32_t restart, const hearth_signal *down) {
    if (restart == HEARTH_PERMANENT)
        return true;
    if (restart == HEARTH_TEMPORARY)
        return false;
    /* transient: "normal", "shutdown" and ["shutdown", term] are orderly */
    if (hearth_reason_is(down, "normal") || hearth_reason_is(down, "shutdown"))
        return false;
    hearth_mp_reader r;
    const char *s;
    uint32_t n, len;
    hearth_mp_reader_init(&r, down->reason, down->reason_len, 0, 0);
    return !(hearth_mp_read_array(&r, &n) && n == 2 && hearth_mp_read_str(&r, &s, &len) &&
             len == 8 && memcmp(s, "shutdown", 8) == 0);
}

void hearth_supervise(const hearth_child_spec *specs, uint32_t n, uint32_t intensity, uint64_t period) {
    static const char SHUTDOWN[] = "\xa8shutdown";
    uint32_t recent = 0, total = 0;
    uint32_t exits_due = 0; /* children's link Exits still to come (their Down came first) */
    if (n > HEARTH_MAX_CHILDREN)
        hearth_exit_error("BadSupervisor", "more than 16 children");
    hearth_trap_exit(true); /* children's exits are signals, not our end */
    hearth_mb expiry = hearth_mailbox_create(); /* a restart leaves the window */
    hearth_cap expire_to = hearth_make_capability(expiry, HEARTH_SEND);
    nkids = n;
    for (uint32_t i = 0; i < n; i++)
        start_child(&specs[i], i);
    for (;;) {
        uint32_t mark = hearth_mark();
        /* Children's Downs first, then expiries, then mailbox 0 (earlier
         * mailboxes win a poll); renumbered: 0 mailbox 0, 1 expiry, 2.. children. */
        hearth_mb mbs[2 + HEARTH_MAX_CHILDREN];
        uint32_t who[2 + HEARTH_MAX_CHILDREN], m = 0;
        for (uint32_t i = 0; i < n; i++)
            if (kids[i].cap != HEARTH_NONE) {
                who[m + 2] = i;
                mbs[m++] = kids[i].watch;
            }
        mbs[m] = expiry;
        mbs[m + 1] = HEARTH_PARENT;
        hearth_signal s;
        hearth_poll(mbs, m + 2, &s);
        s.index = s.index < m ? s.index + 2 : s.index == m ? 1 : 0;
        int32_t dead = -1;
        if (s.index >= 2) {
            dead = (int32_t)who[s.index];
            exits_due++;
        }
        else if (s.index == 1) {
            if (recent > 0)
                recent--;
        } else if (s.kind == HEARTH_EXIT) {
            /* A child's end comes as its Down and, through the link, an Exit,
             * both queued as it died: the Down names it. An Exit with no
             * Down beside it is from someone else. */
            bool child_exit = false;
            for (uint32_t i = 0; i < n && !child_exit; i++) {
                hearth_signal d;
                if (kids[i].cap != HEARTH_NONE && hearth_try_recv(kids[i].watch, &d)) {
                    hearth_signal_release(&s);
                    s = d;
                    dead = (int32_t)i;
                    child_exit = true;
                }
            }
            if (!child_exit && exits_due > 0)
                exits_due--; /* the Exit of a child already seen down */
            else if (!child_exit && !hearth_reason_is(&s, "normal"))
                give_up(s.reason, s.reason_len);
        } else if (s.kind == HEARTH_MESSAGE) {
            hearth_request req;
            uint32_t live = 0;
            for (uint32_t i = 0; i < n; i++)
                live += kids[i].cap != HEARTH_NONE;
            if (hearth_request_parse(&s, &req)) {
                if (hearth_request_is(&req, "count", 0))
                    hearth_reply_int(&req, live);
                else if (hearth_request_is(&req, "restarts", 0))
                    hearth_reply_int(&req, total);
                else
                    hearth_reply_error(&req, "invalid_request", "ops: count, restarts");
            }
        }
        if (dead >= 0) {
            uint32_t i = (uint32_t)dead;
            hearth_dec_ref(kids[i].cap);
            hearth_mailbox_destroy(kids[i].watch);
            kids[i].cap = HEARTH_NONE;
            if (restarts_after(specs[i].restart, &s)) {
                if (++recent > intensity)
                    give_up(SHUTDOWN, sizeof SHUTDOWN - 1);
                total++;
                hearth_dec_ref(hearth_timer_after(period, expire_to, "x", 1));
                start_child(&specs[i], i);
            }
        }
        hearth_signal_release(&s);
        hearth_release(mark);
    }
}

/* ---- handing state to the next version ---------------------------------------- */

/* hearth.native's HANDOVER_MARK: 0xc1 (a byte msgpack never uses), then the name. */
static const char MARK[HEARTH_HANDOVER_MARK_LEN] = "\xc1" "hearth.handover";

hearth_status hearth_handover_leave(hearth_cap to, const void *data, uint32_t len,
                                    const hearth_cap *caps, uint32_t ncaps, uint64_t nanos) {
    uint32_t mark = hearth_mark();
    hearth_mb box = hearth_mailbox_create();
    hearth_cap *all = hearth_alloc((ncaps + 1) * sizeof(hearth_cap));
    all[0] = hearth_make_capability(box, HEARTH_SEND);
    memcpy(all + 1, caps, ncaps * sizeof(hearth_cap));
    hearth_send(to, data, len, all, ncaps + 1);
    hearth_dec_ref(all[0]);
    hearth_signal s;
    hearth_status st = HEARTH_ERR_TIMEOUT;
    if (hearth_recv_timeout(box, nanos, &s)) {
        /* {"ok": true} or {"err": {"kind": k, "message": m, ...}} */
        hearth_mp_reader r;
        uint32_t n;
        const char *key, *msg = "(no reason given)";
        uint32_t key_len, msg_len = 17;
        hearth_mp_reader_of(&r, &s);
        st = HEARTH_ERR_BAD_REPLY;
        if (hearth_mp_read_map(&r, &n) && n == 1 && hearth_mp_read_str(&r, &key, &key_len)) {
            if (key_len == 2 && memcmp(key, "ok", 2) == 0) {
                st = HEARTH_OK;
            } else if (key_len == 3 && memcmp(key, "err", 3) == 0) {
                st = HEARTH_ERR_REPLY;
                if (hearth_mp_find(&r, "message"))
                    hearth_mp_read_str(&r, &msg, &msg_len);
            }
        }
        if (st != HEARTH_OK) {
            char line[512];
            uint32_t k = msg_len < sizeof line - 40 ? msg_len : sizeof line - 40;
            memcpy(line, "the handover was refused: ", 26);
            memcpy(line + 26, msg, k);
            line[26 + k] = 0;
            hearth_log(HEARTH_WARNING, "handover", line);
        }
        hearth_signal_release(&s);
    }
    hearth_mailbox_destroy(box);
    hearth_release(mark);
    return st;
}

bool hearth_handover_take(const hearth_signal *s, hearth_handover *out) {
    if (s->kind != HEARTH_MESSAGE || s->ncaps < 1 || s->len < HEARTH_HANDOVER_MARK_LEN ||
        memcmp(s->data, MARK, HEARTH_HANDOVER_MARK_LEN) != 0)
        return false;
    out->data = s->data + HEARTH_HANDOVER_MARK_LEN;
    out->len = s->len - HEARTH_HANDOVER_MARK_LEN;
    out->caps = s->caps + 1; /* caps[0] stands where a request's reply capability would */
    out->ncaps = s->ncaps - 1;
    return true;
}
