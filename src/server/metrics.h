/* metrics.h - request counts and latencies, and the Prometheus text that
 * /metrics serves of them, of the HTTP server and of the OCPP central
 * system (metrics.c). */
#ifndef EC_SERVER_METRICS_H
#define EC_SERVER_METRICS_H

#include "ecorridor/ec_store.h"
#include "http.h"
#include "ocpp.h"

#define EC_METRIC_BUCKETS 12

typedef struct {
    int64_t requests[EC_HTTP_N_METHODS][600];
    int64_t latency_buckets[EC_METRIC_BUCKETS];
    int64_t latency_count;
    double latency_sum_s;
    int64_t store_writes, store_write_errors;
} ec_metrics;

void metrics__observe(ec_metrics *m, ec_http_method method, int status, double seconds);
void metrics__write(const ec_metrics *m, const ec_http_stats_t *http, ec_store *store,
                    const char *db_path, ec_buf *out);
void metrics__write_ocpp(const ocpp_stats_t *o, const ec_http_stats_t *http, ec_buf *out);

#endif
