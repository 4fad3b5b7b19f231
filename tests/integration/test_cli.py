#!/usr/bin/env python3
"""CLI tests: help and exit codes, bad input that names what is wrong and changes
nothing, batch routing, and the exported graph checked by an independent
Dijkstra written here in Python (standard library only).

usage: test_cli.py ECORRIDOR_BINARY PROJECT_DIR DATA_DIR
"""
import csv, gzip, heapq, json, os, random, shutil, subprocess, sys, tempfile

exe, root, data = sys.argv[1], sys.argv[2], sys.argv[3]
demo = os.path.join(root, "data/demo/rhine_alpine")
tmp = tempfile.mkdtemp(prefix="ec_cli_")
passed = failed = 0


def run(*args, stdin=None):
    p = subprocess.run([exe, *args], capture_output=True, text=True, input=stdin)
    return p.returncode, p.stdout, p.stderr


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def expect(name, args, code, err_has=None, out_has=None):
    rc, out, err = run(*args)
    ok = rc == code and (err_has is None or err_has in err) and (out_has is None or out_has in out)
    check(name, ok, f"\n  exit {rc} (want {code})\n  stderr: {err.strip()[:300]}\n  stdout: {out.strip()[:300]}")
    return out


def t(*parts):
    return os.path.join(tmp, *parts)


# --- help and usage -------------------------------------------------------------
expect("help", ["help"], 0, out_has="graph build")
expect("--help", ["--help"], 0, out_has="route")
expect("no args", [], 2)
expect("help route", ["help", "route"], 0, out_has="--algo ch|dijkstra")
for cmd in (["graph", "build"], ["graph", "export"], ["graph", "info"], ["route"], ["vehicle", "list"], ["vehicle", "show"]):
    expect(f"{' '.join(cmd)} --help", [*cmd, "--help"], 0, out_has="usage: ecorridor " + " ".join(cmd))
expect("unknown command", ["fly"], 2, err_has='unknown command "fly"')
expect("graph alone", ["graph"], 2, err_has="expected build, export or info")
expect("unknown option", ["route", "--grph", "x"], 2, err_has="unknown option --grph")
expect("missing value", ["route", "--graph"], 2, err_has="--graph needs a value")
expect("two sources", ["graph", "build", "--osm", "a.pbf", "--corridor", demo, "--out", t("x.ecg")], 2,
       err_has="exactly one of")
expect("bad metric", ["graph", "build", "--corridor", demo, "--metric", "fuel", "--out", t("x.ecg")], 2)
expect("bad vehicle", ["graph", "build", "--corridor", demo, "--vehicle", "bicycle", "--out", t("x.ecg")], 1,
       err_has='unknown vehicle class "bicycle"')
check("nothing written on bad usage", not os.path.exists(t("x.ecg")))

# --- electric truck profiles ------------------------------------------------------
out = expect("vehicle list", ["vehicle", "list"], 0, out_has="eactros600")
check("vehicle list table", "fh-aero-electric" in out and "etgx" in out and "generic-500" in out, out)
names = [p["name"] for p in json.loads(expect("vehicle list json", ["vehicle", "list", "--json"], 0))]
check("vehicle list names", names == ["eactros600", "fh-aero-electric", "etgx", "generic-500"], str(names))
p = json.loads(expect("vehicle show json", ["vehicle", "show", "eactros600", "--json"], 0))
check("vehicle show figures", abs(p["kwh_per_100km"] - 103) <= 10.3 and 27 <= p["charge_20_80_min"] <= 33
      and p["plugs"] == {"MCS": 1000.0, "CCS2": 400.0}, str(p))
