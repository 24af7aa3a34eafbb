/* chat: a chat room, with a board in the shared world that shows its last
 * lines — a guest service (docs/world.md, "The chat board").
 *
 * Requests (docs/protocols.md's request/response convention, any op form):
 *
 *   "join", ["join"], {"op": "join"} with the member's capability in caps[1]
 *       The member (a capability with SEND and MONITOR) receives every
 *       message posted from now on. ok: the number of members. Joining
 *       again with the same route changes nothing. A peer's member must be a
 *       route of its own (invalid_request); a connection joins at most
 *       PEER_MEMBERS members and the room holds at most MEMBERS
 *       (limit_reached).
 *   "leave" with the member's capability in caps[1]
 *       ok: true if it was a member, false if not.
 *   ["post", text], ["post", text, from], {"op": "post", "text": t, "from": f}
 *       Sends {"from": f, "text": t} (msgpack, no capabilities) to every
 *       member, keeps the line in the log and shows it on the board; `text`
 *       is a str, `from` a str or nil. ok: the number of members it was
 *       sent to.
 *   "members"
 *       ok: the number of members.
 *   "log"
 *       ok: the last lines posted (at most LOG_LINES), oldest first, each
 *       {"from": f, "text": t}, both cut to LOG_TEXT characters.
 *
 * Posts from a peer (a request a peer's connection carried, or one of its
 * guests sent: hearth::account says which) are bounded and carry the name
 * the room knows that connection by: the first `from` a connection posts
 * with becomes its name for as long as it is connected (a name another live
 * connection holds is refused), a different `from` later is refused
 * (permission_denied), and without one its posts carry the connection's
 * number ("peer #N", its name being "peer ADDRESS#N": no address). A peer's text is at most PEER_TEXT_LIMIT
 * characters and a connection posts at most one a second (POST_BURST at
 * once): past either, limit_reached. The server's own processes and its
 * tools (the operator) post as they say. A peer's request whose reply
 * capability is not the peer's own is dropped unanswered, as Python
 * services do.
 *
 * The board: a child process (spawned linked, by index) keeps an entity in
 * hearth.World, found in the registry view at handle 0 (a flat panel
 * labelled "chat"), and paints its canvas with the last BOARD_LINES lines as
 * "name: text" in the world's dot font (chat_font.h, generated from
 * hearth/world/_font.py), at most every REPAINT; it adds the board again if
 * the world restarts or the entity is removed. Without a world it gives up
 * after 20 looks, half a second apart, and the room serves on.
 *
 * Members are watched from one mailbox of their own: a member whose route
 * closes is dropped. A member's identity is its route as a no-permission
 * handle (hearth_demote(cap, 0)): the table gives one handle per route and
 * permissions, and a Down's capability is exactly that handle. An Exit on
 * mailbox 0 from anyone but the board (an upgrade, or the front ending)
 * ends the room: the board goes with it.
 *
 * Upgrades: the room runs behind its front (init starts it so), which gives
 * it, after the registry view, a capability to leave its state for the next
 * version (HANDOVER; hearth_handover_leave in hearth_patterns.h). Asked to
 * finish by an upgrade, the room leaves its members (their capabilities and
 * the connection that joined each), the names and rate buckets of the
 * connections still open, and its log, keyed by account ids, which mean the
 * same to every version of the room; the next version takes them from the
 * first message it gets (hearth_handover_take) before any request. Members
 * keep receiving posts without joining again, a connection keeps its name
 * (no one else can take it) and what is left of its burst, and the log and
 * board go on. A state this version doesn't know (another format) is
 * dropped with a warning, and the room starts empty.
 */
#include <hearth.h>

#include "chat_font.h"

