#!/usr/bin/env python3
"""The planning MILP's optimum against brute force (issue 18).

plan_dump (tests/integration/plan_dump.c) builds the model on the fixture
tests/fixtures/plan_small with a place at every node and prints the model and
the optimum of both solves (budget, min cost). This script does not share the
model's code: it finds each pair's fastest path over segments.csv itself,
works out each truck's energy from the profile's physics, recomputes the
cover sets from the positions, then enumerates every choice of points at
every place and, for each, the paths served, checking whether their energy
fits the points with an exact max-flow over fractions. The best of them must
equal the MILP's optimum.

Usage: test_plan_brute.py PLAN_DUMP FIXTURE_DIR
"""
import csv
import heapq
import itertools
import json
import math
import os
import subprocess
import sys
from fractions import Fraction as F

CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def close(a, b, rel=1e-6, abs_=1e-6):
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


# ---- the fixture, read independently ------------------------------------------------------------

def read_fixture(d):
    arcs = {}
    with open(os.path.join(d, "segments.csv")) as f:
        for r in csv.DictReader(f):
            s, t = int(r["source"]), int(r["target"])
            km, kmh = float(r["segment_length"]), float(r["travel_speed"])
            arcs.setdefault(s, []).append((t, km, km / kmh))
    with open(os.path.join(d, "traffic.csv")) as f:
        pairs = [(int(r["origin"]), int(r["destination"]), float(r["volume"])) for r in csv.DictReader(f)]
    with open(os.path.join(d, "truck.json")) as f:
        truck = json.load(f)
    return arcs, pairs, truck


def fastest(arcs, a, b):
    """Node sequence and cumulative km of the fastest path (Dijkstra on hours)."""
    dist, prev, heap = {a: 0.0}, {}, [(0.0, a)]
    while heap:
        t, v = heapq.heappop(heap)
        if v == b:
            break
        if t > dist[v]:
            continue
        for w, km, h in arcs.get(v, []):
            if t + h < dist.get(w, math.inf):
                dist[w], prev[w] = t + h, (v, km)
                heapq.heappush(heap, (t + h, w))
    seq, kms = [b], []
    while seq[-1] != a:
        v, km = prev[seq[-1]]
        seq.append(v)
        kms.append(km)
    seq.reverse()
    kms.reverse()
    pos = [0.0]
    for km in kms:
        pos.append(pos[-1] + km)
    return seq, pos


def kwh_per_km(truck, kmh, temp_c=20.0):
    """Battery energy per km on the level at a steady speed: rolling and air over the drivetrain."""
    v = kmh / 3.6
    rho = 101325.0 / (287.05 * (temp_c + 273.15))
    mass = truck["empty_mass_kg"] + truck["default_payload_kg"]
    force = mass * 9.80665 * truck["crr"] + 0.5 * rho * truck["cda_m2"] * v * v
    return force * 1000.0 / truck["drivetrain_eff"] / 3.6e6 + truck["aux_kw"] / kmh


# ---- the model, recomputed ----------------------------------------------------------------------

def own_paths(fix, model, bev_share, day_factor, soc_start=0.70, soc_min=0.10, soc_to=0.80):
    arcs, pairs, truck = fix
    places = model["places"]
    at = {}
    for p in places:
        at.setdefault(p["node"], []).append(p["index"])
    per_km = kwh_per_km(truck, 80.0)
    bat = truck["battery_kwh"]
    out = []
    for o, d, vol in pairs:
        seq, pos = fastest(arcs, o, d)
        km = pos[-1]
        drive = km * per_km
        have = (soc_start - soc_min) * bat
        if drive <= have:
            continue
        r_start, r_full = have / per_km, (soc_to - soc_min) * bat / per_km
        on = [(k, pos[i]) for i, v in enumerate(seq) for k in at.get(v, [])]
        covers = []
        for i in range(len(seq) - 1):
            pi, pj = pos[i], pos[i + 1]
            if pj > r_start:
                covers.append(frozenset(k for k, pk in on if pk <= pi and pj - pk <= r_full))
        minimal = {c for c in covers if not any(o2 < c for o2 in covers)}
        flow = vol / 365.0 * day_factor * bev_share
        e = (drive - have) / truck["charge_eff"]
        out.append({"origin": o, "destination": d, "km": km, "flow": flow, "e": e, "energy": flow * e,
                    "r_start": r_start, "r_full": r_full, "covers": covers, "minimal": minimal,
                    "alloc": frozenset().union(*covers), "servable": all(covers)})
    return out


