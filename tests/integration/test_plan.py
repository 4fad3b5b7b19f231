#!/usr/bin/env python3
"""`ecorridor plan` checked against truth computed here.

1. Rhine-Ruhr (shared data) at 15 % electric, every electric truck a short-range one
   (tests/fixtures/twin_rhine: with the built-in tractors no Rhine-Ruhr trip needs a charge), its
   nodes in four jurisdictions by quadrant and a fifth that holds only nodes no truck starts from,
   with a budget: every file with its exact columns; gap <= 0.01; the budget kept; the Shapley and
   use shares each sum to the ALL row's shared cost; the jurisdiction without trucks pays nothing;
   no one pays more than alone (the cost game is subadditive: the union of two networks serves the
   union of their trucks).
2. Three ranks of upgrades.csv re-simulated here with `ecorridor simulate --scenario
   upgrades/rank-NNN.json` on the same options: the waits saved, stranded avoided and energy served
   that upgrades.csv states, computed here from the simulated day's trips.csv and sites.csv.
3. A symmetric line (written here): two jurisdictions with the same trucks mirrored pay the same.
4. Refusals that write nothing: a candidate off the network, a negative cost, a budget below any
   single action; each names the field.

Usage: test_plan.py ECORRIDOR SOURCE_DIR DATA_DIR. Python 3 standard library only."""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

ECORRIDOR, SRC, DATA = sys.argv[1], sys.argv[2], sys.argv[3]
RHINE = os.path.join(DATA, "corridors", "rhine_ruhr")
MIX = os.path.join(SRC, "tests", "fixtures", "twin_rhine", "mix.csv")
failures = 0


def check(ok, what):
    global failures
    if not ok:
        failures += 1
        print("FAIL: " + what)
    return ok


def run(*args, timeout=900):
    return subprocess.run([ECORRIDOR, *args], capture_output=True, text=True, timeout=timeout)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def header(path):
    with open(path, newline="") as f:
        return next(csv.reader(f))


def write_sites(path, segs, every, points):
    nodes, seen = [], set()
    for s in segs:
        if s["source"] not in seen:
            seen.add(s["source"])
            nodes.append((s["source"], s["position_y"], s["position_x"]))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("site_id", "name", "lat", "lon", "standard", "power_kw", "count", "price_per_kwh"))
        for k, (n, lat, lon) in enumerate(nodes[::every]):
            w.writerow(("RR%02d" % k, "node %s" % n, lat, lon, "MCS", "1000", str(points), "0.45"))


def quadrants(path, segs, traffic):
    """Nodes by quadrant around the median position; the nodes no truck starts from in the
    north-west go to a fifth jurisdiction, which so has no trucks."""
    pos = {}
    for s in segs:
        pos[s["source"]] = (float(s["position_y"]), float(s["position_x"]))
    lats = sorted(p[0] for p in pos.values())
    lons = sorted(p[1] for p in pos.values())
    mlat, mlon = lats[len(lats) // 2], lons[len(lons) // 2]
    origins = {r["origin"] for r in traffic}
    out = {}
    for n, (lat, lon) in pos.items():
        j = ("N" if lat >= mlat else "S") + ("E" if lon >= mlon else "W")
        if j == "NW" and n not in origins:
            j = "NOTRUCKS"
        out[n] = j
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("node", "jurisdiction_id"))
        for n in sorted(out, key=int):
            w.writerow((n, out[n]))
    return out


def total_wait_h(trips):
    return sum(float(r["wait_min"]) for r in trips) / 60


