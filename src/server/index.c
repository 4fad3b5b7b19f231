/* index.c - the API's front page. */
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
