/* store_internal.h - what keys.c needs of the SQLite file, and nothing more. */
#ifndef EC_STORE_INTERNAL_H
#define EC_STORE_INTERNAL_H

#include "ecorridor/ec_store.h"

/* Stores a key's hash and its info (info->id is set). */
ec_err store__key_insert(ec_store *s, const char *hash, ec_key_info_t *info);
/* EC_OK and *info for a live key with this hash; EC_ENOTFOUND otherwise. */
ec_err store__key_lookup(ec_store *s, const char *hash, ec_key_info_t *info);

#endif