cold = json.loads(expect("vehicle show cold", ["vehicle", "show", "eactros600", "--temp-c", "-2", "--json"], 0))
check("cold costs more", cold["kwh_per_100km"] > 1.2 * p["kwh_per_100km"])
user = json.loads(expect("vehicle show file", ["vehicle", "show", os.path.join(root, "tests/fixtures/profile_560.json"), "--json"], 0))
check("user profile", user["name"] == "my-truck" and user["battery_kwh"] == 560.0, str(user))
expect("vehicle show unknown", ["vehicle", "show", "tesla"], 1, err_has='unknown vehicle profile "tesla"')
expect("vehicle show no name", ["vehicle", "show"], 2, err_has="name a profile")
expect("vehicle show bad payload", ["vehicle", "show", "etgx", "--payload-kg", "99999"], 2, err_has="--payload-kg must be 0..21500")
expect("vehicle alone", ["vehicle"], 2, err_has="expected list or show")
bad_profile = t("bad_profile.json")
with open(bad_profile, "w") as f:
    f.write('{"name": "x", "empty_mass_kg": 18000, "max_payload_kg": 1, "battery_kwh": 9999}')
expect("vehicle show bad file", ["vehicle", "show", bad_profile], 1, err_has=bad_profile + ': "battery_kwh" is 9999')

# --- what a new user meets first ------------------------------------------------------
# vehicle show labels every figure: the asked temperature once, the -2 C winter
# reference beside it unless that is the temperature asked for.
import re
unlabelled = re.compile(r"^\s+-?[0-9.]+ C\b", re.M)
out = expect("vehicle show text", ["vehicle", "show", "eactros600"], 0)
check("vehicle show labels 20 C and the winter figure",
      re.search(r"^\s+at 20 C\s+103\.\d kWh/100 km, range \d+ km$", out, re.M) is not None
      and re.search(r"^\s+in winter, at -2 C\s+12\d\.\d kWh/100 km$", out, re.M) is not None
      and not unlabelled.search(out), out)
out = expect("vehicle show -2 C", ["vehicle", "show", "eactros600", "--temp-c", "-2"], 0)
check("vehicle show --temp-c -2: one labelled -2 C line",
      len(re.findall(r"-2 C", out)) == 1 and re.search(r"^\s+at -2 C\s+12\d\.\d kWh", out, re.M) is not None
      and not unlabelled.search(out), out)

# Commands that read a database refuse one that is not there, naming it, and
# leave no empty ./ecorridor.db behind (run in an empty directory).
empty = t("empty_cwd")
os.makedirs(empty)
for args, what in ((["keys", "list"], "keys list"), (["keys", "revoke", "1"], "keys revoke"),
                   (["keys", "list", "--json"], "keys list --json")):
    p = subprocess.run([exe, *args], capture_output=True, text=True, cwd=empty)
    check(what + " without a database", p.returncode == 1 and "ecorridor.db: no such database" in p.stderr
          and p.stdout == "" and os.listdir(empty) == [], f"{p.returncode} {p.stderr} {os.listdir(empty)}")
expect("keys list --db missing", ["keys", "list", "--db", t("missing.db")], 1, err_has=t("missing.db") + ": no such database")
check("keys list --db missing creates nothing", not os.path.exists(t("missing.db")))
kdb = t("keys.db")
expect("keys create makes its database", ["keys", "create", "--db", kdb, "--role", "admin", "--org", "hub"], 0)
out = expect("keys list reads it", ["keys", "list", "--db", kdb], 0, out_has="admin")
check("keys list shows the one key", len(out.strip().splitlines()) == 2, out)

# Import summaries: one word ("notes") for what the summary counts and the
# lines list, records named as the file names them (OSM ids, site ids), and
# --quiet leaves the summary line alone. Destination chargers (fastest
# connector under 50 kW) are noted and never claimed for trucks, even when
# the file says hgv=yes or is our (truck) sites file.
import sqlite3
def truck_flags(db):
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT id, truck FROM objects WHERE kind = (SELECT kind FROM objects WHERE id = 'DEST-1' "
                                "OR id LIKE 'osm-%' LIMIT 1)").fetchall())
    finally:
        con.close()

