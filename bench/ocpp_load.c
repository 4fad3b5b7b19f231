/* ocpp_load.c - a load of OCPP 1.6J charge points on loopback: N WebSocket
 * connections (libwebsockets client), each booting, starting a transaction
 * and then sending StatusNotification and MeterValues in turn so that all of
 * them together send RATE messages a second for SECONDS. One call is
 * outstanding per connection, as OCPP-J requires; the time from a call's
 * write to its CALLRESULT is its latency. Prints one JSON line.
 *
 *   ocpp_load HOST PORT N RATE SECONDS [ID_PREFIX [MODE]]
 *
 * MODE "mix" (default): StatusNotification and MeterValues in turn, the
 * meter values stored durably before their answer; "heartbeat": Heartbeat
 * only, which stores nothing (the WebSocket and OCPP-J layers alone).
 *
 * Calls from the hub (the power sharing's SetChargingProfile and
 * GetConfiguration) are answered at once and counted.
 *
 * With OCPP_LOAD_HUB_PID set to the hub's process id, the CPU time the hub
 * and this generator spend in the measured phase is printed too: on a machine
 * shared with other work the latency says how much CPU the hub got, the CPU
 * time per message what it needed.
 */
#include <libwebsockets.h>
#include <uv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    struct lws *wsi;
    int idx;
    int state;        /* 0 connecting, 1 booting, 2 starting, 3 running, -1 failed */
    int waiting;      /* a call is outstanding */
    int want;         /* a call should go out when writable */
    int64_t sent_ns;
    long msg_no;
    long tx_id;
    long energy_wh;
    int measuring;    /* the outstanding call counts */
    char reply[160];  /* an answer to the hub that waits for the socket */
} cp_t;

