#!/usr/bin/env python3
"""Inputs for bench/twin/run, from a corridor's segments.csv (node positions
are the source columns; every node of the bundled corridors is a source).

  gen.py sites CORRIDOR_DIR OUT.csv MCS_POINTS CCS2_POINTS
      a site DE-<node> at every node: MCS_POINTS x MCS 1000 kW and
      CCS2_POINTS x CCS2 400 kW (a group is left out when its count is 0),
      price 0.45 EUR/kWh
  gen.py pairs CORRIDOR_DIR TRIPS.csv OUT.csv
      the twin's electric trips (OUT/trips.csv: origin,destination,...) as
      from_lat,from_lon,to_lat,to_lon for `ecorridor route --batch`
"""
import csv
import sys


def positions(corridor):
    pos = {}
    with open(corridor + "/segments.csv", newline="") as f:
        for row in csv.DictReader(f):
            pos[row["source"]] = (row["position_y"], row["position_x"])
    return pos


def sites(corridor, out, mcs, ccs):
    pos = positions(corridor)
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["site_id", "name", "lat", "lon", "standard", "power_kw", "count", "price_per_kwh"])
        for node, (lat, lon) in sorted(pos.items()):
            if mcs > 0:
                w.writerow([f"DE-{node}", "", lat, lon, "MCS", 1000, mcs, "0.45"])
            if ccs > 0:
                w.writerow([f"DE-{node}", "", lat, lon, "CCS2", 400, ccs, "0.45"])
    print(f"{len(pos)} sites", file=sys.stderr)


def pairs(corridor, trips, out):
    pos = positions(corridor)
    n = 0
    with open(trips, newline="") as f, open(out, "w", newline="") as g:
        w = csv.writer(g, lineterminator="\n")
        w.writerow(["from_lat", "from_lon", "to_lat", "to_lon"])
        for row in csv.DictReader(f):
            a, b = row["origin"], row["destination"]
            if a not in pos or b not in pos:
                sys.exit(f"{trips}: node {a if a not in pos else b} has no position in {corridor}/segments.csv")
            w.writerow([*pos[a], *pos[b]])
            n += 1
    print(f"{n} pairs", file=sys.stderr)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "sites":
        sites(a[1], a[2], int(a[3]), int(a[4]))
    elif len(a) == 4 and a[0] == "pairs":
        pairs(a[1], a[2], a[3])
    else:
        sys.exit(__doc__)
