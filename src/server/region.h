/* region.h - a region's register files loaded into an empty database. */
#ifndef EC_SERVER_REGION_H
#define EC_SERVER_REGION_H

#include "hub.h"

/* Loads DIR/sites.csv and DIR/register.json through the API's handlers as an
 * admin, when the register has no site yet; a register in use is left alone.
 * An object the API refuses stops the load with the API's answer, naming
 * the file, the array and the index. */
ec_err region__load(ec_api *a, const char *dir);

#endif
