/* test_cpsim.c - the simulated charge point without sockets: the frames it
 * sends for a boot and a session, the power along the energy model's curves
 * and under the profiles it accepted (in W and in A), the hub's other calls,
 * malformed frames, a lost connection in the middle of a start; the region
 * read from the test fixture; and the upgrade's answer checked against
 * RFC 6455's own example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_cpsim.h"
#include "ecorridor/ec_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_SENT 256
#define T0 INT64_C(1796560000000) /* 2026-12-06, in ms */

static char *sent[MAX_SENT];
static int n_sent, answered = -1; /* the index of the last of our frames answered */
static ec_cpsim_event_t last_meter, last_limit;
static int n_events[16], resets;

static ec_err fake_send(void *ctx, ec_cpsim_cp *cp, const char *text, size_t len)
{
    (void)ctx, (void)cp;
    assert_true(n_sent < MAX_SENT);
    sent[n_sent] = ec_malloc(len + 1);
    memcpy(sent[n_sent], text, len);
    sent[n_sent++][len] = 0;
    return EC_OK;
}

static void fake_event(void *ctx, ec_cpsim_cp *cp, const ec_cpsim_event_t *ev)
{
    (void)ctx, (void)cp;
    n_events[ev->kind]++;
    if (ev->kind == EC_CPSIM_EV_METER) last_meter = *ev;
    if (ev->kind == EC_CPSIM_EV_LIMIT) last_limit = *ev;
}

static void fake_reset(void *ctx, ec_cpsim_cp *cp)
{
    (void)ctx, (void)cp;
    resets++;
}

static void clear_sent(void)
{
    for (int i = 0; i < n_sent; i++) ec_free(sent[i]);
    n_sent = 0, answered = -1;
}

static ec_cpsim_token_t tokens[2] = {{"TOK-1", 0}, {"TOK-2", 0}};
static int session_s = 180; /* the pace of the next machine made */

static ec_cpsim_cp *new_cp_tokens(int n_conn, ec_plug plug, double max_w, size_t n_tokens)
{
    ec_cpsim_charger_t ch;
    memset(&ch, 0, sizeof ch);
    snprintf(ch.id, sizeof ch.id, "CP-T");
    snprintf(ch.site_id, sizeof ch.site_id, "S");
    ch.n_conn = n_conn;
    for (int k = 0; k < n_conn; k++) ch.conn[k].plug = plug, ch.conn[k].max_w = max_w;
    ec_cpsim_pace_t pace;
    ec_cpsim_pace_default(&pace);
    pace.session_s = session_s;
    ec_cpsim_io io = {NULL, fake_send, fake_event, fake_reset};
    ec_cpsim_cp *cp = NULL;
    tokens[0].busy = tokens[1].busy = 0;
    assert_int_equal(ec_cpsim_cp_new(&ch, tokens, n_tokens, &pace, 3, &io, &cp), EC_OK);
    clear_sent();
    memset(n_events, 0, sizeof n_events);
    resets = 0;
    return cp;
}

static ec_cpsim_cp *new_cp(int n_conn, ec_plug plug, double max_w)
{
    return new_cp_tokens(n_conn, plug, max_w, 2);
}

/* The last frame sent, parsed (owned by the caller). */
static ec_json *last(void)
{
    assert_true(n_sent > 0);
    ec_json *j = NULL;
    assert_int_equal(ec_json_load_str(sent[n_sent - 1], "sent", &j), EC_OK);
    return j;
}

/* The last frame is a CALL of action: returns its id (static). */
static const char *expect_call(const char *action)
{
    static char uid[40];
    ec_json *j = last();
    double t = 0;
    ec_json_number(ec_json_array_get(j, 0), &t);
    assert_true(t == 2);
    if (strcmp(ec_json_str(ec_json_array_get(j, 2)), action)) fail_msg("expected %s, sent %s", action, sent[n_sent - 1]);
    snprintf(uid, sizeof uid, "%s", ec_json_str(ec_json_array_get(j, 1)));
    ec_json_free(j);
    return uid;
}

