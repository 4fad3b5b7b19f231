/* run.c - `ecorridor chargers simulate`: the region's charge points on one
 * libuv loop, each with its WebSocket to the hub, reconnecting with backoff;
 * a tick moves their sessions on; their events become readable lines (or
 * JSON lines); Ctrl-C stops the sessions, closes the connections and prints
 * what happened. */
#include "ecorridor/ec_cpsim.h"
#include "ecorridor/ec_json.h"
#include "ws.h"

#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS 500
#define STAGGER_MS 50       /* between first connections: a region does not all dial at once */
#define BACKOFF_MAX_S 60
#define SHUTDOWN_WAIT_MS 3000

typedef struct sim sim;

typedef struct {
    sim *s;
    ec_cpsim_cp *cp;
    cpsim_ws *ws;
    int open, resetting;
    int backoff_s;
    uv_timer_t retry;
} agent;

struct sim {
    const ec_cpsim_opts_t *o;
    uv_loop_t *loop;
    ec_cpsim_region region;
    agent *agents;
    size_t n;
    struct sockaddr_storage addr;
    char host[300], path[600];
    uv_timer_t tick;
    uv_signal_t sig[2];
    int stopping; /* 1: sessions stopping; 2: connections closing */
    int64_t stop_at_ms, started_ms;
    long connects, losses, online;
    ec_buf line;
    uint64_t rng;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- output ------------------------------------------------------------------------------- */

static void local_time(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M:%S %Z", &tm)) snprintf(out, n, "?");
}

/* One line about charger ch: readable, or a JSON object with the fields given. */
static void say(sim *s, const ec_cpsim_charger_t *ch, int warn, const char *event, const ec_cpsim_event_t *ev,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void say(sim *s, const ec_cpsim_charger_t *ch, int warn, const char *event, const ec_cpsim_event_t *ev,
                const char *fmt, ...)
{
    if (s->o->quiet && !warn) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int64_t now = wall_ms();
    ec_buf_reset(&s->line);
    if (s->o->json) {
        char iso[32];
        ec_time_format_iso(now / 1000, iso, sizeof iso);
        ec_jw w;
        ec_jw_init(&w, &s->line);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "time"), ec_jw_str(&w, iso);
        ec_jw_key(&w, "event"), ec_jw_str(&w, event);
        if (ch) {
            ec_jw_key(&w, "charger"), ec_jw_str(&w, ch->id);
            ec_jw_key(&w, "site"), ec_jw_str(&w, ch->site_id);
        }
        if (ev) {
            if (ev->connector) ec_jw_key(&w, "connector"), ec_jw_int(&w, ev->connector);
            if (ev->tx) ec_jw_key(&w, "transaction_id"), ec_jw_int(&w, ev->tx);
            if (ev->kind == EC_CPSIM_EV_START || ev->kind == EC_CPSIM_EV_METER || ev->kind == EC_CPSIM_EV_STOP) {
                ec_jw_key(&w, "token"), ec_jw_str(&w, ev->token);
                ec_jw_key(&w, "power_w"), ec_jw_num(&w, ev->power_w, 0);
                ec_jw_key(&w, "energy_wh"), ec_jw_num(&w, ev->energy_wh, 0);
                ec_jw_key(&w, "soc"), ec_jw_num(&w, ev->soc, 3);
            }
            if (ev->kind == EC_CPSIM_EV_METER || ev->kind == EC_CPSIM_EV_LIMIT) {
                ec_jw_key(&w, "limit_w");
                if (isfinite(ev->limit_w)) ec_jw_num(&w, ev->limit_w, 0);
                else ec_jw_null(&w);
            }
            if (ev->text) ec_jw_key(&w, "detail"), ec_jw_str(&w, ev->text);
            if (ev->text2) ec_jw_key(&w, "status"), ec_jw_str(&w, ev->text2);
        }
        ec_jw_key(&w, "message"), ec_jw_str(&w, msg);
        ec_jw_obj_end(&w);
        if (ec_jw_finish(&w)) return;
    } else {
        char when[48];
        local_time(now, when, sizeof when);
        if (ch) ec_buf_printf(&s->line, "%s  %-16s %-28.28s %s", when, ch->id, ch->site_name, msg);
        else ec_buf_printf(&s->line, "%s  %s", when, msg);
    }
    if (!ec_buf_error(&s->line)) {
        fputs(s->line.data, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
}

static void on_event(void *ctx, ec_cpsim_cp *cp, const ec_cpsim_event_t *ev)
{
    sim *s = ((agent *)ctx)->s;
    const ec_cpsim_charger_t *ch = ec_cpsim_cp_charger(cp);
    char lim[48] = "";
    if (isfinite(ev->limit_w)) snprintf(lim, sizeof lim, ", limit %.1f kW", ev->limit_w / 1000);
    switch (ev->kind) {
    case EC_CPSIM_EV_BOOT:
        if (!strcmp(ev->text, "Accepted"))
            say(s, ch, 0, "boot", ev, "boot Accepted by the hub (heartbeat every %d s)", (int)ev->limit_w);
        else
            say(s, ch, 1, "boot", ev, "boot %s by the hub: is the charger registered there (POST /api/v1/chargers, "
                "or `serve --region` into an empty database)? Trying again later", ev->text);
        break;
    case EC_CPSIM_EV_START:
        say(s, ch, 0, "start", ev, "connector %d: session %lld started for %s (SoC %.0f %%)", ev->connector,
            (long long)ev->tx, ev->token, ev->soc * 100);
        break;
    case EC_CPSIM_EV_METER:
        /* Every 10 s per connector: in the JSON lines only, the readable log stays readable. */
        if (s->o->json)
            say(s, ch, 0, "meter", ev, "connector %d: %.1f kW, %.2f kWh, SoC %.0f %%%s", ev->connector,
                ev->power_w / 1000, ev->energy_wh / 1000, ev->soc * 100, lim);
        break;
    case EC_CPSIM_EV_STOP:
        say(s, ch, 0, "stop", ev, "connector %d: session %lld stopped (%s): %.2f kWh, SoC %.0f %%", ev->connector,
            (long long)ev->tx, ev->text, ev->energy_wh / 1000, ev->soc * 100);
        break;
    case EC_CPSIM_EV_REFUSED:
        say(s, ch, 0, "refused", ev, "connector %d: the hub refused token %s (%s)", ev->connector, ev->token, ev->text);
        break;
    case EC_CPSIM_EV_LIMIT:
        if (ev->connector)
            say(s, ch, 0, "limit", ev, "connector %d: %s accepted%s, drawing %.1f kW", ev->connector, ev->text,
                lim[0] ? lim : ", no limit", ev->power_w / 1000);
        else
            say(s, ch, 0, "limit", ev, "%s accepted%s", ev->text, lim[0] ? lim : ", no limit");
        break;
    case EC_CPSIM_EV_COMMAND:
        /* Profiles have their own lines; the hub's question of the rate unit is routine. */
        if (strcmp(ev->text, "SetChargingProfile") && strcmp(ev->text, "ClearChargingProfile") &&
            (s->o->json || strcmp(ev->text, "GetConfiguration")))
            say(s, ch, 0, "command", ev, "%s from the hub: %s", ev->text, ev->text2);
        break;
    case EC_CPSIM_EV_BAD_FRAME:
        say(s, ch, 1, "bad_frame", ev, "refused a frame from the hub: %s", ev->text);
        break;
    case EC_CPSIM_EV_ERROR:
        say(s, ch, 1, "call_error", ev, "the hub answered %s with %s", ev->text, ev->text2);
        break;
    }
}

/* ---- connections -------------------------------------------------------------------------- */

static void connect_agent(agent *a);

static ec_err io_send(void *ctx, ec_cpsim_cp *cp, const char *text, size_t len)
{
    agent *a = ctx;
    (void)cp;
    return a->ws && a->open ? ws__send(a->ws, text, len) : EC_EIO;
}

static void io_reset(void *ctx, ec_cpsim_cp *cp)
{
    agent *a = ctx;
    (void)cp;
    /* The stops go first: the close waits for the next tick. */
    a->resetting = 1;
}

static void on_retry(uv_timer_t *t)
{
    connect_agent(t->data);
}

static void ws_open(void *ctx, cpsim_ws *w, void *user)
{
    agent *a = user;
    (void)ctx, (void)w;
    a->open = 1, a->backoff_s = 0;
    a->s->connects++, a->s->online++;
    say(a->s, ec_cpsim_cp_charger(a->cp), 0, "connected", NULL, "connected");
    ec_cpsim_cp_connected(a->cp, wall_ms());
}

static void ws_message(void *ctx, cpsim_ws *w, void *user, const char *text, size_t len)
{
    agent *a = user;
    (void)ctx, (void)w;
    ec_cpsim_cp_receive(a->cp, text, len, wall_ms());
}

static void ws_closed(void *ctx, cpsim_ws *w, void *user, const char *why)
{
    agent *a = user;
    sim *s = a->s;
    (void)ctx, (void)w;
    int was_open = a->open;
    a->ws = NULL, a->open = 0;
    if (was_open) {
        s->online--;
        ec_cpsim_cp_disconnected(a->cp);
    }
    if (s->stopping == 2) return;
    if (a->resetting) {
        a->resetting = 0;
        say(s, ec_cpsim_cp_charger(a->cp), 0, "reset", NULL, "resetting: booting again in 2 s");
        uv_timer_start(&a->retry, on_retry, 2000, 0);
        return;
    }
    if (was_open) s->losses++;
    /* 1, 2, 4 ... 60 s, each within +-25 %: a region whose hub restarts does not come back in step. */
    a->backoff_s = a->backoff_s ? (a->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : a->backoff_s * 2) : 1;
    s->rng ^= s->rng << 13, s->rng ^= s->rng >> 7, s->rng ^= s->rng << 17;
    double f = 0.75 + 0.5 * (double)(s->rng >> 11) / 9007199254740992.0;
    uint64_t ms = (uint64_t)(a->backoff_s * 1000 * f);
    say(s, ec_cpsim_cp_charger(a->cp), 1, "disconnected", NULL, "%s %s; again in %.1f s",
        was_open ? "disconnected:" : "could not connect:", why, (double)ms / 1000);
    uv_timer_start(&a->retry, on_retry, ms, 0);
}

static void connect_agent(agent *a)
{
    sim *s = a->s;
    if (s->stopping || a->ws) return;
    static const cpsim_ws_handler h = {NULL, ws_open, ws_message, ws_closed};
    const ec_cpsim_charger_t *ch = ec_cpsim_cp_charger(a->cp);
    char path[700];
    snprintf(path, sizeof path, "%s/%s", s->path, ch->id);
    a->ws = ws__connect(s->loop, (const struct sockaddr *)&s->addr, s->host, path, ch->id, ch->password, &h, a);
    if (!a->ws) uv_timer_start(&a->retry, on_retry, 5000, 0);
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void close_all(sim *s)
{
    s->stopping = 2;
    uv_timer_stop(&s->tick);
    uv_close((uv_handle_t *)&s->tick, NULL);
    for (int i = 0; i < 2; i++) uv_close((uv_handle_t *)&s->sig[i], NULL);
    for (size_t i = 0; i < s->n; i++) {
        agent *a = &s->agents[i];
        uv_close((uv_handle_t *)&a->retry, NULL);
        if (a->ws) ws__close(a->ws, 1000, "the simulator stops");
    }
}

static void on_tick(uv_timer_t *t)
{
    sim *s = t->data;
    int64_t now = wall_ms();
    int pending = 0;
    for (size_t i = 0; i < s->n; i++) {
        agent *a = &s->agents[i];
        ec_cpsim_cp_tick(a->cp, now);
        if (a->resetting && a->ws && a->open) ws__close(a->ws, 1000, "reset");
        if (s->stopping == 1 && a->open) pending += ec_cpsim_cp_shutdown(a->cp);
    }
    if (!s->stopping && s->o->duration_s > 0 && now - s->started_ms >= (int64_t)(s->o->duration_s * 1000)) {
        s->stopping = 1, s->stop_at_ms = now + SHUTDOWN_WAIT_MS;
        for (size_t i = 0; i < s->n; i++) ec_cpsim_cp_shutdown(s->agents[i].cp);
        return;
    }
    if (s->stopping == 1 && (!pending || now >= s->stop_at_ms)) close_all(s);
}

static void on_signal(uv_signal_t *h, int signum)
{
    sim *s = h->data;
    (void)signum;
    if (s->stopping) {
        /* A second Ctrl-C does not wait for the stops' answers. */
        if (s->stopping == 1) close_all(s);
        return;
    }
    say(s, NULL, 1, "stopping", NULL, "stopping: ending the sessions, then closing the connections");
    s->stopping = 1, s->stop_at_ms = wall_ms() + SHUTDOWN_WAIT_MS;
    for (size_t i = 0; i < s->n; i++) ec_cpsim_cp_shutdown(s->agents[i].cp);
}

/* "ws://HOST[:PORT][/PATH]" into the address, the Host header and the path. */
static ec_err parse_hub(sim *s, const char *url)
{
    if (!strncmp(url, "wss://", 6))
        return ec_fail(EC_EINVAL, "--hub %s: wss:// is not supported by the simulator; use ws://", url);
    if (strncmp(url, "ws://", 5)) return ec_fail(EC_EINVAL, "--hub %s: expected ws://HOST:PORT/ocpp", url);
    const char *h = url + 5, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (!hl || hl >= sizeof s->host || strlen(slash ? slash : "") >= sizeof s->path - 60)
        return ec_fail(EC_EINVAL, "--hub %s: expected ws://HOST:PORT/ocpp", url);
    memcpy(s->host, h, hl);
    s->host[hl] = 0;
    snprintf(s->path, sizeof s->path, "%s", slash ? slash : "");
    size_t pl = strlen(s->path);
    while (pl && s->path[pl - 1] == '/') s->path[--pl] = 0;
    char name[300], port[8] = "80";
    snprintf(name, sizeof name, "%s", s->host);
    char *colon = strrchr(name, ':');
    if (colon) {
        int64_t p;
        if (ec_parse_i64(colon + 1, &p) || p < 1 || p > 65535)
            return ec_fail(EC_EINVAL, "--hub %s: the port must be 1 to 65535", url);
        snprintf(port, sizeof port, "%lld", (long long)p);
        *colon = 0;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC, hints.ai_socktype = SOCK_STREAM;
    int r = getaddrinfo(name, port, &hints, &res);
    if (r || !res) return ec_fail(EC_ENOTFOUND, "--hub %s: cannot resolve %s: %s", url, name, gai_strerror(r));
    memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return EC_OK;
}

static void summary(sim *s)
{
    ec_cpsim_stats_t t;
    memset(&t, 0, sizeof t);
    for (size_t i = 0; i < s->n; i++) ec_cpsim_cp_stats(s->agents[i].cp, &t);
    double mins = (double)(wall_ms() - s->started_ms) / 60000;
    if (s->o->json) {
        ec_buf_reset(&s->line);
        ec_jw w;
        ec_jw_init(&w, &s->line);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "event"), ec_jw_str(&w, "summary");
        ec_jw_key(&w, "minutes"), ec_jw_num(&w, mins, 2);
        ec_jw_key(&w, "chargers"), ec_jw_int(&w, (int64_t)s->n);
        ec_jw_key(&w, "connections"), ec_jw_int(&w, s->connects);
        ec_jw_key(&w, "connections_lost"), ec_jw_int(&w, s->losses);
        ec_jw_key(&w, "boots"), ec_jw_int(&w, t.boots);
        ec_jw_key(&w, "sessions_started"), ec_jw_int(&w, t.sessions_started);
        ec_jw_key(&w, "sessions_stopped"), ec_jw_int(&w, t.sessions_stopped);
        ec_jw_key(&w, "energy_kwh"), ec_jw_num(&w, t.energy_wh / 1000, 3);
        ec_jw_key(&w, "meter_values"), ec_jw_int(&w, t.meter_values);
        ec_jw_key(&w, "profiles_accepted"), ec_jw_int(&w, t.profiles_accepted);
        ec_jw_key(&w, "calls_answered"), ec_jw_int(&w, t.calls_answered);
        ec_jw_key(&w, "tokens_refused"), ec_jw_int(&w, t.tokens_refused);
        ec_jw_key(&w, "frames_refused"), ec_jw_int(&w, t.frames_refused);
        ec_jw_key(&w, "call_errors"), ec_jw_int(&w, t.call_errors);
        ec_jw_obj_end(&w);
        if (!ec_jw_finish(&w)) puts(s->line.data);
        return;
    }
    printf("\n%zu charge points for %.1f min: %ld connections (%ld lost), %ld boots\n"
           "sessions: %ld started, %ld stopped, %.1f kWh delivered, %ld meter values\n"
           "from the hub: %ld charging profiles accepted, %ld other calls answered, %ld tokens refused, "
           "%ld frames refused, %ld errors to our calls\n",
           s->n, mins, s->connects, s->losses, t.boots, t.sessions_started, t.sessions_stopped, t.energy_wh / 1000,
           t.meter_values, t.profiles_accepted, t.calls_answered - t.profiles_accepted, t.tokens_refused,
           t.frames_refused, t.call_errors);
}

ec_err ec_cpsim_run(const ec_cpsim_opts_t *o)
{
    sim s;
    memset(&s, 0, sizeof s);
    s.o = o;
    ec_buf_init(&s.line, 8192);
    ec_err rc = parse_hub(&s, o->hub_url);
    if (rc) return rc;
    if ((rc = ec_cpsim_region_load(o->region_dir, &s.region))) return rc;
    if ((rc = ec_cpsim_region_select(&s.region, o->site, o->count))) goto done;
    s.loop = uv_default_loop();
    s.n = s.region.chargers.len;
    s.rng = o->seed * 2654435761u + 1;
    s.agents = ec_calloc(s.n, sizeof *s.agents);
    if (!s.agents) {
        rc = EC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < s.n; i++) {
        agent *a = &s.agents[i];
        ec_cpsim_io io = {a, io_send, on_event, io_reset};
        a->s = &s;
        if ((rc = ec_cpsim_cp_new(&EC_VEC_AT(&s.region.chargers, ec_cpsim_charger_t, i),
                                  (ec_cpsim_token_t *)s.region.tokens.data, s.region.tokens.len, &o->pace, o->seed,
                                  &io, &a->cp)))
            goto done;
    }
    s.started_ms = wall_ms();
    say(&s, NULL, 0, "run", NULL, "%zu charge points of %s to %s (sessions of about %d s, meter values every %d s)",
        s.n, o->region_dir, o->hub_url, o->pace.session_s, o->pace.meter_s);
    for (size_t i = 0; i < s.n; i++) {
        agent *a = &s.agents[i];
        uv_timer_init(s.loop, &a->retry);
        a->retry.data = a;
        uv_timer_start(&a->retry, on_retry, i * STAGGER_MS, 0);
    }
    uv_timer_init(s.loop, &s.tick);
    s.tick.data = &s;
    uv_timer_start(&s.tick, on_tick, TICK_MS, TICK_MS);
    int sigs[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        uv_signal_init(s.loop, &s.sig[i]);
        s.sig[i].data = &s;
        uv_signal_start(&s.sig[i], on_signal, sigs[i]);
    }
    uv_run(s.loop, UV_RUN_DEFAULT);
    summary(&s);
done:
    for (size_t i = 0; s.agents && i < s.n; i++) ec_cpsim_cp_free(s.agents[i].cp);
    ec_free(s.agents);
    ec_cpsim_region_free(&s.region);
    ec_buf_free(&s.line);
    if (s.loop) uv_loop_close(s.loop);
    return rc;
}
