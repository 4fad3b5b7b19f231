/* ocpp.c - OCPP-J 1.6 over WebSockets: the charge points' connections, the
 * frames ([2,id,action,payload], [3,id,payload], [4,id,code,text,details]),
 * the one outstanding call the central system may have on each connection,
 * and replies that are sent only once what they acknowledge is durable.
 *
 * Durability is a group commit: the messages of one loop turn write into
 * one store transaction, opened by the first of them; at the end of the
 * turn it commits (one fsync) and only then do their replies go out. A
 * charger that loses the connection before its reply resends the message,
 * and the handlers recognise a message they have already stored. */
#include "ocpp.h"

#include "ocpp_auth.h"
#include "ocpp_schema.h"
#include "smart.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct ocpp_cs {
    uv_loop_t *loop;
    ec_store *store;
    ocpp_opts_t opts;
    char auto_register[EC_REG_ID_MAX + 1];
    ec_http_server *http;
    void (*on_site)(void *ctx, const char *site_id); /* a site's EVSE statuses changed, committed */
    void *on_site_ctx;
    ec_map by_id;        /* hash of the charge point id -> ocpp_cp* (0: gone) */
    uint64_t next_serial, next_call;
    ocpp_env env;        /* what the answers (ocpp_cs.c) are given; env.writing: this turn's store transaction is open */
    ec_buf held;         /* replies waiting for the commit */
    size_t n_held;       /* how many */
    uint64_t held_since; /* uv_hrtime() when the first of them was held */
    ec_vec callers;      /* ocpp_cp* with a call outstanding */
    uv_timer_t timer;    /* call timeouts */
    int timer_open;
    ec_buf out;          /* a reply being composed */
    ocpp_stats_t stats;
    smart *smart;        /* live power sharing */
    ocpp_auth *auth;     /* passwords verified, failed attempts */
    int verifying;       /* password checks on the worker pool */
    int stopping;        /* ocpp__stop was called: no more decisions or writes */
};

/* A held reply: which connection, then the frame. */
typedef struct {
    uint64_t serial, id_hash;
    uint32_t len;
} held_head;

static uint64_t id_hash(const char *id)
{
    return ec_hash_bytes(id, strlen(id));
}

ocpp_cp *ocpp__find(ocpp_cs *cs, const char *id)
{
    uint64_t v;
    if (!cs || !ec_map_get(&cs->by_id, id_hash(id), &v) || !v) return NULL;
    ocpp_cp *cp = (ocpp_cp *)(uintptr_t)v;
    return strcmp(cp->id, id) ? NULL : cp;
}

smart *ocpp__smart(ocpp_cs *cs)
{
    return cs ? cs->smart : NULL;
}

ocpp_stats_t ocpp__stats(const ocpp_cs *cs)
{
    ocpp_stats_t o = cs->stats;
    smart_stats_t m = smart__stats(cs->smart);
    o.allocations = m.allocations, o.profiles_sent = m.profiles_sent;
    o.profiles_accepted = m.profiles_accepted, o.profiles_refused = m.profiles_refused;
    o.journal_failures = m.journal_failures;
    return o;
}

ec_err ocpp__password_hash(const char *password, char out[EC_CHARGER_HASH_MAX])
{
    return ocpp_auth__hash(password, strlen(password), out);
}

/* ---- sending -------------------------------------------------------------- */

static void send_frame(ocpp_cs *cs, ocpp_cp *cp, const ec_buf *frame)
{
    if (!cp->ws) return; /* no socket (the fuzz target) */
    if (!cs->env.writing) {
        ec_ws_send(cp->ws, frame->data, frame->len);
        return;
    }
    held_head h = {cp->serial, id_hash(cp->id), (uint32_t)frame->len};
    if (!cs->n_held) cs->held_since = uv_hrtime();
    cs->n_held++;
    if (ec_buf_append(&cs->held, &h, sizeof h) || ec_buf_append(&cs->held, frame->data, frame->len)) {
        /* Cannot hold it: the charger never sees an answer and resends. */
        ec_log(EC_LOG_ERROR, "ocpp: too many replies waiting for the store; %s will resend", cp->id);
        ec_ws_close(cp->ws, 1011, "central system overloaded");
    }
}

static void send_error(ocpp_cs *cs, ocpp_cp *cp, const char *msg_id, const char *code, const char *why)
{
    ec_buf_reset(&cs->out);
    ec_jw w;
    ec_jw_init(&w, &cs->out);
    ec_jw_arr_begin(&w);
    ec_jw_int(&w, 4);
    ec_jw_str(&w, msg_id);
    ec_jw_str(&w, code);
    ec_jw_str(&w, why);
    ec_jw_obj_begin(&w), ec_jw_obj_end(&w);
    ec_jw_arr_end(&w);
    if (ec_jw_finish(&w)) {
        /* Its parts are bounded, so this does not happen; were it to, the
         * charger's call times out rather than it reading half a frame. */
        ec_log(EC_LOG_ERROR, "ocpp: a CALLERROR to %s could not be written", cp->id);
        return;
    }
    cs->stats.errors_out++;
    send_frame(cs, cp, &cs->out);
}

