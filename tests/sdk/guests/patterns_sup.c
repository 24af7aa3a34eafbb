/* A supervisor (hearth_supervise) of three workers, permanent, transient
 * and temporary. caps[0]: where each worker, as it starts, sends its letter
 * with a capability to itself; a worker told "crash" traps, told "quit"
 * returns (reason normal). At most 3 restarts in 10 s. */
#include <hearth.h>

static void worker(const char *name) {
    hearth_cap me = hearth_make_capability(HEARTH_PARENT, HEARTH_SEND | HEARTH_MONITOR);
    hearth_send(0, name, 1, &me, 1);
    for (;;) {
        hearth_signal s;
        hearth_recv(HEARTH_PARENT, &s);
        if (s.kind == HEARTH_MESSAGE && s.len == 5 && memcmp(s.data, "crash", 5) == 0)
            __builtin_trap();
        if (s.kind == HEARTH_MESSAGE && s.len == 4 && memcmp(s.data, "quit", 4) == 0)
            return;
        hearth_signal_release(&s);
    }
}

static void permanent(void) { worker("P"); }
static void transient(void) { worker("T"); }
static void temporary(void) { worker("X"); }

void run(void) {
    hearth_cap report = 0;
    hearth_child_spec specs[3] = {
        {permanent, &report, 1, HEARTH_PERMANENT},
        {transient, &report, 1, HEARTH_TRANSIENT},
        {temporary, &report, 1, HEARTH_TEMPORARY},
    };
    hearth_supervise(specs, 3, 3, 10 * HEARTH_SECOND);
}
