/* metrics.c - request counts and latencies, written in the Prometheus text format. */
#include "metrics.h"

#include <string.h>
#include <sys/stat.h>

static const double bucket_s[EC_METRIC_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                   0.01,   0.025,   0.05,   0.1,   0.25,   1.0};

void metrics__observe(ec_metrics *m, ec_http_method method, int status, double seconds)
{
    if (status < 100 || status > 599) status = 599;
    m->requests[method][status]++;
    for (int i = 0; i < EC_METRIC_BUCKETS; i++)
        if (seconds <= bucket_s[i]) m->latency_buckets[i]++;
    m->latency_count++;
    m->latency_sum_s += seconds;
}

void metrics__write(const ec_metrics *m, const ec_http_stats_t *http, ec_store *store,
                    const char *db_path, ec_buf *out)
{
    ec_buf_puts(out, "# HELP ecorridor_http_requests_total HTTP requests answered, by method and status.\n"
                     "# TYPE ecorridor_http_requests_total counter\n");
    for (int k = 0; k < EC_HTTP_N_METHODS; k++)
        for (int s = 100; s < 600; s++)
            if (m->requests[k][s])
                ec_buf_printf(out, "ecorridor_http_requests_total{method=\"%s\",code=\"%d\"} %lld\n",
                              ec_http_method_name((ec_http_method)k), s, (long long)m->requests[k][s]);
    ec_buf_puts(out, "# HELP ecorridor_http_request_duration_seconds Time from a request's arrival to its answer.\n"
                     "# TYPE ecorridor_http_request_duration_seconds histogram\n");
    for (int i = 0; i < EC_METRIC_BUCKETS; i++)
        ec_buf_printf(out, "ecorridor_http_request_duration_seconds_bucket{le=\"%g\"} %lld\n", bucket_s[i],
                      (long long)m->latency_buckets[i]);
    ec_buf_printf(out,
                  "ecorridor_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n"
                  "ecorridor_http_request_duration_seconds_sum %.6f\n"
                  "ecorridor_http_request_duration_seconds_count %lld\n",
                  (long long)m->latency_count, m->latency_sum_s, (long long)m->latency_count);
    ec_buf_printf(out,
                  "# HELP ecorridor_http_connections_open HTTP connections open now.\n"
                  "# TYPE ecorridor_http_connections_open gauge\n"
                  "ecorridor_http_connections_open %lld\n"
                  "# HELP ecorridor_http_connections_total HTTP connections accepted since start.\n"
                  "# TYPE ecorridor_http_connections_total counter\n"
                  "ecorridor_http_connections_total %lld\n"
                  "# HELP ecorridor_http_refused_busy_total Connections answered 503: too many in all or from one address.\n"
                  "# TYPE ecorridor_http_refused_busy_total counter\n"
                  "ecorridor_http_refused_busy_total %lld\n"
                  "# HELP ecorridor_http_timeouts_total Connections closed for sending a request too slowly.\n"
                  "# TYPE ecorridor_http_timeouts_total counter\n"
                  "ecorridor_http_timeouts_total %lld\n"
                  "# HELP ecorridor_http_bad_requests_total Requests the HTTP layer refused itself (400, 413, 414, 431, 501, 505).\n"
                  "# TYPE ecorridor_http_bad_requests_total counter\n"
                  "ecorridor_http_bad_requests_total %lld\n"
                  "# HELP ecorridor_http_streams_open Answers being streamed now (live events).\n"
                  "# TYPE ecorridor_http_streams_open gauge\n"
                  "ecorridor_http_streams_open %lld\n"
                  "# HELP ecorridor_http_streams_dropped_total Streams cut because their client did not read.\n"
                  "# TYPE ecorridor_http_streams_dropped_total counter\n"
                  "ecorridor_http_streams_dropped_total %lld\n",
                  (long long)http->open, (long long)http->total, (long long)http->refused_busy,
                  (long long)http->timeouts, (long long)http->bad_requests, (long long)http->streams_open,
                  (long long)http->streams_dropped);
    /* store NULL: the caller shows no object counts (a request without a key). */
    if (store)
        ec_buf_puts(out, "# HELP ecorridor_store_objects Objects in the register, by kind.\n"
                         "# TYPE ecorridor_store_objects gauge\n");
    for (int k = 0; store && k < EC_KIND_COUNT; k++) {
        int64_t n = 0;
        ec_store_count(store, (ec_kind)k, &n);
        ec_buf_printf(out, "ecorridor_store_objects{kind=\"%s\"} %lld\n", ec_kind_name((ec_kind)k), (long long)n);
    }
    ec_buf_printf(out,
                  "# HELP ecorridor_store_writes_total Durable writes acknowledged.\n"
                  "# TYPE ecorridor_store_writes_total counter\n"
                  "ecorridor_store_writes_total %lld\n"
                  "# HELP ecorridor_store_write_errors_total Writes the store refused or failed.\n"
                  "# TYPE ecorridor_store_write_errors_total counter\n"
                  "ecorridor_store_write_errors_total %lld\n",
                  (long long)m->store_writes, (long long)m->store_write_errors);
    struct stat st;
    if (db_path && stat(db_path, &st) == 0)
        ec_buf_printf(out,
                      "# HELP ecorridor_store_file_bytes Size of the database file.\n"
                      "# TYPE ecorridor_store_file_bytes gauge\n"
                      "ecorridor_store_file_bytes %lld\n",
                      (long long)st.st_size);
}