static cp_t *cps;
static int n_cps, connecting, established, running, failed_conn;
static const char *host, *prefix = "LOAD";
static int heartbeat_only;
static int port;
static struct lws_context *ctx;
static int64_t *lat_us;
static size_t n_lat, cap_lat;
static long sent_measured, recv_measured, errors, skipped, hub_calls, hub_profiles;
static int measuring;
/* The CPU seconds (user + system) process pid has used, from /proc; -1 when unknown. */
static double proc_cpu_s(long pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0;
    const char *p = strrchr(line, ')'); /* the command may hold spaces */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int send_now(cp_t *c);
static lws_sorted_usec_list_t tick;
static double rate;
static int64_t t0;
static long k;

/* Every millisecond: the calls now due (lws_service itself sleeps until
 * the next event, so the schedule runs on its timer). */
static void on_tick(lws_sorted_usec_list_t *sul)
{
    if (measuring) {
        long due = (long)((double)(now_ns() - t0) / 1e9 * rate);
        for (; k < due; k++) {
            cp_t *c = &cps[k % n_cps];
            if (c->state != 3) continue;
            if (c->waiting || c->want) {
                skipped++;
                continue;
            }
            send_now(c);
        }
    }
    lws_sul_schedule(ctx, 0, sul, on_tick, 1000);
}


static void connect_one(cp_t *c)
{
    char path[64];
    snprintf(path, sizeof path, "/ocpp/%s-%05d", prefix, c->idx);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = ctx;
    i.address = host;
    i.port = port;
    i.path = path;
    i.host = host;
    i.origin = host;
    i.protocol = "ocpp1.6";
    i.userdata = c;
    i.pwsi = &c->wsi;
    c->state = 0;
    connecting++;
    if (!lws_client_connect_via_info(&i)) {
        connecting--;
        c->state = -1;
        failed_conn++;
    }
}

static int compose(cp_t *c, char *p, size_t n)
{
    char ts[40];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    long id = ++c->msg_no;
    switch (c->state) {
    case 1:
        return snprintf(p, n, "[2,\"%ld\",\"BootNotification\",{\"chargePointVendor\":\"load\",\"chargePointModel\":\"bench\"}]", id);
    case 2:
        return snprintf(p, n, "[2,\"%ld\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"LOADTAG\",\"meterStart\":0,\"timestamp\":\"%s\"}]",
                        id, ts);
    default:
        if (heartbeat_only) return snprintf(p, n, "[2,\"%ld\",\"Heartbeat\",{}]", id);
        if (id % 2)
            return snprintf(p, n, "[2,\"%ld\",\"StatusNotification\",{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Charging\"}]", id);
        c->energy_wh += 100;
        /* Each reading has its own second so the hub stores it (one per transaction and second). */
        t += id;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return snprintf(p, n, "[2,\"%ld\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":%ld,\"meterValue\":[{\"timestamp\":\"%s\","
                        "\"sampledValue\":[{\"value\":\"%ld\"},{\"value\":\"150\",\"measurand\":\"Power.Active.Import\",\"unit\":\"kW\"}]}]}]",
                        id, c->tx_id, ts, c->energy_wh);
    }
}

/* Writes c's next call now (no writable callback: that would cost two
 * epoll_ctl calls a message, on this side as on the server's). */
static int send_now(cp_t *c)
{
    if (lws_partial_buffered(c->wsi)) {
        c->want = 1;
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    unsigned char buf[LWS_PRE + 1024];
    int n = compose(c, (char *)buf + LWS_PRE, 1024);
    c->want = 0;
    c->waiting = 1;
    c->measuring = measuring && c->state == 3;
    if (c->measuring) sent_measured++;
    c->sent_ns = now_ns();
    return lws_write(c->wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) < n ? -1 : 0;
}

/* Answers a CALL from the hub: [2,"id","Action",{...}]. */
static int answer_hub(cp_t *c, const char *s, size_t len)
{
    const char *q = memchr(s, '"', len), *e = q ? memchr(q + 1, '"', len - (size_t)(q + 1 - s)) : NULL;
    if (!e || e - q > 60) return 0;
    hub_calls++;
    int config = len > 40 && strstr(s, "\"GetConfiguration\"") != NULL;
    if (!config) hub_profiles++;
    snprintf(c->reply, sizeof c->reply, "[3,\"%.*s\",%s]", (int)(e - q - 1), q + 1,
             config ? "{\"configurationKey\":[],\"unknownKey\":[\"ChargingScheduleAllowedChargingRateUnit\"]}"
                    : "{\"status\":\"Accepted\"}");
    if (lws_partial_buffered(c->wsi)) {
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    unsigned char buf[LWS_PRE + sizeof c->reply];
    size_t n = strlen(c->reply);
    memcpy(buf + LWS_PRE, c->reply, n);
    c->reply[0] = 0;
    return lws_write(c->wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    cp_t *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        connecting--;
        established++;
        c->state = 1;
        return send_now(c);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c && c->state == 0) connecting--;
        if (c) c->state = -1;
        failed_conn++;
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->reply[0]) {
            unsigned char buf[LWS_PRE + sizeof c->reply];
            size_t n = strlen(c->reply);
            memcpy(buf + LWS_PRE, c->reply, n);
            c->reply[0] = 0;
            if (lws_write(c->wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n) return -1;
            if (c->want && !c->waiting) lws_callback_on_writable(c->wsi);
            break;
        }
        if (!c->want || c->waiting) break;
        return send_now(c);
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        const char *s = in;
        if (len < 4 || s[0] != '[') break;
        if (s[1] == '2') return answer_hub(c, s, len); /* the hub calls us */
        c->waiting = 0;
        if (s[1] == '4') errors++;
        if (c->measuring) {
            recv_measured++;
            if (n_lat == cap_lat) {
                cap_lat = cap_lat ? cap_lat * 2 : 1 << 20;
                lat_us = realloc(lat_us, cap_lat * sizeof *lat_us);
            }
            lat_us[n_lat++] = (now_ns() - c->sent_ns) / 1000;
            c->measuring = 0;
        }
        if (c->state == 1) {
            c->state = 2;
            return send_now(c);
        } else if (c->state == 2) {
            const char *t = strstr(s, "\"transactionId\":");
            c->tx_id = t ? strtol(t + 16, NULL, 10) : 0;
            c->state = 3;
            running++;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c && c->state >= 1) established--;
        if (c && c->state == 3) running--;
        if (c) c->state = -1, c->wsi = NULL;
        break;
    default: break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {{"ocpp1.6", callback, 0, 4096, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

/* A whole number argument in [lo, hi], or -1. */
static long arg_long(const char *s, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    return end == s || *end || v < lo || v > hi ? -1 : v;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: ocpp_load HOST PORT N RATE SECONDS [ID_PREFIX [mix|heartbeat]]\n");
        return 2;
    }
    host = argv[1];
    port = (int)arg_long(argv[2], 1, 65535);
    n_cps = (int)arg_long(argv[3], 1, 1000000);
    rate = strtod(argv[4], NULL);
    double secs = strtod(argv[5], NULL);
    if (port < 0 || n_cps < 0 || !(rate > 0) || !(secs > 0)) {
        fprintf(stderr, "ocpp_load: PORT 1..65535, N 1..1000000, RATE and SECONDS positive\n");
        return 2;
    }
    if (argc > 6) prefix = argv[6];
    heartbeat_only = argc > 7 && !strcmp(argv[7], "heartbeat");
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.timeout_secs = 60;
    /* On libuv, as the hub: lws's own poll loop looks each ready socket up
     * among all of them, which with 10,000 costs more than the messages. */
    static uv_loop_t loop;
    uv_loop_init(&loop);
    void *loops[1] = {&loop};
    info.options = LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = loops;
    ctx = lws_create_context(&info);
    if (!ctx) return 1;
    cps = calloc((size_t)n_cps, sizeof *cps);
    lws_sul_schedule(ctx, 0, &tick, on_tick, 1000);
    /* Connect at most 200 at a time. */
    int next = 0;
    int64_t t_conn = now_ns();
    while (running + failed_conn < n_cps && now_ns() - t_conn < 120 * 1000000000LL) {
        while (next < n_cps && connecting < 200) {
            cps[next].idx = next;
            connect_one(&cps[next++]);
        }
        uv_run(&loop, UV_RUN_ONCE);
    }
    double connect_s = (double)(now_ns() - t_conn) / 1e9;
    /* Steady load: message k of the run goes to connection k mod N at
     * k / RATE seconds; a connection still waiting for its answer skips. */
    long hub_pid = getenv("OCPP_LOAD_HUB_PID") ? strtol(getenv("OCPP_LOAD_HUB_PID"), NULL, 10) : 0;
    double hub_cpu0 = hub_pid > 0 ? proc_cpu_s(hub_pid) : -1, self_cpu0 = self_cpu_s();
    t0 = now_ns();
    measuring = 1;
    int64_t end = t0 + (int64_t)(secs * 1e9);
    while (now_ns() < end) uv_run(&loop, UV_RUN_ONCE);
    double run_s = (double)(now_ns() - t0) / 1e9;
    measuring = 0;
    double hub_cpu = hub_cpu0 >= 0 ? proc_cpu_s(hub_pid) - hub_cpu0 : -1, self_cpu = self_cpu_s() - self_cpu0;
    /* Drain: every call sent gets its answer, or counts as lost. */
    int64_t drain_end = now_ns() + 10 * 1000000000LL;
    while (recv_measured < sent_measured && now_ns() < drain_end) uv_run(&loop, UV_RUN_ONCE);
    lws_sul_cancel(&tick);
    qsort(lat_us, n_lat, sizeof *lat_us, cmp64);
    double p50 = n_lat ? lat_us[n_lat / 2] / 1000.0 : 0, p99 = n_lat ? lat_us[(size_t)(n_lat * 0.99)] / 1000.0 : 0;
    double max = n_lat ? lat_us[n_lat - 1] / 1000.0 : 0;
    printf("{\"mode\": \"%s\", \"connections\": %d, \"connected\": %d, \"failed\": %d, \"connect_s\": %.2f, \"target_rate\": %.0f, \"seconds\": %.2f, "
           "\"sent\": %ld, \"answered\": %ld, \"lost\": %ld, \"call_errors\": %ld, \"skipped_busy\": %ld, \"rate\": %.0f, "
           "\"p50_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f, \"hub_calls_answered\": %ld, \"profiles_accepted\": %ld, "
           "\"hub_cpu_s\": %.2f, \"hub_cpu_us_per_msg\": %.1f, \"load_cpu_s\": %.2f}\n",
           heartbeat_only ? "heartbeat" : "mix", n_cps, running, failed_conn, connect_s, rate, run_s, sent_measured, recv_measured, sent_measured - recv_measured,
           errors, skipped, (double)recv_measured / run_s, p50, p99, max, hub_calls, hub_profiles, hub_cpu,
           hub_cpu >= 0 && recv_measured ? hub_cpu * 1e6 / (double)recv_measured : -1, self_cpu);
    lws_context_destroy(ctx);
    uv_run(&loop, UV_RUN_NOWAIT);
    lws_context_destroy(ctx);
    free(cps);
    free(lat_us);
    return 0;
}