sites_csv = t("mixed_sites.csv")
with open(sites_csv, "w") as f:
    f.write("site_id,name,lat,lon,standard,power_kw,count,price_per_kwh,price_per_min,operator\n"
            "TRUCK-1,Truck hub,50.1,8.6,CCS2,350,2,0,0,Op\n"
            "DEST-1,Hotel car park,50.2,8.7,TYPE2,22,2,0,0,Op\n"
            "EDGE-1,Exactly fifty,50.3,8.8,CCS2,50,1,0,0,Op\n")
idb = t("import.db")
rc, out, err = run("import", "--db", idb, sites_csv)
lines = out.splitlines()
check("csv import: summary counts one note and lists it by site and line",
      rc == 0 and lines[0] == sites_csv + ": 3 records: 3 added, 0 updated, 0 unchanged; 1 note"
      and len(lines) == 2 and lines[1].startswith("  site DEST-1 (line 3): destination charger, not for trucks")
      and "22 kW" in lines[1] and "50 kW" in lines[1], out + err)
flags = truck_flags(idb)
check("csv import: truck sites claimed, the 22 kW destination charger not",
      flags.get("TRUCK-1") == 1 and flags.get("EDGE-1") == 1 and flags.get("DEST-1") == 0, str(flags))

geo = t("osm_like.geojson")
with open(geo, "w") as f:
    json.dump({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "node/42", "geometry": {"type": "Point", "coordinates": [8.6, 49.4]},
         "properties": {"amenity": "charging_station", "hgv": "yes", "socket:type2": "2", "socket:type2:output": "22 kW"}},
        {"type": "Feature", "id": "way/311286575", "geometry": {"type": "Point", "coordinates": [8.7, 49.4]},
         "properties": {"amenity": "charging_station", "car": "yes"}},
        {"type": "Feature", "id": "node/43", "geometry": {"type": "Point", "coordinates": [8.8, 49.4]},
         "properties": {"amenity": "charging_station", "hgv": "yes", "socket:mcs": "1", "socket:mcs:output": "1000 kW"}},
    ]}, f)
gdb = t("geo.db")
rc, out, err = run("import", "--db", gdb, geo)
lines = out.splitlines()
check("geojson import: notes name OSM ids, none says feature N",
      rc == 0 and lines[0].endswith("3 records: 3 added, 0 updated, 0 unchanged; 2 notes") and len(lines) == 3
      and lines[1].startswith("  node/42: destination charger, not for trucks")
      and lines[2] == "  way/311286575: kept without EVSEs: no connector the register knows"
      and "feature" not in out, out + err)
flags = truck_flags(gdb)
check("geojson import: hgv=yes at 22 kW not claimed for trucks, at 1 MW claimed",
      flags.get("osm-node-42") == 0 and flags.get("osm-node-43") == 1, str(flags))
rc, out, err = run("import", "--db", gdb, geo, "--quiet")
check("import --quiet prints the summary line alone",
      rc == 0 and out.splitlines() == [geo + ": 3 records: 0 added, 0 updated, 3 unchanged; 2 notes"] and err == "",
      out + err)
rc, out, err = run("import", "--db", gdb, geo, "--json")
j = json.loads(out) if rc == 0 else {}
check("import --json lists the same notes", [k["where"] for k in j.get("skipped", [])] == ["node/42", "way/311286575"], out)

osm2015 = os.path.join(data, "register/osm_charging_stations_2015.geojson")
if os.path.exists(osm2015):
    rc, out, err = run("import", "--db", t("osm2015.db"), osm2015, "--json")
    j = json.loads(out)
    notes = j["skipped"]
    rc, text, err = run("import", "--db", t("osm2015b.db"), osm2015)
    lines = text.splitlines()
    count = int(re.search(r"; (\d+) notes?$", lines[0]).group(1))
    check("OSM 2015: the summary counts the notes it lists, by OSM id",
          count == len(notes) and count > 20 and len(lines) == 22 and lines[21] == f"  ... and {count - 20} more notes (all with --json)"
          and all(re.match(r"  (node|way|relation)/\d+: ", x) for x in lines[1:21])
          and any(n["where"] == "way/311286575" for n in notes), text[:500])
else:
    print("SKIP: OSM 2015 import summary (no ../shared/data)")

