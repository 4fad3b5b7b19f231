#!/usr/bin/env python3
"""`ecorridor route` output as a dispatcher reads it, checked against truth
computed here: times with date and zone (against Python's own tz database
reading), departures in every ISO 8601 form, every route's times adding up,
driver pauses where the rules put them (the rules replayed here from the
plan's stops and road pauses, not from the planner's counters), money that
sums exactly in the table and the JSON, infeasible trips that say why, and
geometry without repeated coordinates.

usage: test_route_output.py ECORRIDOR SOURCE_DIR [SHARED_DATA_DIR]
"""
import csv
import gzip
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

exe, root = sys.argv[1], sys.argv[2]
shared = sys.argv[3] if len(sys.argv) > 3 else os.path.join(root, "..", "shared", "data")
tmp = tempfile.mkdtemp(prefix="ec_route_out_")
demo = os.path.join(root, "data/demo/rhine_alpine")
passed = failed = 0


def run(*args):
    p = subprocess.run([exe, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name} {str(detail)[:600]}")


def ts(s):
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def nodes_of(graphml):
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    doc = ET.parse(graphml).getroot()
    keys = {k.get("id"): k.get("attr.name") for k in doc.findall("g:key", ns)}
    out = {}
    for n in doc.iter("{http://graphml.graphdrawing.org/xmlns}node"):
        d = {keys[x.get("key")]: x.text for x in n.findall("g:data", ns)}
        out[n.get("id")] = (float(d["position_y"]), float(d["position_x"]), d.get("name"))
    return out


# --- the rules, replayed from the plan --------------------------------------------
RULES = {  # break after, break, split first/second, day driving, window, rest
    "eu": dict(after=4.5 * 3600, brk=45 * 60, first=15 * 60, second=30 * 60, day=9 * 3600, window=13 * 3600,
               rest=11 * 3600),
    "us": dict(after=8 * 3600, brk=30 * 60, first=None, second=None, day=11 * 3600, window=14 * 3600,
               rest=10 * 3600),
}
TOL = 5  # seconds: the JSON gives times to the second
REACH = 1800  # a pause may move this much driving earlier, to a rest area


def timeline(p):
    """(start, end, kind, pause_kind) stationary spans, in time order. A stop's span
    counts as a pause from the end of its wait; a road pause is all pause."""
    spans = []
    for s in p["stops"]:
        a, d = ts(s["arrival"]), ts(s["departure"])
        spans.append((a, d, "stop", a + round(s["wait_s"]), s))
    for r in p["road_pauses"]:
        spans.append((ts(r["start"]), ts(r["end"]), "road", ts(r["start"]), r))
    return sorted(spans, key=lambda x: x[0])


def check_plan(name, p, rules, driven_h=0.0):
    """Times add up; money sums exactly; under rules, driving and pauses obey
    them and every road pause falls where the rules make it due."""
    dep, arr = ts(p["departure"]), ts(p["arrival"])
    parts = sum(p[k] for k in ["drive_s", "charge_s", "wait_s", "overhead_s", "break_s", "rest_s"])
    check(f"{name}: parts add up to the duration", abs(parts - p["duration_s"]) <= 2 and abs(arr - dep - p["duration_s"]) <= 1,
          (parts, p["duration_s"], arr - dep))
    total = sum((Decimal(str(s["cost"])) for s in p["stops"]), Decimal(0))
    check(f"{name}: stop costs sum exactly to the total", total == Decimal(str(p["cost"])), (total, p["cost"]))
    spans = timeline(p)
    # Driving is what the stationary spans leave; it must be the plan's driving time.
    driving, t = [], dep
    for a, d, *_ in spans:
        check(f"{name}: spans in order", a >= t - TOL, (a, t))
        if a > t:
            driving.append((t, a))
        t = max(t, d)
    if arr > t:
        driving.append((t, arr))
    drove = sum(b - a for a, b in driving)
    check(f"{name}: driving between the pauses is the plan's driving", abs(drove - p["drive_s"]) <= TOL * (len(spans) + 1),
          (drove, p["drive_s"]))
    # The pauses' whole lengths, as the summary reports them.
    btot = sum(d - ps for a, d, kind, ps, x in spans
               if (kind == "road" and x["kind"] != "rest") or (kind == "stop" and x.get("pause", {}).get("kind") in ("break", "break_part")))
    rtot = sum(d - ps for a, d, kind, ps, x in spans
               if (kind == "road" and x["kind"] == "rest") or (kind == "stop" and x.get("pause", {}).get("kind") == "rest"))
    check(f"{name}: break and rest totals", abs(btot - p["break_total_s"]) <= TOL * len(spans) + 1
          and abs(rtot - p["rest_total_s"]) <= TOL * len(spans) + 1, (btot, p["break_total_s"], rtot, p["rest_total_s"]))
    if rules == "none":
        check(f"{name}: no pauses without rules", not p["road_pauses"] and p["break_total_s"] == 0 and p["rest_total_s"] == 0)
        return
    R = RULES[rules]
    since, day, duty_start, first = driven_h * 3600, 0.0, dep, False
    events = sorted([(a, "drive", b) for a, b in driving] + [(ps, "pause", (a, d, kind, x)) for a, d, kind, ps, x in spans],
                    key=lambda e: e[0])
    for start, what, data in events:
        if what == "drive":
            end = data
            since += end - start
            day += end - start
            check(f"{name}: at most {R['after'] / 3600} h driving without a break", since <= R["after"] + TOL, (since, start))
            check(f"{name}: at most {R['day'] / 3600} h driving a day", day <= R["day"] + TOL, (day, start))
            check(f"{name}: no driving after {R['window'] / 3600} h on duty", end - duty_start <= R["window"] + TOL,
                  (end - duty_start, start))
            continue
        a, d, kind, x = data
        length = d - start
        if kind == "road":
            # A road pause is taken when it falls due, of the kind and length due;
            # at a rest area up to 30 min of driving before that, never after.
            early = REACH if x.get("rest_area") else 0
            if x["kind"] == "rest":
                due = day >= R["day"] - 60 - early or start - duty_start >= R["window"] - 60 - early
                check(f"{name}: road rest falls due", due and abs(length - R["rest"]) <= 1, (day, start - duty_start, length))
            else:
                want_kind = "break_part" if first else "break"
                want_len = R["second"] if first else R["brk"]
                check(f"{name}: road {x['kind']} falls due after {R['after'] / 3600} h", since >= R["after"] - 60 - early
                      and x["kind"] == want_kind and abs(length - want_len) <= 1, (since, x["kind"], want_kind, length))
        if length >= R["rest"] - TOL:
            check(f"{name}: a rest starts within the duty window", start - duty_start <= R["window"] + TOL,
                  (start - duty_start))
            since, day, duty_start, first = 0.0, 0.0, d, False
        elif length >= R["brk"] - TOL or (first and R["second"] and length >= R["second"] - TOL):
            since, first = 0.0, False
        elif R["first"] and length >= R["first"] - TOL:
            first = True


def money_in_table(name, out, p):
    """The table's stop costs sum exactly to its total, which is the JSON's."""
    rows = re.findall(r"^  (?!stop |total)(.{34}) .* (-?\d+\.\d\d)$", out, re.M)
    tot = re.search(r"^  total\s+(-?\d+\.\d\d)$", out, re.M)
    summ = re.search(r"charging cost (-?\d+\.\d\d) (\w{3})", out)
    if not p["stops"]:
        return
    s = sum((Decimal(c) for _, c in rows), Decimal(0))
    check(f"{name}: table stop costs sum to its total", tot and s == Decimal(tot.group(1)) and len(rows) == len(p["stops"]),
          (rows, tot and tot.group(1)))
    check(f"{name}: table total is the JSON's", tot and summ and Decimal(tot.group(1)) == Decimal(str(p["cost"]))
          and Decimal(summ.group(1)) == Decimal(str(p["cost"])), out[:800])


def local(t, zone):
    return datetime.fromtimestamp(t, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


# --- the demo corridor --------------------------------------------------------------
g = os.path.join(tmp, "demo.ecg")
rc, out, err = run("graph", "build", "--corridor", demo, "--out", g, "--quiet")
check("build demo graph", rc == 0, err)
sites = os.path.join(demo, "sites.csv")
nodes = nodes_of(os.path.join(demo, "graph.graphml"))
by_name = {v[2]: (v[0], v[1]) for v in nodes.values()}
pt = lambda n: "%.4f,%.4f" % by_name[n]
base = ["route", "--graph", g, "--sites", sites]

# The example: local times with date and zone, UTC in JSON.
ex = base + ["--from", "51.9225,4.4792", "--to", "47.5596,7.5886", "--soc", "0.85", "--depart", "2026-11-24T06:00Z"]
rc, out, err = run(*ex)
rc2, js, err2 = run(*ex, "--json")
p = json.loads(js)
check("example runs", rc == 0 and rc2 == 0 and p["feasible"], err + err2)
check("example: depart in local time with date and zone", "depart 2026-11-24 07:00 CET" in out, out[:400])
for s in p["stops"]:
    want_a = local(ts(s["arrival"]), "Europe/Berlin")
    want_d = local(ts(s["departure"]), "Europe/Berlin")
    row = [l for l in out.splitlines() if l.startswith("  " + s["name"][:34])]
    check(f"example: stop {s['site_id']} arrive and leave in local time", row and want_a in row[0] and want_d in row[0],
          (want_a, want_d, row))
check("example: JSON stays UTC", p["departure"] == "2026-11-24T06:00:00Z" and all(s["arrival"].endswith("Z") for s in p["stops"]))
rest = [s for s in p["stops"] if s.get("pause", {}).get("kind") == "rest"]
if rest:
    within = rest[0]["charge_s"] + rest[0]["overhead_s"]
    m = round(within / 60)
    check("example: rest shown whole with the time at the charger within it",
          "rest 11:00 (at the charger %d:%02d within it)" % (m // 60, m % 60) in out, out[:600])
check("example: road break listed with time and place", p["road_pauses"] and all(
    x["kind"] in ("break", "break_part", "rest") and x["near"] is not None for x in p["road_pauses"]), p["road_pauses"])
for x in p["road_pauses"]:
    check("example: road pause in the pause table", local(ts(x["start"]), "Europe/Berlin") in out, out)
money_in_table("example", out, p)
check_plan("example", p, "eu")

# Summer time, and one zone for all.
rc, out, _ = run(*[a if a != "2026-11-24T06:00Z" else "2026-07-01T06:00Z" for a in ex])
check("summer: CEST", "depart 2026-07-01 08:00 CEST" in out, out[:300])
rc, out, _ = run(*ex, "--tz", "UTC")
check("--tz UTC", rc == 0 and "depart 2026-11-24 06:00 UTC" in out and "CET" not in out, out[:300])
rc, out, _ = run(*ex, "--tz", "America/New_York")
check("--tz America/New_York", rc == 0 and "depart 2026-11-24 01:00 EST" in out, out[:300])
rc, out, err = run(*ex, "--tz", "Mars/Olympus")
check("--tz unknown refused", rc == 2 and '--tz "Mars/Olympus"' in err, err)
# A directory of the tz database, a file in it that is not a zone, and a zone
# that counts leap seconds are not zones a table can be shown in.
for bad in ("Europe", "leapseconds", "right/Europe/Berlin"):
    rc, out, err = run(*ex, "--tz", bad)
    check("--tz %s refused" % bad, rc == 2 and '--tz "%s"' % bad in err, out[:200] + err)

# --depart in every ISO 8601 form with a zone, and now; without a zone it is refused.
noday = [a for a in ex if a not in ("--depart", "2026-11-24T06:00Z")]
for form in ["2026-11-24T07:00+01:00", "2026-11-24 06:00Z", "2026-11-24T06:00:00Z", "2026-11-24T06:00:00.000Z",
             "20261124T0600Z", "2026-11-24T01:00-05:00", "2026-11-24T07:00:00+0100", "2026-11-24T11:30+05:30"]:
    rc, js, err = run(*noday, "--depart", form, "--json")
    check(f"--depart {form}", rc == 0 and json.loads(js)["departure"] == "2026-11-24T06:00:00Z", err or js[:100])
rc, _, err = run(*noday, "--depart", "2026-11-24 06:00")
check("--depart without a zone refused", rc == 2 and "has no zone" in err, err)
for bad in ["2026-02-30T06:00Z", "2026-11-24T25:00Z", "tomorrow", "2026-11-24T06:00+99:00", "2026-11-24"]:
    rc, _, err = run(*noday, "--depart", bad)
    check(f"--depart {bad} refused", rc == 2 and "--depart" in err, err)
now = int(datetime.now(timezone.utc).timestamp())
rc, js, err = run(*noday, "--depart", "now", "--json")
check("--depart now", rc == 0 and abs(ts(json.loads(js)["departure"]) - now) < 60, err)

# US rules: the summary agrees with the stops.
rc, out, _ = run(*ex, "--rules", "us")
rc2, js, _ = run(*ex, "--rules", "us", "--json")
pu = json.loads(js)
if any(s["break"] for s in pu["stops"]):
    check("us: a break at a stop is in the summary", "breaks 0:00" not in out and pu["break_total_s"] >= 1800, out[:500])
check_plan("example us", pu, "us")
money_in_table("example us", out, pu)

# Many trips on the demo corridor: times add up, pauses where the rules put them, money exact.
rnd = random.Random(14)
names = sorted(by_name)
for i in range(24):
    a, b = rnd.sample(names, 2)
    rules = ["eu", "us", "none"][i % 3]
    soc = rnd.choice(["0.3", "0.5", "0.85", "1"])
    extra = ["--driven-h", str(rnd.choice([0, 2, 4]))] if rules != "none" else []
    args = base + ["--from", pt(a), "--to", pt(b), "--soc", soc, "--rules", rules, "--depart", "2026-11-24T05:00Z",
                   "--objective", rnd.choice(["time", "cost"])] + extra
    rc, js, err = run(*args, "--json")
    if rc != 0:
        check(f"trip {a}->{b} {rules} soc {soc}: runs", rc == 1 and not json.loads(js)["feasible"], err + js[:200])
        continue
    p = json.loads(js)
    nm = f"trip {a}->{b} {rules} soc {soc} {' '.join(extra)}"
    check_plan(nm, p, rules, float(extra[1]) if extra else 0.0)
    rc, out, _ = run(*args)
    money_in_table(nm, out, p)
# A long trip made of days, there and back: daily rests on the road.
long_trip = base + ["--from", pt("Amsterdam"), "--to", pt("Basel"), "--soc", "1", "--driven-h", "4", "--depart",
                    "2026-11-24T20:00Z", "--json"]
rc, js, err = run(*long_trip)
pl = json.loads(js)
check("long trip runs", rc == 0 and pl["feasible"], err)
check_plan("long trip", pl, "eu", 4.0)

# Daily rests on the road: a truck with a battery that needs no charging, and no
# site on the way to rest at.
rc, js, _ = run("vehicle", "show", "eactros600", "--json")
big = {k: v for k, v in json.loads(js).items() if k in ("vehicle_class", "plugs", "empty_mass_kg", "max_payload_kg",
       "soc_min", "soc_max", "cda_m2", "crr", "drivetrain_eff", "regen_eff", "charge_eff", "aux_kw", "temp_coeff_per_c",
       "curve")}
big.update(name="bigbattery", battery_kwh=3000.0)
bigf = os.path.join(tmp, "big.json")
with open(bigf, "w") as f:
    json.dump(big, f)
one = os.path.join(tmp, "one.csv")
with open(one, "w") as f:
    f.write("site_id,name,lat,lon,standard,power_kw,count\nX,Rotterdam,51.918,4.49,MCS,1000,1\n")
road_rests = 0
for a, b, dh in [("Amsterdam", "Basel", "3"), ("Basel", "Amsterdam", "0"), ("Rotterdam", "Basel", "4.4")]:
    for rules in ["eu", "us"]:
        rc, js, err = run("route", "--graph", g, "--sites", one, "--from", pt(a), "--to", pt(b), "--vehicle", bigf,
                          "--soc", "1", "--depart", "2026-11-24T16:00Z", "--rules", rules, "--driven-h", dh, "--json")
        if rc != 0:
            check(f"big battery {a}->{b} {rules} runs", False, err + js[:300])
            continue
        p = json.loads(js)
        road_rests += sum(x["kind"] == "rest" for x in p["road_pauses"])
        check_plan(f"big battery {a}->{b} {rules}", p, rules, float(dh))
check("daily rests on the road were checked", road_rests >= 2, road_rests)

# Infeasible: says why, naming the sites it could not use.
few = os.path.join(tmp, "few.csv")
with open(few, "w") as f:
    f.write("site_id,name,lat,lon,standard,power_kw,count,price_per_kwh,price_per_min,operator,available\n"
            "R,Rotterdam,51.918,4.49,CCS2,150,1,0.5,0,,\n"
            "U,Utrecht car park,52.085,5.13,TYPE2,11,2,0.3,0,,\n"
            "A,Arnhem,51.9851,5.8987,CCS1,150,1,0.5,0,,\n"
            "E,Emmerich busy,51.8386,6.2464,CCS2,300,1,0.5,0,,0\n"
            "S,Sea,52.5,3.0,CCS2,300,1,0.5,0,,\n")
inf = ["route", "--graph", g, "--sites", few, "--from", pt("Rotterdam"), "--to", pt("Basel"), "--vehicle", "etgx",
       "--soc", "0.9", "--avoid-site", "R"]
rc, js, err = run(*inf, "--json")
pi = json.loads(js)
reasons = {u["site_id"]: u["reason"] for u in pi.get("unusable_sites", [])}
check("infeasible: exit 1 with a reason", rc == 1 and not pi["feasible"] and "km short" in pi["reason"], js[:300])
check("infeasible: farthest point", pi.get("farthest", {}).get("to_go_m", 0) > 0, js[:300])
check("infeasible: each nearby site's reason", reasons.get("R") == "avoided" and reasons.get("A") == "plug"
      and reasons.get("E") == "status" and reasons.get("S") == "truck access", reasons)
rc, out, err = run(*inf)
check("infeasible table names the sites", rc == 1 and "Arnhem" in out and "plug" in out and "truck access" in out, out)

# Swapped latitude and longitude.
rc, out, err = run("route", "--graph", g, "--from", "4.4792,51.9225", "--to", pt("Basel"))
check("swapped point pointed out", rc == 1 and "did you mean 51.922500,4.479200" in err, err)
rc, out, err = run(*base, "--from", "4.4792,51.9225", "--to", pt("Basel"))
check("swapped point pointed out with --sites", rc == 1 and "did you mean 51.922500,4.479200" in err, err)

# The plain route's table names the roads (the demo's segments carry refs).
rc, out, err = run("route", "--graph", g, "--from", pt("Rotterdam"), "--to", pt("Basel"))
check("route table names roads", rc == 0 and re.search(r"^  Cologne\s+A3 ", out, re.M) and "node " not in out, out)

# --help covers both modes.
rc, out, err = run("route", "--help")
usage = out.splitlines()[0] if out else ""
check("route --help: --sites in the usage line", rc == 0 and "--sites" in usage, usage)
check("route --help: both modes", "Without --sites" in out and "With --sites" in out and "--tz" in out, out[:400])


# Geometry: no position twice in a row.
def no_repeats(coords):
    return all(coords[i] != coords[i + 1] for i in range(len(coords) - 1))


for a, b in [("Rotterdam", "Basel"), ("Cologne", "Frankfurt")]:
    rc, js, err = run("route", "--graph", g, "--from", pt(a), "--to", pt(b), "--json", "--geometry")
    c = json.loads(js)["geometry"]["coordinates"]
    check(f"route geometry {a}->{b} has no repeated position", rc == 0 and no_repeats(c) and len(c) >= 3, c[:3])
    rc, js, err = run(*base, "--from", pt(a), "--to", pt(b), "--json", "--geometry", "--soc", "0.5")
    c = json.loads(js)["geometry"]["coordinates"]
    check(f"trip geometry {a}->{b} has no repeated position", rc == 0 and no_repeats(c), c[:3])


# Road pauses lie on the route's line.
def on_line(pt_, coords):
    la, lo = pt_
    best = 1e9
    for (x0, y0), (x1, y1) in zip(coords, coords[1:]):
        dx, dy = x1 - x0, y1 - y0
        f = 0 if dx == dy == 0 else max(0, min(1, ((lo - x0) * dx + (la - y0) * dy) / (dx * dx + dy * dy)))
        best = min(best, ((x0 + f * dx - lo) ** 2 + (y0 + f * dy - la) ** 2) ** 0.5)
    return best < 1e-5


rc, js, _ = run(*ex, "--json", "--geometry")
p = json.loads(js)
check("road pauses lie on the route", all(on_line((x["lat"], x["lon"]), p["geometry"]["coordinates"]) for x in p["road_pauses"]),
      p["road_pauses"])

# --- places beside the corridor countries keep their own time ----------------------------------
# England's south coast and the Channel Islands lie inside the French box and
# keep British time; Tunisia lies inside the Italian one and keeps CET all
# year. Each trip is one road; its departure is checked against Python's tz
# database in July, when the zones differ from Paris and Rome.
for name, a, b, zone in (("brighton", (50.8225, -0.1372), (50.8543, 0.5729), "Europe/London"),
                         ("jersey", (49.1858, -2.1060), (49.2310, -2.0400), "Europe/London"),
                         ("tunis", (36.8065, 10.1815), (37.2744, 9.8739), "Africa/Tunis")):
    d = os.path.join(tmp, "zone_" + name)
    os.makedirs(d)
    with open(os.path.join(d, "graph.graphml"), "w") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
                '<key id="d0" for="node" attr.name="position_x" attr.type="double"/>\n'
                '<key id="d1" for="node" attr.name="position_y" attr.type="double"/>\n'
                '<key id="d2" for="edge" attr.name="distance" attr.type="double"/>\n'
                '<key id="d3" for="edge" attr.name="id" attr.type="long"/>\n<graph edgedefault="directed">\n'
                '<node id="1"><data key="d0">%f</data><data key="d1">%f</data></node>\n'
                '<node id="2"><data key="d0">%f</data><data key="d1">%f</data></node>\n'
                '<edge source="1" target="2"><data key="d2">20</data><data key="d3">1</data></edge>\n'
                '<edge source="2" target="1"><data key="d2">20</data><data key="d3">2</data></edge>\n'
                '</graph>\n</graphml>\n' % (a[1], a[0], b[1], b[0]))
    with open(os.path.join(d, "segments.csv"), "w") as f:
        f.write("source,target,position_x,position_y,capacity,travel_speed,segment_length\n"
                "1,2,%f,%f,9000000.0,100.0,20\n2,1,%f,%f,9000000.0,100.0,20\n" % (a[1], a[0], b[1], b[0]))
    with open(os.path.join(d, "sites.csv"), "w") as f:
        f.write("site_id,name,lat,lon,standard,power_kw,count\nS,Site,%f,%f,MCS,1000,2\n" % b)
    g = os.path.join(d, "g.ecg")
    rc, _, err = run("graph", "build", "--corridor", d, "--out", g, "--quiet")
    rc, out, err = run("route", "--graph", g, "--sites", os.path.join(d, "sites.csv"), "--from", "%f,%f" % a,
                       "--to", "%f,%f" % b, "--depart", "2026-07-01T12:00Z")
    want = datetime(2026, 7, 1, 12, tzinfo=timezone.utc).astimezone(ZoneInfo(zone)).strftime("depart %Y-%m-%d %H:%M %Z")
    check("zone of %s: %s" % (name, want), rc == 0 and want in out, err + out[:300])

# --- the Germany corridor, where present -------------------------------------------------
germany = os.path.join(shared, "corridors", "germany")
if os.path.isdir(germany):
    gg = os.path.join(tmp, "germany.ecg")
    rc, out, err = run("graph", "build", "--corridor", germany, "--out", gg, "--quiet")
    check("build germany", rc == 0, err)
    gn = nodes_of(os.path.join(germany, "graph.graphml"))
    # Sites at every third node, MCS, with prices to four decimals so that rounding matters.
    gs = os.path.join(tmp, "germany_sites.csv")
    ids = sorted(gn)
    with open(gs, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["site_id", "name", "lat", "lon", "standard", "power_kw", "count", "price_per_kwh", "price_per_min"])
        for k, nid in enumerate(ids[::3]):
            la, lo, _ = gn[nid]
            w.writerow([f"S{nid}", f"Site {nid}", la, lo, "MCS" if k % 2 else "CCS2", 400 + 100 * (k % 7), 2,
                        "0.%04d" % (3000 + (k * 37) % 2000), "0.0%d" % (k % 3)])
    for i in range(18):
        a, b = rnd.sample(ids, 2)
        rules = ["eu", "us", "none"][i % 3]
        args = ["route", "--graph", gg, "--sites", gs, "--from", "%.5f,%.5f" % gn[a][:2], "--to", "%.5f,%.5f" % gn[b][:2],
                "--soc", "0.6", "--rules", rules, "--depart", "2026-11-24T04:00Z"]
        rc, js, err = run(*args, "--json")
        if rc != 0:
            check(f"germany {a}->{b}: infeasible says why", rc == 1 and "reason" in js, err + js[:200])
            continue
        p = json.loads(js)
        check_plan(f"germany {a}->{b} {rules}", p, rules)
        rc, out, _ = run(*args)
        money_in_table(f"germany {a}->{b} {rules}", out, p)
    # The plain route's table names roads and places, never bare node ids.
    a, b = ids[0], ids[-1]
    rc, out, err = run("route", "--graph", gg, "--from", "%.5f,%.5f" % gn[a][:2], "--to", "%.5f,%.5f" % gn[b][:2])
    check("germany route table has no bare node ids", rc == 0 and "node " not in out, out[:600])
else:
    print(f"skip: {germany} absent")

# --- Heidelberg (OpenStreetMap), where present: road names, rest areas -------------------------
pbf = os.path.join(shared, "roads", "heidelberg", "heidelberg.test.pbf")
if os.path.isfile(pbf):
    hd = os.path.join(tmp, "hd.ecg")
    rc, out, err = run("graph", "build", "--osm", pbf, "--out", hd, "--quiet")
    check("build heidelberg", rc == 0, err)
    ex_dir = os.path.join(tmp, "hdx")
    rc, _, err = run("graph", "export", "--graph", hd, "--out-dir", ex_dir)
    with open(os.path.join(ex_dir, "nodes.csv")) as f:
        hn = [(float(r["lat"]), float(r["lon"])) for r in csv.DictReader(f)]
    hs = os.path.join(tmp, "hd_sites.csv")
    with open(hs, "w") as f:
        f.write("site_id,name,lat,lon,standard,power_kw,count,price_per_kwh\nHD,Heidelberg depot,49.40,8.69,MCS,1000,2,0.4567\n")
    rnd = random.Random(3)
    tried = moved = 0
    while tried < 20:
        a, b = rnd.sample(hn, 2)
        plain = ["route", "--graph", hd, "--from", "%.7f,%.7f" % a, "--to", "%.7f,%.7f" % b]
        rc, js, _ = run(*plain, "--json", "--geometry")
        if rc != 0 or json.loads(js)["duration_s"] < 900:
            continue
        r0 = json.loads(js)
        tried += 1
        rc, out, _ = run(*plain)
        check("heidelberg route table: roads, no bare node ids", rc == 0 and "node " not in out
              and re.search(r"^  .{29}\S", out.split("h:mm\n", 2)[-1], re.M), out[:500])
        # A break falls due halfway: the driver has driven that much less than 4.5 h.
        dh = 4.5 - r0["duration_s"] / 2 / 3600
        rc, js, err = run(*plain, "--sites", hs, "--driven-h", "%.4f" % dh, "--depart", "2026-11-24T06:00Z", "--json",
                          "--geometry")
        if rc != 0:
            check("heidelberg trip runs", False, err + js[:300])
            continue
        p = json.loads(js)
        check_plan("heidelberg %.5f,%.5f->%.5f,%.5f" % (*a, *b), p, "eu", float("%.4f" % dh))
        check("heidelberg: one road break", len(p["road_pauses"]) == 1 and p["road_pauses"][0]["kind"] == "break",
              p["road_pauses"])
        for x in p["road_pauses"]:
            moved += bool(x.get("rest_area"))
            check("heidelberg: pause names its road", x["near"] != "", x)
            # On the route, or at a rest area within a kilometre of it.
            dist = min((((x["lat"] - la) * 111320) ** 2 + ((x["lon"] - lo) * 72500) ** 2) ** 0.5
                       for lo, la in p["geometry"]["coordinates"])
            check("heidelberg: pause on the route or at a rest area beside it",
                  on_line((x["lat"], x["lon"]), p["geometry"]["coordinates"]) or (x.get("rest_area") and dist < 3000), x)
    check("heidelberg: some pauses moved to rest areas", moved > 0, moved)
    # From a junction the route's OSM ways start with the way it leaves by, as
    # its table does: the origin lies on Poststraße too, which it never drives.
    ways_tsv = os.path.join(shared, "roads", "heidelberg", "heidelberg_ways.tsv.gz")
    with gzip.open(ways_tsv, "rt", encoding="utf-8") as f:
        way_road = {int(r[1]): (r[13] + " " + r[14]).strip() for r in csv.reader(f, delimiter="\t") if r[0][:1] != "#"}
    junction = ["route", "--graph", hd, "--from", "49.4084423,8.6924447", "--to", "49.3499022,8.6986317"]
    rc, js, _ = run(*junction, "--json")
    rc2, out, _ = run(*junction)
    first_row = re.search(r"^  49\.40844,8\.69244 +(.+?) +0\.0 ", out, re.M)
    ways = json.loads(js).get("osm_way_ids", []) if rc == 0 else []
    check("heidelberg junction: osm_way_ids start on the road the table starts on",
          rc2 == 0 and first_row and ways and way_road.get(ways[0]) == first_row.group(1),
          (ways[:3], [way_road.get(w) for w in ways[:3]], first_row and first_row.group(1)))
else:
    print(f"skip: {pbf} absent")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