def compare_model(mine, model):
    theirs = model["paths"]
    check(len(mine) == len(theirs), "paths needing a charge: %d here, %d in the model" % (len(mine), len(theirs)))
    by = {(p["origin"], p["destination"]): p for p in theirs}
    for p in mine:
        t = by.get((p["origin"], p["destination"]))
        check(t is not None, "path %s -> %s in the model" % (p["origin"], p["destination"]))
        for mk, tk in (("km", "km"), ("flow", "flow"), ("e", "e_kwh"), ("energy", "energy_kwh"),
                       ("r_start", "r_start_km"), ("r_full", "r_full_km")):
            check(close(p[mk], t[tk], 1e-6), "%s of %s -> %s: %r here, %r in the model"
                  % (mk, p["origin"], p["destination"], p[mk], t[tk]))
        check({frozenset(c) for c in t["cover"]} == p["minimal"],
              "cover sets of %s -> %s: %s here, %s in the model" % (p["origin"], p["destination"],
                                                                    sorted(map(sorted, p["minimal"])), t["cover"]))
        check(frozenset(t["alloc"]) == p["alloc"], "places to charge at on %s -> %s" % (p["origin"], p["destination"]))
        check(bool(t["servable"]) == p["servable"], "servable %s -> %s" % (p["origin"], p["destination"]))


# ---- exact feasibility of the energy: max-flow over fractions ------------------------------------

def fits(paths, cap):
    """Whether every path's energy can go to its open places within their capacities."""
    need = sum((F(p["energy"]) for p in paths), F(0))
    if need == 0:
        return True
    places = sorted({k for p in paths for k in p["alloc"] if cap.get(k, 0) > 0})
    n = 2 + len(paths) + len(places)
    src, snk = 0, n - 1
    res = {}

    def add(a, b, c):
        res[(a, b)] = res.get((a, b), F(0)) + c
        res.setdefault((b, a), F(0))

    idx = {k: 1 + len(paths) + i for i, k in enumerate(places)}
    for i, p in enumerate(paths):
        add(src, 1 + i, F(p["energy"]))
        for k in p["alloc"]:
            if k in idx:
                add(1 + i, idx[k], need)
    for k in places:
        add(idx[k], snk, cap[k])
    adj = {}
    for (a, b) in res:
        adj.setdefault(a, []).append(b)
    flow = F(0)
    while True:
        prev, queue = {src: None}, [src]
        for v in queue:
            for w in adj.get(v, []):
                if w not in prev and res[(v, w)] > 0:
                    prev[w] = v
                    queue.append(w)
        if snk not in prev:
            break
        push, v = None, snk
        while prev[v] is not None:
            c = res[(prev[v], v)]
            push = c if push is None or c < push else push
            v = prev[v]
        v = snk
        while prev[v] is not None:
            res[(prev[v], v)] -= push
            res[(v, prev[v])] += push
            v = prev[v]
        flow += push
    return flow == need


# ---- brute force --------------------------------------------------------------------------------

def place_grid(p, points, green):
    """The grid kW a place needs for the points added, or None when it may not have them."""
    added = points - (0 if green else p["points0"])
    head = p["headroom_kw"]
    if head is None:
        return 0.0
    if green and p["existing"]:
        head += p["points0"] * p["kw"]
    g = max(0.0, added * p["kw"] - head)
    return g if g <= p["grid_max_kw"] + 1e-9 else None