# --- the demo region end to end -----------------------------------------------------
g = t("demo.ecg")
expect("build demo", ["graph", "build", "--corridor", demo, "--out", g], 0, out_has="21 nodes")
info = json.loads(expect("info json", ["graph", "info", "--graph", g, "--json"], 0))
check("info fields", info["nodes"] == 21 and info["vehicle"]["name"] == "truck-40t" and info["source_kind"] == "corridor",
      str(info))
out = expect("route table", ["route", "--graph", g, "--from", "51.9225,4.4792", "--to", "47.5596,7.5886"], 0,
             out_has="Basel")
check("route table lists places", "Rotterdam" in out and "Karlsruhe" in out and "836.0" in out, out)
r = json.loads(expect("route json", ["route", "--graph", g, "--from", "51.9225,4.4792", "--to", "47.5596,7.5886",
                                     "--json", "--geometry"], 0))
check("route json", abs(r["distance_m"] - 836000) < 1 and r["geometry"]["type"] == "LineString"
      and len(r["geometry"]["coordinates"]) >= 10, str(r)[:300])
rd = json.loads(expect("route dijkstra", ["route", "--graph", g, "--from", "51.9225,4.4792", "--to", "47.5596,7.5886",
                                          "--json", "--algo", "dijkstra"], 0))
check("dijkstra equals ch", rd["duration_s"] == r["duration_s"] and rd["distance_m"] == r["distance_m"])
expect("off the map", ["route", "--graph", g, "--from", "40.0,-3.7", "--to", "47.5596,7.5886"], 1,
       err_has="40.000000,-3.700000 is off the map")
expect("bad coordinate", ["route", "--graph", g, "--from", "95,4", "--to", "47.5,7.5"], 2,
       err_has='--from "95,4" is not LAT,LON')

# batch: one JSON line per row; bad files print nothing
pairs = t("pairs.csv")
with open(pairs, "w") as f:
    f.write("from_lat,from_lon,to_lat,to_lon\n51.9225,4.4792,47.5596,7.5886\n50.9375,6.9603,50.1109,8.6821\n"
            "10.0,10.0,50.1109,8.6821\n")
rc, out, err = run("route", "--graph", g, "--batch", pairs, "--json")
lines = [json.loads(x) for x in out.splitlines()]
check("batch", rc == 0 and len(lines) == 3 and lines[0]["row"] == 1 and abs(lines[1]["distance_m"] - 180000) < 1
      and "off the map" in lines[2]["error"], out)
with open(pairs, "w") as f:
    f.write("from_lat,from_lon,to_lat,to_lon\n51.9,4.4,47.5,7.5\n51.9,four,47.5,7.5\n")
rc, out, err = run("route", "--graph", g, "--batch", pairs, "--json")
check("batch bad row", rc == 1 and out == "" and "pairs.csv:3: from_lon is not a number" in err, err)

# --- routes with charging stops ----------------------------------------------------
sites = os.path.join(demo, "sites.csv")
trip = ["route", "--graph", g, "--sites", sites, "--from", "51.9225,4.4792", "--to", "47.5596,7.5886",
        "--vehicle", "eactros600", "--soc", "0.85", "--depart", "2026-11-24T06:00Z"]
out = expect("trip table", trip, 0, out_has="truck hub")
check("trip table shows stops", "SoC in" in out and "depart 2026-11-24T06:00:00Z" in out, out)
p = json.loads(expect("trip json", trip + ["--json", "--geometry"], 0))
keys = ["feasible", "departure", "arrival", "distance_m", "duration_s", "drive_s", "charge_s", "wait_s", "break_s",
        "rest_s", "energy_kwh", "cost", "currency", "stops", "road_breaks", "road_rests"]
check("trip json fields", all(k in p for k in keys) and p["feasible"] and p["stops"]
      and all(k in p["stops"][0] for k in ["site_id", "arrival", "departure", "soc_in", "soc_out", "energy_kwh",
                                             "charge_s", "wait_s", "break", "cost", "rest", "reserved",
                                             "break_part"])
      and p["geometry"]["type"] == "LineString", str(p)[:400])
