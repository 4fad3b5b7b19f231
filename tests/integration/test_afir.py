#!/usr/bin/env python3
"""`ecorridor report afir`, AFIR Article 4(1) on a corridor, checked against truth computed here.

1. A hand-made line (tests/fixtures/afir_line: A - B - C - D, 100 km each, and a 10 km stub C - E)
   with sites this test writes at known kilometres: gaps of 59.9 km comply with the 2030 core rule
   (60 km) and one of 60.1 km fails both segments it spans, in both directions, with the reason
   naming it; a pool below the rule's size (3,500 kW, or 3,600 kW with one 350 kW point) does not
   count, while the 2027 comprehensive rule (1,400 kW, one point, 120 km) accepts the same sites; a
   pool 2 km off the line counts and one 4 km off does not; where the network ends, a last pool
   2.5 km before the end covers the segment and one 3.5 km before does not; with no pool of the
   rule's size every segment fails "within 60 km". Shares against the lengths summed here.
2. The same sites from a hub's database (`import` of the sites file) give the same report.
3. Refusals: a year with no rule (exit 2, the years it knows named), an unknown --network, neither
   or both of --sites and --db; --help.
4. The Germany corridor (shared data): pools every 50 km along one route (the shortest path between
   two nodes picked here) and none elsewhere: that route's segments comply in both directions, the
   rest do not, and `share` is the route's length over the network's, both summed here from
   segments.csv. An independent brute force here (every drive without U-turns enumerated, rather
   than the program's shortest paths) agrees segment by segment.

Usage: test_afir.py ECORRIDOR SOURCE_DIR DATA_DIR (or the environment's ECORRIDOR, SRC and DATA).
Python 3 standard library only; outputs go to a temporary directory."""
import csv
import heapq
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile

ECORRIDOR = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ECORRIDOR", "")
SRC = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("SRC", "")
DATA = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("DATA", "")
if not ECORRIDOR or not SRC:
    sys.exit(__doc__)
LINE = os.path.join(SRC, "tests", "fixtures", "afir_line")
GERMANY = os.path.join(DATA, "corridors", "germany")
EARTH_R = 6371008.8
NEAR_KM = 3.0
SITES_HEADER = "site_id,name,lat,lon,standard,power_kw,count\n"
# A pool of 4 MCS points of 1,000 kW: the size of every rule.
BIG = (("MCS", 1000, 4),)
failed = passed = 0


def check(ok, what):
    global failed, passed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)
    return ok


def afir(*args):
    return subprocess.run([ECORRIDOR, "report", "afir", *args], capture_output=True, text=True, timeout=120)


def report(what, corridor, sites, year, *extra, db=None):
    """The --json report as a dict, or None (the failure said why)."""
    src = ("--db", db) if db else ("--sites", sites)
    r = afir("--corridor", corridor, *src, "--year", str(year), *extra, "--json")
    if not check(r.returncode == 0, "%s: exit %d, stderr: %s" % (what, r.returncode, r.stderr.strip()[-400:])):
        return None
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        check(False, "%s: not JSON (%s): %s" % (what, e, r.stdout[:200]))
        return None


def write_sites(path, pools):
    """pools: (id, lat, lon, ((standard, kW, count), ...))."""
    with open(path, "w") as f:
        f.write(SITES_HEADER)
        for pid, lat, lon, points in pools:
            for std, kw, n in points:
                f.write("%s,Pool %s,%.9f,%.9f,%s,%g,%d\n" % (pid, pid, lat, lon, std, kw, n))


def by_segment(rep):
    return {(str(s["from"]), str(s["to"])): s for s in rep["segments"]}


# ---- 1. the hand-made line ------------------------------------------------------------------

LINE_SEGS = {("1001", "1002"): "A – B", ("1002", "1003"): "B – C", ("1003", "1004"): "C – D",
             ("1003", "1005"): "C – E"}
LINE_LEN = {("1001", "1002"): 100.0, ("1002", "1003"): 100.0, ("1003", "1004"): 100.0, ("1003", "1005"): 10.0}
LINE_KM = sum(LINE_LEN.values())