def brute_budget(model, paths, budget):
    places, costs, eps = model["places"], model["costs"], model["eps"]
    ranges = [range(p["points0"], p["max_points"] + 1) for p in places]
    best = None
    for xs in itertools.product(*ranges):
        capex, bonus, cap, ok = 0.0, 0.0, {}, True
        for p, x in zip(places, xs):
            g = place_grid(p, x, False)
            if g is None:
                ok = False
                break
            used = x > 0
            capex += (costs["site_fixed_capex"] if used and not p["existing"] else 0.0)
            capex += (x - p["points0"]) * p["point_capex"] + g * costs["grid_capex_per_kw"]
            bonus += p["bonus"] if used else 0.0
            cap[p["index"]] = F(x) * F(p["kwh_per_point_day"])
        if not ok or (budget >= 0 and capex > budget + 1e-6):
            continue
        open_ = {k for k, c in cap.items() if c > 0}
        covered = [q for q in paths if q["servable"] and all(c & open_ for c in q["covers"])]
        for n in range(len(covered), -1, -1):
            for sub in itertools.combinations(covered, n):
                km = sum(q["flow"] * q["km"] for q in sub)
                obj = km + bonus - eps * capex
                if best is not None and obj <= best[0] + 1e-12:
                    continue
                if fits(list(sub), cap):
                    best = (obj, km, capex, xs)
    return best


def brute_min_cost(model, paths, members):
    places, costs = model["places"], model["costs"]
    af = model["annuity_factor"]
    want = [q for q in paths if q["servable"] and (members is None or q["jurisdiction"] in members)]
    if not want:
        return (0.0, 0.0, None)
    best = None
    for xs in itertools.product(*[range(0, p["max_points"] + 1) for p in places]):
        capex, annual, cap, ok = 0.0, 0.0, {}, True
        for p, x in zip(places, xs):
            g = place_grid(p, x, True)
            if g is None:
                ok = False
                break
            used = x > 0
            c = (costs["site_fixed_capex"] if used else 0.0) + x * p["point_capex"] + g * costs["grid_capex_per_kw"]
            capex += c
            annual += af * c + (costs["site_opex_per_year"] if used else 0.0)
            annual += x * (costs["point_opex_per_year"] + costs["demand_charge_per_kw_month"] * 12 * p["kw"])
            cap[p["index"]] = F(x) * F(p["kwh_per_point_day"])
        if not ok or (best is not None and annual >= best[0] - 1e-9):
            continue
        open_ = {k for k, c in cap.items() if c > 0}
        if all(all(c & open_ for c in q["covers"]) for q in want) and fits(want, cap):
            best = (annual, capex, xs)
    return best


# ---- the cases ----------------------------------------------------------------------------------