def rhine(tmp):
    segs = rows(os.path.join(RHINE, "segments.csv"))
    traffic = rows(os.path.join(RHINE, "traffic.csv"))
    sites = os.path.join(tmp, "rr_sites.csv")
    write_sites(sites, segs, 6, 2)
    areas = os.path.join(tmp, "areas.csv")
    jof = quadrants(areas, segs, traffic)
    check("NOTRUCKS" in jof.values(), "the test's fifth jurisdiction has nodes")
    common = ["--corridor", RHINE, "--sites", sites, "--bev-share", "0.15", "--vehicles", MIX, "--seed", "3"]
    out = os.path.join(tmp, "plan")
    budget = 40e6
    r = run("plan", *common, "--jurisdictions", areas, "--budget", str(budget), "--resilience-max", "4", "--out", out)
    if not check(r.returncode == 0, "plan on Rhine-Ruhr: exit %d: %s" % (r.returncode, r.stderr[-2000:])):
        return
    print(r.stdout)
    want = {
        "upgrades.csv": ["rank", "action", "site_id", "node", "points", "kw", "capex", "annual_cost", "wait_h_saved_per_day",
                         "stranded_avoided_per_day", "energy_served_kwh_per_day", "cost_per_kwh"],
        "shared_vs_duplicated.csv": ["jurisdiction_id", "shared_cost", "duplicated_cost", "shared_p95_wait_min",
                                     "duplicated_p95_wait_min", "shared_stranded", "duplicated_stranded"],
        "cost_shares.csv": ["jurisdiction_id", "energy_kwh", "share_by_use", "shapley", "standalone", "pays_more_than_alone"],
        "resilience.csv": ["site_id", "stranded_when_down", "extra_wait_h", "rank"],
        "tco.csv": ["vehicle", "years", "bev_cost_per_km", "diesel_cost_per_km", "co2_t_per_year"],
    }
    for name, cols in want.items():
        p = os.path.join(out, name)
        if check(os.path.isfile(p), "plan wrote %s" % name):
            h = header(p)
            check(h[:len(cols)] == cols, "%s begins with the issue's columns: %s" % (name, h))
    with open(os.path.join(out, "plan.json")) as f:
        plan = json.load(f)
    for k in ("budget", "spent", "objective", "gap", "chosen"):
        check(k in plan, "plan.json has %s" % k)
    check(plan["gap"] <= 0.01 + 1e-9, "the gap is at most 0.01: %s" % plan["gap"])
    check(plan["spent"] <= budget + 1e-6, "the plan keeps the budget: spent %s of %s" % (plan["spent"], budget))
    ups = rows(os.path.join(out, "upgrades.csv"))
    check(len(ups) == len(plan["chosen"]) and len(ups) > 0, "upgrades.csv ranks every chosen action: %d rows, %d chosen" %
          (len(ups), len(plan["chosen"])))
    spent = sum(float(u["capex"]) for u in ups)
    check(abs(spent - plan["spent"]) <= 0.01 * max(1, len(ups)) + 1e-6 * spent, "the actions' capex sums to spent: %.2f vs %s" %
          (spent, plan["spent"]))
    for c in plan["chosen"]:
        for k in ("action", "site_id", "node", "points", "kw", "capex"):
            check(k in c, "a chosen item has %s" % k)
        check(c["action"] in ("new_site", "add_points", "grid_upgrade"), "a chosen action is one of the three: %s" % c["action"])

    # Who pays.
    shares = {r["jurisdiction_id"]: r for r in rows(os.path.join(out, "cost_shares.csv"))}
    svd = {r["jurisdiction_id"]: r for r in rows(os.path.join(out, "shared_vs_duplicated.csv"))}
    if check("ALL" in svd and "ALL" in shares, "both tables have an ALL row"):
        total = float(svd["ALL"]["shared_cost"])
        js = [j for j in shares if j != "ALL"]
        check(sorted(js) == sorted(set(jof.values())), "cost_shares.csv has every jurisdiction: %s" % js)
        sh = sum(float(shares[j]["shapley"]) for j in js)
        bu = sum(float(shares[j]["share_by_use"]) for j in js)
        tol = 0.01 * len(js) + 1e-6 * total
        check(total > 0, "the shared network costs something: %s" % total)
        check(abs(sh - total) <= tol, "the Shapley shares sum to the shared cost: %.2f vs %.2f" % (sh, total))
        check(abs(bu - total) <= tol, "the use shares sum to the shared cost: %.2f vs %.2f" % (bu, total))
        if "NOTRUCKS" in shares:
            z = shares["NOTRUCKS"]
            check(abs(float(z["shapley"])) <= 0.01 and abs(float(z["share_by_use"])) <= 0.01 and abs(float(z["standalone"])) <= 0.01,
                  "a jurisdiction without trucks pays nothing: %s" % z)
        for j in js:
            s = shares[j]
            check(float(s["shapley"]) <= float(s["standalone"]) * (1 + 0.011) + 0.01,
                  "%s pays no more than alone (Shapley %s, alone %s)" % (j, s["shapley"], s["standalone"]))
        dup = sum(float(svd[j]["duplicated_cost"]) for j in js)
        check(abs(dup - float(svd["ALL"]["duplicated_cost"])) <= tol, "duplicated costs sum to ALL")
        check(total <= dup * 1.011 + 0.01, "the shared network costs no more than the duplicated ones: %.0f vs %.0f" % (total, dup))

    # Three ranks re-simulated here.
    base_dir = os.path.join(tmp, "base")
    b = run("simulate", *common, "--out", base_dir, "--quiet")
    if not check(b.returncode == 0, "simulate, today: %s" % b.stderr):
        return
    base_trips = rows(os.path.join(base_dir, "trips.csv"))
    base_wait = total_wait_h(base_trips)
    base_stranded = sum(int(t["stranded"]) for t in base_trips)
    picks = sorted({1, (len(ups) + 1) // 2, len(ups)})
    for n in picks:
        u = ups[n - 1]
        d = os.path.join(tmp, "rank%d" % n)
        s = run("simulate", *common, "--scenario", os.path.join(out, "upgrades", "rank-%03d.json" % n), "--out", d, "--quiet")
        if not check(s.returncode == 0, "simulate rank %d: %s" % (n, s.stderr)):
            continue
        trips = rows(os.path.join(d, "trips.csv"))
        saved = base_wait - total_wait_h(trips)
        avoided = base_stranded - sum(int(t["stranded"]) for t in trips)
        ids = {x["site_id"] for x in ups[:n]}
        energy = sum(float(x["energy_kwh"]) for x in rows(os.path.join(d, "sites.csv")) if x["site_id"] in ids)
        slack = 0.001 * len(trips) / 60 + 0.002
        check(abs(saved - float(u["wait_h_saved_per_day"])) <= slack,
              "rank %d: wait saved %.3f h re-simulated, %s stated" % (n, saved, u["wait_h_saved_per_day"]))
        check(avoided == int(float(u["stranded_avoided_per_day"])),
              "rank %d: stranded avoided %d re-simulated, %s stated" % (n, avoided, u["stranded_avoided_per_day"]))
        check(abs(energy - float(u["energy_served_kwh_per_day"])) <= 0.001 * len(ids) + 0.002,
              "rank %d: energy served %.3f kWh re-simulated, %s stated" % (n, energy, u["energy_served_kwh_per_day"]))
    print("rhine-ruhr: %d actions, ranks %s re-simulated" % (len(ups), picks))

    # The site the corridor depends on most, taken down for the day on the planned network, here.
    res = rows(os.path.join(out, "resilience.csv"))
    if check(len(res) > 0, "resilience.csv has rows"):
        check([int(x["rank"]) for x in res] == list(range(1, len(res) + 1)), "resilience.csv is ranked 1..n")
        top = res[0]
        with open(os.path.join(out, "upgrades", "rank-%03d.json" % len(ups))) as f:
            scn = json.load(f)
        with open(os.path.join(out, "summary.json")) as f:
            day0 = f.read()
        start = json.loads(day0)["day_start"]
        scn["outages"] = scn.get("outages", []) + [{"site": top["site_id"], "from": "00:00", "to": "48:00"}]
        scn["name"] = "the planned network, %s down" % top["site_id"]
        path = os.path.join(tmp, "down.json")
        with open(path, "w") as f:
            json.dump(scn, f)
        planned = rows(os.path.join(out, "trips.csv"))
        d = os.path.join(tmp, "down")
        s = run("simulate", *common, "--scenario", path, "--out", d, "--quiet")
        if check(s.returncode == 0, "simulate with %s down: %s" % (top["site_id"], s.stderr)):
            trips = rows(os.path.join(d, "trips.csv"))
            stranded = sum(int(t["stranded"]) for t in trips)
            extra = total_wait_h(trips) - total_wait_h(planned)
            check(stranded == int(top["stranded_when_down"]), "%s down: %d stranded re-simulated, %s stated" %
                  (top["site_id"], stranded, top["stranded_when_down"]))
            check(abs(extra - float(top["extra_wait_h"])) <= 0.001 * len(trips) / 60 + 0.002,
                  "%s down: %.3f h more waiting re-simulated, %s stated" % (top["site_id"], extra, top["extra_wait_h"]))
        print("resilience: %s down strands %s (day from %s)" % (top["site_id"], top["stranded_when_down"], start))

    # The cost of ownership: a row per vehicle of the mix, figures that are numbers.
    tco = rows(os.path.join(out, "tco.csv"))
    check(len(tco) == 1 and all(float(x["bev_cost_per_km"]) > 0 and float(x["diesel_cost_per_km"]) > 0 for x in tco),
          "tco.csv has the mix's one vehicle with costs per km: %s" % tco)

    # Refusals, each writing nothing.
    bad_cand = os.path.join(tmp, "far.csv")
    with open(bad_cand, "w") as f:
        f.write("id,lat,lon\nFAR,48.0,11.0\n")
    bad_cost = os.path.join(tmp, "neg.json")
    with open(bad_cost, "w") as f:
        f.write('{"mcs_point_capex": -5}\n')
    for what, extra, field in (("a candidate off the network", ["--candidates", bad_cand], "lat"),
                               ("a negative cost", ["--costs", bad_cost], "mcs_point_capex"),
                               ("a budget below any single action", ["--budget", "10"], "--budget")):
        d = os.path.join(tmp, "refused")
        r = run("plan", *common, "--jurisdictions", areas, *extra, "--out", d)
        check(r.returncode == 1 and field in r.stderr, "%s: exit %d, message %r names %s" % (what, r.returncode, r.stderr.strip(), field))
        check(not os.path.exists(d), "%s: nothing written" % what)


def symmetric(tmp):
    """Five nodes 30 km apart, trucks from the first to the last and back alike; the first node in
    one jurisdiction, the last in another, the three between in a third where no truck starts."""
    d = os.path.join(tmp, "line")
    os.makedirs(d)
    nodes = {k: (50.0, 6.0 + 0.42 * (k - 1)) for k in range(1, 6)}
    links = [(a, a + 1) for a in range(1, 5)] + [(a + 1, a) for a in range(1, 5)]
    with open(os.path.join(d, "graph.graphml"), "w") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
                '<key id="d0" for="node" attr.name="position_x" attr.type="double"/>\n'
                '<key id="d1" for="node" attr.name="position_y" attr.type="double"/>\n'
                '<key id="d2" for="edge" attr.name="distance" attr.type="double"/>\n'
                '<key id="d3" for="edge" attr.name="id" attr.type="long"/>\n<graph edgedefault="directed">\n')
        for n, (lat, lon) in nodes.items():
            f.write('<node id="%d"><data key="d0">%s</data><data key="d1">%s</data></node>\n' % (n, lon, lat))
        eid = 0
        for a, b in links:
            eid += 1
            f.write('<edge source="%d" target="%d"><data key="d2">30</data><data key="d3">%d</data></edge>\n' % (a, b, eid))
        f.write("</graph>\n</graphml>\n")
    with open(os.path.join(d, "segments.csv"), "w") as f:
        f.write("source,target,position_x,position_y,capacity,travel_speed,segment_length\n")
        for a, b in links:
            f.write("%d,%d,%s,%s,9000000.0,100.0,30\n" % (a, b, nodes[a][1], nodes[a][0]))
    with open(os.path.join(d, "traffic.csv"), "w") as f:
        f.write("origin,destination,volume\n1,5,3650\n5,1,3650\n")
    sites = os.path.join(tmp, "line_sites.csv")
    with open(sites, "w") as f:
        f.write("site_id,name,lat,lon,standard,power_kw,count,price_per_kwh\n")
    areas = os.path.join(tmp, "line_areas.csv")
    with open(areas, "w") as f:
        f.write("node,jurisdiction_id\n1,WEST\n2,MIDDLE\n3,MIDDLE\n4,MIDDLE\n5,EAST\n")
    out = os.path.join(tmp, "line_plan")
    r = run("plan", "--corridor", d, "--sites", sites, "--bev-share", "1", "--vehicles", MIX, "--day", "average",
            "--jurisdictions", areas, "--gap", "0", "--out", out)
    if not check(r.returncode == 0, "plan on the symmetric line: exit %d: %s" % (r.returncode, r.stderr[-2000:])):
        return
    shares = {x["jurisdiction_id"]: x for x in rows(os.path.join(out, "cost_shares.csv"))}
    w, e, m = (float(shares[j]["shapley"]) for j in ("WEST", "EAST", "MIDDLE"))
    total = float(shares["ALL"]["shapley"]) if "ALL" in shares else w + e + m
    check(total > 0, "the line needs a network: %s" % total)
    check(abs(w - e) <= 1e-6 * total + 0.02, "two jurisdictions with the same demand pay the same: %s and %s" % (w, e))
    check(abs(m) <= 0.01, "the middle, where no truck starts, pays nothing: %s" % m)
    print("symmetric line: WEST %.2f, EAST %.2f, MIDDLE %.2f a year" % (w, e, m))
    substation(tmp, d, sites, areas, nodes)


def substation(tmp, d, sites, areas, nodes):
    """Three candidates by the line's middle nodes, each next to a rail terminal (so each is worth
    using): behind one substation, to which the first gives no headroom and the others 1000 and 1500
    kW, the power they add, less the grid bought, stays within the least, 1000 kW, whatever the
    order of the rows; behind three, 1000 kW each, they add more."""
    used = {}
    for how, subs, heads in (("shared", ["sub-mid"] * 3, ["", "1500", "1000"]),
                             ("apart", ["sub-2", "sub-3", "sub-4"], ["1000"] * 3)):
        cands = os.path.join(tmp, "line_cands_%s.csv" % how)
        with open(cands, "w") as f:
            f.write("id,lat,lon,substation_id,headroom_kw,rail_interchange_km\n")
            for n, sub, head in zip((2, 3, 4), subs, heads):
                f.write("rail-%d,%s,%s,%s,%s,0\n" % (n, nodes[n][0], nodes[n][1], sub, head))
        out = os.path.join(tmp, "line_plan_" + how)
        r = run("plan", "--corridor", d, "--sites", sites, "--bev-share", "1", "--vehicles", MIX, "--day", "average",
                "--jurisdictions", areas, "--candidates", cands, "--budget", "20000000", "--resilience-max", "1",
                "--out", out)
        if not check(r.returncode == 0, "plan on the line, candidates %s: exit %d: %s" % (how, r.returncode, r.stderr[-2000:])):
            return
        with open(os.path.join(out, "plan.json")) as f:
            chosen = [c for c in json.load(f)["chosen"] if c["site_id"].startswith("rail-")]
        used[how] = sum(c["points"] * c["kw"] - c["grid_kw"] for c in chosen)
        print("candidates %s: %d used, %.0f kW added beyond the grid bought" % (how, len(chosen), used[how]))
    if len(used) == 2:
        check(0 < used["shared"] <= 1000 + 1e-6, "behind one substation the candidates add at most its 1000 kW: %.1f"
              % used["shared"])
        check(used["apart"] > 1000 + 1e-6, "behind three they add more than one's headroom: %.1f" % used["apart"])


def main():
    with tempfile.TemporaryDirectory(prefix="ec-plan-") as tmp:
        symmetric(tmp)
        if os.path.isfile(os.path.join(RHINE, "traffic.csv")):
            rhine(tmp)
        else:
            print("SKIP: no %s; the Rhine-Ruhr checks did not run" % RHINE)
    if failures:
        print("%d failed" % failures)
        sys.exit(1)
    print("all passed")


main()