#define REGISTRY 0u
#define HANDOVER 1u /* from the front: where this version leaves its state */
#define REQUEST_MAX (1u << 20) /* bytes of a request the room reads */
#define STATE_FORMAT 1         /* of the state handed to the next version */
#define WORLD "hearth.World"
#define MEMBER_PERMS (HEARTH_SEND | HEARTH_MONITOR)
#define TEXT_LIMIT (64 * 1024) /* characters of one message */
#define PEER_TEXT_LIMIT 500    /* characters of one message from a peer */
#define NAME_LIMIT 32          /* characters of a name */
#define LOG_LINES 100          /* lines kept for "log" */
#define LOG_TEXT 500           /* characters of a line (and its name) kept */
#define POST_BURST 5           /* a connection posts 1 a second, this many at once */
#define MEMBERS 1024           /* members of the room at once */
#define PEER_MEMBERS 4         /* members joined through one peer connection */
#define PEERS 10000            /* connections the room keeps a name, a rate or members for
                                  (hearth.net's most connections at once) */
#define BOARD_LINES 8
#define BOARD_COLS 44
#define SECOND 1000000000ll
#define REPAINT (300 * 1000000ll) /* between two paints of the board, at least */

/* ---- text: UTF-8 as Python's str sees it ------------------------------------- */

/* The code point at `p` (valid UTF-8 of `end - p` bytes); `*n` its length. */
static uint32_t cp_at(const uint8_t *p, const uint8_t *end, uint32_t *n) {
    uint8_t c = p[0];
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    uint32_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if ((uint32_t)(end - p) < len)
        len = (uint32_t)(end - p);
    uint32_t cp = c & (0x7f >> len);
    for (uint32_t i = 1; i < len; i++)
        cp = cp << 6 | (p[i] & 0x3f);
    *n = len;
    return cp;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF), as
 * Python decodes a msgpack str; `*chars` the code points. */
static bool utf8_ok(const uint8_t *p, uint32_t len, uint32_t *chars) {
    uint32_t n = 0, i = 0;
    while (i < len) {
        uint8_t c = p[i];
        uint32_t k, min, cp;
        if (c < 0x80) {
            i++;
            n++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 2, min = 0x80, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 3, min = 0x800, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 4, min = 0x10000, cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i < k)
            return false;
        for (uint32_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k;
        n++;
    }
    *chars = n;
    return true;
}

/* The bytes of the first `chars` code points of valid UTF-8. */
static uint32_t utf8_cut(const uint8_t *p, uint32_t len, uint32_t chars) {
    uint32_t i = 0;
    while (i < len && chars--) {
        uint32_t n;
        cp_at(p + i, p + len, &n);
        i += n;
    }
    return i;
}

/* Python's str.isspace. */
static bool is_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Python's str.isprintable, but for unassigned code points (not checked):
 * no controls, separators other than the space, format characters,
 * surrogates or private use. */
static bool is_printable(uint32_t c) {
    if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0xad)
        return false;
    if (c != 0x20 && is_space(c))
        return false;
    if ((c >= 0x600 && c <= 0x605) || c == 0x61c || c == 0x6dd || c == 0x70f || c == 0x890 ||
        c == 0x891 || c == 0x8e2 || c == 0x180e || (c >= 0x200b && c <= 0x200f) ||
        (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) || c == 0xfeff ||
        (c >= 0xfff9 && c <= 0xfffb) || c == 0x110bd || c == 0x110cd ||
        (c >= 0x13430 && c <= 0x1343f) || (c >= 0x1bca0 && c <= 0x1bca3) ||
        (c >= 0x1d173 && c <= 0x1d17a) || c == 0xe0001 || (c >= 0xe0020 && c <= 0xe007f))
        return false;
    if ((c >= 0xd800 && c <= 0xf8ff) || c >= 0xf0000 || c == 0xfffe || c == 0xffff)
        return false;
    return true;
}

/* ---- building messages ----------------------------------------------------------- */

typedef struct text {
    char *buf;
    uint32_t len, size;
} text;

static void t_init(text *t, char *buf, uint32_t size) {
    t->buf = buf, t->len = 0, t->size = size;
    buf[0] = 0;
}

static void t_add(text *t, const char *s, uint32_t n) {
    if (n > t->size - 1 - t->len)
        n = t->size - 1 - t->len;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = 0;
}

static void t_str(text *t, const char *s) { t_add(t, s, hearth_strlen(s)); }

static void t_int(text *t, int64_t v) {
    char num[24];
    t_add(t, num, hearth_itoa(v, num));
}

/* Python's repr() of a str (valid UTF-8), as the Python room's messages
 * show names: quoted, backslashes and controls escaped. */
static void t_repr(text *t, const uint8_t *s, uint32_t len) {
    bool single = false, dbl = false;
    for (uint32_t i = 0; i < len; i++)
        single |= s[i] == '\'', dbl |= s[i] == '"';
    char q = single && !dbl ? '"' : '\'';
    t_add(t, &q, 1);
    for (uint32_t i = 0; i < len;) {
        uint32_t n, c = cp_at(s + i, s + len, &n);
        static const char hex[] = "0123456789abcdef";
        if (c == '\\' || c == (uint32_t)q) {
            char e[2] = {'\\', (char)c};
            t_add(t, e, 2);
        } else if (c == '\n' || c == '\r' || c == '\t') {
            char e[2] = {'\\', c == '\n' ? 'n' : c == '\r' ? 'r' : 't'};
            t_add(t, e, 2);
        } else if (c < 0x20 || (c >= 0x7f && c <= 0xff && !is_printable(c))) {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            t_add(t, e, 4);
        } else if (!is_printable(c)) {
            char e[10] = {'\\', c > 0xffff ? 'U' : 'u'};
            uint32_t k = c > 0xffff ? 8 : 4;
            for (uint32_t j = 0; j < k; j++)
                e[2 + j] = hex[(c >> (4 * (k - 1 - j))) & 15];
            t_add(t, e, 2 + k);
        } else {
            t_add(t, (const char *)s + i, n);
        }
        i += n;
    }
    t_add(t, &q, 1);
}

/* ---- the room's state ---------------------------------------------------------------- */

typedef struct member {
    hearth_cap cap;     /* the member (SEND, MONITOR), one reference */
    hearth_cap route;   /* its route as a no-permission handle: its identity */
    hearth_account by;  /* the peer account that joined it, or 0 */
} member;

typedef struct peer {
    hearth_account account;
    uint32_t members;   /* members it joined */
    bool named, rated;
    uint8_t name_len;
    char name[4 * NAME_LIMIT];
    int64_t tokens;     /* posts saved up, in nanoseconds of a post's worth (SECOND each) */
    int64_t at;         /* when the tokens were counted (the runtime's clock) */
} peer;

typedef struct line {
    bool has_from;
    uint16_t from_len, text_len;
    char from[4 * LOG_TEXT];
    char text[4 * LOG_TEXT];
} line;

static member members[MEMBERS];
static uint32_t nmembers;
static hearth_mb downs;      /* where the members' Downs arrive */
static uint32_t stale;       /* monitors of members that left, still on `downs` */
static peer peers[PEERS];
static uint32_t npeers;
static line lines[LOG_LINES];
static uint32_t first_line, nlines;
static hearth_cap board = HEARTH_NONE, board_route = HEARTH_NONE;

static const hearth_request *current; /* the request being handled */

static void refuse(const char *kind, const char *message) { hearth_reply_error(current, kind, message); }

/* ---- members ------------------------------------------------------------------------ */

static int32_t find_member(hearth_cap route) {
    for (uint32_t i = 0; i < nmembers; i++)
        if (members[i].route == route)
            return (int32_t)i;
    return -1;
}

static peer *find_peer(hearth_account account) {
    for (uint32_t i = 0; i < npeers; i++)
        if (peers[i].account == account)
            return &peers[i];
    return 0;
}

/* The entry of `account`, made if need be; NULL if the table is full even
 * after forgetting the connections that closed and hold no members. */
static peer *peer_of(hearth_account account) {
    peer *p = find_peer(account);
    if (p)
        return p;
    if (npeers == PEERS) {
        uint32_t kept = 0;
        for (uint32_t i = 0; i < npeers; i++)
            if (peers[i].members || !hearth_account_closed(peers[i].account))
                peers[kept++] = peers[i];
        npeers = kept;
        if (npeers == PEERS)
            return 0;
    }
    p = &peers[npeers++];
    memset(p, 0, sizeof *p);
    p->account = account;
    return p;
}

static void forget_member(uint32_t i) {
    member m = members[i];
    members[i] = members[--nmembers];
    if (m.by) {
        peer *p = find_peer(m.by);
        if (p && p->members)
            p->members--;
    }
    hearth_dec_ref(m.cap);
    hearth_dec_ref(m.route);
}

/* Members that left keep their monitor on `downs` (the ABI has no
 * demonitor); past MEMBERS of them, the monitors move to a new mailbox and
 * the old one goes with the stale ones. A route that closed meanwhile gets
 * its Down from the new monitor at once. */
static void renew_downs(void) {
    hearth_mb fresh = hearth_mailbox_create();
    for (uint32_t i = 0; i < nmembers; i++)
        hearth_monitor(fresh, members[i].cap);
    hearth_mailbox_destroy(downs);
    downs = fresh;
    stale = 0;
}

static bool member_arg(hearth_cap *out) {
    uint32_t n = current->sig->ncaps;
    if (n != 2) {
        char buf[96];
        text t;
        t_init(&t, buf, sizeof buf);
        t_str(&t, "the member capability goes in caps[1] (got ");
        t_int(&t, n ? n - 1 : 0);
        t_str(&t, " capability arguments)");
        refuse("invalid_request", buf);
        return false;
    }
    *out = current->sig->caps[1];
    return true;
}

static void join(hearth_account account) {
    hearth_cap cap;
    if (!member_arg(&cap))
        return;
    if (MEMBER_PERMS & ~hearth_permissions(cap)) {
        refuse("invalid_request", "a member capability needs SEND and MONITOR");
        return;
    }
    hearth_cap route = hearth_demote(cap, 0);
    if (find_member(route) >= 0) {
        hearth_dec_ref(route);
        hearth_reply_int(current, nmembers);
        return;
    }
    peer *p = 0;
    const char *kind = 0, *why = 0;
    if (account && hearth_account_of(cap) != account)
        kind = "invalid_request",
        why = "the member, caps[1], must be a route of your own (a capability of yours or of your"
              " guests'), not one the server gave you: a peer acts only for itself";
    else if (nmembers >= MEMBERS)
        kind = "limit_reached", why = "the room has 1024 members, its most";
    else if (account && !(p = peer_of(account)))
        kind = "limit_reached", why = "the room keeps 10000 connections, its most: try again later";
    else if (p && p->members >= PEER_MEMBERS)
        kind = "limit_reached", why = "a connection joins at most 4 members";
    if (kind) {
        hearth_dec_ref(route);
        refuse(kind, why);
        return;
    }
    hearth_inc_ref(cap); /* kept past the request */
    hearth_monitor(downs, cap);
    members[nmembers++] = (member){cap, route, account};
    if (p)
        p->members++;
    hearth_reply_int(current, nmembers);
}

static void leave(void) {
    hearth_cap cap;
    if (!member_arg(&cap))
        return;
    hearth_cap route = hearth_demote(cap, 0);
    int32_t i = find_member(route);
    hearth_dec_ref(route);
    if (i >= 0) {
        forget_member((uint32_t)i);
        if (++stale > MEMBERS)
            renew_downs();
    }
    hearth_reply_bool(current, i >= 0);
}

static void member_down(const hearth_signal *s) {
    int32_t i = find_member(s->cap); /* the Down's handle is the member's route handle */
    if (i >= 0)
        forget_member((uint32_t)i);
    else if (stale)
        stale--; /* the monitor of one that had left */
}

/* ---- posts ---------------------------------------------------------------------------- */

static bool check_name(const uint8_t *s, uint32_t len, uint32_t chars) {
    bool ok = chars >= 1 && chars <= NAME_LIMIT;
    for (uint32_t i = 0; ok && i < len;) {
        uint32_t n, c = cp_at(s + i, s + len, &n);
        if (!is_printable(c) || ((i == 0 || i + n == len) && c == ' '))
            ok = false;
        i += n;
    }
    if (!ok)
        refuse("invalid_request", "a name is 1 to 32 printable characters, without spaces around it");
    return ok;
}

/* The name a peer's post carries (checked, bound on first use); NULL after
 * refusing. */
static const char *peer_name(hearth_account account, const uint8_t *from, uint32_t from_len,
                             bool has_from, uint32_t *len) {
    static char own[256];
    peer *p = find_peer(account);
    bool bound = p && p->named;
    if (!has_from) {
        if (bound) {
            *len = p->name_len;
            return p->name;
        }
        /* "peer #N", N the connection's number in its account's name
         * ("peer ADDRESS#N"): the room tells its members who is who
         * without telling them anyone's address. */
        char full[256];
        uint32_t n = hearth_account_name(account, full, sizeof full);
        if (n > sizeof full)
            n = sizeof full;
        uint32_t hash = n;
        while (hash > 0 && full[hash - 1] != '#')
            hash--;
        text t;
        t_init(&t, own, sizeof own);
        t_str(&t, "peer #");
        if (hash > 0)
            t_add(&t, full + hash, n - hash);
        else
            t_int(&t, (int64_t)account);
        *len = t.len;
        return own;
    }
    if (bound) {
        if (from_len != p->name_len || memcmp(from, p->name, from_len) != 0) {
            char buf[512];
            text t;
            t_init(&t, buf, sizeof buf);
            t_str(&t, "this connection posts as ");
            t_repr(&t, (const uint8_t *)p->name, p->name_len);
            t_str(&t, "; it can't post as ");
            t_repr(&t, from, utf8_cut(from, from_len, NAME_LIMIT));
            refuse("permission_denied", buf);
            return 0;
        }
        *len = p->name_len;
        return p->name;
    }
    uint32_t chars = 0;
    utf8_ok(from, from_len, &chars);
    if (!check_name(from, from_len, chars))
        return 0;
    if (from_len >= 5 && memcmp(from, "peer ", 5) == 0) {
        refuse("permission_denied", "names starting with 'peer ' are the room's own, for"
                                    " connections that gave none");
        return 0;
    }
    for (uint32_t i = 0; i < npeers; i++) {
        peer *q = &peers[i];
        if (!q->named || q->name_len != from_len || memcmp(q->name, from, from_len) != 0)
            continue;
        if (hearth_account_closed(q->account)) {
            q->named = false; /* its connection is gone: the name is free again */
            continue;
        }
        char buf[256];
        text t;
        t_init(&t, buf, sizeof buf);
        t_str(&t, "the name ");
        t_repr(&t, from, from_len);
        t_str(&t, " is taken by another connection");
        refuse("permission_denied", buf);
        return 0;
    }
    if (!p && !(p = peer_of(account))) {
        refuse("limit_reached", "the room keeps 10000 connections, its most: try again later");
        return 0;
    }
    memcpy(p->name, from, from_len);
    p->name_len = (uint8_t)from_len;
    p->named = true;
    *len = p->name_len;
    return p->name;
}

/* A token bucket per connection: 1 post a second, POST_BURST saved up. */
static bool limit_rate(hearth_account account) {
    peer *p = peer_of(account);
    if (!p) {
        refuse("limit_reached", "the room keeps 10000 connections, its most: try again later");
        return false;
    }
    int64_t now = hearth_now();
    if (!p->rated) {
        p->rated = true;
        p->tokens = POST_BURST * SECOND;
        p->at = now;
    }
    p->tokens += now - p->at;
    if (p->tokens > POST_BURST * SECOND)
        p->tokens = POST_BURST * SECOND;
    p->at = now;
    if (p->tokens >= SECOND) {
        p->tokens -= SECOND;
        return true;
    }
    int64_t tenths = (SECOND - p->tokens + SECOND / 20) / (SECOND / 10);
    char buf[128];
    text t;
    t_init(&t, buf, sizeof buf);
    t_str(&t, "a connection posts at most 1 a second (5 at once): try again in ");
    t_int(&t, tenths / 10);
    t_str(&t, ".");
    t_int(&t, tenths % 10);
    t_str(&t, " s");
    refuse("limit_reached", buf);
    return false;
}

static void send_board(void);

/* A line at the end of the log (valid UTF-8, cut to LOG_TEXT characters). */
static void add_line(bool has_from, const uint8_t *from, uint32_t from_len, const uint8_t *text,
                     uint32_t text_len) {
    line *l = &lines[(first_line + nlines) % LOG_LINES];
    if (nlines == LOG_LINES)
        first_line = (first_line + 1) % LOG_LINES;
    else
        nlines++;
    l->has_from = has_from;
    l->from_len = (uint16_t)utf8_cut(from, from_len, LOG_TEXT);
    memcpy(l->from, from, l->from_len);
    l->text_len = (uint16_t)utf8_cut(text, text_len, LOG_TEXT);
    memcpy(l->text, text, l->text_len);
}

static void post(hearth_account account) {
    hearth_mp_reader r;
    hearth_mp_value tv, fv;
    bool has_from = false;
    if (!hearth_request_field(current, 0, "text", &r) || !hearth_mp_read(&r, &tv) ||
        tv.type != HEARTH_MP_STR) {
        refuse("invalid_request", "text is a str");
        return;
    }
    uint32_t chars = 0, from_chars = 0;
    if (!utf8_ok(tv.ptr, tv.len, &chars)) {
        refuse("invalid_request", "text is not valid UTF-8");
        return;
    }
    if (chars > TEXT_LIMIT) {
        refuse("invalid_request", "text is at most 65536 characters");
        return;
    }
    if (hearth_request_field(current, 1, "from", &r)) {
        if (!hearth_mp_read(&r, &fv) || (fv.type != HEARTH_MP_STR && fv.type != HEARTH_MP_NIL)) {
            refuse("invalid_request", "from is a str or nil");
            return;
        }
        has_from = fv.type == HEARTH_MP_STR;
        if (has_from && !utf8_ok(fv.ptr, fv.len, &from_chars)) {
            refuse("invalid_request", "from is not valid UTF-8");
            return;
        }
    }
    const uint8_t *from = has_from ? fv.ptr : 0;
    uint32_t from_len = has_from ? fv.len : 0;
    if (account) {
        if (chars > PEER_TEXT_LIMIT) {
            char buf[96];
            text t;
            t_init(&t, buf, sizeof buf);
            t_str(&t, "a post from a peer is at most 500 characters, not ");
            t_int(&t, chars);
            refuse("limit_reached", buf);
            return;
        }
        from = (const uint8_t *)peer_name(account, from, from_len, has_from, &from_len);
        if (!from || !limit_rate(account))
            return;
        has_from = true;
    }
    /* To every member: {"from": f, "text": t}. */
    uint32_t size = tv.len + from_len + 32;
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, hearth_alloc(size), size);
    hearth_mp_put_map(&w, 2);
    hearth_mp_put_str(&w, "from");
    if (has_from)
        hearth_mp_put_strn(&w, (const char *)from, from_len);
    else
        hearth_mp_put_nil(&w);
    hearth_mp_put_str(&w, "text");
    hearth_mp_put_strn(&w, (const char *)tv.ptr, tv.len);
    for (uint32_t i = 0; i < nmembers; i++)
        hearth_send(members[i].cap, w.buf, w.len, 0, 0); /* a closed route drops it */
    add_line(has_from, from, from_len, tv.ptr, tv.len); /* the log, */
    send_board();                                       /* and the board */
    hearth_reply_int(current, nmembers);
}

