/* Workers: a guest that spawns children of its own module by index, linked
 * to it, and sees each one end.
 *
 * Spawned with (reporter). It traps exits, spawns one linked worker per
 * number of INPUTS, sends each its number, and collects what comes back:
 * a square from each worker that finishes, and an Exit for every worker --
 * `normal`, or the trap of the one given 13, which crashes on purpose. Being
 * linked, a crash would take the parent down too, if it did not trap exits.
 * It then reports to the reporter, as msgpack:
 *
 *     {"squares": [[n, n*n], ...], "exits": [reason, ...]}
 *
 * Build: python -m kindling.sdk build workers.c -o workers.wasm */
#include <hearth.h>

static const int64_t INPUTS[] = {3, 4, 13, 12};
#define N (sizeof INPUTS / sizeof INPUTS[0])

/* A worker: caps (results). Gets its number on mailbox 0. */
static void worker(void) {
    hearth_signal msg;
    hearth_mp_reader r;
    int64_t n;
    hearth_recv(HEARTH_PARENT, &msg);
    hearth_mp_reader_of(&r, &msg);
    if (!hearth_mp_read_int(&r, &n))
        hearth_exit_atom("bad_input");
    if (n == 13)
        __builtin_trap(); /* unlucky: a wasm trap, the worker's exit reason */
    uint8_t buf[32];
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_mp_put_array(&w, 2);
    hearth_mp_put_int(&w, n);
    hearth_mp_put_int(&w, n * n);
    hearth_mp_send(&w, 0);
}

void run(void) {
    hearth_trap_exit(true);
    hearth_mb results = hearth_mailbox_create();
    hearth_cap results_cap = hearth_make_capability(results, HEARTH_SEND);

    for (uint32_t i = 0; i < N; i++) {
        hearth_cap child = hearth_spawn_link(worker, &results_cap, 1);
        uint8_t buf[16];
        hearth_mp_writer w;
        hearth_mp_writer_init(&w, buf, sizeof buf);
        hearth_mp_put_int(&w, INPUTS[i]);
        hearth_mp_send(&w, child);
        hearth_dec_ref(child);
    }

    /* One Exit per worker. A worker sends its square before it ends, so
     * once every Exit is in, every square is in too. */
    hearth_signal exits[N], squares[N];
    uint32_t nsquares = 0;
    for (uint32_t i = 0; i < N; i++) {
        hearth_recv(HEARTH_PARENT, &exits[i]);
        if (exits[i].kind != HEARTH_EXIT)
            hearth_exit_atom("unexpected_signal");
    }
    while (nsquares < N && hearth_try_recv(results, &squares[nsquares]))
        nsquares++;
    hearth_log(HEARTH_INFO, "workers", "all workers are done");

    /* The report: the squares and reasons as they came, msgpack already. */
    static uint8_t out[4096];
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, out, sizeof out);
    hearth_mp_put_map(&w, 2);
    hearth_mp_put_str(&w, "squares");
    hearth_mp_put_array(&w, nsquares);
    for (uint32_t i = 0; i < nsquares; i++)
        hearth_mp_put_raw(&w, squares[i].data, squares[i].len);
    hearth_mp_put_str(&w, "exits");
    hearth_mp_put_array(&w, N);
    for (uint32_t i = 0; i < N; i++) {
        hearth_mp_put_raw(&w, exits[i].reason, exits[i].reason_len);
        hearth_signal_release(&exits[i]);
    }
    if (!hearth_mp_send(&w, 0))
        hearth_exit_atom("report_too_long");
}