static void answer(ec_cpsim_cp *cp, const char *uid, const char *payload, int64_t t)
{
    char f[1024];
    snprintf(f, sizeof f, "[3,\"%s\",%s]", uid, payload);
    answered = n_sent - 1;
    if (ec_cpsim_cp_receive(cp, f, strlen(f), t)) {
        for (int i = 0; i < n_sent; i++) fprintf(stderr, "  sent %s\n", sent[i]);
        fail_msg("refused %s", f);
    }
}

/* Answers every StatusNotification, Heartbeat and MeterValues in a row
 * (all: every call, a start with transaction 7). */
static void drain_calls(ec_cpsim_cp *cp, int64_t t, int all)
{
    for (int guard = 0; guard < 64 && n_sent && answered < n_sent - 1; guard++) {
        ec_json *j = last();
        const char *a = ec_json_str(ec_json_array_get(j, 2));
        double type = 0;
        ec_json_number(ec_json_array_get(j, 0), &type);
        if (type != 2) {
            ec_json_free(j);
            return;
        }
        int plain = a && (!strcmp(a, "StatusNotification") || !strcmp(a, "Heartbeat") || !strcmp(a, "MeterValues"));
        const char *reply = a && !strcmp(a, "StartTransaction") ? "{\"transactionId\":7,\"idTagInfo\":{\"status\":\"Accepted\"}}"
                            : a && !strcmp(a, "Authorize")      ? "{\"idTagInfo\":{\"status\":\"Accepted\"}}"
                                                                : "{}";
        plain |= all;
        char uid[40];
        snprintf(uid, sizeof uid, "%s", plain ? ec_json_str(ec_json_array_get(j, 1)) : "");
        ec_json_free(j);
        if (!plain) return;
        answer(cp, uid, reply, t);
    }
}

static void drain(ec_cpsim_cp *cp, int64_t t)
{
    drain_calls(cp, t, 0);
}

static void boot(ec_cpsim_cp *cp, int64_t t)
{
    ec_cpsim_cp_connected(cp, t);
    const char *uid = expect_call("BootNotification");
    answer(cp, uid, "{\"status\":\"Accepted\",\"currentTime\":\"2026-12-06T10:00:00Z\",\"interval\":300}", t);
    expect_call("StatusNotification");
    drain(cp, t);
}

/* Runs a session to its start on connector 1 and returns the time. */
static int64_t start_session(ec_cpsim_cp *cp)
{
    boot(cp, T0);
    int64_t t = T0;
    while (n_sent == 0 || strstr(sent[n_sent - 1], "Authorize") == NULL) {
        t += 500;
        ec_cpsim_cp_tick(cp, t);
        drain(cp, t);
        assert_true(t < T0 + 60000);
    }
    const char *uid = expect_call("Authorize");
    answer(cp, uid, "{\"idTagInfo\":{\"status\":\"Accepted\"}}", t);
    drain(cp, t);
    uid = expect_call("StartTransaction");
    assert_non_null(strstr(sent[n_sent - 1], "\"meterStart\":0"));
    answer(cp, uid, "{\"transactionId\":42,\"idTagInfo\":{\"status\":\"Accepted\"}}", t);
    drain(cp, t);
    return t;
}

static void test_boot_and_status(void **state)
{
    (void)state;
    ec_cpsim_cp *cp = new_cp(2, EC_PLUG_CCS2, 350000);
    ec_cpsim_cp_connected(cp, T0);
    const char *uid = expect_call("BootNotification");
    /* Nothing else goes out before the boot is accepted. */
    ec_cpsim_cp_tick(cp, T0 + 20000);
    assert_int_equal(n_sent, 1);
    answer(cp, uid, "{\"status\":\"Pending\",\"currentTime\":\"2026-12-06T10:00:00Z\",\"interval\":30}", T0 + 20000);
    ec_cpsim_cp_tick(cp, T0 + 40000);
    assert_int_equal(n_sent, 1);
    ec_cpsim_cp_tick(cp, T0 + 50001);
    uid = expect_call("BootNotification");
    answer(cp, uid, "{\"status\":\"Accepted\",\"currentTime\":\"2026-12-06T10:00:00Z\",\"interval\":300}", T0 + 50001);
    /* One StatusNotification per connector, 0 first, one at a time. */
    for (int k = 0; k <= 2; k++) {
        char want[64];
        snprintf(want, sizeof want, "\"connectorId\":%d,", k);
        uid = expect_call("StatusNotification");
        assert_non_null(strstr(sent[n_sent - 1], want));
        assert_non_null(strstr(sent[n_sent - 1], "\"status\":\"Available\""));
        int before = n_sent;
        answer(cp, uid, "{}", T0 + 50001);
        if (k < 2) assert_int_equal(n_sent, before + 1);
    }
    clear_sent();
    ec_cpsim_cp_free(cp);
}

