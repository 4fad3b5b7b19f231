/* static.h - the dashboard's files (web/), served by the hub itself. */
#ifndef EC_SERVER_STATIC_H
#define EC_SERVER_STATIC_H

#include "http.h"

#define STATIC_FILES_MAX 1024          /* files kept from the web directory */
#define STATIC_BYTES_MAX (32u << 20)   /* their bytes, in all */
#define STATIC_DEPTH_MAX 6             /* directories below it */

typedef struct static_files static_files;

/* Reads every file under dir into memory (the page is small; serving it then
 * touches no disk on the loop). Errors name the file; more than the limits
 * above is an error too. */
ec_err static__load(const char *dir, static_files **out);
/* Answers req when its path is one of the files ("/" is index.html,
 * "/favicon.ico" the page's favicon.ico or, without one, favicon.svg): 1,
 * with res set; 0 when it is not (the API's paths, an unknown file). */
int static__serve(const static_files *f, const ec_http_request *req, ec_http_response *res);
size_t static__count(const static_files *f);
void static__free(static_files *f);

#endif