static const line *line_at(uint32_t i) { return &lines[(first_line + i) % LOG_LINES]; }

static void put_line(hearth_mp_writer *w, const line *l, bool as_map) {
    if (as_map) {
        hearth_mp_put_map(w, 2);
        hearth_mp_put_str(w, "from");
    } else {
        hearth_mp_put_array(w, 2);
    }
    if (l->has_from)
        hearth_mp_put_strn(w, l->from, l->from_len);
    else
        hearth_mp_put_nil(w);
    if (as_map)
        hearth_mp_put_str(w, "text");
    hearth_mp_put_strn(w, l->text, l->text_len);
}

static void log_reply(void) {
    uint32_t size = 64;
    for (uint32_t i = 0; i < nlines; i++)
        size += line_at(i)->from_len + line_at(i)->text_len + 32;
    hearth_mp_writer w;
    hearth_reply_begin(&w, hearth_alloc(size), size);
    hearth_mp_put_array(&w, nlines);
    for (uint32_t i = 0; i < nlines; i++)
        put_line(&w, line_at(i), true);
    hearth_reply_send(current, &w);
}

/* The newest lines to the board: [[from or nil, text], ...]. */
static void send_board(void) {
    if (board == HEARTH_NONE)
        return;
    uint32_t n = nlines < BOARD_LINES ? nlines : BOARD_LINES, size = 32;
    for (uint32_t i = nlines - n; i < nlines; i++)
        size += line_at(i)->from_len + line_at(i)->text_len + 16;
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, hearth_alloc(size), size);
    hearth_mp_put_array(&w, n);
    for (uint32_t i = nlines - n; i < nlines; i++)
        put_line(&w, line_at(i), false);
    hearth_mp_send(&w, board);
}

