/* log.c - one line per event to stderr, and UTC time helpers. */
#include "ecorridor/ec_base.h"

#include <stdatomic.h>
#include <time.h>

static atomic_int log_level = EC_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void ec_log_set_level(ec_log_level lvl)
{
    atomic_store(&log_level, (int)lvl);
}

ec_log_level ec_log_get_level(void)
{
    return (ec_log_level)atomic_load(&log_level);
}

void ec_log(ec_log_level lvl, const char *fmt, ...)
{
    if ((int)lvl < atomic_load(&log_level) || lvl >= EC_LOG_OFF) return;
    char ts[32], line[1200];
    ec_time_format_iso(ec_time_now_s(), ts, sizeof ts);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s %s\n", ts, level_names[lvl], line);
}

int64_t ec_time_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t ec_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void ec_time_format_iso(int64_t t_s, char *out, size_t n)
{
    time_t t = (time_t)t_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, n, "invalid-time");
        return;
    }
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
