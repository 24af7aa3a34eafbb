/* hearth_patterns.h — guest-side patterns: watches (monitor-based
 * ownership), pub-sub, a small supervisor of child guests, and handing a
 * service's state to its next version. Included by hearth.h; docs/sdk.md
 * has the tour. */
#ifndef HEARTH_PATTERNS_H
#define HEARTH_PATTERNS_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- watches: keep something while a route lives ---------------------------
 * Each watched capability gets a mailbox of its own that monitors it, so a
 * Down says exactly which one closed (a Down's own capability can't be
 * compared with the one watched). Give the set to the server loop
 * (hearth_server.watches): when a watched route closes, it calls
 * `down(state, cap, signal)` and then forgets the cap. */

#define HEARTH_MAX_WATCHES 48

typedef struct hearth_watches {
    hearth_cap caps[HEARTH_MAX_WATCHES]; /* one reference each, the set's */
    hearth_mb mbs[HEARTH_MAX_WATCHES];
    uint32_t n;
} hearth_watches;

/* Watch `cap` (needs MONITOR; the set takes its own reference). False if
 * the set is full, the cap lacks MONITOR, or it is watched already (the
 * same handle). */
bool hearth_watch(hearth_watches *w, hearth_cap cap);
/* Stop watching `cap` (the handle given to hearth_watch); false if it was not. */
bool hearth_unwatch(hearth_watches *w, hearth_cap cap);
/* The index of `cap` in the set, or -1. */
int32_t hearth_watch_find(const hearth_watches *w, hearth_cap cap);
/* Forget entry `i` (what the server loop does after `down`). */
void hearth_unwatch_at(hearth_watches *w, uint32_t i);

/* ---- pub-sub: a watches set of subscribers --------------------------------------
 * Subscribers need SEND and MONITOR; one whose route closes is dropped by
 * the server loop (the set is its `watches`). */

bool hearth_pubsub_join(hearth_watches *members, hearth_cap subscriber);
bool hearth_pubsub_leave(hearth_watches *members, hearth_cap subscriber);
/* Send `data` to every member; returns how many. Never waits. */
uint32_t hearth_pubsub_publish(const hearth_watches *members, const void *data, uint32_t len);
/* Publish a writer's bytes and caps to every member; false on overflow. */
bool hearth_pubsub_publish_mp(const hearth_watches *members, const hearth_mp_writer *w);

/* ---- a supervisor of child guests ------------------------------------------------ */

#define HEARTH_PERMANENT 0u /* always restarted */
#define HEARTH_TRANSIENT 1u /* restarted unless it ended normal or shutdown */
#define HEARTH_TEMPORARY 2u /* never restarted */
#define HEARTH_MAX_CHILDREN 16

typedef struct hearth_child_spec {
    hearth_entry fn;        /* a function of this module (spawned by index) */
    const hearth_cap *caps; /* given to each incarnation at handles 0..ncaps-1 */
    uint32_t ncaps;
    uint32_t restart;       /* HEARTH_PERMANENT, _TRANSIENT or _TEMPORARY */
} hearth_child_spec;

/* Become a one_for_one supervisor of the children (at most 16): start them
 * linked, in order, and restart each as its spec says. More than
 * `intensity` restarts within `period` nanoseconds of the runtime's clock:
 * the children are killed and this process exits with reason `shutdown`.
 * An exit signal from anyone else (an upgrade, the owner ending) kills the
 * children and exits with its reason. Requests on mailbox 0 (with a reply
 * capability): "count" (live children), "restarts" (so far). Never
 * returns. */
__attribute__((noreturn)) void hearth_supervise(const hearth_child_spec *specs, uint32_t n,
                                                uint32_t intensity, uint64_t period);

/* ---- handing state to the next version ---------------------------------------
 * A guest service behind a front (hearth.native.start_guest_service, as
 * init starts every wasm service) is spawned with the service's own
 * capabilities at handles 0..n-1 and, at handle n, a capability (SEND) to
 * leave one message for its next version: bytes and capabilities, at most
 * HEARTH_HANDOVER_MAX_BYTES and HEARTH_HANDOVER_MAX_CAPS. When an upgrade
 * asks it to finish (an Exit on mailbox 0), it leaves its state there and
 * returns; the front hands the message to the next version as the first
 * message of its mailbox 0, before any request, marked so that nothing
 * else can look like it (the front refuses a client's message that does).
 * A version that leaves nothing hands nothing over. If the new version dies
 * before taking over, the front starts the old module again and that fresh
 * guest gets it. Account ids (hearth_account) mean the same account to
 * every version of one service, so state may be keyed by them. */

#define HEARTH_HANDOVER_MAX_BYTES (4u << 20)
#define HEARTH_HANDOVER_MAX_CAPS 4096u
#define HEARTH_HANDOVER_MARK_LEN 17u /* bytes of the front's mark before the data */

typedef struct hearth_handover {
    const uint8_t *data;    /* what the previous version left */
    uint32_t len;
    const hearth_cap *caps; /* its capabilities: references the signal holds */
    uint32_t ncaps;
} hearth_handover;

/* Leave `data` and `caps` for the next version through `to` (handle n) and
 * wait up to `nanos` for the front to answer. HEARTH_OK: kept, replacing
 * anything this version left before; HEARTH_ERR_REPLY: refused (past the
 * bounds: nothing is kept, and the front's reason is logged as a warning);
 * HEARTH_ERR_TIMEOUT. The caller keeps its references. Waits. */
hearth_status hearth_handover_leave(hearth_cap to, const void *data, uint32_t len,
                                    const hearth_cap *caps, uint32_t ncaps, uint64_t nanos);
/* Is `s` (a signal of mailbox 0) the previous version's handover? If so,
 * `out` points into it: keep what you need (hearth_inc_ref the caps to
 * keep) before releasing the signal. A handover is the first message a
 * version gets, and is larger than hearth_max_message's default if the
 * previous version left more than 1 MiB: raise hearth_max_message to
 * HEARTH_HANDOVER_MAX_BYTES + HEARTH_HANDOVER_MARK_LEN until that first
 * message to take any handover. Never waits. */
bool hearth_handover_take(const hearth_signal *s, hearth_handover *out);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_PATTERNS_H */
