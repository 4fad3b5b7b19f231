#!/usr/bin/env python3
"""Writes N synthetic charging sites along a corridor's roads, in ecorridor's sites CSV (docs/sites.md),
for the dashboard's benchmark: each site at a random point of a random road of the corridor's
graph.graphml (its nodes' position_x/position_y are lon/lat; every road equally likely, both
directions as one), moved up to JITTER_KM off it, so that the map's markers crowd where a real
corridor's would. Seeded; two connector groups per site as bench/gen_sites.py writes them.

usage: gen_sites.py CORRIDOR_DIR N OUT.csv [SEED] [JITTER_KM]
"""
import math
import random
import sys
import xml.etree.ElementTree as ET

MAX_SITES = 1000000


def roads(graphml):
    """The corridor's roads as pairs of (lat, lon), each undirected road once."""
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(graphml).getroot()
    keys = {k.get("id"): k.get("attr.name") for k in root.findall("g:key", ns)}
    pos = {}
    for n in root.iter("{http://graphml.graphdrawing.org/xmlns}node"):
        d = {keys.get(x.get("key")): x.text for x in n.findall("g:data", ns)}
        pos[n.get("id")] = (float(d["position_y"]), float(d["position_x"]))
    seen = set()
    for e in root.iter("{http://graphml.graphdrawing.org/xmlns}edge"):
        a, b = e.get("source"), e.get("target")
        if a in pos and b in pos and (b, a) not in seen:
            seen.add((a, b))
    return [(pos[a], pos[b]) for a, b in sorted(seen)]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    corridor, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    jitter_km = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0
    if not 1 <= n <= MAX_SITES:
        sys.exit("N must be 1 to %d" % MAX_SITES)
    rng = random.Random(seed)
    lines = roads(corridor.rstrip("/") + "/graph.graphml")
    if not lines:
        sys.exit("no roads in %s/graph.graphml" % corridor)
    with open(out, "w") as f:
        f.write("site_id,name,lat,lon,standard,power_kw,count,price_per_kwh,price_per_min,operator\n")
        for i in range(n):
            (la, oa), (lb, ob) = rng.choice(lines)
            t = rng.random()
            lat, lon = la + (lb - la) * t, oa + (ob - oa) * t
            r, th = jitter_km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            lat += r * math.cos(th) / 111.2
            lon += r * math.sin(th) / (111.2 * math.cos(math.radians(lat)))
            op = "Operator %d" % rng.randrange(40)
            price = "0.%02d" % rng.randrange(30, 70)
            big = rng.choice(["MCS,1000", "MCS,1200", "CCS2,400"])
            f.write("B%06d,Corridor site %d,%.5f,%.5f,%s,%d,%s,0,%s\n" % (i, i, lat, lon, big, rng.randrange(1, 5), price, op))
            f.write("B%06d,Corridor site %d,%.5f,%.5f,CCS2,350,%d,%s,0,%s\n" % (i, i, lat, lon, rng.randrange(1, 8), price, op))


if __name__ == "__main__":
    main()
