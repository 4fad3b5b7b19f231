/* api_map.h - what the region's web page reads (api_map.c): the sites on
 * the map, the road network under them, and who the page's key is
 * (policy.c decides what that key's role may see). */
#ifndef EC_SERVER_API_MAP_H
#define EC_SERVER_API_MAP_H

#include "api_internal.h"

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
