/* api_grid.c - GET /api/v1/substations/{id}/history: a substation's load
 * against its headroom, minute by minute, as the hub's power sharing saw it
 * (grid_history.h; in memory, since the hub started, a week at most). */
#include "api_internal.h"
#include "grid_history.h"
#include "smart.h"

#include "ecorridor/ec_json.h"

#include <math.h>
#include <string.h>

#define HISTORY_HOURS_MAX (HISTORY_KEEP * HISTORY_STEP_S / 3600)
#define HISTORY_SITES_MAX 1000 /* the sites listed behind one substation */

static void num(ec_jw *w, const char *key, double v)
{
    ec_jw_key(w, key);
    if (isfinite(v)) ec_jw_num(w, v, 3);
    else ec_jw_null(w);
}

static void point(void *ctx, const history_point *p)
{
    ec_jw *w = ctx;
    char t[32];
    ec_time_format_iso(p->t_s, t, sizeof t);
    ec_jw_obj_begin(w);
    ec_jw_key(w, "t"), ec_jw_str(w, t);
    num(w, "allocated_kw", p->allocated_kw);
    num(w, "held_kw", p->held_kw);
    num(w, "headroom_kw", p->headroom_kw);
    num(w, "base_load_kw", p->base_load_kw);
    num(w, "renewables_kw", p->renewables_kw);
    ec_jw_obj_end(w);
}

static ec_err site_row(void *ctx, const char *doc, size_t len)
{
    ec_jw *w = ctx;
    ec_json *j = NULL;
    ec_err rc = ec_json_load_buf(doc, len, "site", &j);
    if (rc) return rc;
    const char *id = ec_json_str(ec_json_get(j, "id")), *name = ec_json_str(ec_json_get(j, "name"));
    ec_jw_obj_begin(w);
    ec_jw_key(w, "id"), ec_jw_str(w, id ? id : "");
    ec_jw_key(w, "name");
    if (name) ec_jw_str(w, name);
    else ec_jw_null(w);
    ec_jw_obj_end(w);
    ec_json_free(j);
    return EC_OK;
}

static void history_answer(ec_api *a, const api_principal *p, const char *id, const ec_http_request *req,
                           ec_http_response *res)
{
    if (req->method != EC_HTTP_GET && req->method != EC_HTTP_HEAD) {
        api__error(res, 405, "method_not_allowed", NULL, "history takes GET");
        return;
    }
    static const char *const allowed[] = {"hours", NULL};
    if (api__only_args(req, res, allowed)) return;
    if (api__may_see_allocation(p, res)) return;
    const char *h = api__arg(req, "hours");
    int64_t hours = 24;
    if (h && (ec_parse_i64(h, &hours) || hours < 1 || hours > HISTORY_HOURS_MAX)) {
        api__error(res, 400, "invalid_parameter", "hours", "hours must be a whole number from 1 to %d",
                   HISTORY_HOURS_MAX);
        return;
    }
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_err rc = ec_reg_id_valid(id) ? ec_store_get(a->store, EC_KIND_SUBSTATION, id, &doc) : EC_ENOTFOUND;
    ec_json *j = NULL;
    if (!rc) rc = ec_json_load_buf(doc.data, doc.len, "substation", &j);
    ec_buf_free(&doc);
    if (rc == EC_ENOTFOUND) {
        api__error(res, 404, "not_found", NULL, "no substation %.60s", id);
        return;
    }
    if (rc) {
        api__store_failed(res);
        return;
    }
    double cap = NAN;
    const char *name = ec_json_str(ec_json_get(j, "name"));
    if (ec_json_number(ec_json_get(j, "capacity_kw"), &cap)) cap = NAN;
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "substation_id"), ec_jw_str(&w, id);
    ec_jw_key(&w, "name");
    if (name) ec_jw_str(&w, name);
    else ec_jw_null(&w);
    num(&w, "capacity_kw", cap);
    ec_json_free(j);
    ec_jw_key(&w, "step_s"), ec_jw_int(&w, HISTORY_STEP_S);
    ec_jw_key(&w, "sites"), ec_jw_arr_begin(&w);
    ec_store_filter_t f;
    memset(&f, 0, sizeof f);
    f.substation_id = id, f.limit = HISTORY_SITES_MAX;
    int64_t total;
    if (ec_store_list(a->store, EC_KIND_SITE, &f, site_row, &w, &total)) {
        api__store_failed(res);
        return;
    }
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "points"), ec_jw_arr_begin(&w);
    /* The window ends with the minute now (its point included); none kept: no points. */
    int64_t to = (ec_time_now_s() / HISTORY_STEP_S + 1) * HISTORY_STEP_S;
    const history *hist = a->ocpp ? smart__history(ocpp__smart(a->ocpp)) : NULL;
    if (hist) history__each(hist, id, to - hours * 3600, to, point, &w);
    ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
    if (api__finish(&w, res)) return;
    res->status = 200;
}

int api__grid(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req, ec_http_response *res)
{
    static const char head[] = "substations/", tail[] = "/history";
    size_t len = strlen(rest), hl = sizeof head - 1, tl = sizeof tail - 1;
    if (strncmp(rest, head, hl) || len <= hl + tl || strcmp(rest + len - tl, tail)) return 0;
    size_t idl = len - hl - tl;
    if (memchr(rest + hl, '/', idl)) return 0;
    char id[EC_REG_ID_MAX + 2];
    snprintf(id, sizeof id, "%.*s", (int)(idl < sizeof id - 1 ? idl : sizeof id - 1), rest + hl);
    history_answer(a, p, id, req, res);
    return 1;
}