check("trip times add up", abs(p["duration_s"] - sum(p[k] for k in ["drive_s", "charge_s", "wait_s", "overhead_s", "break_s", "rest_s"])) <= 2)
used = p["stops"][0]["site_id"]
pa = json.loads(expect("trip avoid", trip + ["--json", "--avoid-site", used], 0))
check("avoided site unused", pa["feasible"] and used not in [s["site_id"] for s in pa["stops"]], str(pa)[:300])
expect("avoid unknown", trip + ["--avoid-site", "NOPE"], 1, err_has="--avoid-site NOPE: no such site")
bad_trip = ["route", "--graph", g, "--sites", sites, "--from", "51.9225,4.4792", "--to", "47.5596,7.5886"]
expect("trip bad soc", bad_trip + ["--soc", "1.5"], 2, err_has="--soc must be a fraction 0..1")
expect("trip bad rules", bad_trip + ["--rules", "mars"], 2, err_has="--rules must be eu, us or none")
expect("trip bad depart", bad_trip + ["--depart", "tomorrow"], 2, err_has='--depart "tomorrow"')
expect("trip unknown vehicle", bad_trip + ["--vehicle", "tesla"], 1, err_has='unknown vehicle profile "tesla"')
expect("vehicle without sites", ["route", "--graph", g, "--from", "51.9,4.4", "--to", "47.5,7.5", "--soc", "0.5"], 2,
       err_has="--soc goes with --sites")
one_site = t("one_site.csv")
with open(one_site, "w") as f:
    f.write("site_id,name,lat,lon,standard,power_kw,count\nX,Rotterdam,51.918,4.49,CCS2,150,1\n")
rc, out, err = run(*(bad_trip[:4] + [one_site] + bad_trip[5:] + ["--vehicle", "etgx", "--soc", "0.9", "--json"]))
pi = json.loads(out)
check("infeasible trip", rc == 1 and pi["feasible"] is False and "km short" in pi["reason"], out + err)
bad_sites = t("bad_sites.csv")
with open(bad_sites, "w") as f:
    f.write("site_id,name,lat,lon,standard,power_kw,count\nX,Rotterdam,51.918,4.49,CCS9,150,1\n")
expect("bad sites file", bad_trip[:4] + [bad_sites] + bad_trip[5:], 1, err_has="bad_sites.csv:2: standard \"CCS9\"")
# Live state in the sites file: the stop used, made busy (no connector free, none to
# reserve), is avoided; given a 40 min queue, the plan waits there or goes elsewhere;
# given a reservable window around the arrival, the stop is marked for reservation.
with open(sites) as f:
    rows = list(csv.reader(f))
def sites_with(extra, name):
    path = t(name)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(rows[0] + ["available", "wait_min", "reservable_from", "reservable_to"])
        for r in rows[1:]:
            w.writerow(r + (extra if r[0] == used else ["", "", "", ""]))
    return path
arrive = p["stops"][0]["arrival"]
pb = json.loads(expect("trip busy site", [x if x != sites else sites_with(["0", "", "", ""], "busy.csv") for x in trip] + ["--json"], 0))
check("busy site unused", pb["feasible"] and used not in [s["site_id"] for s in pb["stops"]], str(pb)[:300])
pw = json.loads(expect("trip queue", [x if x != sites else sites_with(["", "40", "", ""], "queue.csv") for x in trip] + ["--json"], 0))
check("queue waited or avoided", pw["feasible"] and pw["duration_s"] >= p["duration_s"] - 1
      and all(s["wait_s"] == 2400 for s in pw["stops"] if s["site_id"] == used), str(pw)[:400])
h = int(arrive[11:13])
window = ["0", "", arrive[:11] + "%02d:00Z" % (h - 1), arrive[:11] + "%02d:00Z" % (h + 2)]
pr = json.loads(expect("trip reservable", [x if x != sites else sites_with(window, "window.csv") for x in trip] + ["--json"], 0))
check("reserved stop", pr["feasible"] and abs(pr["duration_s"] - p["duration_s"]) < 1
      and any(s["reserved"] for s in pr["stops"] if s["site_id"] == used), str(pr)[:400])
