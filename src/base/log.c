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

int ec_time_parse_iso(const char *s, int64_t *t_s)
{
    int y, mo, d, h, mi, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5) return -1;
    const char *rest = s + n;
    if (*rest == ':') {
        int m = 0;
        if (sscanf(rest, ":%2d%n", &sec, &m) != 1) return -1;
        rest += m;
    }
    if (*rest == 'Z') rest++;
    if (*rest || y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60 || h < 0 || mi < 0 || sec < 0)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d) return -1; /* 31 Feb */
    *t_s = (int64_t)t;
    return 0;
}