static void test_session_follows_curve(void **state)
{
    (void)state;
    session_s = 1000; /* at least 200 s: the readings below all fall in the session */
    ec_cpsim_cp *cp = new_cp(1, EC_PLUG_MCS, 1000000);
    session_s = 180;
    int64_t t = start_session(cp);
    assert_int_equal(n_events[EC_CPSIM_EV_START], 1);
    double energy = 0, p_prev = 0;
    for (int i = 0; i < 12; i++) {
        /* Energy is the power integrated: between two readings, the power then times the time. */
        t += 10000;
        ec_cpsim_cp_tick(cp, t);
        if (!n_events[EC_CPSIM_EV_METER]) continue;
        if (i > 0) assert_true(fabs(last_meter.energy_wh - energy - p_prev * 10 / 3600) < 1);
        energy = last_meter.energy_wh, p_prev = last_meter.power_w;
        /* The power is a built-in truck's curve at this SoC on MCS, under 1 MW. */
        int found = 0;
        for (const char *const *n = ec_vehicle_profile_names(); *n; n++) {
            ec_vehicle_profile v;
            assert_int_equal(ec_vehicle_profile_builtin(*n, &v), EC_OK);
            found |= fabs(floor(ec_charge_power_w(&v, EC_PLUG_MCS, 1000000, last_meter.soc)) - last_meter.power_w) < 0.5;
        }
        assert_true(found);
        assert_true(last_meter.power_w > 100000);
        assert_non_null(strstr(sent[n_sent - 1], "Energy.Active.Import.Register"));
        assert_non_null(strstr(sent[n_sent - 1], "Power.Active.Import"));
        assert_non_null(strstr(sent[n_sent - 1], "\"measurand\":\"SoC\""));
        drain(cp, t);
    }
    assert_true(n_events[EC_CPSIM_EV_METER] >= 10);
    /* The session ends within 1.5 x 1000 s (or when the truck is full); its stop carries the meter. */
    while (!n_events[EC_CPSIM_EV_STOP]) {
        t += 1000;
        ec_cpsim_cp_tick(cp, t);
        drain(cp, t);
        assert_true(t < T0 + 1600000);
    }
    int stop = -1;
    for (int i = 0; i < n_sent; i++)
        if (strstr(sent[i], "StopTransaction")) stop = i;
    assert_true(stop >= 0);
    assert_non_null(strstr(sent[stop], "\"transactionId\":42"));
    assert_non_null(strstr(sent[stop], "\"reason\":\"EVDisconnected\""));
    ec_cpsim_stats_t st;
    memset(&st, 0, sizeof st);
    ec_cpsim_cp_stats(cp, &st);
    char want[64];
    snprintf(want, sizeof want, "\"meterStop\":%.0f", floor(st.energy_wh));
    assert_non_null(strstr(sent[stop], want));
    clear_sent();
    ec_cpsim_cp_free(cp);
}

