/* ocpp_availability.c - a port the operator takes out of service is excluded
 * outage time of its own kind: when a charge point accepts a ChangeAvailability
 * to Inoperative, the hub records an open outage with reason operator_request
 * for that port, so that the KPIs tell its Unavailable status from a fault,
 * and closes it when a later ChangeAvailability to Operative is accepted. */
#include "ocpp_cs.h"

#include <string.h>

/* The operator_request outages of one charge point still open: at most one
 * per connector and one for the whole charge point are made here, and a few
 * more recorded through the API are kept in view. */
#define OPEN_MAX 64

typedef struct {
    const char *cp;
    ec_outage_t open[OPEN_MAX];
    int n;
} open_set;

static ec_err collect_open(void *ctx, const ec_outage_t *o)
{
    open_set *s = ctx;
    if (o->to_s == 0 && !strcmp(o->charge_point, s->cp) && !strcmp(o->reason, "operator_request") && s->n < OPEN_MAX)
        s->open[s->n++] = *o;
    return EC_OK;
}

void ocpp__availability_accepted(ocpp_env *e, const ocpp_cp *cp, int connector, int operative, int64_t now_s)
{
    if (!cp->site_id[0]) {
        ec_log(EC_LOG_WARN, "ocpp: %s is on no site: its ChangeAvailability is not recorded as an outage", cp->id);
        return;
    }
    static open_set s; /* the loop's thread only; too large for its stack */
    memset(&s, 0, sizeof s);
    s.cp = cp->id;
    ec_err rc = ec_store_outage_list(e->store, cp->site_id, now_s, 0, collect_open, &s);
    for (int i = 0; !rc && i < s.n; i++) {
        ec_outage_t *o = &s.open[i];
        if (!operative) {
            /* Out already, as a port or with its whole charge point. */
            if (o->connector == connector || o->connector == 0) return;
            continue;
        }
        /* The whole charge point back in service ends every one of its ports' outages. */
        if (connector != 0 && o->connector != connector) continue;
        o->to_s = now_s > o->from_s ? now_s : o->from_s + 1;
        rc = ec_store_outage_put(e->store, o);
    }
    if (!rc && !operative) {
        ec_outage_t o;
        memset(&o, 0, sizeof o);
        snprintf(o.site_id, sizeof o.site_id, "%s", cp->site_id);
        snprintf(o.charge_point, sizeof o.charge_point, "%s", cp->id);
        o.connector = connector;
        o.from_s = now_s;
        snprintf(o.reason, sizeof o.reason, "operator_request");
        snprintf(o.note, sizeof o.note, "ChangeAvailability Inoperative accepted by the charge point");
        snprintf(o.created_by, sizeof o.created_by, "%s", cp->operator_id[0] ? cp->operator_id : "hub");
        rc = ec_store_outage_put(e->store, &o);
    }
    if (rc) ec_log(EC_LOG_ERROR, "ocpp: %s: its change of availability could not be recorded: %s", cp->id, ec_errmsg());
}
