/* api_map.h - what the region's web page reads (api_map.c): the sites on
 * the map, the road network under them, and who the page's key is
 * (policy.c decides what that key's role may see). */
#ifndef EC_SERVER_API_MAP_H
#define EC_SERVER_API_MAP_H

#include "api_internal.h"

/* What the page may offer a principal: the views it may open, whether
 * /api/v1/kpis answers it only the public shape, and whose sites' private
 * figures (/sites/{id}/utilisation) it may read: all of them, one
 * operator's, or those in a jurisdiction and every one within it. */
typedef struct {
    const char *views[8];
    int n_views;
    int kpi_public;
    int all;
    const char *operator_id;     /* NULL: not one operator's */
    const char *jurisdiction_id; /* an agency's ("" when its organisation names none); NULL otherwise */
} api_scope_t;

/* policy.c: fills *out for p (whose strings it borrows). */
void api__scope(const api_principal *p, api_scope_t *out);

/* GET /api/v1/map/sites, /api/v1/map/network and /api/v1/whoami: 1 when
 * rest (the path after /api/v1/) is one of them and the request was
 * answered (or handed to a worker). */
int api__map(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req, ec_http_response *res);
/* Reads the sites for the map before the hub listens, so the page's first
 * visit finds them ready; not for registers over 50,000 sites (seconds of
 * start-up), whose first visit reads them on a worker. */
void api__map_warm(ec_api *a, int64_t n_sites);
/* Frees what the handlers kept between requests (the hub stops). */
void api__map_free(ec_api *a);

#endif
