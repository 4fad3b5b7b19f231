#!/usr/bin/env python3
"""Pools spaced evenly along a corridor (ec_plan_even_pools), checked by the project's own AFIR report.

1. Germany at 60 km with no limit on the budget: every pool is the size AFIR Article 4(1)(c) asks
   (4 MCS points of 1,000 kW), and `ecorridor report afir --year 2030` finds every segment compliant in
   both directions (share 1), every pool near a segment.
2. The same with a budget of exactly 4 points a pool: the same pools, 4 points each, the capex the
   budget; with a budget short of a point a pool, as many pools as it pays for (the first ones found),
   at least a point each, within the budget.
3. Today's sites count: with the whole even network as today's sites no new pool is placed; with a
   tenth of it, fewer new pools than without, and the union still complies.
4. Germany at 100 km against the 2030 comprehensive rule, and Rhine-Ruhr at 60 km: compliant.
5. A spacing out of range is refused.

Usage: test_plan_even.py ECORRIDOR PLAN_EVEN_TOOL SOURCE_DIR DATA_DIR. Python 3 standard library only."""
import csv
import json
import os
import subprocess
import sys
import tempfile

if len(sys.argv) != 5:
    sys.exit(__doc__)
ECORRIDOR, TOOL, SRC, DATA = sys.argv[1:5]
GERMANY = os.path.join(DATA, "corridors", "germany")
RUHR = os.path.join(DATA, "corridors", "rhine_ruhr")
# The tool's costs.
SITE, POINT = 200000.0, 150000.0
failed = passed = 0


def check(ok, what):
    global failed, passed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)
    return ok