bad = sites_with(["0", "", "2026-11-24T12:00Z", "2026-11-24T10:00Z"], "bad_window.csv")
expect("bad reservable window", [x if x != sites else bad for x in trip], 1, err_has="reservable_from,reservable_to")
bad = sites_with(["9", "", "", ""], "bad_available.csv")
expect("bad available", [x if x != sites else bad for x in trip], 1, err_has="available \"9\" is not 0..count")
bad = sites_with(["", "-5", "", ""], "bad_wait.csv")
expect("bad wait", [x if x != sites else bad for x in trip], 1, err_has="wait_min \"-5\" is not 0..1440")
with open(pairs, "w") as f:
    f.write("from_lat,from_lon,to_lat,to_lon\n51.9225,4.4792,47.5596,7.5886\n50.9375,6.9603,50.1109,8.6821\n")
rc, out, err = run("route", "--graph", g, "--sites", sites, "--batch", pairs, "--soc", "0.85", "--json")
rows = [json.loads(x) for x in out.splitlines()]
check("trip batch", rc == 0 and len(rows) == 2 and rows[0]["feasible"] and rows[1]["feasible"] and rows[1]["stops"] == [],
      out[:300])

# --- bad input files: clear error naming the file, exit 1, nothing half-written -------
def model(name, graphml, segments=None):
    d = t(name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "graph.graphml"), "w") as f:
        f.write(graphml)
    if segments is not None:
        with open(os.path.join(d, "segments.csv"), "w") as f:
            f.write(segments)
    return d

head = ('<graphml><key id="x" for="node" attr.name="position_x"/><key id="y" for="node" attr.name="position_y"/>'
        '<key id="d" for="edge" attr.name="distance"/><graph>\n')
n12 = '<node id="1"><data key="x">6.9</data><data key="y">50.9</data></node>\n<node id="2"><data key="x">7</data><data key="y">51</data></node>\n'
cases = [
    ("missing attribute", model("m1", head + '<node id="1"><data key="x">6.9</data></node></graph></graphml>'),
     "graph.graphml:2: node \"1\" lacks position_x or position_y"),
    ("unknown node", model("m2", head + n12 + '<edge source="1" target="7"><data key="d">3</data></edge></graph></graphml>'),
     "refers to an unknown node \"7\""),
    ("negative length", model("m3", head + n12 + '<edge source="1" target="2"><data key="d">-3</data></edge></graph></graphml>'),
     "distance -3 km, expected 0..1000 km"),
    ("absurd length", model("m4", head + n12 + '<edge source="1" target="2"><data key="d">40000</data></edge></graph></graphml>'),
     "distance 40000 km"),
    ("truncated xml", model("m5", head + n12[:60]), "malformed XML"),
    ("bad speed", model("m6", head + n12 + '<edge source="1" target="2"><data key="d">3</data></edge></graph></graphml>',
                        "source,target,travel_speed\n1,2,fast\n"), "segments.csv:2: travel_speed \"fast\""),
]
for name, d, msg in cases:
    out_path = t(name.replace(" ", "_") + ".ecg")
    expect(name, ["graph", "build", "--corridor", d, "--out", out_path], 1, err_has=msg)
    check(name + " leaves nothing", not os.path.exists(out_path) and not any(
        x.startswith(os.path.basename(out_path)) for x in os.listdir(tmp)))