def at_km(km, north_km=0.0, points=BIG, pid=None):
    """A pool at km of the line A - D (lon 8 + km/100 on the 50th parallel), north_km off it."""
    return (pid or "P%g" % km, 50.0 + north_km / (math.pi / 180 * EARTH_R / 1000), 8.0 + km / 100.0, points)


def line_case(tmp, what, pools, year, expect, *extra, reasons=None, gaps=None):
    """Runs the line with pools; expect: the set of compliant segments. reasons: segment -> a text
    each failing direction's reason must hold; gaps: segment -> the max gap of each direction."""
    path = os.path.join(tmp, what.replace(" ", "_").replace(",", "") + ".csv")
    write_sites(path, pools)
    rep = report(what, LINE, path, year, *extra)
    if not rep:
        return None
    segs = by_segment(rep)
    if not check(set(segs) == set(LINE_SEGS), "%s: segments %s, expected %s" % (what, sorted(segs), sorted(LINE_SEGS))):
        return None
    got = {k for k, s in segs.items() if s["compliant"]}
    check(got == expect, "%s: compliant %s, expected %s" % (what, sorted(got), sorted(expect)))
    want_km = sum(LINE_LEN[k] for k in expect)
    check(abs(rep["network_km"] - LINE_KM) < 1e-9, "%s: network_km %s, expected %s" % (what, rep["network_km"], LINE_KM))
    check(abs(rep["compliant_km"] - want_km) < 1e-9, "%s: compliant_km %s, expected %s" % (what, rep["compliant_km"], want_km))
    check(abs(rep["share"] - want_km / LINE_KM) < 1e-12, "%s: share %s, expected %s" % (what, rep["share"], want_km / LINE_KM))
    for k, s in segs.items():
        check(s.get("name") == LINE_SEGS[k], "%s: segment %s named %r, expected %r" % (what, k, s.get("name"), LINE_SEGS[k]))
        check(abs(s["length_km"] - LINE_LEN[k]) < 1e-9, "%s: %s length_km %s" % (what, k, s["length_km"]))
        dirs = (s["forward"], s["backward"])
        if s["compliant"]:
            check(s["reason"] in ("", None) and all(d["compliant"] for d in dirs),
                  "%s: %s compliant but reason %r, directions %s" % (what, k, s["reason"], dirs))
            continue
        check(bool(s["reason"]), "%s: %s fails without a reason" % (what, k))
        for d in dirs:
            if reasons and k in reasons and not d["compliant"]:
                check(reasons[k] in d["reason"], "%s: %s reason %r lacks %r" % (what, k, d["reason"], reasons[k]))
        if gaps and k in gaps:
            for d in dirs:
                check(d["max_gap_km"] is not None and abs(d["max_gap_km"] - gaps[k]) < 0.01,
                      "%s: %s max_gap_km %s, expected %s" % (what, k, d["max_gap_km"], gaps[k]))
    return rep