/* Commits what was written and sends the replies that waited for it: 0,
 * or -1 when the commit failed (their connections are closed instead). */
static int commit(ocpp_cs *cs)
{
    int ok = 1;
    if (cs->env.writing) {
        ocpp__write_site_statuses(&cs->env);
        cs->env.writing = 0;
        cs->stats.commits++;
        if (ec_store_commit(cs->store)) {
            ok = 0;
            cs->stats.commit_failures++;
            ec_log(EC_LOG_ERROR, "ocpp: a commit failed; the chargers will resend: %s", ec_errmsg());
        }
    }
    size_t off = 0;
    while (off + sizeof(held_head) <= cs->held.len) {
        held_head h;
        memcpy(&h, cs->held.data + off, sizeof h);
        const char *frame = cs->held.data + off + sizeof h;
        off += sizeof h + h.len;
        uint64_t v;
        if (!ec_map_get(&cs->by_id, h.id_hash, &v) || !v) continue;
        ocpp_cp *cp = (ocpp_cp *)(uintptr_t)v;
        if (cp->serial != h.serial || !cp->ws) continue; /* that connection is gone */
        if (ok)
            ec_ws_send(cp->ws, frame, h.len);
        else
            ec_ws_close(cp->ws, 1011, "store failure");
    }
    ec_buf_reset(&cs->held);
    cs->n_held = 0;
    if (cs->held.cap > (1u << 20)) {
        size_t max = cs->held.max;
        ec_buf_free(&cs->held);
        ec_buf_init(&cs->held, max);
    }
    /* The power sharing had events the store and the journal have not: it starts over from the store. */
    if (!ok) smart__reset(cs->smart);
    /* What was stored is announced, what was not is not. */
    for (size_t i = 0; ok && cs->on_site && i < cs->env.sites_written.len; i++)
        cs->on_site(cs->on_site_ctx, (const char *)cs->env.sites_written.data + i * (EC_REG_ID_MAX + 1));
    cs->env.sites_written.len = 0;
    return ok ? 0 : -1;
}

void ocpp__flush(ocpp_cs *cs)
{
    /* The power sharing's events and commands of this turn join its write; the commands' frames
     * wait for the commit with the replies. */
    smart__run(cs->smart);
    if (cs->env.writing || cs->held.len) commit(cs);
}

/* ---- calls to charge points -------------------------------------------------- */

static void complete_call(ocpp_cs *cs, ocpp_cp *cp, int status, const char *body, const char *ocpp_status,
                          const ec_json *payload)
{
    if (!cp->call.active) return;
    cp->call.active = 0;
    if (cp->call.done) {
        void (*done)(void *, const char *, uint64_t, const char *, const ec_json *) = cp->call.done;
        cp->call.done = NULL;
        done(cp->call.done_ctx, cp->id, cp->serial, ocpp_status, payload);
    }
    ocpp_cp **c = cs->callers.data;
    for (size_t i = 0; i < cs->callers.len; i++)
        if (c[i] == cp) {
            c[i] = c[--cs->callers.len];
            break;
        }
    /* A port the operator took out of service is recorded before the answer
     * says it was accepted, and durable by then (commit: the turn's writes). */
    if (cp->call.availability && ocpp_status && !strcmp(ocpp_status, "Accepted")) {
        ocpp__availability_accepted(&cs->env, cp, cp->call.availability_connector, cp->call.availability == 2,
                                    ec_time_now_s());
        if (cs->env.writing) commit(cs);
    }
    cp->call.availability = 0;
    if (cs->http && cp->call.http_serial)
        ec_http_complete(cs->http, cp->call.http_serial, status, "application/json", body, strlen(body));
    cp->call.http_serial = 0;
    smart__idle(cs->smart, cp->id);
}

static void call_error_body(ec_buf *b, const char *code, const char *fmt, const char *a, const char *c)
{
    char msg[400];
    snprintf(msg, sizeof msg, fmt, a, c);
    ec_buf_reset(b);
    ec_jw w;
    ec_jw_init(&w, b);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "error"), ec_jw_obj_begin(&w);
    ec_jw_key(&w, "code"), ec_jw_str(&w, code);
    ec_jw_key(&w, "message"), ec_jw_str(&w, msg);
    ec_jw_key(&w, "field"), ec_jw_str(&w, "");
    ec_jw_obj_end(&w), ec_jw_obj_end(&w);
}

static void on_timer(uv_timer_t *t)
{
    ocpp_cs *cs = t->data;
    int64_t now = (int64_t)uv_now(cs->loop);
    ec_buf b;
    ec_buf_init(&b, 4096);
    for (size_t i = 0; i < cs->callers.len;) {
        ocpp_cp *cp = EC_VEC_AT(&cs->callers, ocpp_cp *, i);
        if (cp->call.deadline_ms > now) {
            i++;
            continue;
        }
        cs->stats.timeouts++;
        call_error_body(&b, "charger_timeout", "%s did not answer %s in time", cp->id, cp->call.action);
        complete_call(cs, cp, 504, b.data, NULL, NULL); /* removes it from callers */
    }
    ec_buf_free(&b);
}

