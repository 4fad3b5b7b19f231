#!/usr/bin/env python3
"""Summarises the points_for_wait column of a twin's sites.csv (written by
`ecorridor simulate ... --size-for-wait-min W`): its distribution, the total,
and the sites without a session, in the classes the Fraunhofer ISI study
(Speth et al., WEVJ 13(9):162, 2022) reports its 1-18 points per station in.
A site that waits longer even at the most points the twin tries has the
column empty; it is counted apart.

  sizing.py OUT/sites.csv
"""
import csv
import sys


def pct(xs, p):
    """The nearest-rank percentile of the sorted list xs."""
    k = max(0, min(len(xs) - 1, -(-len(xs) * p // 100) - 1))
    return xs[int(k)]


def main(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    pts = [int(r["points_for_wait"] or 0) for r in rows]
    unsized = sum(1 for p in pts if p == 0)
    idle = [r for r in rows if int(r["sessions"]) == 0]
    used = [r for r in rows if int(r["sessions"]) > 0]
    s = sorted(p for p in pts if p > 0)
    su = sorted(int(r["points_for_wait"]) for r in used if r["points_for_wait"])
    classes = [("1", 1, 1), ("2-5", 2, 5), ("6-10", 6, 10), ("11-18", 11, 18), (">18", 19, 10**9)]
    print(f"sites {len(rows)}, with sessions {len(used)}, without {len(idle)}, not sized (more than the most tried) {unsized}")
    for name, xs in (("all sites", s), ("sites with sessions", su)):
        if not xs:
            continue
        print(f"{name}: min {xs[0]}, median {pct(xs, 50)}, p90 {pct(xs, 90)}, max {xs[-1]}, total points {sum(xs)}")
        print("  " + ", ".join(f"{n}: {sum(1 for p in xs if lo <= p <= hi)}" for n, lo, hi in classes))
    top = sorted(used, key=lambda r: -int(r["points_for_wait"] or 0))[:10]
    print("largest: " + ", ".join(f"{r['site_id']} {r['points_for_wait']} ({r['sessions']} sessions)" for r in top))
    print(f"sessions {sum(int(r['sessions']) for r in rows)}, energy {sum(float(r['energy_kwh']) for r in rows):.0f} kWh")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
