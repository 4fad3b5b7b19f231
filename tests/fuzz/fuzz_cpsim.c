/* fuzz_cpsim.c - what a hub may send a simulated charge point: the answer to
 * its WebSocket upgrade (first byte 0), or frames (one per line) to a
 * charge point that has booted and has a session running, with time moving
 * on between them, so profiles, remote calls and answers to its own calls
 * meet a machine in every state. */
#include "ecorridor/ec_cpsim.h"

#include <string.h>

static ec_err no_send(void *ctx, ec_cpsim_cp *cp, const char *text, size_t len)
{
    (void)ctx, (void)cp, (void)text, (void)len;
    return EC_OK;
}

static ec_cpsim_token_t tokens[1] = {{"FUZZ-1", 0}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (data[0] == 0) {
        char why[160];
        ec_cpsim_ws_check_response((const char *)data + 1, size - 1, "dGhlIHNhbXBsZSBub25jZQ==", why, sizeof why);
        return 0;
    }
    ec_cpsim_charger_t ch;
    memset(&ch, 0, sizeof ch);
    snprintf(ch.id, sizeof ch.id, "FUZZ-CP");
    ch.n_conn = 2;
    ch.conn[0].plug = EC_PLUG_MCS, ch.conn[0].max_w = 1e6;
    ch.conn[1].plug = EC_PLUG_CCS2, ch.conn[1].max_w = 4e5;
    ec_cpsim_pace_t pace;
    ec_cpsim_pace_default(&pace);
    pace.first_s = 1;
    ec_cpsim_io io = {NULL, no_send, NULL, NULL};
    ec_cpsim_cp *cp;
    tokens[0].busy = 0;
    if (ec_cpsim_cp_new(&ch, tokens, 1, &pace, data[0], &io, &cp)) return 0;
    int64_t t = INT64_C(1796560000000);
    ec_cpsim_cp_connected(cp, t);
    /* Our call ids count from 1: "1" is the boot, answers to later ones are guessable. */
    const char *boot = "[3,\"1\",{\"status\":\"Accepted\",\"currentTime\":\"2026-12-06T10:00:00Z\",\"interval\":60}]";
    ec_cpsim_cp_receive(cp, boot, strlen(boot), t);
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        ec_cpsim_cp_receive(cp, p, n, t);
        t += 1500;
        ec_cpsim_cp_tick(cp, t);
        p += n + 1;
    }
    ec_cpsim_cp_shutdown(cp);
    ec_cpsim_cp_free(cp);
    return 0;
}
