/* cp_recv.c - a frame from the hub to a simulated charge point: bounded,
 * parsed with the project's JSON reader and checked as an OCPP-J message
 * before anything changes; a CALL goes to its handler (cp_calls.c), an
 * answer to the call in flight (cp.c). A frame that cannot be used is
 * refused with a CALLERROR when it has a message id, and logged. */
#include "cp_internal.h"

#include <string.h>

static ec_err refuse(ec_cpsim_cp *cp, const char *uid, const char *code, const char *why)
{
    cp->st.frames_refused++;
    cp__event(cp, EC_CPSIM_EV_BAD_FRAME, 0, why, code);
    if (uid && cp->io.send) {
        ec_jw w;
        ec_buf_reset(&cp->out);
        ec_jw_init(&w, &cp->out);
        ec_jw_arr_begin(&w);
        ec_jw_int(&w, 4), ec_jw_str(&w, uid), ec_jw_str(&w, code), ec_jw_str(&w, why);
        ec_jw_obj_begin(&w), ec_jw_obj_end(&w), ec_jw_arr_end(&w);
        if (!ec_jw_finish(&w)) cp->io.send(cp->io.ctx, cp, cp->out.data, cp->out.len);
    }
    return EC_EPARSE;
}

ec_err ec_cpsim_cp_receive(ec_cpsim_cp *cp, const char *text, size_t len, int64_t now_ms)
{
    if (now_ms > cp->now_ms) cp->now_ms = now_ms;
    if (len > EC_CPSIM_FRAME_MAX) return refuse(cp, NULL, "FormationViolation", "a frame larger than 64 KiB");
    ec_json *j = NULL;
    if (ec_json_load_buf(text, len, "frame", &j)) {
        ec_errclear();
        return refuse(cp, NULL, "FormationViolation", "a frame that is not JSON");
    }
    ec_err rc = EC_OK;
    size_t n = ec_json_array_size(j);
    double type = 0;
    const char *uid = ec_json_str(ec_json_array_get(j, 1));
    if (!ec_json_is_array(j) || n < 3 || ec_json_number(ec_json_array_get(j, 0), &type)) {
        rc = refuse(cp, NULL, "FormationViolation", "a frame that is not an OCPP-J message");
    } else if (!uid || !*uid || ec_utf8_chars(uid) > 36) {
        rc = refuse(cp, NULL, "FormationViolation", "a message id that is not a string of 1 to 36 characters");
    } else if (type == 2) {
        const char *action = ec_json_str(ec_json_array_get(j, 2));
        const ec_json *pl = ec_json_array_get(j, 3);
        if (n != 4 || !action || !ec_json_is_object(pl))
            rc = refuse(cp, uid, "FormationViolation", "a CALL is [2, id, action, {payload}]");
        else {
            long refused = cp->st.frames_refused;
            cp__handle_call(cp, uid, action, pl);
            if (cp->st.frames_refused > refused) rc = EC_EPARSE;
        }
    } else if (type == 3 || type == 4) {
        if (!cp__in_flight(cp, uid)) {
            rc = refuse(cp, NULL, "FormationViolation", "an answer to no call in flight");
        } else if (type == 3 && (n != 3 || !ec_json_is_object(ec_json_array_get(j, 2)))) {
            rc = refuse(cp, NULL, "FormationViolation", "a CALLRESULT is [3, id, {payload}]");
        } else {
            const char *code = ec_json_str(ec_json_array_get(j, 2));
            cp__answer(cp, type == 3 ? ec_json_array_get(j, 2) : NULL, code ? code : "?");
        }
    } else {
        rc = refuse(cp, uid, "ProtocolError", "a message type other than 2, 3 or 4");
    }
    ec_json_free(j);
    cp__send_pending(cp);
    return rc;
}