def line(tmp):
    ab, bc, cd, ce = ("1001", "1002"), ("1002", "1003"), ("1003", "1004"), ("1003", "1005")
    under = [at_km(k) for k in (0, 59.9, 119.8, 179.7, 239.6, 299.5)]
    # Every gap 59.9 km; the last pool 0.5 km before D, where the network ends, covers C - D. The
    # stub C - E has no pool and ends at E: nothing lies between two pools there.
    rep = line_case(tmp, "gaps of 59.9 km", under, 2030, {ab, bc, cd},
                    reasons={ce: "network's end at E"})
    if rep:
        s = by_segment(rep)
        for k in (ab, bc, cd):
            for d in (s[k]["forward"], s[k]["backward"]):
                check(d["compliant"] and abs(d["max_gap_km"] - 59.9) < 0.01 if k != cd else d["compliant"],
                      "gaps of 59.9 km: %s direction %s" % (k, d))
        check(rep["year"] == 2030 and rep["required_share"] == 1 and rep["meets_target"] is False,
              "gaps of 59.9 km: year/required_share/meets_target %s %s %s" % (rep["year"], rep["required_share"],
                                                                             rep["meets_target"]))
        rule = rep.get("rule", {})
        check(rule.get("spacing_km") == 60 and rule.get("pool_kw") == 3600 and rule.get("points_350kw") == 2,
              "2030 core rule %s" % rule)
    # One gap of 60.1 km (59.9 to 120.0) spans A - B and B - C: both fail, both ways.
    over = [at_km(k) for k in (0, 59.9, 120.0, 179.7, 239.6, 299.5)]
    line_case(tmp, "a gap of 60.1 km", over, 2030, {cd}, reasons={ab: "pools 60.1 km apart", bc: "pools 60.1 km apart"},
              gaps={ab: 60.1, bc: 60.1})
    # The pool at 119.8 below the rule: 3,500 kW, or 3,600 kW with one point of 350 kW.
    for what, points in (("3,500 kW", (("MCS", 1000, 3), ("CCS2", 500, 1))),
                         ("one 350 kW point", (("MCS", 1000, 1), ("CCS2", 200, 13)))):
        small = [at_km(k) if k != 119.8 else at_km(k, points=points) for k in (0, 59.9, 119.8, 179.7, 239.6, 299.5)]
        rep = line_case(tmp, "a pool of " + what, small, 2030, {cd}, reasons={ab: "pools 119.8 km apart"},
                        gaps={ab: 119.8, bc: 119.8})
        if rep:
            check(rep["pools"]["total"] == 6 and rep["pools"]["qualifying"] == 5,
                  "a pool of %s: pools %s, expected 6 read and 5 qualifying" % (what, rep["pools"]))
        # 2027 comprehensive: 1,400 kW with one point of 350 kW, every 120 km: 119.8 passes.
        line_case(tmp, "a pool of %s, 2027 comprehensive" % what, small, 2027, {ab, bc, cd}, "--network", "comprehensive")
    # Off the line: 2 km counts, 4 km does not.
    near = [at_km(k) if k != 119.8 else at_km(k, north_km=2.0) for k in (0, 59.9, 119.8, 179.7, 239.6, 299.5)]
    line_case(tmp, "a pool 2 km off the line", near, 2030, {ab, bc, cd})
    far = [at_km(k) if k != 119.8 else at_km(k, north_km=4.0) for k in (0, 59.9, 119.8, 179.7, 239.6, 299.5)]
    line_case(tmp, "a pool 4 km off the line", far, 2030, {cd}, reasons={ab: "pools 119.8 km apart"})
    # Where the network ends: the last pool 2.5 km before D covers C - D, 3.5 km before does not.
    line_case(tmp, "the last pool 2.5 km before the end", [at_km(k) for k in (0, 59.9, 119.8, 179.7, 239.6, 297.5)],
              2030, {ab, bc, cd})
    line_case(tmp, "the last pool 3.5 km before the end", [at_km(k) for k in (0, 59.9, 119.8, 179.7, 239.6, 296.5)],
              2030, {ab, bc}, reasons={cd: "network's end at D"})
    # No pool of the rule's size anywhere.
    line_case(tmp, "no pool of the size", [at_km(150, points=(("CCS2", 150, 2),))], 2030, set(),
              reasons={k: "no pool of 3,600 kW with two points of 350 kW within 60 km" for k in LINE_SEGS})
    # 2025: 15 % of the network; the 59.9 km sites meet it.
    rep = line_case(tmp, "2025", under, 2025, {ab, bc, cd})
    if rep:
        check(rep["required_share"] == 0.15 and rep["meets_target"] is True,
              "2025: required_share %s meets_target %s" % (rep["required_share"], rep["meets_target"]))
    return under


