/* The filesystem and spawner clients against the real services.
 * caps: 0 report, 1 hearth.fs.Filesystem, 2 hearth.wasm.WasmProcessSpawner.
 * Mailbox 0 first gets a message: the 32-byte id of a module to spawn,
 * which sends "up" to its handle 0. Report: a msgpack map of statuses. */
#include <hearth.h>

static hearth_mp_writer out;
static uint32_t entries;

static void entry(const char *name, int64_t v) {
    hearth_mp_put_str(&out, name);
    hearth_mp_put_int(&out, v);
    entries++;
}

void run(void) {
    static uint8_t body[1024];
    uint8_t head[8];
    hearth_signal msg;
    hearth_recv(HEARTH_PARENT, &msg);
    hearth_mp_writer_init(&out, body, sizeof body);

    static const char text[] = "hi from a guest";
    hearth_lump lump = hearth_lump_load(text, sizeof text - 1);
    entry("put", hearth_fs_put(1, "hello.txt", lump));
    hearth_lump_id id;
    entry("get", hearth_fs_get(1, "hello.txt", &id));
    hearth_lump back = hearth_lump_load_by_id(&id);
    uint32_t len;
    uint8_t *data = hearth_lump_data(back, &len);
    entry("get_same", len == sizeof text - 1 && memcmp(data, text, len) == 0);
    entry("get_missing", hearth_fs_get(1, "missing.txt", &id));
    entry("get_escape", hearth_fs_get(1, "../outside", &id));
    hearth_reply listing;
    uint32_t mark = hearth_mark();
    entry("list", hearth_fs_list(1, "", &listing));
    uint32_t n = 0;
    hearth_mp_read_array(&listing.value, &n);
    entry("list_len", n);
    hearth_reply_release(&listing);
    hearth_release(mark);
    entry("list_missing", hearth_fs_list(1, "nowhere", &listing));
    hearth_reply_release(&listing);

    hearth_lump_id module;
    memcpy(module.bytes, msg.data, 32);
    hearth_lump probe = hearth_lump_load_by_id(&module);
    hearth_cap child, report = 0;
    entry("spawn", hearth_spawner_spawn(2, probe, &report, 1, &child));
    entry("spawn_perms", hearth_permissions(child));
    hearth_lump junk = hearth_lump_load("not wasm", 8);
    entry("spawn_junk", hearth_spawner_spawn(2, junk, &report, 1, &child));

    hearth_mp_writer w;
    hearth_mp_writer_init(&w, head, sizeof head);
    hearth_mp_put_map(&w, entries);
    uint8_t *m = hearth_alloc(w.len + out.len);
    memcpy(m, head, w.len);
    memcpy(m + w.len, body, out.len);
    hearth_send(0, m, w.len + out.len, 0, 0);
}