pbf = os.path.join(data, "roads/heidelberg/heidelberg.test.pbf")
if os.path.exists(pbf):
    blob = open(pbf, "rb").read()
    for name, content in (("truncated pbf", blob[: len(blob) // 3]), ("corrupt pbf", blob[:4000] + bytes(5000) + blob[9000:20000])):
        bad = t(name.replace(" ", "_") + ".osm.pbf")
        with open(bad, "wb") as f:
            f.write(content)
        expect(name, ["graph", "build", "--osm", bad, "--out", t("bad.ecg")], 1, err_has=bad)
        check(name + " leaves nothing", not os.path.exists(t("bad.ecg")))
else:
    print("SKIP: truncated/corrupt PBF cases (no ../shared/data)")

# a graph file from another version, and a corrupted one
blob = bytearray(open(g, "rb").read())
old = t("old.ecg")
blob2 = bytearray(blob); blob2[8] = 9
open(old, "wb").write(blob2)
expect("other version", ["graph", "info", "--graph", old], 1, err_has="graph file format version 9")
cor = t("corrupt.ecg")
blob3 = bytearray(blob); blob3[len(blob3) // 2] ^= 0xFF
open(cor, "wb").write(blob3)
expect("corrupt graph", ["route", "--graph", cor, "--from", "51.9,4.4", "--to", "47.5,7.5"], 1,
       err_has="corrupt graph file")
expect("not a graph", ["graph", "info", "--graph", pairs], 1)

# --- export, checked by an independent Dijkstra ------------------------------------------
def dijkstra(adj, s):
    dist = {s: 0.0}
    pq = [(0.0, s)]
    while pq:
        d, u = heapq.heappop(pq)
        if d > dist.get(u, float("inf")):
            continue
        for v, w in adj.get(u, ()):
            nd = d + w
            if nd < dist.get(v, float("inf")):
                dist[v] = nd
                heapq.heappush(pq, (nd, v))
    return dist


def export_and_compare(name, graph, n_pairs, seed):
    d = t("export_" + name)
    expect("export " + name, ["graph", "export", "--graph", graph, "--out-dir", d], 0)
    nodes = {}
    with open(os.path.join(d, "nodes.csv")) as f:
        for row in csv.DictReader(f):
            nodes[int(row["id"])] = (float(row["lat"]), float(row["lon"]))
    adj = {}
    with open(os.path.join(d, "edges.csv")) as f:
        for row in csv.DictReader(f):
            adj.setdefault(int(row["from"]), []).append((int(row["to"]), float(row["duration_s"])))
    rnd = random.Random(seed)
    ids = sorted(nodes)
    src = rnd.sample(ids, n_pairs)
    with open(t(name + "_pairs.csv"), "w") as f:
        f.write("from_lat,from_lon,to_lat,to_lon\n")
        want = []
        for s in src:
            dist = dijkstra(adj, s)
            reach = [v for v in dist if v != s]
            if not reach:
                continue
            tgt = rnd.choice(reach)
            f.write("%.7f,%.7f,%.7f,%.7f\n" % (*nodes[s], *nodes[tgt]))
            want.append(dist[tgt])
    rc, out, err = run("route", "--graph", graph, "--batch", t(name + "_pairs.csv"), "--json", "--snap-radius", "1")
    got = [json.loads(x) for x in out.splitlines()]
    bad = [(w, r) for w, r in zip(want, got) if "duration_s" not in r or abs(r["duration_s"] - w) > 0.0015]
    check(f"export {name}: {len(want)} routes equal an independent Dijkstra", rc == 0 and len(got) == len(want)
          and not bad, str(bad[:3]))
    return len(want)


n = export_and_compare("demo", g, 15, 1)
hd = t("hd.ecg")
if os.path.exists(pbf):
    expect("build heidelberg", ["graph", "build", "--osm", pbf, "--out", hd, "--quiet"], 0)
    r = json.loads(expect("route osm ways", ["route", "--graph", hd, "--from", "49.4093,8.6942", "--to", "49.3790,8.6725",
                                              "--json", "--geometry"], 0))
    check("osm way ids", len(r.get("osm_way_ids", [])) > 3 and all(isinstance(w, int) for w in r["osm_way_ids"]), str(r)[:200])
    n += export_and_compare("heidelberg", hd, 25, 2)
else:
    print("SKIP: Heidelberg export check (no ../shared/data)")

shutil.rmtree(tmp)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