void metrics__write_ocpp(const ocpp_stats_t *o, const ec_http_stats_t *http, ec_buf *out)
{
    ec_buf_printf(out,
                  "# HELP ecorridor_ocpp_connections_open Charge points connected now.\n"
                  "# TYPE ecorridor_ocpp_connections_open gauge\n"
                  "ecorridor_ocpp_connections_open %lld\n"
                  "# HELP ecorridor_ocpp_connections_total Charge point connections accepted since start.\n"
                  "# TYPE ecorridor_ocpp_connections_total counter\n"
                  "ecorridor_ocpp_connections_total %lld\n"
                  "# HELP ecorridor_ocpp_connections_refused_total Upgrades refused (subprotocol, credentials, id).\n"
                  "# TYPE ecorridor_ocpp_connections_refused_total counter\n"
                  "ecorridor_ocpp_connections_refused_total %lld\n",
                  (long long)http->ws_open, (long long)http->ws_total, (long long)http->ws_refused);
    const struct {
        const char *name, *help;
        int64_t v;
    } c[] = {
        {"calls_received", "CALLs from charge points.", o->calls_in},
        {"results_sent", "CALLRESULTs sent to charge points.", o->results_out},
        {"errors_sent", "CALLERRORs sent to charge points.", o->errors_out},
        {"calls_sent", "CALLs (commands) sent to charge points.", o->calls_out},
        {"results_received", "CALLRESULTs from charge points.", o->results_in},
        {"errors_received", "CALLERRORs from charge points.", o->errors_in},
        {"call_timeouts", "Commands a charge point did not answer in time.", o->timeouts},
        {"commits", "Store commits of charge point messages (one per loop turn that wrote).", o->commits},
        {"commit_failures", "Commits that failed (the replies were not sent).", o->commit_failures},
        {"allocations", "Power allocations of a group of sessions behind one limit.", o->allocations},
        {"profiles_sent", "SetChargingProfile calls the power sharing sent.", o->profiles_sent},
        {"profiles_accepted", "Charging profiles the chargers accepted.", o->profiles_accepted},
        {"profiles_refused", "Charging profiles refused, failed or unanswered.", o->profiles_refused},
        {"journal_failures", "Events or commands of the power sharing the journal could not keep.", o->journal_failures},
        {"auth_limited", "Handshakes refused for too many failed password attempts (429).", o->auth_limited},
        {"auth_slow", "Passwords checked with Argon2id on the worker pool.", o->auth_slow},
        {"auth_cached", "Passwords found already verified in memory (no slow check).", o->auth_cached},
        {"connections_cut", "Connections closed as their charger was deleted or changed.", o->cut},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        ec_buf_printf(out, "# HELP ecorridor_ocpp_%s_total %s\n# TYPE ecorridor_ocpp_%s_total counter\necorridor_ocpp_%s_total %lld\n",
                      c[i].name, c[i].help, c[i].name, c[i].name, (long long)c[i].v);
}
