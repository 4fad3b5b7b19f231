/* map_network.h - the road graph as GeoJSON for the web page (map_network.c). */
#ifndef EC_SERVER_MAP_NETWORK_H
#define EC_SERVER_MAP_NETWORK_H

#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_json.h"

/* Appends g's roads and named places to out as a GeoJSON FeatureCollection
 * (g NULL: no features) whose lines hold at most max_vertices vertices in
 * all, with the foreign members "tile_url" and "tile_attribution" (NULL:
 * null). Features: LineString {"kind":"road","ref","name"} and Point
 * {"kind":"place","name"}. g is only read: any thread may call this. */
ec_err map__network_geojson(const ec_graph *g, size_t max_vertices, const char *tile_url, const char *tile_attr,
                            ec_buf *out);

#endif