def even(corridor, spacing, budget, out, today=None):
    """Runs the tool: (pools, capex, rows) or None."""
    args = [TOOL, corridor, str(spacing), repr(budget), out] + ([today] if today else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if not check(r.returncode == 0, "%s: exit %d: %s" % (" ".join(args[1:]), r.returncode, r.stderr.strip())):
        return None
    got = dict(line.split() for line in r.stdout.splitlines())
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    return int(got["pools"]), float(got["capex"]), rows


def afir(corridor, sites, network="core"):
    r = subprocess.run([ECORRIDOR, "report", "afir", "--corridor", corridor, "--sites", sites, "--year", "2030",
                        "--network", network, "--json"], capture_output=True, text=True, timeout=60)
    if not check(r.returncode == 0, "report afir: exit %d: %s" % (r.returncode, r.stderr.strip()[-300:])):
        return None
    return json.loads(r.stdout)


def compliant(rep, what, n_pools):
    if rep is None:
        return
    bad = [s for s in rep["segments"] if not s["compliant"]]
    check(not bad, "%s: %d segments not compliant, first: %s" % (what, len(bad), bad[:1]))
    check(rep["share"] == 1 and rep["meets_target"], "%s: share %s" % (what, rep["share"]))
    check(rep["pools"]["near"] == n_pools == rep["pools"]["qualifying"],
          "%s: pools %s, expected %d near and qualifying" % (what, rep["pools"], n_pools))


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["site_id", "name", "lat", "lon", "standard", "power_kw", "count"])
        w.writeheader()
        for r in rows:
            w.writerow(r)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        full = os.path.join(tmp, "full.csv")
        got = even(GERMANY, 60, -1, full)
        if not got:
            return
        n, _, rows = got
        check(n == len(rows) and n > 0, "germany: %d pools, %d rows" % (n, len(rows)))
        check(all(r["standard"] == "MCS" and float(r["power_kw"]) == 1000 and int(r["count"]) == 4 for r in rows),
              "germany: a pool without 4 MCS points of 1000 kW")
        check([r["site_id"] for r in rows] == ["even-%03d" % (i + 1) for i in range(n)], "germany: site ids")
        compliant(afir(GERMANY, full), "germany at 60 km", n)
        # The fewest pools could not be fewer than the network's length over the spacing... for a
        # network of one road. Say where it stands against that.
        net_km = sum(float(r["segment_length"]) for r in csv.DictReader(open(os.path.join(GERMANY, "segments.csv"))))
        print("germany: %d pools for %.0f km of roads (both directions %.0f km), %.1f km of road a pool"
              % (n, net_km / 2, net_km, net_km / 2 / n))

        # 2. A budget of 4 points a pool exactly, and one short of a point a pool.
        budget = n * (SITE + 4 * POINT)
        four = os.path.join(tmp, "four.csv")
        got = even(GERMANY, 60, budget, four)
        if got:
            m, capex, rows4 = got
            check(m == n, "budget of 4 points a pool: %d pools, expected %d" % (m, n))
            check(all(int(r["count"]) == 4 for r in rows4), "budget of 4 points a pool: counts %s" %
                  sorted({r["count"] for r in rows4}))
            check(abs(capex - budget) < 1e-6, "budget of 4 points a pool: capex %s, budget %s" % (capex, budget))
            check([(r["lat"], r["lon"]) for r in rows4] == [(r["lat"], r["lon"]) for r in rows],
                  "the budget moved the pools")
            compliant(afir(GERMANY, four), "germany at 60 km, budgeted", n)
        short = (n // 2) * (SITE + POINT) + POINT * 0.5
        part = os.path.join(tmp, "part.csv")
        got = even(GERMANY, 60, short, part)
        if got:
            m, capex, rowsp = got
            check(m == n // 2, "short budget: %d pools, expected %d" % (m, n // 2))
            check(capex <= short and all(int(r["count"]) >= 1 for r in rowsp), "short budget: capex %s of %s" %
                  (capex, short))
            check([(r["lat"], r["lon"]) for r in rowsp] == [(r["lat"], r["lon"]) for r in rows[:m]],
                  "short budget: not the first pools the walk found")
        # Money for 1.5 points a pool: every pool 1, half of them 2.
        mid = n * (SITE + 1.5 * POINT)
        got = even(GERMANY, 60, mid, part)
        if got:
            m, capex, rowsp = got
            counts = [int(r["count"]) for r in rowsp]
            check(m == n and min(counts) == 1 and max(counts) == 2 and capex <= mid and mid - capex < POINT,
                  "1.5 points a pool: %d pools, counts %d..%d, capex %s of %s" % (m, min(counts), max(counts),
                                                                               capex, mid))

        # 3. Today's sites.
        today = os.path.join(tmp, "today.csv")
        write(today, [dict(r, site_id="T%d" % i) for i, r in enumerate(rows)])
        got = even(GERMANY, 60, -1, os.path.join(tmp, "t_all.csv"), today)
        if got:
            check(got[0] == 0, "with the even network as today's sites: %d new pools" % got[0])
            check(len(got[2]) == n and got[2][0]["site_id"] == "T0", "today's rows first and all kept")
        write(today, [dict(r, site_id="T%d" % i) for i, r in enumerate(rows) if i % 10 == 0])
        k = len(range(0, n, 10))
        union = os.path.join(tmp, "t_tenth.csv")
        got = even(GERMANY, 60, -1, union, today)
        if got:
            check(0 < got[0] < n, "with a tenth as today's sites: %d new pools of %d" % (got[0], n))
            check(len(got[2]) == k + got[0], "today's %d rows and %d new" % (k, got[0]))
            compliant(afir(GERMANY, union), "germany with today's sites", k + got[0])

        # 4. Other rules and corridors.
        c100 = os.path.join(tmp, "c100.csv")
        got = even(GERMANY, 100, -1, c100)
        if got:
            check(got[0] < n, "100 km: %d pools, 60 km %d" % (got[0], n))
            compliant(afir(GERMANY, c100, "comprehensive"), "germany at 100 km, comprehensive", got[0])
        ruhr = os.path.join(tmp, "ruhr.csv")
        got = even(RUHR, 60, -1, ruhr)
        if got:
            compliant(afir(RUHR, ruhr), "rhine-ruhr at 60 km", got[0])

        # 5. Refusals.
        r = subprocess.run([TOOL, GERMANY, "0.5", "-1", os.path.join(tmp, "x.csv")], capture_output=True, text=True)
        check(r.returncode == 1 and "spacing_km" in r.stderr, "spacing 0.5: exit %d %s" % (r.returncode, r.stderr))


main()
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