def table(tmp, pools):
    path = os.path.join(tmp, "table.csv")
    write_sites(path, pools)
    r = afir("--corridor", LINE, "--sites", path, "--year", "2030")
    if not check(r.returncode == 0, "table: exit %d %s" % (r.returncode, r.stderr)):
        return
    out = r.stdout
    check("A – B" in out and "C – E" in out, "table: segment names missing:\n" + out)
    check("96.8 %" in out and "target not met" in out, "table: no summary with 96.8 %:\n" + out)
    check(" 100.0 " in out and " 10.0 " in out, "table: lengths to 0.1 km missing:\n" + out)


# ---- 2. a hub's database --------------------------------------------------------------------

def hub(tmp, pools):
    path = os.path.join(tmp, "hub_sites.csv")
    write_sites(path, pools)
    db = os.path.join(tmp, "hub.db")
    r = subprocess.run([ECORRIDOR, "import", "--db", db, path, "--format", "csv", "--quiet"], capture_output=True,
                       text=True, timeout=60)
    if not check(r.returncode == 0, "import of the sites into a hub: exit %d %s" % (r.returncode, r.stderr)):
        return
    a = report("the line from --sites", LINE, path, 2030)
    b = report("the line from --db", LINE, None, 2030, db=db)
    if a and b:
        check(a["segments"] == b["segments"] and a["share"] == b["share"] and a["pools"] == b["pools"],
              "--db and --sites differ: %s / %s" % (b["pools"], a["pools"]))
    # A pool is what is installed: every EVSE out of service this minute (the hub's status in the
    # stored site, written here as a status feed would leave it) changes nothing.
    con = sqlite3.connect(db)
    for seq, doc in con.execute("SELECT seq, doc FROM objects WHERE doc LIKE '%\"evses\"%'").fetchall():
        d = json.loads(doc)
        for e in d.get("evses", []):
            e["status"] = "INOPERATIVE"
        con.execute("UPDATE objects SET doc = ? WHERE seq = ?", (json.dumps(d), seq))
    con.commit()
    con.close()
    c = report("the line from --db, every EVSE inoperative", LINE, None, 2030, db=db)
    if a and c:
        check(c["segments"] == a["segments"] and c["share"] == a["share"] and c["pools"] == a["pools"],
              "pools out of service now are still installed: %s / %s" % (c["pools"], a["pools"]))
    r = afir("--corridor", LINE, "--db", os.path.join(tmp, "no_such.db"), "--year", "2030")
    check(r.returncode == 1 and "no such database" in r.stderr, "a missing --db: exit %d %s" % (r.returncode, r.stderr))
    check(not os.path.exists(os.path.join(tmp, "no_such.db")), "a missing --db was created")


# ---- 3. refusals ----------------------------------------------------------------------------