static ec_err start_call(ocpp_cs *cs, ocpp_cp *cp, const char *action, const ec_json *payload, uint64_t serial,
                         smart_done done, void *ctx, char *why, size_t why_len);

ec_err ocpp__call(ocpp_cs *cs, ocpp_cp *cp, const char *action, const ec_json *payload, uint64_t serial, char *why,
                  size_t why_len)
{
    return start_call(cs, cp, action, payload, serial, NULL, NULL, why, why_len);
}

static ec_err start_call(ocpp_cs *cs, ocpp_cp *cp, const char *action, const ec_json *payload, uint64_t serial,
                         smart_done done, void *ctx, char *why, size_t why_len)
{
    const char *code = ocpp__check(action, OCPP_REQ, payload, why, why_len);
    if (code) return EC_EINVAL;
    if (cp->call.active) {
        snprintf(why, why_len, "%s is still answering %s", cp->id, cp->call.action);
        return EC_ELIMIT;
    }
    /* The frame first: a call that cannot be written whole is not made. */
    char id[sizeof cp->call.id];
    snprintf(id, sizeof id, "cs-%llu", (unsigned long long)(cs->next_call + 1));
    ec_buf_reset(&cs->out);
    ec_jw w;
    ec_jw_init(&w, &cs->out);
    ec_jw_arr_begin(&w);
    ec_jw_int(&w, 2);
    ec_jw_str(&w, id);
    ec_jw_str(&w, action);
    ec_jw_value(&w, payload);
    ec_jw_arr_end(&w);
    ec_err rc = ec_jw_finish(&w);
    if (rc == EC_ELIMIT) {
        /* A payload too large for one frame is the caller's to change. */
        snprintf(why, why_len, "the call is larger than the %zu bytes a frame carries", cs->out.max);
        return EC_EINVAL;
    }
    if (rc) return rc;
    if (ec_vec_push(&cs->callers, &cp)) return EC_ENOMEM;
    cs->next_call++;
    cp->call.active = 1;
    snprintf(cp->call.id, sizeof cp->call.id, "%s", id);
    snprintf(cp->call.action, sizeof cp->call.action, "%s", action);
    cp->call.http_serial = serial;
    cp->call.done = done, cp->call.done_ctx = ctx;
    cp->call.availability = 0;
    if (!strcmp(action, "ChangeAvailability")) {
        /* The schema check above made these a whole number and a type; a
         * connector no charge point has is recorded by nobody. */
        const char *type = ec_json_str(ec_json_get(payload, "type"));
        double c = -1;
        ec_json_number(ec_json_get(payload, "connectorId"), &c);
        if (c >= 0 && c <= OCPP_MAX_CONNECTORS) {
            cp->call.availability = type && !strcmp(type, "Operative") ? 2 : 1;
            cp->call.availability_connector = (int)c;
        }
    }
    cp->call.deadline_ms = (int64_t)uv_now(cs->loop) + (int64_t)cs->opts.call_timeout_s * 1000;
    cs->stats.calls_out++;
    send_frame(cs, cp, &cs->out); /* after the turn's commit, when one is open */
    return EC_OK;
}

/* [3,id,payload] or [4,id,code,text,details] for our outstanding call. */
static void on_answer(ocpp_cs *cs, ocpp_cp *cp, int type, const ec_json *frame)
{
    const char *id = ec_json_str(ec_json_array_get(frame, 1));
    if (!cp->call.active || !id || strcmp(id, cp->call.id)) {
        ec_log(EC_LOG_WARN, "ocpp: %s answered a call we are not waiting for (%.40s)", cp->id, id ? id : "?");
        return;
    }
    ec_buf b;
    ec_buf_init(&b, OCPP_MESSAGE_MAX * 2);
    if (type == 4) {
        cs->stats.errors_in++;
        const char *code = ec_json_str(ec_json_array_get(frame, 2));
        const char *text = ec_json_str(ec_json_array_get(frame, 3));
        char what[300];
        snprintf(what, sizeof what, "%.60s: %.200s", code ? code : "?", text ? text : "");
        call_error_body(&b, "charger_error", "%s refused the call: %s", cp->id, what);
        complete_call(cs, cp, 502, b.data, NULL, NULL);
    } else {
        cs->stats.results_in++;
        const ec_json *payload = ec_json_array_get(frame, 2);
        char why[256];
        const char *code = ocpp__check(cp->call.action, OCPP_CONF, payload, why, sizeof why);
        if (code) {
            call_error_body(&b, "charger_error", "%s answered with a payload that breaks the schema: %s", cp->id, why);
            complete_call(cs, cp, 502, b.data, NULL, NULL);
        } else {
            ec_jw w;
            ec_jw_init(&w, &b);
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "charge_point_id"), ec_jw_str(&w, cp->id);
            ec_jw_key(&w, "action"), ec_jw_str(&w, cp->call.action);
            const char *st = ec_json_str(ec_json_get(payload, "status"));
            if (st) ec_jw_key(&w, "status"), ec_jw_str(&w, st);
            ec_jw_key(&w, "response"), ec_jw_value(&w, payload);
            ec_jw_obj_end(&w);
            if (ec_jw_finish(&w)) {
                call_error_body(&b, "internal", "the answer of %s to %s could not be written whole", cp->id,
                                cp->call.action);
                complete_call(cs, cp, 500, b.data, NULL, NULL);
            } else {
                complete_call(cs, cp, 200, b.data, st, payload);
            }
        }
    }
    ec_buf_free(&b);
}

