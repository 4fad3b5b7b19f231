/* api.h - the REST API /api/v1 as the HTTP server calls it (api.c), and
 * the route planner's end (routes.c). */
#ifndef EC_SERVER_API_H
#define EC_SERVER_API_H

#include "hub.h"

/* The ec_http_handler functions over an ec_api. */
void api__handle(void *ctx, const ec_http_request *req, ec_http_response *res);
size_t api__admit(void *ctx, const ec_http_request *req, ec_http_response *res);
void api__done(void *ctx, ec_http_method m, int status, double seconds);
/* Drops the route planner (routes.c), once the loop has ended. */
void api__route_free(ec_api *a);

#endif
