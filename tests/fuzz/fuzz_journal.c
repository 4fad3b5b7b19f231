/* fuzz_journal.c - the journal's reader of events and commands (what
 * `journal import` and `replay` read): the first byte picks the kind, the
 * rest is the row's JSON. What reads is written back and must read again,
 * and an event that reads is fed to an engine that knows a substation and
 * a site, then a tick: nothing it can be given may break it. */
#include "ecorridor/ec_share.h"

#include <string.h>

static const char *const kinds[] = {"reset", "site", "substation", "cp_up", "cp_down", "tx_start", "tx_meter",
                                    "tx_stop", "plan", "result", "tick", "limit", "price", "status",
                                    "arrive", "leave"};

static void drop(void *ctx, const ec_share_cmd_t *c)
{
    (void)ctx, (void)c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    ec_log_set_level(EC_LOG_OFF);
    const char *kind = kinds[data[0] % (sizeof kinds / sizeof kinds[0])];
    const char *json = (const char *)data + 1;
    size_t len = size - 1;
    ec_buf b;
    ec_buf_init(&b, 8u << 20);
    if (!strcmp(kind, "limit") || !strcmp(kind, "price")) {
        ec_share_cmd_t c, c2;
        if (!ec_share_cmd_parse(kind, 1767225600000LL, json, len, &c)) {
            if (ec_share_cmd_json(&c, &b) || ec_share_cmd_parse(kind, c.t_ms, b.data, b.len, &c2) || !ec_share_cmd_equal(&c, &c2))
                __builtin_trap();
            char d[300];
            ec_share_cmd_describe(&c, d, sizeof d);
        }
        ec_buf_free(&b);
        return 0;
    }
    ec_share_event_t ev, ev2;
    ec_site_power_t site, site2;
    ec_substation_power_t sub, sub2;
    memset(&site, 0, sizeof site), memset(&sub, 0, sizeof sub);
    memset(&site2, 0, sizeof site2), memset(&sub2, 0, sizeof sub2);
    if (!ec_share_event_parse(kind, 1767225600000LL, json, len, &ev, &site, &sub)) {
        if (ec_share_event_json(&ev, &b) || ec_share_event_parse(kind, ev.t_ms, b.data, b.len, &ev2, &site2, &sub2))
            __builtin_trap();
        ec_share *e;
        if (!ec_share_new(drop, NULL, &e)) {
            ec_power_evse_t evse[1] = {{"E1", 22000}};
            ec_site_power_t s0 = {"s", "sub", 1, "opt", 0, 60, 60, 0, evse, 1};
            ec_substation_power_t b0;
            memset(&b0, 0, sizeof b0);
            memcpy(b0.id, "sub", 4);
            b0.capacity_w = 50000;
            ec_share_event_t x;
            memset(&x, 0, sizeof x);
            x.t_ms = ev.t_ms;
            x.kind = EC_SE_SUBSTATION, x.substation_power = &b0;
            ec_share_feed(e, &x);
            x.kind = EC_SE_SITE, x.site_power = &s0;
            ec_share_feed(e, &x);
            memcpy(x.cp, "CP", 3), memcpy(x.site, "s", 2), memcpy(x.evse_uid[1], "E1", 3);
            x.kind = EC_SE_CP_UP, x.serial = 1;
            ec_share_feed(e, &x);
            x.kind = EC_SE_TX_START, x.tx = 1, x.connector = 1, x.start_s = ev.t_ms / 1000, x.requested_wh = -1;
            ec_share_feed(e, &x);
            ec_share_feed(e, &ev);
            memset(&x, 0, sizeof x);
            x.kind = EC_SE_TICK, x.t_ms = ev.t_ms + 120000;
            ec_share_feed(e, &x);
            ec_buf_reset(&b);
            ec_share_group_json(e, "s", NULL, x.t_ms, &b);
            double p;
            ec_share_price(e, "s", x.t_ms / 1000, &p);
            ec_share_free(e);
        }
    }
    ec_site_power_free(&site), ec_substation_power_free(&sub);
    ec_site_power_free(&site2), ec_substation_power_free(&sub2);
    ec_buf_free(&b);
    return 0;
}