/* ---- connections ---------------------------------------------------------------- */

static int valid_cp_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > EC_CP_ID_MAX) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("-_.:+*@#", *s)))
            return 0;
    return 1;
}

/* Fills cp from its register document. */
static void cp_from_doc(ocpp_cp *cp, const ec_json *j)
{
    const char *op = ec_json_str(ec_json_get(j, "operator_id"));
    const char *site = ec_json_str(ec_json_get(j, "site_id"));
    snprintf(cp->operator_id, sizeof cp->operator_id, "%s", op ? op : "");
    snprintf(cp->site_id, sizeof cp->site_id, "%s", site ? site : "");
    double n = 1;
    ec_json_number(ec_json_get(j, "connectors"), &n);
    cp->connectors = n < 1 ? 1 : n > OCPP_MAX_CONNECTORS ? OCPP_MAX_CONNECTORS : (int)n;
    ec_json *evses = ec_json_get(j, "evse_uids");
    for (size_t i = 0; i < ec_json_array_size(evses) && i < OCPP_MAX_CONNECTORS; i++) {
        const char *u = ec_json_str(ec_json_array_get(evses, i));
        snprintf(cp->evse_uid[i + 1], sizeof cp->evse_uid[i + 1], "%s", u ? u : "");
    }
}

/* A new connection's state, from its register document (NULL: unknown). */
static ocpp_cp *cp_new(ocpp_cs *cs, const char *id, const ec_json *j)
{
    ocpp_cp *cp = ec_calloc(1, sizeof *cp);
    if (!cp) return NULL;
    cp->cs = cs;
    snprintf(cp->id, sizeof cp->id, "%s", id);
    cp->registered = cp->accepted = j != NULL;
    cp->connectors = 1;
    if (j) cp_from_doc(cp, j);
    return cp;
}

/* One handshake while it is decided: what ws_accept was given (borrowed for
 * that call only) copied, and the password check's work on the pool. */
typedef struct {
    uv_work_t req;
    ocpp_cs *cs;
    uint64_t serial;
    int tls;
    int rounds;   /* slow checks run for it (the stored hash may change between them) */
    int result;   /* the worker's: 1 matched, 0 not, -1 could not check */
    int has_pw;   /* Basic credentials naming this id were given */
    int had_auth; /* an Authorization header was given */
    size_t pw_len;
    char id[EC_CP_ID_MAX + 1];
    char peer[48];
    char hash[EC_CHARGER_HASH_MAX];   /* the stored hash the password is checked against */
    char rehash[EC_CHARGER_HASH_MAX]; /* the worker's Argon2id hash replacing an older one */
    char pw[OCPP_PASSWORD_MAX];
} handshake;

static void handshake_free(handshake *h)
{
    sodium_memzero(h->pw, sizeof h->pw);
    ec_free(h);
}

/* On the worker pool: reads and writes the job alone. */
static void verify_work(uv_work_t *req)
{
    handshake *h = req->data;
    h->rehash[0] = 0;
    h->result = ocpp_auth__verify(h->hash, h->id, h->pw, h->pw_len);
    if (h->result == 1 && ocpp_auth__needs_rehash(h->hash) && ocpp_auth__hash(h->pw, h->pw_len, h->rehash))
        h->rehash[0] = 0;
}

static int decide(ocpp_cs *cs, handshake *h, int verified, ocpp_cp **out);

/* After a slow check, on the loop: the limits learn its result; a match is
 * remembered, an older hash replaced by Argon2id, and the handshake decided
 * again on the charger's record as it is now (it may have changed meanwhile). */
static int checked(ocpp_cs *cs, handshake *h, ocpp_cp **out)
{
    ocpp_auth__result(cs->auth, h->id, h->peer, h->result, (int64_t)uv_now(cs->loop));
    if (h->result <= 0) {
        cs->stats.auth_refused++;
        if (h->result == 0)
            ec_log(EC_LOG_INFO, "ocpp: refused %s from %s: wrong password", h->id, h->peer);
        else
            ec_log(EC_LOG_ERROR, "ocpp: refused %s: its stored password hash is in no format the hub knows", h->id);
        return 401;
    }
    if (h->rehash[0] && !cs->stopping && !ocpp__begin_write(&cs->env) &&
        !ec_store_charger_rehash(cs->store, h->id, h->hash, h->rehash)) {
        ec_log(EC_LOG_INFO, "ocpp: %s: its password hash is now Argon2id", h->id);
        snprintf(h->hash, sizeof h->hash, "%s", h->rehash);
    }
    ocpp_auth__remember(cs->auth, h->id, h->hash, h->pw, h->pw_len);
    return decide(cs, h, 1, out);
}