/* ---- the handover to the next version -------------------------------------------------- */

/* A connection worth handing on: still open, with a name or a rate. */
static bool peer_kept(const peer *p) {
    return (p->named || p->rated) && !hearth_account_closed(p->account);
}

/* Leave the room's state for the next version: ["chat", STATE_FORMAT,
 * [[account, name or nil, rated, tokens, at], ...], [[cap index, joined
 * by], ...], [[from or nil, text], ...]], the members' capabilities
 * alongside, in order. */
static void leave_state(void) {
    uint32_t mark = hearth_mark(), kept = 0, size = 64 + nmembers * 16;
    for (uint32_t i = 0; i < npeers; i++)
        if (peer_kept(&peers[i]))
            kept++, size += peers[i].name_len + 48;
    for (uint32_t i = 0; i < nlines; i++)
        size += line_at(i)->from_len + line_at(i)->text_len + 16;
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, hearth_alloc(size), size);
    hearth_mp_put_array(&w, 5);
    hearth_mp_put_str(&w, "chat");
    hearth_mp_put_int(&w, STATE_FORMAT);
    hearth_mp_put_array(&w, kept);
    for (uint32_t i = 0; i < npeers; i++) {
        const peer *p = &peers[i];
        if (!peer_kept(p))
            continue;
        hearth_mp_put_array(&w, 5);
        hearth_mp_put_uint(&w, p->account);
        if (p->named)
            hearth_mp_put_strn(&w, p->name, p->name_len);
        else
            hearth_mp_put_nil(&w);
        hearth_mp_put_bool(&w, p->rated);
        hearth_mp_put_int(&w, p->tokens);
        hearth_mp_put_int(&w, p->at);
    }
    hearth_cap *caps = hearth_alloc(nmembers * sizeof(hearth_cap) + 1);
    hearth_mp_put_array(&w, nmembers);
    for (uint32_t i = 0; i < nmembers; i++) {
        caps[i] = members[i].cap;
        hearth_mp_put_array(&w, 2);
        hearth_mp_put_uint(&w, i);
        hearth_mp_put_uint(&w, members[i].by);
    }
    hearth_mp_put_array(&w, nlines);
    for (uint32_t i = 0; i < nlines; i++)
        put_line(&w, line_at(i), false);
    if (w.overflow)
        hearth_log(HEARTH_WARNING, "chat", "the room's state did not fit its buffer: not handed on");
    else if (hearth_handover_leave(HANDOVER, w.buf, w.len, caps, nmembers, 2 * SECOND) != HEARTH_OK)
        hearth_log(HEARTH_WARNING, "chat", "the room's state was not handed on");
    hearth_release(mark);
}