def run(tool, fixture, args):
    cmd = [tool, "--corridor", fixture, "--vehicles", os.path.join(fixture, "mix.csv"), "--bev-share", "1",
           "--day-factor", "1", "--gap", "0"] + args
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def case(tool, fixture, fix, name, args, budgets, members_list):
    for budget in budgets:
        a = args + ["--budget", str(budget)]
        if members_list:
            a = a + ["--no-min-cost"]
        d = run(tool, fixture, a)
        model = d["model"]
        mine = own_paths(fix, model, 1.0, 1.0)
        jur = {p["node"]: p["jurisdiction"] for p in model["places"]}
        for p in mine:
            p["jurisdiction"] = jur[p["origin"]]
        compare_model(mine, model)
        b = brute_budget(model, mine, budget)
        s = d["budget"]
        check(b is not None, "%s budget %s: brute force finds a plan" % (name, budget))
        check(close(s["objective"], b[0], 1e-7), "%s budget %s: objective %r, brute force %r (points %s)"
              % (name, budget, s["objective"], b[0], b[3]))
        check(close(s["served_truck_km"], b[1], 1e-7), "%s budget %s: served km %r, brute force %r"
              % (name, budget, s["served_truck_km"], b[1]))
        check(close(s["capex"], b[2], 1e-7), "%s budget %s: capex %r, brute force %r"
              % (name, budget, s["capex"], b[2]))
        check(budget < 0 or s["capex"] <= budget + 1e-6, "%s budget %s: within the budget" % (name, budget))
        check(s["gap"] <= 1e-6, "%s budget %s: solved to optimality (gap %r)" % (name, budget, s["gap"]))
        print("ok  %-22s budget %-9s served %10.2f truck-km, capex %10.0f, points %s"
              % (name, budget, s["served_truck_km"], s["capex"], s["points"]))
        if not members_list:
            c = brute_min_cost(model, mine, None)
            check_min_cost(name, "all", d, c)
    for members in members_list:
        a = args + ["--no-budget", "--members", ",".join(map(str, sorted(members)))]
        d = run(tool, fixture, a)
        model = d["model"]
        mine = own_paths(fix, model, 1.0, 1.0)
        jur = {p["node"]: p["jurisdiction"] for p in model["places"]}
        for p in mine:
            p["jurisdiction"] = jur[p["origin"]]
        c = brute_min_cost(model, mine, set(members))
        check_min_cost(name, members, d, c)
        again = run(tool, fixture, a)
        check(again["min_cost"] == d["min_cost"] or
              (again["min_cost"] and close(again["min_cost"]["annual_cost"], d["min_cost"]["annual_cost"], 1e-12)),
              "%s members %s: the same cost twice" % (name, members))


def check_min_cost(name, members, d, c):
    s = d["min_cost"]
    if c is None:
        check(s is None, "%s members %s: no network serves them, yet the MILP found one" % (name, members))
        print("ok  %-22s min cost members %s: none serves them (%s)" % (name, members, d.get("min_cost_error")))
        return
    check(s is not None, "%s members %s: the MILP found no network (%s)" % (name, members, d.get("min_cost_error")))
    check(close(s["annual_cost"], c[0], 1e-7), "%s members %s: annual cost %r, brute force %r (points %s)"
          % (name, members, s["annual_cost"], c[0], c[2]))
    check(close(s["objective"], c[0], 1e-7), "%s members %s: objective %r is the annual cost %r"
          % (name, members, s["objective"], c[0]))
    check(s["gap"] <= 1e-6, "%s members %s: solved to optimality" % (name, members))
    print("ok  %-22s min cost members %-6s %12.2f a year, points %s" % (name, members, s["annual_cost"], s["points"]))


def main():
    tool, fixture = sys.argv[1], sys.argv[2]
    fix = read_fixture(fixture)
    base = ["--kw", "100", "--util", "0.25", "--point-capex", "400000", "--site-capex", "1000000",
            "--max-points", "2"]
    budgets = [-1, 0, 1000000, 1400000, 2000000, 2800000, 3600000, 5000000]
    case(tool, fixture, fix, "plain", base, budgets, [])
    case(tool, fixture, fix, "existing-2003", base + ["--existing", "2003:1", "--existing", "2004:2"],
         [0, 400000, 1000000, 1800000, -1], [])
    case(tool, fixture, fix, "grid-limited", base + ["--headroom", "150", "--grid-max", "60", "--grid-capex", "3000",
                                                     "--max-points", "3"], [1400000, 2500000, 4000000, -1], [])
    case(tool, fixture, fix, "one-point", base + ["--max-points", "1", "--util", "0.5"], [1400000, 2800000, -1], [])
    jur = ["--jur", "2001:0", "--jur", "2002:0", "--jur", "2003:1", "--jur", "2004:1", "--jur", "2005:2"]
    case(tool, fixture, fix, "coalitions", base + jur, [], [{0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}])
    print("%d checks passed" % CHECKS)


if __name__ == "__main__":
    main()