static void verify_done(uv_work_t *req, int status)
{
    handshake *h = req->data;
    ocpp_cs *cs = h->cs;
    cs->verifying--;
    if (status || cs->stopping) {
        ocpp_auth__result(cs->auth, h->id, h->peer, -1, (int64_t)uv_now(cs->loop));
        handshake_free(h);
        return;
    }
    ocpp_cp *cp = NULL;
    int st = checked(cs, h, &cp);
    if (st == EC_HTTP_PENDING) return; /* checked again, against a hash set meanwhile */
    ec_err rc = cs->http ? ec_http_ws_decide(cs->http, h->serial, st, st ? NULL : cp) : EC_ENOTFOUND;
    if (rc) {
        ec_log(EC_LOG_DEBUG, "ocpp: %s left before its password was checked", h->id);
        ec_free(cp); /* the layer called nothing for it */
    }
    handshake_free(h);
}

/* Starts the slow check of h's password against h->hash on the worker pool:
 * EC_HTTP_PENDING, or an HTTP status when it cannot. Never on the loop. */
static int start_check(ocpp_cs *cs, handshake *h)
{
    if (h->rounds++ >= 3) return 503; /* its password was changed again and again meanwhile */
    cs->stats.auth_slow++;
    ocpp_auth__attempt(cs->auth, h->id, h->peer, (int64_t)uv_now(cs->loop));
    h->req.data = h;
    if (uv_queue_work(cs->loop, &h->req, verify_work, verify_done)) {
        ocpp_auth__result(cs->auth, h->id, h->peer, -1, (int64_t)uv_now(cs->loop));
        return 503;
    }
    cs->verifying++;
    return EC_HTTP_PENDING;
}

/* Decides h on the charger's record: 0 with *out, an HTTP status, or
 * EC_HTTP_PENDING while its password is checked on the pool. verified: the
 * password was found to match h->hash. */
static int decide(ocpp_cs *cs, handshake *h, int verified, ocpp_cp **out)
{
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    char hash[EC_CHARGER_HASH_MAX] = "";
    ec_json *j = NULL;
    double profile = 0;
    int status = 0;
    ec_err rc = ec_store_charger_get(cs->store, h->id, &doc, hash);
    if (rc == EC_OK && ec_json_load_buf(doc.data, doc.len, "charger", &j)) rc = EC_ECORRUPT;
    if (j) ec_json_number(ec_json_get(j, "security_profile"), &profile);
    if (rc && rc != EC_ENOTFOUND) {
        ec_log(EC_LOG_ERROR, "ocpp: %s: the register cannot be read: %s", h->id, ec_errmsg());
        status = 503;
    } else if (profile >= 2 && !h->tls) {
        ec_log(EC_LOG_INFO, "ocpp: refused %s: security profile 2 needs TLS (wss://)", h->id);
        status = 403;
    } else if (hash[0] && !h->has_pw) {
        cs->stats.auth_refused++;
        ec_log(EC_LOG_INFO, "ocpp: refused %s from %s: %s", h->id, h->peer,
               h->had_auth ? "not HTTP Basic credentials for this id" : "no HTTP Basic credentials");
        status = 401;
    } else if (hash[0] && !(verified && !strcmp(hash, h->hash))) {
        if (ocpp_auth__cached(cs->auth, h->id, hash, h->pw, h->pw_len)) {
            cs->stats.auth_cached++;
        } else if (ocpp_auth__limited(cs->auth, h->id, h->peer, (int64_t)uv_now(cs->loop))) {
            cs->stats.auth_limited++;
            ec_log(EC_LOG_INFO, "ocpp: refused %s from %s: too many failed attempts, try again later", h->id, h->peer);
            status = 429;
        } else if (cs->verifying >= OCPP_VERIFY_MAX) {
            ec_log(EC_LOG_INFO, "ocpp: refused %s for now: %d passwords are being checked", h->id, cs->verifying);
            status = 503;
        } else {
            snprintf(h->hash, sizeof h->hash, "%s", hash);
            status = start_check(cs, h); /* never 0: decided later */
        }
    }
    if (!status) {
        ocpp_cp *cp = cp_new(cs, h->id, j);
        if (cp) {
            cp->credentials_tag = ocpp_auth__credentials_tag(cs->auth, hash, (int)profile);
            *out = cp;
        } else {
            status = 503;
        }
    }
    ec_json_free(j);
    ec_buf_free(&doc);
    return status;
}

