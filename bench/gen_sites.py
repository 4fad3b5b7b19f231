#!/usr/bin/env python3
"""Writes N synthetic charging sites in ecorridor's sites CSV (docs/sites.md):
seeded, spread over central Europe, two connector groups per site (MCS or CCS
at truck powers, and CCS), prices in EUR. For benchmarks only.

usage: gen_sites.py N OUT.csv [SEED]
"""
import random
import sys

n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
with open(out, "w") as f:
    f.write("site_id,name,lat,lon,standard,power_kw,count,price_per_kwh,price_per_min,operator\n")
    for i in range(n):
        lat = rng.uniform(44.0, 56.0)
        lon = rng.uniform(2.0, 16.0)
        op = "Operator %d" % rng.randrange(40)
        price = "0.%02d" % rng.randrange(30, 70)
        big = rng.choice(["MCS,1000", "MCS,1200", "CCS2,400"])
        f.write("S%06d,Site %d,%.5f,%.5f,%s,%d,%s,0,%s\n" % (i, i, lat, lon, big, rng.randrange(1, 5), price, op))
        f.write("S%06d,Site %d,%.5f,%.5f,CCS2,350,%d,%s,0,%s\n" % (i, i, lat, lon, rng.randrange(1, 8), price, op))