static bool read_uint(hearth_mp_reader *r, uint64_t max, uint64_t *out) {
    hearth_mp_value v;
    if (!hearth_mp_read(r, &v) || v.type != HEARTH_MP_INT || v.i < 0 || (uint64_t)v.i > max)
        return false;
    *out = (uint64_t)v.i;
    return true;
}

/* Take the state the previous version left (see leave_state); false if it
 * is not one this version knows (what was read of it stays). */
static bool take_state(const hearth_handover *h) {
    hearth_mp_reader r;
    hearth_mp_value v;
    uint32_t n, k;
    uint64_t format, a, b;
    hearth_mp_reader_init(&r, h->data, h->len, 0, 0);
    if (!hearth_mp_read_array(&r, &n) || n != 5 || !hearth_mp_read(&r, &v) ||
        !hearth_mp_str_is(&v, "chat") || !read_uint(&r, STATE_FORMAT, &format) ||
        format != STATE_FORMAT || !hearth_mp_read_array(&r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        hearth_mp_value name, rated, tokens, at;
        if (!hearth_mp_read_array(&r, &k) || k != 5 || !read_uint(&r, 0xFFFFFFFFu, &a) || !a ||
            !hearth_mp_read(&r, &name) || !hearth_mp_read(&r, &rated) ||
            !hearth_mp_read(&r, &tokens) || !hearth_mp_read(&r, &at) ||
            rated.type != HEARTH_MP_BOOL || tokens.type != HEARTH_MP_INT ||
            at.type != HEARTH_MP_INT)
            return false;
        peer *p = peer_of((hearth_account)a);
        if (!p)
            return false;
        if (name.type == HEARTH_MP_STR && name.len <= sizeof p->name) {
            memcpy(p->name, name.ptr, name.len);
            p->name_len = (uint8_t)name.len;
            p->named = true;
        }
        p->rated = rated.b;
        p->tokens = tokens.i;
        p->at = at.i;
    }
    if (!hearth_mp_read_array(&r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!hearth_mp_read_array(&r, &k) || k != 2 || !read_uint(&r, h->ncaps - 1, &a) ||
            !read_uint(&r, 0xFFFFFFFFu, &b) || h->ncaps == 0)
            return false;
        hearth_cap cap = h->caps[a];
        if (nmembers >= MEMBERS || (MEMBER_PERMS & ~hearth_permissions(cap)))
            continue;
        hearth_cap route = hearth_demote(cap, 0);
        if (find_member(route) >= 0) {
            hearth_dec_ref(route);
            continue;
        }
        hearth_inc_ref(cap); /* kept past the handover's signal */
        hearth_monitor(downs, cap); /* a route closed meanwhile: its Down comes at once */
        members[nmembers++] = (member){cap, route, (hearth_account)b};
        peer *p = b ? peer_of((hearth_account)b) : 0;
        if (p)
            p->members++;
    }
    if (!hearth_mp_read_array(&r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        hearth_mp_value from, text;
        uint32_t chars;
        if (!hearth_mp_read_array(&r, &k) || k != 2 || !hearth_mp_read(&r, &from) ||
            !hearth_mp_read(&r, &text) || text.type != HEARTH_MP_STR ||
            (from.type != HEARTH_MP_STR && from.type != HEARTH_MP_NIL) ||
            !utf8_ok(text.ptr, text.len, &chars) ||
            (from.type == HEARTH_MP_STR && !utf8_ok(from.ptr, from.len, &chars)))
            return false;
        bool has_from = from.type == HEARTH_MP_STR;
        add_line(has_from, has_from ? from.ptr : 0, has_from ? from.len : 0, text.ptr, text.len);
    }
    return true;
}

/* Is an Exit's reason ["shutdown", "upgrade"], what the front asks an old version with? */
static bool is_upgrade(const hearth_signal *s) {
    hearth_mp_reader r;
    hearth_mp_value v;
    uint32_t n;
    hearth_mp_reader_init(&r, s->reason, s->reason_len, 0, 0);
    return hearth_mp_read_array(&r, &n) && n == 2 && hearth_mp_read(&r, &v) &&
           hearth_mp_str_is(&v, "shutdown") && hearth_mp_read(&r, &v) &&
           hearth_mp_str_is(&v, "upgrade");
}

/* ---- the room's loop ------------------------------------------------------------------- */

static void handle(const hearth_request *req, hearth_account account) {
    current = req;
    if (account && hearth_account_of(req->reply_to) != account)
        return; /* a peer's request answered elsewhere than to the peer: dropped */
    if (hearth_request_is(req, "members", 0))
        hearth_reply_int(req, nmembers);
    else if (hearth_request_is(req, "log", 0))
        log_reply();
    else if (hearth_request_is(req, "post", 1) || hearth_request_is(req, "post", 2))
        post(account);
    else if (hearth_request_is(req, "join", 0))
        join(account);
    else if (hearth_request_is(req, "leave", 0))
        leave();
    else
        refuse("invalid_request", "unknown op, or wrong fields; ops: join, leave, post text [from],"
                                  " members, log");
}

/* A message on mailbox 0: a request, or a refusal of what is not one. */
static void serve(const hearth_signal *s, hearth_account account) {
    hearth_request req;
    if (hearth_request_parse(s, &req))
        handle(&req, account);
    else if (req.reply_to != HEARTH_NONE && s->refused_len > 0)
        hearth_reply_error(&req, "invalid_request", "message refused: longer than this service takes");
    else if (req.reply_to != HEARTH_NONE)
        hearth_reply_error(&req, "invalid_request",
                           "not a request: \"op\", [\"op\", fields...] or {\"op\": ...}");
}

static void board_main(void);

void hearth_metadata(void) {
    hearth_set_name("chat");
    hearth_set_description("A chat room: members join with a capability and receive every message"
                           " posted; its board in the world shows the last lines");
}

void run(void) {
    hearth_cap registry = REGISTRY;
    downs = hearth_mailbox_create();
    board = hearth_spawn_link(board_main, &registry, 1);
    board_route = hearth_demote(board, 0);
    /* The first message may be the previous version's state, up to the
     * front's bound; requests are read up to REQUEST_MAX. */
    hearth_max_message = HEARTH_HANDOVER_MAX_BYTES + HEARTH_HANDOVER_MARK_LEN;
    bool upgrading = false;
    for (;;) {
        uint32_t mark = hearth_mark();
        hearth_signal s;
        hearth_account account;
        hearth_mb mbs[2] = {downs, HEARTH_PARENT}; /* a Down queued before a request goes first */
        hearth_poll_account(mbs, 2, HEARTH_FOREVER, &s, &account);
        bool done = false;
        if (s.index == 0) {
            if (s.kind == HEARTH_DOWN)
                member_down(&s);
        } else if (s.kind == HEARTH_MESSAGE && hearth_max_message > REQUEST_MAX) {
            hearth_max_message = REQUEST_MAX;
            hearth_handover h;
            if (hearth_handover_take(&s, &h)) {
                if (!take_state(&h))
                    hearth_log(HEARTH_WARNING, "chat", "the previous version left a state this one"
                                                       " does not know: dropped");
                send_board();
            } else {
                if (s.len > REQUEST_MAX) { /* as hearth_max_message would have refused it */
                    s.refused_len = s.len;
                    s.len = 0;
                }
                serve(&s, account);
            }
        } else if (s.kind == HEARTH_MESSAGE) {
            serve(&s, account);
        } else if (s.kind == HEARTH_EXIT && s.cap == board_route && board_route != HEARTH_NONE) {
            /* The board ended: normal when there is no world; else it crashed,
             * and the room goes with it, as linked processes do. */
            if (!hearth_reason_is(&s, "normal"))
                hearth_exit(s.reason, s.reason_len);
            hearth_dec_ref(board);
            hearth_dec_ref(board_route);
            board = board_route = HEARTH_NONE;
        } else if (s.kind == HEARTH_EXIT) {
            done = true; /* an upgrade, or the front ending */
            upgrading = is_upgrade(&s);
        }
        hearth_signal_release(&s);
        hearth_release(mark);
        if (done)
            break;
    }
    if (upgrading)
        leave_state(); /* for the next version (the front is still there to take it) */
    if (board != HEARTH_NONE)
        hearth_kill(board); /* its entity leaves the world with it */
}

/* ---- the board in the world (a child process) ------------------------------------------ */

#define SCALE 2
#define CELL_W 6
#define CELL_H 9
#define PAD 8
#define BOARD_W (BOARD_COLS * CELL_W * SCALE + 2 * PAD)
#define BOARD_H ((BOARD_LINES + 1) * CELL_H * SCALE + 2 * PAD)

static const uint8_t BG[3] = {16, 24, 48}, TITLE[3] = {255, 200, 80}, NAME[3] = {120, 220, 255},
                     BODY[3] = {235, 235, 235};

typedef struct board_line {
    bool has_from;
    uint32_t from_len, text_len;
    uint8_t from[4 * LOG_TEXT], text[4 * LOG_TEXT];
} board_line;

static board_line shown[BOARD_LINES];
static uint32_t nshown;
static bool dirty = true;

/* One row of the board: `head` (drawn in `color`) then `body` with its
 * whitespace runs made one space and its ends trimmed, cut to BOARD_COLS
 * characters; Python's (head + " ".join(text.split()))[:44]. */
static void draw_row(uint8_t *rgba, uint32_t row, const uint8_t *head, uint32_t head_len,
                     const uint8_t *color, const uint8_t *body, uint32_t body_len) {
    uint32_t cps[BOARD_COLS], n = 0, colored;
    for (uint32_t i = 0; i < head_len && n < BOARD_COLS;) {
        uint32_t k;
        cps[n++] = cp_at(head + i, head + head_len, &k);
        i += k;
    }
    colored = n;
    bool started = false, space = false;
    for (uint32_t i = 0; i < body_len && n < BOARD_COLS;) {
        uint32_t k, c = cp_at(body + i, body + body_len, &k);
        i += k;
        if (is_space(c)) {
            space = started;
            continue;
        }
        if (space && n < BOARD_COLS)
            cps[n++] = ' ';
        space = false;
        started = true;
        if (n < BOARD_COLS)
            cps[n++] = c;
    }
    while (n < BOARD_COLS)
        cps[n++] = ' ';
    for (uint32_t col = 0; col < BOARD_COLS; col++) {
        uint32_t c = cps[col] >= 0x20 && cps[col] <= 0x7e ? cps[col] : '?';
        const uint8_t *fg = col < colored ? color : BODY;
        for (uint32_t y = 1; y <= 7; y++) {
            uint8_t bits = chat_font[c - 0x20][y - 1];
            for (uint32_t x = 0; x < 5; x++) {
                if (!(bits >> (4 - x) & 1))
                    continue;
                for (uint32_t sy = 0; sy < SCALE; sy++) {
                    uint32_t py = PAD + (row * CELL_H + y) * SCALE + sy;
                    for (uint32_t sx = 0; sx < SCALE; sx++) {
                        uint32_t px = PAD + (col * CELL_W + x) * SCALE + sx;
                        memcpy(rgba + 4 * (py * BOARD_W + px), fg, 3);
                    }
                }
            }
        }
    }
}

/* The board's pixels: a title row, then one row a line (the layout of
 * docs/world.md, "The chat board"). */
static void draw_board(uint8_t *rgba) {
    for (uint32_t i = 0; i < BOARD_W * BOARD_H; i++) {
        memcpy(rgba + 4 * i, BG, 3);
        rgba[4 * i + 3] = 255;
    }
    draw_row(rgba, 0, (const uint8_t *)"chat", 4, TITLE, 0, 0);
    for (uint32_t i = 0; i < nshown; i++) {
        const board_line *l = &shown[i];
        uint8_t head[4 * LOG_TEXT + 2];
        uint32_t len = 0;
        if (l->has_from && l->from_len) {
            memcpy(head, l->from, l->from_len);
            len = l->from_len;
        } else {
            head[len++] = '?';
        }
        head[len++] = ':';
        head[len++] = ' ';
        draw_row(rgba, 1 + i, head, len, NAME, l->text, l->text_len);
    }
}

/* The room's newest lines ([[from or nil, text], ...]); anything else is dropped. */
static void take_lines(const hearth_signal *s) {
    hearth_mp_reader r;
    hearth_mp_value v;
    uint32_t n;
    hearth_mp_reader_of(&r, s);
    if (!hearth_mp_read_array(&r, &n) || n > BOARD_LINES)
        return;
    board_line got[BOARD_LINES];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t two;
        if (!hearth_mp_read_array(&r, &two) || two != 2 || !hearth_mp_read(&r, &v))
            return;
        got[i].has_from = v.type == HEARTH_MP_STR;
        got[i].from_len = got[i].has_from && v.len <= sizeof got[i].from ? v.len : 0;
        memcpy(got[i].from, v.ptr, got[i].from_len);
        if (!hearth_mp_read(&r, &v) || v.type != HEARTH_MP_STR || v.len > sizeof got[i].text)
            return;
        got[i].text_len = v.len;
        memcpy(got[i].text, v.ptr, v.len);
    }
    memcpy(shown, got, n * sizeof got[0]);
    nshown = n;
    dirty = true;
}

static void board_signal(const hearth_signal *s) {
    if (s->kind == HEARTH_MESSAGE)
        take_lines(s);
}

/* Wait `nanos` of the runtime's clock, taking the room's lines meanwhile. */
static void board_wait(int64_t nanos) {
    int64_t deadline = hearth_now() + nanos;
    for (int64_t left; (left = deadline - hearth_now()) > 0;) {
        uint32_t mark = hearth_mark();
        hearth_signal s;
        bool got = hearth_recv_timeout(HEARTH_PARENT, (uint64_t)left, &s);
        if (got) {
            board_signal(&s);
            hearth_signal_release(&s);
        }
        hearth_release(mark);
        if (!got)
            return;
    }
}

/* The panel: the square [-1, 1]^2 at z = +-0.01, both faces showing the
 * texture the right way round (the client's mesh format). */
static hearth_lump panel_mesh(void) {
    float pos[8 * 3], nrm[8 * 3], uv[8 * 2];
    static const int8_t corners[4][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
    static const uint32_t idx[12] = {0, 1, 2, 0, 2, 3, 4, 6, 5, 4, 7, 6};
    for (uint32_t face = 0; face < 2; face++) {
        for (uint32_t k = 0; k < 4; k++) {
            uint32_t v = face * 4 + k;
            float x = corners[k][0], y = corners[k][1], u = (x + 1) / 2;
            pos[3 * v] = x, pos[3 * v + 1] = y, pos[3 * v + 2] = face ? -0.01f : 0.01f;
            nrm[3 * v] = 0, nrm[3 * v + 1] = 0, nrm[3 * v + 2] = face ? -1.0f : 1.0f;
            uv[2 * v] = face ? 1 - u : u, uv[2 * v + 1] = (1 - y) / 2;
        }
    }
    uint8_t buf[512];
    hearth_mp_writer w;
    hearth_mp_writer_init(&w, buf, sizeof buf);
    hearth_mp_put_map(&w, 4);
    hearth_mp_put_str(&w, "positions");
    hearth_mp_put_bin(&w, pos, sizeof pos);
    hearth_mp_put_str(&w, "normals");
    hearth_mp_put_bin(&w, nrm, sizeof nrm);
    hearth_mp_put_str(&w, "uv0");
    hearth_mp_put_bin(&w, uv, sizeof uv);
    hearth_mp_put_str(&w, "indices");
    hearth_mp_put_bin(&w, idx, sizeof idx);
    return hearth_lump_load(w.buf, w.len);
}

/* ["paint", {"width", "height", "rgba"}] to the entity (docs/world.md,
 * "Canvases"). HEARTH_ERR_REPLY with `*limited` if refused for a rate. */
static hearth_status paint(hearth_cap entity, bool *limited) {
    uint32_t mark = hearth_mark(), bytes = BOARD_W * BOARD_H * 4, size = bytes + 128;
    uint8_t *rgba = hearth_alloc(bytes);
    draw_board(rgba);
    hearth_mp_writer w;
    hearth_reply reply;
    hearth_mp_request_init(&w, hearth_alloc(size), size);
    hearth_mp_put_array(&w, 2);
    hearth_mp_put_str(&w, "paint");
    hearth_mp_put_map(&w, 3);
    hearth_mp_put_str(&w, "width");
    hearth_mp_put_int(&w, BOARD_W);
    hearth_mp_put_str(&w, "height");
    hearth_mp_put_int(&w, BOARD_H);
    hearth_mp_put_str(&w, "rgba");
    hearth_mp_put_bin(&w, rgba, bytes);
    hearth_status st = hearth_ask(entity, &w, 5 * HEARTH_SECOND, &reply);
    *limited = st == HEARTH_ERR_REPLY && hearth_reply_err_is(&reply, "limit_reached");
    if (st == HEARTH_OK || st == HEARTH_ERR_REPLY)
        hearth_reply_release(&reply);
    hearth_release(mark);
    return st;
}

/* Paint the newest lines, at most every REPAINT, until the world goes away
 * (its Down on `watch`) or the entity does (then after a second). */
static void serve_board(hearth_mb watch, hearth_cap entity) {
    int64_t next_paint = hearth_now();
    for (;;) {
        int64_t wait = next_paint - hearth_now();
        uint64_t nanos = !dirty ? HEARTH_FOREVER : wait > 0 ? (uint64_t)wait : 0;
        uint32_t mark = hearth_mark();
        hearth_signal s;
        hearth_account ignored;
        hearth_mb mbs[2] = {watch, HEARTH_PARENT};
        bool got = hearth_poll_account(mbs, 2, nanos, &s, &ignored);
        bool world_gone = got && s.index == 0;
        if (got && !world_gone)
            board_signal(&s);
        if (got)
            hearth_signal_release(&s);
        hearth_release(mark);
        if (world_gone) {
            hearth_log(HEARTH_WARNING, "chat", "the world went away; finding it again");
            return;
        }
        if (got)
            continue;
        bool limited = false;
        hearth_status st = paint(entity, &limited);
        dirty = false;
        if (st == HEARTH_ERR_GONE || st == HEARTH_ERR_TIMEOUT) {
            hearth_log(HEARTH_WARNING, "chat", "the board's entity is gone; adding it again");
            board_wait(SECOND);
            return;
        }
        if (st != HEARTH_OK) {
            hearth_log(HEARTH_WARNING, "chat", "the board was not painted");
            dirty = limited; /* again, a little later */
        }
        next_paint = hearth_now() + REPAINT;
    }
}

static void board_main(void) {
    hearth_lump mesh = panel_mesh();
    float half_h = 1.6f, half_w = half_h * BOARD_W / BOARD_H;
    const float at[16] = {half_w, 0, 0, 0, 0, half_h, 0, 0, 0, 0, 1, 0, 0, 3.5f, 0, 1};
    for (;;) {
        hearth_cap world = HEARTH_NONE;
        for (int tries = 0; tries < 20; tries++) {
            if (hearth_registry_lookup(REGISTRY, WORLD, &world) == HEARTH_OK)
                break;
            world = HEARTH_NONE;
            board_wait(SECOND / 2);
        }
        if (world == HEARTH_NONE) {
            hearth_log(HEARTH_INFO, "chat", "no " WORLD " in sight: no board in the world");
            return;
        }
        hearth_mb watch = hearth_mailbox_create();
        if (hearth_permissions(world) & HEARTH_MONITOR)
            hearth_monitor(watch, world);
        hearth_cap owner = hearth_make_capability(HEARTH_PARENT, HEARTH_MONITOR);
        hearth_cap entity;
        int64_t id;
        hearth_status st = hearth_world_add(world, owner, mesh, HEARTH_NONE, at, "chat", &id, &entity);
        hearth_dec_ref(owner);
        if (st != HEARTH_OK) {
            hearth_log(HEARTH_WARNING, "chat", "the world refused the board");
            return;
        }
        dirty = true;
        serve_board(watch, entity);
        hearth_dec_ref(entity);
        hearth_dec_ref(world);
        hearth_mailbox_destroy(watch);
    }
}