int ocpp__ws_accept(void *ctx, const ec_ws_handshake *hs, void **user)
{
    ocpp_cs *cs = ctx;
    const char *path = hs->path;
    if (strncmp(path, "/ocpp/", 6) != 0) {
        ec_log(EC_LOG_INFO, "ocpp: refused a connection to %.80s: charge points connect to /ocpp/<id>", path);
        return 404;
    }
    const char *id = path + 6;
    if (!valid_cp_id(id)) {
        ec_log(EC_LOG_INFO, "ocpp: refused charge point id \"%.60s\": 1 to 48 letters, digits or -_.:+*@#", id);
        return 400;
    }
    if (cs->stopping) return 503;
    handshake *h = ec_calloc(1, sizeof *h);
    if (!h) return 503;
    h->cs = cs;
    h->serial = hs->serial;
    h->tls = hs->tls;
    snprintf(h->id, sizeof h->id, "%s", id);
    snprintf(h->peer, sizeof h->peer, "%s", hs->peer ? hs->peer : "");
    h->had_auth = hs->authorization && hs->authorization[0];
    h->has_pw = h->had_auth && ocpp_auth__basic(hs->authorization, id, h->pw, sizeof h->pw, &h->pw_len);
    ocpp_cp *cp = NULL;
    int status = decide(cs, h, 0, &cp);
    if (status == EC_HTTP_PENDING) return status; /* h goes with the check */
    handshake_free(h);
    if (!status) *user = cp;
    return status;
}

/* Closes cp from the central system's side: from now on it is not found by
 * its id and what it still sends is dropped, so nothing it says after this
 * is recorded (or billed) under what it was admitted with. */
static void cut(ocpp_cs *cs, ocpp_cp *cp, int code, const char *reason)
{
    if (ocpp__find(cs, cp->id) == cp) {
        smart__cp(cs->smart, cp->id, cp->serial, cp->site_id, cp->evse_uid, 0);
        ec_map_put(&cs->by_id, id_hash(cp->id), 0);
    }
    cp->closing = 1;
    cs->stats.cut++;
    ec_log(EC_LOG_INFO, "ocpp: %s: closing its connection: %s", cp->id, reason);
    if (cp->ws) ec_ws_close(cp->ws, code, reason);
}

void ocpp__charger_changed(ocpp_cs *cs, const char *id)
{
    if (!cs || !id) return;
    ocpp_auth__forget(cs->auth, id);
    ocpp_cp *cp = ocpp__find(cs, id);
    if (!cp) return;
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    char hash[EC_CHARGER_HASH_MAX] = "";
    ec_json *j = NULL;
    const char *why = NULL;
    ec_err rc = ec_store_charger_get(cs->store, id, &doc, hash);
    if (!rc && ec_json_load_buf(doc.data, doc.len, "charger", &j)) rc = EC_ECORRUPT;
    if (rc == EC_ENOTFOUND) {
        why = "charger deleted";
    } else if (rc) {
        why = "credentials changed"; /* what it may do now cannot be read: it connects again */
    } else {
        double profile = 0;
        ec_json_number(ec_json_get(j, "security_profile"), &profile);
        const char *op = ec_json_str(ec_json_get(j, "operator_id"));
        const char *site = ec_json_str(ec_json_get(j, "site_id"));
        if (ocpp_auth__credentials_tag(cs->auth, hash, (int)profile) != cp->credentials_tag)
            why = "credentials changed";
        else if (!cp->registered || strcmp(op ? op : "", cp->operator_id) || strcmp(site ? site : "", cp->site_id))
            why = "operator or site changed";
    }
    if (why) cut(cs, cp, 1008, why);
    ec_json_free(j);
    ec_buf_free(&doc);
}

void ocpp__ws_open(void *ctx, void *user, ec_ws *ws)
{
    ocpp_cs *cs = ctx;
    ocpp_cp *cp = user;
    cp->ws = ws;
    cp->serial = ++cs->next_serial;
    cp->connected_s = cp->last_seen_s = ec_time_now_s();
    ocpp_cp *old = ocpp__find(cs, cp->id);
    if (old) {
        /* A normal close with its reason; what the old one still sends is dropped. */
        ec_log(EC_LOG_INFO, "ocpp: %s connected again: the older connection closes", cp->id);
        old->closing = 1;
        if (old->ws) ec_ws_close(old->ws, 1000, "replaced by a newer connection");
    }
    ec_map_put(&cs->by_id, id_hash(cp->id), (uint64_t)(uintptr_t)cp);
    ec_log(EC_LOG_DEBUG, "ocpp: %s connected%s", cp->id, cp->registered ? "" : " (not registered)");
    if (cp->registered) smart__cp(cs->smart, cp->id, cp->serial, cp->site_id, cp->evse_uid, 1); /* known: its limits may go before it boots */
}

