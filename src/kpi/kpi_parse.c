/* kpi_parse.c - the commonest journal rows read without a JSON tree.
 *
 * A hub's month is millions of rows, nine in ten of them meter readings,
 * status changes and session stops, which the hub writes in one compact form
 * (share_codec.c: keys in a fixed order, no spaces). These read exactly that
 * form and nothing else; any other spelling of the same row (an imported
 * journal written by hand, say) is refused here and read by the journal's
 * own reader, ec_share_event_parse, so both give the same event
 * (tests/unit/test_kpi.c checks they agree; fuzz_kpi feeds them anything). */
#include "kpi_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    int bad;
} scan;

static void lit(scan *s, const char *l)
{
    size_t n = strlen(l);
    if (s->bad || (size_t)(s->end - s->p) < n || memcmp(s->p, l, n)) s->bad = 1;
    else s->p += n;
}

/* A whole number, as the codec writes one (no sign, no leading zero, at most 15 digits). */
static int64_t whole(scan *s)
{
    int64_t v = 0;
    const char *b = s->p;
    while (!s->bad && s->p < s->end && *s->p >= '0' && *s->p <= '9' && s->p - b < 15) v = v * 10 + (*s->p++ - '0');
    if (s->p == b || (*b == '0' && s->p - b > 1) || (s->p < s->end && *s->p >= '0' && *s->p <= '9')) s->bad = 1;
    return v;
}

/* A string without escapes (else the full reader takes it), then its closing quote. */
static void str(scan *s, char *out, size_t cap)
{
    size_t n = 0;
    while (!s->bad && s->p < s->end && *s->p != '"') {
        if (*s->p == '\\' || (unsigned char)*s->p < 0x20 || n + 1 >= cap) s->bad = 1;
        else out[n++] = *s->p++;
    }
    if (s->bad || s->p >= s->end) {
        s->bad = 1;
        return;
    }
    out[n] = 0;
    s->p++;
}

static ec_err done(scan *s)
{
    lit(s, "}");
    return s->bad || s->p != s->end ? EC_EINVAL : EC_OK;
}

ec_err kpi__parse_meter(const char *data, size_t len, int64_t *tx, double *wh)
{
    scan s = {data, data + len, 0};
    lit(&s, "{\"tx\":");
    int64_t t = whole(&s);
    lit(&s, ",\"delivered_wh\":");
    if (s.bad || t <= 0) return EC_EINVAL;
    /* The hub's readings are whole Wh; a fraction, a sign or an exponent goes to strtod. */
    scan w = s;
    int64_t v = whole(&w);
    if (done(&w) == EC_OK) {
        *tx = t, *wh = (double)v;
        return EC_OK;
    }
    char num[40];
    size_t n = 0;
    while (s.p < s.end && n < sizeof num - 1 && *s.p && strchr("-.0123456789eE+", *s.p)) num[n++] = *s.p++;
    num[n] = 0;
    if (!n || done(&s)) return EC_EINVAL;
    /* JSON's grammar: an optional minus, then a digit. */
    if (!((num[0] >= '0' && num[0] <= '9') || (num[0] == '-' && num[1] >= '0' && num[1] <= '9'))) return EC_EINVAL;
    char *end;
    double x = strtod(num, &end);
    if (*end || !isfinite(x)) return EC_EINVAL;
    *tx = t, *wh = x;
    return EC_OK;
}

ec_err kpi__parse_status(const char *data, size_t len, ec_share_event_t *ev)
{
    scan s = {data, data + len, 0};
    lit(&s, "{\"cp\":\"");
    str(&s, ev->cp, sizeof ev->cp);
    lit(&s, ",\"connector\":");
    int64_t c = whole(&s);
    lit(&s, ",\"status\":\"");
    str(&s, ev->status, sizeof ev->status);
    lit(&s, ",\"error_code\":\"");
    str(&s, ev->error_code, sizeof ev->error_code);
    if (done(&s) || !ev->status[0] || c > EC_SHARE_MAX_CONNECTORS) return EC_EINVAL;
    ev->kind = EC_SE_STATUS, ev->connector = (int)c;
    return EC_OK;
}

ec_err kpi__parse_tx(const char *data, size_t len, int64_t *tx)
{
    scan s = {data, data + len, 0};
    lit(&s, "{\"tx\":");
    *tx = whole(&s);
    return done(&s) || *tx <= 0 ? EC_EINVAL : EC_OK;
}
