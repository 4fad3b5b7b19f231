/* schedule.c - a replay's schedule as CSV: one row a period, its start in
 * UTC, the load curve, then each session's power. */
#include "ecorridor/ec_sim.h"

#include <errno.h>
#include <string.h>

/* A field as CSV wants it: quoted when it holds a comma, a quote or a line break. */
static void field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

ec_err ec_charge_schedule_open(ec_charge_schedule_t *s, const char *path, int64_t start_s, const ec_vec *sessions,
                               int battery, int others)
{
    memset(s, 0, sizeof *s);
    s->f = fopen(path, "w");
    if (!s->f) return ec_fail(EC_EIO, "%s: cannot write: %s", path, strerror(errno));
    s->path = path, s->start_s = start_s, s->sessions = sessions, s->battery = battery, s->others = others;
    fputs("period_start,total_kw", s->f);
    if (battery) fputs(",battery_kw", s->f);
    if (others) fputs(",others_kw", s->f);
    for (size_t i = 0; i < sessions->len; i++) {
        fputc(',', s->f);
        field(s->f, EC_VEC_AT(sessions, ec_charge_session_t, i).id);
    }
    fputc('\n', s->f);
    return EC_OK;
}

/* Powers in kW to the watt: what a charger is given is never finer. */
static void kw(FILE *f, double w)
{
    double v = w / 1000;
    fprintf(f, ",%.3f", v > -0.0005 && v < 0.0005 ? 0.0 : v);
}

void ec_charge_schedule_period(void *ctx, int64_t t_s, const double *session_w, double battery_w, double others_w)
{
    ec_charge_schedule_t *s = ctx;
    char when[32];
    ec_time_format_iso(s->start_s + t_s, when, sizeof when);
    double total = battery_w;
    for (size_t i = 0; i < s->sessions->len; i++) total += session_w[i];
    fputs(when, s->f);
    kw(s->f, total);
    if (s->battery) kw(s->f, battery_w);
    if (s->others) kw(s->f, others_w);
    for (size_t i = 0; i < s->sessions->len; i++) kw(s->f, session_w[i]);
    fputc('\n', s->f);
}

ec_err ec_charge_schedule_close(ec_charge_schedule_t *s)
{
    if (!s->f) return EC_OK;
    int bad = ferror(s->f);
    bad |= fclose(s->f) != 0;
    s->f = NULL;
    return bad ? ec_fail(EC_EIO, "%s: could not write the schedule", s->path) : EC_OK;
}