void ocpp__ws_closed(void *ctx, void *user)
{
    ocpp_cs *cs = ctx;
    ocpp_cp *cp = user;
    if (ocpp__find(cs, cp->id) == cp) smart__cp(cs->smart, cp->id, cp->serial, cp->site_id, cp->evse_uid, 0);
    if (cp->call.active) {
        ec_buf b;
        ec_buf_init(&b, 4096);
        call_error_body(&b, "charger_disconnected", "%s disconnected before answering %s", cp->id, cp->call.action);
        complete_call(cs, cp, 502, b.data, NULL, NULL);
        ec_buf_free(&b);
    }
    if (ocpp__find(cs, cp->id) == cp) ec_map_put(&cs->by_id, id_hash(cp->id), 0);
    ec_free(cp);
}

void ocpp__ws_message(void *ctx, void *user, ec_ws *ws, const char *data, size_t len)
{
    ocpp_cs *cs = ctx;
    ocpp_cp *cp = user;
    (void)ws;
    if (cp->closing) return; /* closed by us: its charger was deleted, changed or replaced */
    cp->last_seen_s = ec_time_now_s();
    ec_json *frame = NULL;
    if (ec_json_load_buf(data, len, "message", &frame) || !ec_json_is_array(frame)) {
        ec_json_free(frame);
        send_error(cs, cp, "", "FormationViolation", "the message is not a JSON array");
        return;
    }
    double type = 0;
    size_t n = ec_json_array_size(frame);
    const char *msg_id = ec_json_str(ec_json_array_get(frame, 1));
    if (ec_json_typeof(ec_json_array_get(frame, 0)) != EC_JSON_INTEGER ||
        ec_json_number(ec_json_array_get(frame, 0), &type) || !msg_id || strlen(msg_id) > 36) {
        send_error(cs, cp, msg_id && strlen(msg_id) <= 36 ? msg_id : "", "FormationViolation",
                   "a message is [2|3|4, \"<unique id of at most 36 characters>\", ...]");
    } else if (type == 3 && n == 3) {
        on_answer(cs, cp, 3, frame);
    } else if (type == 4 && n == 5) {
        on_answer(cs, cp, 4, frame);
    } else if (type != 2 || n != 4 || !ec_json_str(ec_json_array_get(frame, 2))) {
        send_error(cs, cp, msg_id, type == 2 ? "FormationViolation" : "ProtocolError",
                   type == 2 ? "a CALL is [2, id, action, payload]" : "not a CALL, CALLRESULT or CALLERROR of OCPP-J");
    } else {
        const char *action = ec_json_str(ec_json_array_get(frame, 2));
        const ec_json *payload = ec_json_array_get(frame, 3);
        char why[256];
        cs->stats.calls_in++;
        const char *code = ocpp__check(action, OCPP_REQ, payload, why, sizeof why);
        if (!code && !cp->accepted && strcmp(action, "BootNotification")) {
            code = "SecurityError";
            snprintf(why, sizeof why, "%s is not accepted by this central system: send BootNotification", cp->id);
        }
        if (code) {
            send_error(cs, cp, msg_id, code, why);
        } else {
            ocpp_reply r;
            memset(&r, 0, sizeof r);
            ec_buf payload_out;
            ec_buf_init(&payload_out, OCPP_MESSAGE_MAX);
            r.out = &payload_out;
            ocpp__handle(&cs->env, cp, action, payload, ec_time_now_s(), &r);
            /* A CALLRESULT whose payload or frame was cut short is never
             * sent: the charger gets an InternalError and may call again. */
            ec_err rc = EC_OK;
            if (!r.error && !(rc = ec_buf_error(&payload_out))) {
                ec_buf_reset(&cs->out);
                ec_jw w;
                ec_jw_init(&w, &cs->out);
                ec_jw_arr_begin(&w);
                ec_jw_int(&w, 3);
                ec_jw_str(&w, msg_id);
                ec_jw_raw(&w, payload_out.len ? payload_out.data : "{}");
                ec_jw_arr_end(&w);
                rc = ec_jw_finish(&w);
            }
            if (rc) {
                ec_log(EC_LOG_ERROR, "ocpp: %s: the answer to %s could not be written whole: %s", cp->id, action,
                       ec_errmsg_of(rc));
                r.error = "InternalError";
                snprintf(r.why, sizeof r.why, "the answer could not be written whole");
            }
            if (r.error) {
                send_error(cs, cp, msg_id, r.error, r.why);
            } else {
                cs->stats.results_out++;
                send_frame(cs, cp, &cs->out);
            }
            ec_buf_free(&payload_out);
        }
    }
    ec_json_free(frame);
    /* A turn that reads many messages (a backlog after a stall, thousands of chargers
     * answering at once) commits on the way: no reply waits for the whole turn. */
    if (cs->n_held && (cs->n_held >= OCPP_HOLD_MAX || uv_hrtime() - cs->held_since >= OCPP_HOLD_MAX_MS * 1000000ull))
        commit(cs);
}

/* ---- life ------------------------------------------------------------------------ */

