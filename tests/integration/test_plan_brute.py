#!/usr/bin/env python3
"""The planning MILP's optimum against brute force (issue 18).

plan_dump (tests/integration/plan_dump.c) builds the model on the fixture
tests/fixtures/plan_small with a place at every node and prints the model and
the optimum of both solves (budget, min cost). This script does not share the
model's code: it finds each pair's fastest path over segments.csv itself,
works out each truck's energy from the profile's physics, recomputes the
cover sets from the positions and a point's kWh a day by hand. Budget: it
enumerates every choice of points at every place and, for each, serves the
most truck-km a share of each covered family's flow may give (paths with
the same cover sets served in one share; an exact min-cost flow over
fractions). Min cost: it enumerates every set of places
to use and, for each, the cheapest fractional points that carry the
energy (the same exact flow, each place's capacity in pieces of rising
cost). The best of them must equal the MILP's optimum.

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


def point_kwh_per_day(truck, p, util, soc_min=0.10, soc_to=0.80, overhead_s=300.0):
    """A point's kWh a day: 24 h x utilisation x a charge's energy over its time plus the overhead,
    for a truck whose curve is flat (the fixture's): the power is the least of the point's kW, the
    inlet's and the curve's, constant over the charge."""
    levels = {kw for _, kw in truck["curve"]}
    check(len(levels) == 1, "the fixture's curve is flat")
    kw = min(p["kw"], truck["plugs"]["MCS"], levels.pop())
    grid_kwh = (soc_to - soc_min) * truck["battery_kwh"] / truck["charge_eff"]
    hours = grid_kwh / kw + overhead_s / 3600.0
    return 24.0 * util * grid_kwh / hours


def compare_model(mine, model, truck):
    for p in model["places"]:
        want = point_kwh_per_day(truck, p, model["costs"]["point_max_utilisation"])
        check(close(p["kwh_per_point_day"], want, 1e-9), "%s: a point's kWh a day %r, by hand %r"
              % (p["site_id"], p["kwh_per_point_day"], want))
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


# ---- exact allocation of the energy: min-cost flow over fractions ---------------------------------

class Flow:
    """Successive shortest paths (Bellman-Ford, so costs may be negative) over Fractions: exact."""

    def __init__(self, n):
        self.n, self.g = n, [[] for _ in range(n)]

    def add(self, a, b, cap, cost):
        cap, cost = F(cap), F(cost)
        if cap <= 0:
            return
        self.g[a].append([b, cap, cost, len(self.g[b])])
        self.g[b].append([a, F(0), -cost, len(self.g[a]) - 1])

    def run(self, s, t, profitable_only):
        """Pushes flow from s to t along cheapest paths; with profitable_only, only while a path costs
        less than nothing (the most profit), else as much as can go (the least cost of the most flow)."""
        flow = cost = F(0)
        while True:
            dist, prev = [None] * self.n, [None] * self.n
            dist[s] = F(0)
            for _ in range(self.n):
                changed = False
                for v in range(self.n):
                    if dist[v] is None:
                        continue
                    for i, e in enumerate(self.g[v]):
                        if e[1] > 0 and (dist[e[0]] is None or dist[v] + e[2] < dist[e[0]]):
                            dist[e[0]], prev[e[0]], changed = dist[v] + e[2], (v, i), True
                if not changed:
                    break
            if dist[t] is None or (profitable_only and dist[t] >= 0):
                return flow, cost
            push, v = None, t
            while v != s:
                u, i = prev[v]
                c = self.g[u][i][1]
                push = c if push is None or c < push else push
                v = u
            v = t
            while v != s:
                u, i = prev[v]
                e = self.g[u][i]
                e[1] -= push
                self.g[v][e[3]][1] += push
                v = u
            flow += push
            cost += push * dist[t]


def best_share(paths, cap):
    """The most truck-km a day the open places' capacities serve when each path's flow may be served
    in part (y in [0, 1], its energy y x E to places on it): a min-cost flow whose cost per kWh is
    minus the path's truck-km per kWh."""
    if not paths:
        return F(0)
    places = sorted({k for p in paths for k in p["alloc"] if cap.get(k, 0) > 0})
    big = sum((F(p["energy"]) for p in paths), F(1))
    idx = {k: 1 + len(paths) + i for i, k in enumerate(places)}
    n = 2 + len(paths) + len(places)
    net = Flow(n)
    for i, p in enumerate(paths):
        net.add(0, 1 + i, F(p["energy"]), -F(p["flow"]) * F(p["km"]) / F(p["energy"]))
        for k in p["alloc"]:
            if k in idx:
                net.add(1 + i, idx[k], big, 0)
    for k in places:
        net.add(idx[k], n - 1, cap[k], 0)
    _, cost = net.run(0, n - 1, True)
    return -cost


# ---- brute force --------------------------------------------------------------------------------

def headroom(p, green):
    head = p["headroom_kw"]
    if head is not None and green and p["existing"]:
        head += p["points0"] * p["kw"]
    return head


def place_grid(p, points, green):
    """The grid kW a place needs for the points added, or None when it may not have them."""
    added = points - (0 if green else p["points0"])
    head = headroom(p, green)
    if head is None:
        return 0.0
    g = max(0.0, added * p["kw"] - head)
    return g if g <= p["grid_max_kw"] + 1e-9 else None


def families(paths):
    """Paths with the same cover sets (and so the same places) are served in one share: one path
    with their truck-km and energy."""
    by = {}
    for q in paths:
        if q["servable"]:
            by.setdefault(frozenset(q["minimal"]), []).append(q)
    return [{"flow": 1.0, "km": sum(q["flow"] * q["km"] for q in qs), "energy": sum(q["energy"] for q in qs),
             "covers": qs[0]["covers"], "alloc": qs[0]["alloc"], "servable": True} for qs in by.values()]


def brute_budget(model, paths, budget):
    """Every integer choice of points at every place; for each, the best partial service exactly."""
    places, costs, eps = model["places"], model["costs"], model["eps"]
    paths = families(paths)
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
        most = sum(q["flow"] * q["km"] for q in covered)
        if best is not None and most + bonus - eps * capex <= best[0] + 1e-12:
            continue
        km = float(best_share(covered, cap))
        obj = km + bonus - eps * capex
        if best is None or obj > best[0] + 1e-12:
            best = (obj, km, capex, xs)
    return best


SITES_PER_PLACE = 8  # the most sites the min cost may put at one place (PLAN_GREEN_SITES in plan_solve.c)


def brute_min_cost(model, paths, members):
    """Every choice of places to use and of how many sites at each (each site up to max_points, at
    least one point, its own fixed cost); for each, the cheapest fractional points that carry the
    energy, exactly: a min-cost flow whose arcs into the sink are each place's capacity in pieces of
    rising cost a year (a site's first point is paid with the site; then points within the grid's
    headroom; then points with the grid they need)."""
    places, costs = model["places"], model["costs"]
    af = F(model["annuity_factor"])
    want = [q for q in paths if q["servable"] and (members is None or q["jurisdiction"] in members)]
    if not want:
        return (0.0, 0.0, None)
    gc = af * F(costs["grid_capex_per_kw"])
    need = sum((F(q["energy"]) for q in want), F(0))
    site = af * F(costs["site_fixed_capex"]) + F(costs["site_opex_per_year"])

    def option(p, n):
        """A place with n sites: (fixed cost a year, pieces), or None when it cannot hold them."""
        kw, head, per = F(p["kw"]), headroom(p, True), F(p["kwh_per_point_day"])
        pt = af * F(p["point_capex"]) + F(costs["point_opex_per_year"]) + F(costs["demand_charge_per_kw_month"]) * 12 * kw
        most = F(p["max_points"] * n)
        if head is not None:
            head = F(head)
            most = min(most, (head + F(p["grid_max_kw"])) / kw)
        if most < n:
            return None
        knee = min(max(head / kw, F(n)), most) if head is not None else most
        first = n * (site + pt)
        if head is not None and n * kw > head:
            first += gc * (n * kw - head)
        return first, [(n * per, F(0)), ((knee - n) * per, pt / per), ((most - knee) * per, (pt + gc * kw) / per)]

    usable = []
    for p in places:
        if p["max_points"] < 1:
            continue
        per = F(p["kwh_per_point_day"])
        # more sites than would hold all the energy with a point to spare never help
        top = min(SITES_PER_PLACE, int(need / (per * p["max_points"])) + 2) if per > 0 else 1
        opts = [o for o in (option(p, n) for n in range(1, top + 1)) if o is not None]
        if opts:
            usable.append((p["index"], opts))
    best = None
    for n_use in range(1, len(usable) + 1):
        for use in itertools.combinations(usable, n_use):
            open_ = {u[0] for u in use}
            if not all(all(c & open_ for c in q["covers"]) for q in want):
                continue
            for pick in itertools.product(*(u[1] for u in use)):
                fixed = sum((o[0] for o in pick), F(0))
                if best is not None and fixed >= best[0]:
                    continue
                idx = {u[0]: 1 + len(want) + i for i, u in enumerate(use)}
                n = 2 + len(want) + len(use)
                net = Flow(n)
                for i, q in enumerate(want):
                    net.add(0, 1 + i, F(q["energy"]), 0)
                    for k in q["alloc"]:
                        if k in idx:
                            net.add(1 + i, idx[k], need + 1, 0)
                for (k, _), (_, pieces) in zip(use, pick):
                    for c, price in pieces:
                        if c > 0:
                            net.add(idx[k], n - 1, c, price)
                flow, cost = net.run(0, n - 1, False)
                if flow == need and (best is None or fixed + cost < best[0]):
                    best = (fixed + cost, sorted(open_))
    if best is None:
        return None
    return (float(best[0]), best[1])


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
        compare_model(mine, model, fix[2])
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
            check_large(name, "all", run(tool, fixture, args + ["--no-budget", "--large-rows", "1"]), c)
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
        check_large(name, members, run(tool, fixture, a + ["--large-rows", "1"]), c)
        again = run(tool, fixture, a)
        check(again["min_cost"] == d["min_cost"] or
              (again["min_cost"] and close(again["min_cost"]["annual_cost"], d["min_cost"]["annual_cost"], 1e-12)),
              "%s members %s: the same cost twice" % (name, members))


def check_min_cost(name, members, d, c):
    s = d["min_cost"]
    model = d["model"]
    if c is None:
        check(s is None, "%s members %s: no network serves them, yet the MILP found one" % (name, members))
        print("ok  %-22s min cost members %s: none serves them (%s)" % (name, members, d.get("min_cost_error")))
        return
    check(s is not None, "%s members %s: the MILP found no network (%s)" % (name, members, d.get("min_cost_error")))
    check(close(s["annual_cost"], c[0], 1e-7), "%s members %s: annual cost %r, brute force %r (places %s)"
          % (name, members, s["annual_cost"], c[0], c[1]))
    # the cost is the fractional points' own; a built network has them rounded up
    costs, af, annual = model["costs"], model["annuity_factor"], 0.0
    for p, a, whole, g in zip(model["places"], s["points_exact"], s["points"], s["grid_kw"]):
        check(whole == (math.ceil(a - 1e-6) if a > 1e-9 else 0), "%s members %s: %s's points %r rounded up are %r"
              % (name, members, p["site_id"], a, whole))
        if a > 1e-9:
            check(a >= 1 - 1e-9, "%s members %s: a used place has a point at least" % (name, members))
            head = headroom(p, True)
            check(head is None or g >= a * p["kw"] - head - 1e-6, "%s members %s: %s's grid" % (name, members, p["site_id"]))
            # the fewest sites that hold the points: each up to max_points
            n = max(1, math.ceil(a / p["max_points"] - 1e-9))
            annual += af * (n * costs["site_fixed_capex"] + a * p["point_capex"] + g * costs["grid_capex_per_kw"])
            annual += n * costs["site_opex_per_year"] + a * (costs["point_opex_per_year"] +
                                                             costs["demand_charge_per_kw_month"] * 12 * p["kw"])
    check(close(annual, s["annual_cost"], 1e-9), "%s members %s: the annual cost %r is the points' %r"
          % (name, members, s["annual_cost"], annual))
    check(close(s["objective"], c[0], 1e-7), "%s members %s: objective %r is the annual cost %r"
          % (name, members, s["objective"], c[0]))
    check(s["gap"] <= 1e-6, "%s members %s: solved to optimality" % (name, members))
    print("ok  %-22s min cost members %-6s %12.2f a year, points %s" % (name, members, s["annual_cost"],
                                                                          [round(a, 3) for a in s["points_exact"]]))


def check_large(name, members, d, c):
    """The same min cost solved as a large MILP (Germany's: the relaxation rounded to start from, a
    few nodes): a network no cheaper than the optimum, a bound no dearer, and the gap between them."""
    s = d["min_cost"]
    if c is None:
        check(s is None, "%s members %s (large): no network serves them, yet the MILP found one" % (name, members))
        return
    check(s is not None, "%s members %s (large): no network found (%s)" % (name, members, d.get("min_cost_error")))
    if s is None:
        return
    opt = c[0]
    check(s["rounded"] or opt == 0, "%s members %s (large): no relaxation made whole to start from"
          % (name, members))
    check(s["annual_cost"] >= opt - 1e-7 * max(1.0, opt), "%s members %s (large): %r is below the optimum %r"
          % (name, members, s["annual_cost"], opt))
    check(s["bound"] <= opt + 1e-7 * max(1.0, opt), "%s members %s (large): bound %r above the optimum %r"
          % (name, members, s["bound"], opt))
    gap = abs(s["objective"] - s["bound"]) / max(1e-9, abs(s["objective"]))
    check(abs(s["gap"] - gap) <= 1e-9, "%s members %s (large): gap %r, objective and bound say %r"
          % (name, members, s["gap"], gap))
    for a, whole in zip(s["points_exact"], s["points"]):
        check(whole == (math.ceil(a - 1e-6) if a > 1e-9 else 0), "%s members %s (large): points %r rounded up are %r"
              % (name, members, a, whole))
        check(a <= 1e-9 or a >= 1 - 1e-9, "%s members %s (large): a used place has a point at least" % (name, members))
    print("ok  %-22s min cost members %-6s %12.2f a year as a large MILP (optimum %.2f, gap %.4f)"
          % (name, members, s["annual_cost"], opt, s["gap"]))


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