def refusals(tmp, pools):
    path = os.path.join(tmp, "refusals.csv")
    write_sites(path, pools)
    r = afir("--corridor", LINE, "--sites", path, "--year", "2026")
    check(r.returncode == 2 and "2025, 2027 and 2030" in r.stderr and not r.stdout,
          "--year 2026: exit %d, stderr %r" % (r.returncode, r.stderr))
    r = afir("--corridor", LINE, "--sites", path, "--year", "soon")
    check(r.returncode == 2 and "2025, 2027 and 2030" in r.stderr, "--year soon: exit %d %r" % (r.returncode, r.stderr))
    r = afir("--corridor", LINE, "--sites", path, "--year", "2030", "--network", "urban")
    check(r.returncode == 2 and "core or comprehensive" in r.stderr, "--network urban: exit %d %r" % (r.returncode, r.stderr))
    r = afir("--corridor", LINE, "--year", "2030")
    check(r.returncode == 2, "neither --sites nor --db: exit %d" % r.returncode)
    r = afir("--corridor", LINE, "--sites", path, "--db", path, "--year", "2030")
    check(r.returncode == 2, "both --sites and --db: exit %d" % r.returncode)
    r = afir("--help")
    check(r.returncode == 0 and "--year" in r.stdout and "--network" in r.stdout, "--help: exit %d" % r.returncode)
    r = subprocess.run([ECORRIDOR, "help", "report", "afir"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and "report afir" in r.stdout, "help report afir: exit %d" % r.returncode)


# ---- 4. Germany -----------------------------------------------------------------------------

# Two nodes of the Germany model whose shortest path (442 km) has no other segment close enough
# to its pools to be covered too: no short road joins two of its nodes, no short stub hangs off
# it near a pool. The brute force below checks that this holds, so the expectation is not taken
# on trust.
ROUTE = ("261168", "108800")


def load_corridor(d):
    arcs, pos = [], {}
    with open(os.path.join(d, "segments.csv"), newline="") as f:
        for r in csv.DictReader(f):
            arcs.append((r["source"], r["target"], float(r["segment_length"])))
            pos[r["source"]] = (float(r["position_y"]), float(r["position_x"]))
    return arcs, pos


def shortest_path(arcs, s, t):
    adj = {}
    for u, v, length in arcs:
        adj.setdefault(u, []).append((v, length))
    dist, pred, pq = {s: 0.0}, {}, [(0.0, s)]
    while pq:
        d, u = heapq.heappop(pq)
        if d > dist[u]:
            continue
        for v, length in adj.get(u, []):
            if d + length < dist.get(v, math.inf):
                dist[v], pred[v] = d + length, u
                heapq.heappush(pq, (d + length, v))
    path = [t]
    while path[-1] != s:
        path.append(pred[path[-1]])
    return path[::-1]


def pools_along(arcs, pos, path, step=50.0):
    """A pool every step km along path from its start, and one at its end node."""
    length = {(u, v): l for u, v, l in arcs}
    out, done, nxt = [], 0.0, 0.0
    for u, v in zip(path, path[1:]):
        l = length[(u, v)]
        while nxt <= done + l + 1e-9:
            f = (nxt - done) / l
            a, b = pos[u], pos[v]
            out.append((a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])))
            nxt += step
        done += l
    out.append(pos[path[-1]])
    return out, done


def point_segment_km(p, a, b):
    """Distance from p to segment a-b and the fraction along it, in a local equirectangular frame."""
    k = math.cos(math.radians(p[0])) * math.radians(1) * EARTH_R
    m = math.radians(1) * EARTH_R
    ax, ay = (a[1] - p[1]) * k, (a[0] - p[0]) * m
    bx, by = (b[1] - p[1]) * k, (b[0] - p[0]) * m
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    f = min(1.0, max(0.0, -(ax * dx + ay * dy) / l2 if l2 > 0 else 0.0))
    return math.hypot(ax + f * dx, ay + f * dy) / 1000.0, f


def brute_force(arcs, pos, pools, spacing):
    """Which directed segments comply, by enumerating every drive without U-turns (and without
    driving a segment twice) from each segment back to the nearest pool behind it and on to the
    nearest pool past it, up to the spacing; the gaps as docs/afir.md defines them. Also whether
    a pool stands within 100 m of the 3 km limit of some segment (where rounding could decide)."""
    on, close = [[] for _ in arcs], False
    for p in pools:
        for i, (u, v, length) in enumerate(arcs):
            d, f = point_segment_km(p, pos[u], pos[v])
            close = close or abs(d - NEAR_KM) < 0.1
            if d <= NEAR_KM:
                on[i].append(f * length)
    for o in on:
        o.sort()
    out, into = {}, {}
    for i, (u, v, _) in enumerate(arcs):
        out.setdefault(u, []).append(i)
        into.setdefault(v, []).append(i)

    def after(i):
        return [j for j in out.get(arcs[i][1], []) if arcs[j][1] != arcs[i][0]]

    def before(i):
        return [j for j in into.get(arcs[i][0], []) if arcs[j][0] != arcs[i][1]]

    def nearest(i, forward):
        best = [math.inf]

        def walk(j, dist, seen):
            if dist > spacing:
                return
            for x in (after(j) if forward else before(j)):
                if x in seen:
                    continue
                length = arcs[x][2]
                if on[x]:
                    best[0] = min(best[0], dist + (on[x][0] if forward else length - on[x][-1]))
                else:
                    walk(x, dist + length, seen | {x})

        walk(i, 0.0, frozenset([i]))
        return best[0]

    ok = []
    for i, (u, v, length) in enumerate(arcs):
        back, ahead, t = nearest(i, False), nearest(i, True), on[i]
        if not t:
            gap = back + length + ahead
        else:
            gap = max([b - a for a, b in zip(t, t[1:])] + [0.0])
            if t[0] > 1e-5 and not (t[0] <= NEAR_KM and not before(i)):
                gap = max(gap, t[0] + back)
            if length - t[-1] > 1e-5 and not (length - t[-1] <= NEAR_KM and not after(i)):
                gap = max(gap, length - t[-1] + ahead)
        ok.append(gap <= spacing + 1e-5)
    return ok, close