static void forget_status(void *ctx, const char *id, uint64_t serial, int connector)
{
    ocpp_cp *cp = ocpp__find(ctx, id);
    if (cp && cp->serial == serial && connector >= 0 && connector <= OCPP_MAX_CONNECTORS) cp->site_status[connector][0] = 0;
}

/* ---- what the power sharing is given (smart.h) ------------------------------------- */

static int io_ready(void *ctx, const char *id, uint64_t serial)
{
    ocpp_cp *cp = ocpp__find(ctx, id);
    return cp && cp->serial == serial && !cp->call.active;
}

static int io_connected(void *ctx, const char *id)
{
    return ocpp__find(ctx, id) != NULL;
}

static ec_err io_call(void *ctx, const char *id, const char *action, const ec_json *payload, smart_done done,
                      void *done_ctx, char *why, size_t why_len)
{
    ocpp_cp *cp = ocpp__find(ctx, id);
    if (!cp) {
        snprintf(why, why_len, "%s is not connected", id);
        return EC_ENOTFOUND;
    }
    return start_call(ctx, cp, action, payload, 0, done, done_ctx, why, why_len);
}

static int io_begin_write(void *ctx)
{
    return ocpp__begin_write(&((ocpp_cs *)ctx)->env);
}

ec_err ocpp__new(uv_loop_t *loop, ec_store *store, const ocpp_opts_t *o, ocpp_cs **out)
{
    if (sodium_init() < 0) return ec_fail(EC_EIO, "libsodium could not start");
    ocpp_cs *cs = ec_calloc(1, sizeof *cs);
    if (!cs) return EC_ENOMEM;
    cs->loop = loop;
    cs->store = store;
    cs->opts = *o;
    if (o->auto_register) {
        snprintf(cs->auto_register, sizeof cs->auto_register, "%s", o->auto_register);
        cs->opts.auto_register = cs->auto_register;
    }
    if (cs->opts.heartbeat_s <= 0) cs->opts.heartbeat_s = 300;
    if (cs->opts.call_timeout_s <= 0) cs->opts.call_timeout_s = 30;
    ec_buf_init(&cs->held, 256u << 20);
    ec_buf_init(&cs->out, OCPP_MESSAGE_MAX * 2);
    ec_vec_init(&cs->callers, sizeof(ocpp_cp *));
    ec_vec_init(&cs->env.site_statuses, sizeof(ocpp_site_status));
    ec_vec_init(&cs->env.sites_written, EC_REG_ID_MAX + 1);
    cs->env.forget_status = forget_status, cs->env.ctx = cs;
    if (ec_map_init(&cs->by_id, 1024)) {
        ec_free(cs);
        return EC_ENOMEM;
    }
    cs->env.store = store;
    cs->env.opts = &cs->opts;
    ec_err rc = ocpp_auth__new(NULL, &cs->auth);
    /* The power sharing journals its start in the first turn's write. */
    smart_io io = {cs, io_ready, io_connected, io_call, io_begin_write};
    if (!rc) rc = smart__new(loop, store, &io, &cs->smart);
    if (rc) {
        if (cs->env.writing) ec_store_rollback(store);
        ocpp_auth__free(cs->auth);
        ec_map_free(&cs->by_id);
        ec_free(cs);
        return rc;
    }
    cs->env.smart = cs->smart;
    uv_timer_init(loop, &cs->timer);
    cs->timer.data = cs;
    cs->timer_open = 1;
    uv_timer_start(&cs->timer, on_timer, 1000, 1000);
    uv_unref((uv_handle_t *)&cs->timer);
    *out = cs;
    return EC_OK;
}

void ocpp__on_site(ocpp_cs *cs, void (*fn)(void *ctx, const char *site_id), void *ctx)
{
    cs->on_site = fn;
    cs->on_site_ctx = ctx;
}

void ocpp__sites_written(ocpp_cs *cs)
{
    if (cs) cs->env.sites_gen++;
}

void ocpp__set_http(ocpp_cs *cs, ec_http_server *http)
{
    cs->http = http;
}

void ocpp__stop(ocpp_cs *cs)
{
    if (!cs) return;
    ocpp__flush(cs);
    cs->stopping = 1; /* checks still on the pool end without a decision */
    smart__stop(cs->smart);
    if (cs->timer_open) {
        uv_timer_stop(&cs->timer);
        uv_close((uv_handle_t *)&cs->timer, NULL);
        cs->timer_open = 0;
    }
}

void ocpp__free(ocpp_cs *cs)
{
    if (!cs) return;
    if (cs->env.writing) ec_store_rollback(cs->store);
    smart__free(cs->smart);
    if (cs->verifying) ec_log(EC_LOG_WARN, "ocpp: %d password checks were still running", cs->verifying);
    ocpp_auth__free(cs->auth);
    ec_map_free(&cs->by_id);
    ec_buf_free(&cs->held);
    ec_buf_free(&cs->out);
    ec_vec_free(&cs->callers);
    ec_vec_free(&cs->env.site_statuses);
    ec_vec_free(&cs->env.sites_written);
    ec_free(cs);
}
