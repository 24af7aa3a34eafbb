/* The SDK's service helpers against Hearth's registry: hearth_registry_get,
 * hearth_registry_register, hearth_call. Spawned with (reporter, registry,
 * read-only view of it); the registry holds "echo", a Python service that
 * answers each message with its bytes through caps[0]. After its report the
 * guest answers one request to the name it registered ("guest-svc") with
 * "hi from the guest", and returns. */
#include "check.h"

#define REGISTRY 1
#define VIEW 2

/* Takes one request and dies without answering it. */
static void child_silent_service(void) {
    hearth_signal s;
    hearth_recv(HEARTH_PARENT, &s);
}

static void test_get(void) {
    hearth_cap echo = hearth_registry_get(REGISTRY, "echo");
    CHECK(echo != HEARTH_NONE);
    CHECK(echo != HEARTH_NONE && hearth_permissions(echo) == HEARTH_SEND);
    CHECK(hearth_registry_get(REGISTRY, "missing") == HEARTH_NONE);
    hearth_cap again = hearth_registry_get(VIEW, "echo");
    CHECK(again == echo); /* the same capability: the same handle, one more reference */
    hearth_dec_ref(again);
    hearth_dec_ref(echo);
}

static void test_call(void) {
    uint32_t mark = hearth_mark();
    uint8_t buf[64];
    hearth_mp_writer w;
    hearth_signal reply;
    hearth_cap echo = hearth_registry_get(REGISTRY, "echo");
    hearth_mp_request_init(&w, buf, sizeof buf);
    hearth_mp_put_str(&w, "ping");
    CHECK(w.ncaps == 1 && w.len == 5);
    CHECK(hearth_call(echo, &w, &reply));
    CHECK(reply.kind == HEARTH_MESSAGE && reply.len == 5 && memcmp(reply.data, "\xa4ping", 5) == 0);
    hearth_signal_release(&reply);
    hearth_dec_ref(echo);

    /* A service that dies first: with MONITOR, the call returns false. */
    hearth_cap silent = hearth_spawn(child_silent_service, 0, 0);
    CHECK(!hearth_call(silent, &w, &reply));
    hearth_dec_ref(silent);
    /* An overflowed request is not sent. */
    hearth_mp_request_init(&w, buf, 2);
    hearth_mp_put_str(&w, "too long");
    CHECK(!hearth_call(REGISTRY, &w, &reply));
    hearth_release(mark);
}

static hearth_mb test_register(void) {
    hearth_mb mb = hearth_mailbox_create();
    hearth_cap me = hearth_make_capability(mb, HEARTH_SEND);
    CHECK(hearth_registry_register(REGISTRY, "guest-svc", me));
    CHECK(!hearth_registry_register(REGISTRY, "guest-svc", me)); /* name_taken */
    CHECK(!hearth_registry_register(VIEW, "other", me));          /* permission_denied */
    hearth_cap found = hearth_registry_get(REGISTRY, "guest-svc");
    CHECK(found == me);
    hearth_dec_ref(found);
    hearth_dec_ref(me);
    return mb;
}

void run(void) {
    test_get();
    test_call();
    hearth_mb mb = test_register();
    check_report(0, "registry");
    hearth_signal s;
    hearth_recv(mb, &s);
    if (s.ncaps > 0)
        hearth_send_str(s.caps[0], "hi from the guest");
}