def germany(tmp):
    if not os.path.isfile(os.path.join(GERMANY, "segments.csv")):
        print("SKIP: no %s; the Germany checks did not run" % GERMANY)
        return
    arcs, pos = load_corridor(GERMANY)
    path = shortest_path(arcs, *ROUTE)
    pools, route_km = pools_along(arcs, pos, path)
    sites = os.path.join(tmp, "germany_sites.csv")
    write_sites(sites, [("R%d" % i, lat, lon, BIG) for i, (lat, lon) in enumerate(pools)])
    route = {frozenset(e) for e in zip(path, path[1:])}
    # The network's length: each pair of directions once, at the mean of their lengths.
    pairs = {}
    for u, v, length in arcs:
        pairs.setdefault(frozenset((u, v)), []).append(length)
    network_km = sum(sum(ls) / len(ls) for ls in pairs.values())
    rep = report("germany", GERMANY, sites, 2030)
    if not rep:
        return
    segs = rep["segments"]
    got = {frozenset((str(s["from"]), str(s["to"]))) for s in segs if s["compliant"]}
    check(len(segs) == len(pairs), "germany: %d segments, expected %d" % (len(segs), len(pairs)))
    check(got == route, "germany: compliant segments differ from the route's: %d extra %s, %d missing %s" %
          (len(got - route), sorted(tuple(sorted(k)) for k in got - route)[:5], len(route - got),
           sorted(tuple(sorted(k)) for k in route - got)[:5]))
    for s in segs:
        if frozenset((str(s["from"]), str(s["to"]))) in route:
            check(s["forward"]["compliant"] and s["backward"] and s["backward"]["compliant"],
                  "germany: route segment %s-%s not compliant both ways" % (s["from"], s["to"]))
        else:
            check(bool(s["reason"]), "germany: %s-%s fails without a reason" % (s["from"], s["to"]))
    check(abs(rep["network_km"] - network_km) < 1e-6, "germany: network_km %s, expected %s" % (rep["network_km"], network_km))
    check(abs(rep["share"] - route_km / network_km) < 1e-9,
          "germany: share %s, expected the route's %.3f km / %.3f km = %s" % (rep["share"], route_km, network_km,
                                                                            route_km / network_km))
    check(rep["pools"]["near"] == len(pools), "germany: %s pools near, expected all %d" % (rep["pools"], len(pools)))
    ok, close = brute_force(arcs, pos, pools, 60.0)
    check(not close, "germany: a pool stands within 100 m of the 3 km limit: pick another route")
    truth = {k for k in pairs if all(ok[i] for i, a in enumerate(arcs) if frozenset(a[:2]) == k)}
    check(truth == route, "germany: the brute force finds %d segments besides the route compliant, %d of it not: the "
          "route is no fair test" % (len(truth - route), len(route - truth)))
    check(truth == got, "germany: the program and the brute force differ on %s" %
          sorted(tuple(sorted(k)) for k in truth ^ got)[:5])
    print("germany: route %s -> %s, %d segments, %.1f km of %.1f km, share %.4f" %
          (ROUTE[0], ROUTE[1], len(route), route_km, network_km, rep["share"]))


def main():
    with tempfile.TemporaryDirectory(prefix="afir_") as tmp:
        pools = line(tmp)
        table(tmp, pools)
        hub(tmp, pools)
        refusals(tmp, pools)
        germany(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