static void test_profiles(void **state)
{
    (void)state;
    ec_cpsim_cp *cp = new_cp(1, EC_PLUG_CCS2, 400000);
    int64_t t = start_session(cp);
    t += 2000;
    ec_cpsim_cp_tick(cp, t);
    drain_calls(cp, t, 1);
    clear_sent();
    /* 100 A on 3 phases at 230 V is 69 kW. */
    const char *amps = "[2,\"p1\",\"SetChargingProfile\",{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":1001,"
                       "\"transactionId\":42,\"stackLevel\":1,\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":"
                       "\"Absolute\",\"chargingSchedule\":{\"startSchedule\":\"2026-12-06T00:00:00Z\",\"chargingRateUnit\":\"A\","
                       "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":100.0}]}}}]";
    assert_int_equal(ec_cpsim_cp_receive(cp, amps, strlen(amps), t), EC_OK);
    assert_string_equal(sent[0], "[3,\"p1\",{\"status\":\"Accepted\"}]");
    assert_true(fabs(ec_cpsim_cp_limit_w(cp, 1, t) - 69000) < 1e-6);
    assert_true(fabs(last_limit.limit_w - 69000) < 1e-6);
    assert_true(last_limit.power_w <= 69000);
    for (int i = 0; i < 3; i++) {
        t += 10000;
        ec_cpsim_cp_tick(cp, t);
        if (n_events[EC_CPSIM_EV_METER]) assert_true(last_meter.power_w <= 69000 && last_meter.power_w > 60000);
        drain(cp, t);
    }
    /* A charge point limit under the connector's: the least holds. */
    const char *cpmax = "[2,\"p2\",\"SetChargingProfile\",{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":1,"
                        "\"stackLevel\":1,\"chargingProfilePurpose\":\"ChargePointMaxProfile\",\"chargingProfileKind\":"
                        "\"Absolute\",\"chargingSchedule\":{\"chargingRateUnit\":\"W\","
                        "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":25000.0}]}}}]";
    clear_sent();
    assert_int_equal(ec_cpsim_cp_receive(cp, cpmax, strlen(cpmax), t), EC_OK);
    assert_string_equal(sent[0], "[3,\"p2\",{\"status\":\"Accepted\"}]");
    assert_true(last_limit.power_w <= 25000);
    /* A limit of 0: it draws nothing (and says SuspendedEVSE). */
    const char *zero = "[2,\"p3\",\"SetChargingProfile\",{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":1001,"
                       "\"stackLevel\":1,\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":\"Absolute\","
                       "\"chargingSchedule\":{\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
                       "\"limit\":0}]}}}]";
    clear_sent();
    assert_int_equal(ec_cpsim_cp_receive(cp, zero, strlen(zero), t), EC_OK);
    assert_true(last_limit.power_w == 0);
    int suspended = 0;
    for (int i = 0; i < n_sent; i++) suspended |= strstr(sent[i], "SuspendedEVSE") != NULL;
    assert_true(suspended);
    /* Cleared: back to the curve. */
    const char *clr = "[2,\"p5\",\"ClearChargingProfile\",{}]";
    clear_sent();
    assert_int_equal(ec_cpsim_cp_receive(cp, clr, strlen(clr), t), EC_OK);
    assert_string_equal(sent[0], "[3,\"p5\",{\"status\":\"Accepted\"}]");
    assert_true(isinf(ec_cpsim_cp_limit_w(cp, 1, t)));
    t += 1000;
    ec_cpsim_cp_tick(cp, t);
    assert_true(isinf(last_limit.limit_w));
    clear_sent();
    ec_cpsim_cp_free(cp);
}

