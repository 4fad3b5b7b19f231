/* index.c - the API's front page and the import summary shape. */
#include "api_internal.h"

void api__index(ec_http_response *res)
{
    ec_buf_puts(&res->body,
                "{\"name\":\"ecorridor\",\"api\":\"/api/v1\",\"resources\":["
                "\"/api/v1/jurisdictions\",\"/api/v1/organisations\",\"/api/v1/sites\","
                "\"/api/v1/sites.geojson\",\"/api/v1/substations\",\"/api/v1/renewables\","
                "\"/api/v1/tariffs\",\"/api/v1/routes\",\"/api/v1/import\",\"/healthz\",\"/metrics\"],"
                "\"docs\":\"docs/api.md and docs/openapi.json in the source tree\"}");
    res->status = 200;
}

void api__import_summary(ec_buf *out, const ec_import_set *set, const ec_import_summary_t *sum)
{
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "records"), ec_jw_int(&w, (int64_t)set->n_records);
    ec_jw_key(&w, "added"), ec_jw_int(&w, sum->added);
    ec_jw_key(&w, "updated"), ec_jw_int(&w, sum->updated);
    ec_jw_key(&w, "unchanged"), ec_jw_int(&w, sum->unchanged);
    ec_jw_key(&w, "skipped");
    ec_jw_arr_begin(&w);
    for (size_t i = 0; i < set->skipped.len; i++) {
        const ec_import_skip_t *k = &EC_VEC_AT(&set->skipped, ec_import_skip_t, i);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "where"), ec_jw_str(&w, k->where);
        ec_jw_key(&w, "reason"), ec_jw_str(&w, k->reason);
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
}