static void test_hub_calls(void **state)
{
    (void)state;
    ec_cpsim_cp *cp = new_cp(2, EC_PLUG_CCS2, 400000);
    boot(cp, T0);
    clear_sent();
    struct {
        const char *frame, *answer;
    } cases[] = {
        {"[2,\"a\",\"RemoteStartTransaction\",{\"connectorId\":2,\"idTag\":\"TOK-2\"}]", "[3,\"a\",{\"status\":\"Accepted\"}]"},
        {"[2,\"b\",\"RemoteStartTransaction\",{\"connectorId\":2,\"idTag\":\"TOK-2\"}]", "[3,\"b\",{\"status\":\"Rejected\"}]"},
        {"[2,\"c\",\"ChangeAvailability\",{\"connectorId\":1,\"type\":\"Inoperative\"}]", "[3,\"c\",{\"status\":\"Accepted\"}]"},
        {"[2,\"d\",\"ReserveNow\",{\"connectorId\":1,\"expiryDate\":\"2026-12-06T12:00:00Z\",\"idTag\":\"TOK-1\","
         "\"reservationId\":5}]", "[3,\"d\",{\"status\":\"Unavailable\"}]"},
        {"[2,\"e\",\"ChangeAvailability\",{\"connectorId\":1,\"type\":\"Operative\"}]", "[3,\"e\",{\"status\":\"Accepted\"}]"},
        {"[2,\"f\",\"ReserveNow\",{\"connectorId\":1,\"expiryDate\":\"2026-12-06T12:00:00Z\",\"idTag\":\"TOK-1\","
         "\"reservationId\":5}]", "[3,\"f\",{\"status\":\"Accepted\"}]"},
        {"[2,\"g\",\"CancelReservation\",{\"reservationId\":5}]", "[3,\"g\",{\"status\":\"Accepted\"}]"},
        {"[2,\"h\",\"CancelReservation\",{\"reservationId\":5}]", "[3,\"h\",{\"status\":\"Rejected\"}]"},
        /* A TxProfile for a connector without a session, a ChargePointMaxProfile on a connector: Rejected. */
        {"[2,\"h2\",\"SetChargingProfile\",{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":1001,"
         "\"stackLevel\":1,\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":\"Absolute\","
         "\"chargingSchedule\":{\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
         "\"limit\":1000}]}}}]", "[3,\"h2\",{\"status\":\"Rejected\"}]"},
        {"[2,\"h3\",\"SetChargingProfile\",{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":1,"
         "\"stackLevel\":1,\"chargingProfilePurpose\":\"ChargePointMaxProfile\",\"chargingProfileKind\":\"Absolute\","
         "\"chargingSchedule\":{\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
         "\"limit\":1000}]}}}]", "[3,\"h3\",{\"status\":\"Rejected\"}]"},
        {"[2,\"i\",\"ChangeConfiguration\",{\"key\":\"MeterValueSampleInterval\",\"value\":\"5\"}]",
         "[3,\"i\",{\"status\":\"Accepted\"}]"},
        {"[2,\"j\",\"ChangeConfiguration\",{\"key\":\"NumberOfConnectors\",\"value\":\"5\"}]", "[3,\"j\",{\"status\":\"Rejected\"}]"},
        {"[2,\"k\",\"ChangeConfiguration\",{\"key\":\"Nope\",\"value\":\"5\"}]", "[3,\"k\",{\"status\":\"NotSupported\"}]"},
        {"[2,\"l\",\"TriggerMessage\",{\"requestedMessage\":\"Heartbeat\"}]", "[3,\"l\",{\"status\":\"Accepted\"}]"},
        {"[2,\"m\",\"UnlockConnector\",{\"connectorId\":9}]", "[3,\"m\",{\"status\":\"NotSupported\"}]"},
        {"[2,\"n\",\"DataTransfer\",{\"vendorId\":\"x\"}]", "[3,\"n\",{\"status\":\"UnknownVendorId\"}]"},
        {"[2,\"o\",\"RemoteStopTransaction\",{\"transactionId\":999}]", "[3,\"o\",{\"status\":\"Rejected\"}]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = n_sent;
        assert_int_equal(ec_cpsim_cp_receive(cp, cases[i].frame, strlen(cases[i].frame), T0), EC_OK);
        assert_true(n_sent > before);
        if (strcmp(sent[before], cases[i].answer)) fail_msg("%s answered %s", cases[i].frame, sent[before]);
        drain_calls(cp, T0, 1);
    }
    /* The remote start went straight to StartTransaction (the hub authorized it). */
    int start = 0, authorize = 0;
    for (int i = 0; i < n_sent; i++) {
        start |= strstr(sent[i], "\"StartTransaction\"") && strstr(sent[i], "\"idTag\":\"TOK-2\"");
        authorize |= strstr(sent[i], "\"Authorize\"") != NULL;
    }
    assert_true(start && !authorize);
    /* A reset asks the transport to reconnect. */
    const char *rs = "[2,\"r\",\"Reset\",{\"type\":\"Soft\"}]";
    assert_int_equal(ec_cpsim_cp_receive(cp, rs, strlen(rs), T0), EC_OK);
    assert_int_equal(resets, 1);
    clear_sent();
    ec_cpsim_cp_free(cp);
}

static void test_bad_frames(void **state)
{
    (void)state;
    ec_cpsim_cp *cp = new_cp(1, EC_PLUG_CCS2, 400000);
    boot(cp, T0);
    clear_sent();
    struct {
        const char *frame, *code; /* NULL: nothing can be answered */
    } cases[] = {
        {"", NULL},
        {"[", NULL},
        {"{}", NULL},
        {"[2]", NULL},
        {"[2, 5, \"Reset\", {}]", NULL},
        {"[2, \"0123456789012345678901234567890123456\", \"Reset\", {}]", NULL},
        {"[2, \"x\", \"Reset\"]", "FormationViolation"},
        {"[2, \"x\", \"Reset\", []]", "FormationViolation"},
        {"[2, \"x\", \"Reset\", {\"type\": 1}]", "PropertyConstraintViolation"},
        {"[2, \"x\", 7, {}]", "FormationViolation"},
        {"[2, \"x\", \"Fly\", {}]", "NotImplemented"},
        {"[5, \"x\", \"Reset\", {}]", "ProtocolError"},
        {"[3, \"nobody\", {}]", NULL},
        {"[2, \"x\", \"SetChargingProfile\", {\"connectorId\": 99, \"csChargingProfiles\": {}}]", "PropertyConstraintViolation"},
        {"[2, \"x\", \"SetChargingProfile\", {\"connectorId\": 1, \"csChargingProfiles\": {\"chargingProfileId\": 1, "
         "\"stackLevel\": 1, \"chargingProfilePurpose\": \"TxProfile\", \"chargingProfileKind\": \"Absolute\", "
         "\"chargingSchedule\": {\"chargingRateUnit\": \"W\", \"chargingSchedulePeriod\": [{\"startPeriod\": 0, "
         "\"limit\": -5}]}}}]", "PropertyConstraintViolation"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = n_sent;
        ec_err rc = ec_cpsim_cp_receive(cp, cases[i].frame, strlen(cases[i].frame), T0);
        if (rc != EC_EPARSE) fail_msg("%s: accepted", cases[i].frame);
        if (!cases[i].code) {
            assert_int_equal(n_sent, before);
            continue;
        }
        assert_int_equal(n_sent, before + 1);
        char want[64];
        snprintf(want, sizeof want, "[4,\"x\",\"%s\",", cases[i].code);
        if (strncmp(sent[before], want, strlen(want))) fail_msg("%s answered %s", cases[i].frame, sent[before]);
    }
    /* Larger than a frame may be. */
    static char big[EC_CPSIM_FRAME_MAX + 2];
    memset(big, ' ', sizeof big - 1);
    assert_int_equal(ec_cpsim_cp_receive(cp, big, sizeof big - 1, T0), EC_EPARSE);
    clear_sent();
    ec_cpsim_cp_free(cp);
}

static void test_lost_connection(void **state)
{
    (void)state;
    ec_cpsim_cp *cp = new_cp(1, EC_PLUG_CCS2, 400000);
    boot(cp, T0);
    int64_t t = T0;
    while (n_sent == 0 || !strstr(sent[n_sent - 1], "Authorize")) {
        t += 500;
        ec_cpsim_cp_tick(cp, t);
        drain(cp, t);
    }
    answer(cp, expect_call("Authorize"), "{\"idTagInfo\":{\"status\":\"Accepted\"}}", t);
    drain(cp, t);
    expect_call("StartTransaction");
    char start[512];
    snprintf(start, sizeof start, "%s", strchr(strchr(sent[n_sent - 1] + 4, ',') + 1, ',') + 1);
    /* The connection drops before the answer: after the next boot, the same StartTransaction again. */
    ec_cpsim_cp_disconnected(cp);
    clear_sent();
    ec_cpsim_cp_tick(cp, t + 5000);
    assert_int_equal(n_sent, 0);
    ec_cpsim_cp_connected(cp, t + 6000);
    answer(cp, expect_call("BootNotification"), "{\"status\":\"Accepted\",\"currentTime\":\"x\",\"interval\":300}", t + 6000);
    int again = 0;
    for (int guard = 0; guard < 10 && !again; guard++) {
        ec_json *j = last();
        const char *a = ec_json_str(ec_json_array_get(j, 2));
        again = a && !strcmp(a, "StartTransaction");
        char uid[40];
        snprintf(uid, sizeof uid, "%s", ec_json_str(ec_json_array_get(j, 1)));
        ec_json_free(j);
        if (!again) answer(cp, uid, "{}", t + 6000);
    }
    assert_true(again);
    assert_non_null(strstr(sent[n_sent - 1], start));
    clear_sent();
    ec_cpsim_cp_free(cp);
}

/* One token, two connectors: the second truck waits until the first has left. */
static void test_token_shared(void **state)
{
    (void)state;
    ec_cpsim_cp *cp = new_cp_tokens(2, EC_PLUG_CCS2, 400000, 1);
    boot(cp, T0);
    int64_t t = T0;
    int running = 0, most = 0, starts = 0;
    for (; t < T0 + 900000; t += 1000) {
        ec_cpsim_cp_tick(cp, t);
        drain_calls(cp, t, 1);
        for (int i = 0; i < n_sent; i++) {
            if (strstr(sent[i], "\"StartTransaction\"")) running++, starts++;
            if (strstr(sent[i], "\"StopTransaction\"")) running--;
        }
        if (running > most) most = running;
        clear_sent();
    }
    assert_int_equal(most, 1);
    assert_true(starts >= 3);
    ec_cpsim_cp_free(cp);
}

static void test_region(void **state)
{
    (void)state;
    ec_cpsim_region r;
    assert_int_equal(ec_cpsim_region_load(EC_FIXTURES "/cpsim_region", &r), EC_OK);
    assert_int_equal(r.chargers.len, 3);
    assert_int_equal(r.tokens.len, 3); /* the blocked one left out */
    const ec_cpsim_charger_t *a1 = &EC_VEC_AT(&r.chargers, ec_cpsim_charger_t, 0);
    const ec_cpsim_charger_t *a2 = &EC_VEC_AT(&r.chargers, ec_cpsim_charger_t, 1);
    assert_string_equal(a1->id, "HUB-A-1");
    assert_string_equal(a1->password, "test-only-pw-a1");
    assert_string_equal(a1->site_name, "Test hub A");
    assert_int_equal(a1->n_conn, 2);
    assert_string_equal(a1->conn[1].evse_uid, "E1-2");
    assert_int_equal(a1->conn[0].plug, EC_PLUG_MCS);
    assert_true(a1->conn[0].max_w == 1000000);
    assert_int_equal(a2->conn[0].plug, EC_PLUG_CCS2);
    assert_true(a2->conn[0].max_w == 400000);
    assert_int_equal(ec_cpsim_region_select(&r, "SITE-B", 0), EC_OK);
    assert_int_equal(r.chargers.len, 1);
    assert_string_equal(EC_VEC_AT(&r.chargers, ec_cpsim_charger_t, 0).id, "SITE-B-1");
    assert_int_equal(ec_cpsim_region_select(&r, "NOPE", 0), EC_ENOTFOUND);
    ec_cpsim_region_free(&r);
    assert_int_equal(ec_cpsim_region_load(EC_FIXTURES "/cpsim_region", &r), EC_OK);
    assert_int_equal(ec_cpsim_region_select(&r, NULL, 2), EC_OK);
    assert_int_equal(r.chargers.len, 2);
    ec_cpsim_region_free(&r);
    assert_int_equal(ec_cpsim_region_load(EC_FIXTURES, &r), EC_EIO);
}

static void test_handshake(void **state)
{
    (void)state;
    /* RFC 6455, section 1.3: this key's accept is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=. */
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    char why[160];
    const char *good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n";
    assert_int_equal(ec_cpsim_ws_check_response(good, strlen(good), key, why, sizeof why), 0);
    const char *wrong = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOp=\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n";
    assert_int_equal(ec_cpsim_ws_check_response(wrong, strlen(wrong), key, why, sizeof why), -1);
    assert_non_null(strstr(why, "Sec-WebSocket-Accept"));
    const char *noproto = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    assert_int_equal(ec_cpsim_ws_check_response(noproto, strlen(noproto), key, why, sizeof why), -1);
    const char *twice = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                        "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n";
    assert_int_equal(ec_cpsim_ws_check_response(twice, strlen(twice), key, why, sizeof why), -1);
    const char *refused = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(ec_cpsim_ws_check_response(refused, strlen(refused), key, why, sizeof why), 401);
    assert_int_equal(ec_cpsim_ws_check_response("garbage\r\n\r\n", 11, key, why, sizeof why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot_and_status), cmocka_unit_test(test_session_follows_curve),
        cmocka_unit_test(test_profiles),        cmocka_unit_test(test_hub_calls),
        cmocka_unit_test(test_bad_frames),      cmocka_unit_test(test_lost_connection),
        cmocka_unit_test(test_region),          cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_token_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
