#!/usr/bin/env python3
"""The dashboard's time series and the twin's outputs over HTTP, against truth worked out here.

1. GET /api/v1/sites/{id}/utilisation: a journal written here (two sessions of known meter
   readings at a demo site, a fault, a session at another site), read in with `journal import`
   under the demo register. Each hour's energy, charging, plugged-in and open minutes, sessions,
   utilisation and occupancy are worked out from the rows; the hours sum to GET /api/v1/kpis over
   the same span. Who may ask: the site's operator, an agency over a jurisdiction it lies within,
   an admin; 401 without a key, 403 for others, 404 for no such site, 400 for bad hours.
2. GET /api/v1/substations/{id}/history on a live hub (`serve --region` with `chargers simulate`):
   the register's capacity, name and sites; a point a minute, on the minute, in order; each point's
   base load one of the register's hourly values; the latest point as the allocation answer gives
   the same hour's figures.
3. `serve --scenarios DIR` with two runs of `ecorridor simulate` (the baseline and the cold day with
   the Koeln hub down): the list (names sorted, summaries as written; folders that are not runs left
   out), every output file byte for byte with its content type, and no path out of DIR (dots, links,
   names not on the list); a file over 64 MiB refused; no key 401; without --scenarios an empty list.

usage: test_dashboard_api.py ECORRIDOR SOURCE_DIR
"""
import calendar
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from hubkit import Hub, check, make_key, results

ECORRIDOR, SRC = sys.argv[1], sys.argv[2]
DEMO = os.path.join(SRC, "data", "demo", "rhine_alpine")

def run(*args, timeout=180):
    return subprocess.run([ECORRIDOR, *args], capture_output=True, text=True, timeout=timeout)


def iso(t_ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t_ms // 1000)) + ".%03dZ" % (t_ms % 1000)


def secs(t):
    return calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ"))


def key(db, role, org):
    """A key, its making one of the checks."""
    return make_key(ECORRIDOR, db, role, org, counted=True)


def near(a, b, tol=1e-3):
    return a is not None and b is not None and abs(a - b) <= tol


def overlap(a, b, lo, hi):
    return max(0, min(b, hi) - max(a, lo))


# ---- 1. a site's hours --------------------------------------------------------------------------

def journal_rows(h0):
    """Rows (t_ms, kind, data) and the truth: meter intervals, plugged spans, session starts, faults
    of the one port NL-ROT-HUB-1/1; h0 is 20 hours ago on the hour (ms)."""
    M = 60000
    rows = []

    def add(t, kind, data):
        rows.append((t, kind, data))

    def tx_start(t, tx, cp, site):
        add(t, "tx_start", {"tx": tx, "cp": cp, "connector": 1, "site": site, "start_s": t // 1000,
                            "evse_uid": "E1-1", "delivered_wh": 0, "requested_wh": -1, "departure_s": 0})

    add(h0 - 60 * M, "cp_up", {"cp": "NL-ROT-HUB-1", "site": "NL-ROT-HUB", "serial": 1, "evse_uids": ["", "E1-1"]})
    add(h0 - 60 * M, "cp_up", {"cp": "DE-KLN-HUB-1", "site": "DE-KLN-HUB", "serial": 1, "evse_uids": ["", "E1-1"]})
    tx_start(h0 - 30 * M, 900, "DE-KLN-HUB-1", "DE-KLN-HUB")  # another site: not this one's
    add(h0 + 100 * M, "tx_meter", {"tx": 900, "delivered_wh": 99000})
    add(h0 + 101 * M, "tx_stop", {"tx": 900})
    # Session 1: plugged 0:10-0:50, charging 0:15-0:45 (10 kWh).
    tx_start(h0 + 10 * M, 901, "NL-ROT-HUB-1", "NL-ROT-HUB")
    add(h0 + 15 * M, "tx_meter", {"tx": 901, "delivered_wh": 0})
    add(h0 + 45 * M, "tx_meter", {"tx": 901, "delivered_wh": 10000})
    add(h0 + 50 * M, "tx_stop", {"tx": 901})
    # Session 2: plugged 1:20-3:10, charging 1:30-3:00 (30 kWh) and 3:00-3:05 (2 kWh more).
    tx_start(h0 + 80 * M, 902, "NL-ROT-HUB-1", "NL-ROT-HUB")
    add(h0 + 90 * M, "tx_meter", {"tx": 902, "delivered_wh": 0})
    add(h0 + 180 * M, "tx_meter", {"tx": 902, "delivered_wh": 30000})
    add(h0 + 185 * M, "tx_meter", {"tx": 902, "delivered_wh": 32000})
    add(h0 + 190 * M, "tx_stop", {"tx": 902})
    # Faulted 3:30-4:15.
    add(h0 + 210 * M, "status", {"cp": "NL-ROT-HUB-1", "connector": 1, "status": "Faulted", "error_code": "GroundFailure"})
    add(h0 + 255 * M, "status", {"cp": "NL-ROT-HUB-1", "connector": 1, "status": "Available", "error_code": "NoError"})
    truth = {
        "meter": [(h0 + 15 * M, h0 + 45 * M, 10000), (h0 + 90 * M, h0 + 180 * M, 30000), (h0 + 180 * M, h0 + 185 * M, 2000)],
        "plugged": [(h0 + 10 * M, h0 + 50 * M), (h0 + 80 * M, h0 + 190 * M)],
        "starts": [h0 + 10 * M, h0 + 80 * M],
        "out": [(h0 + 210 * M, h0 + 255 * M)],
        "first": h0 - 60 * M,  # the port is first seen: no time before counts
    }
    return rows, truth


def write_journal(rows, path):
    rows = sorted(rows, key=lambda r: r[0])
    with open(path, "w") as f:
        for seq, (t, kind, data) in enumerate(rows, 1):
            f.write(json.dumps({"seq": seq, "t_ms": t, "time": iso(t), "type": "event", "kind": kind, "data": data},
                               separators=(",", ":")) + "\n")


def hour_truth(truth, lo, hi):
    energy = sum(wh * overlap(a, b, lo, hi) / (b - a) for a, b, wh in truth["meter"]) / 1000
    charging = sum(overlap(a, b, lo, hi) for a, b, _ in truth["meter"]) / 60000
    plugged = sum(overlap(a, b, lo, hi) for a, b in truth["plugged"]) / 60000
    lo_port = max(lo, truth["first"])
    open_min = (max(0, hi - lo_port) - sum(overlap(a, b, lo_port, hi) for a, b in truth["out"])) / 60000
    sessions = sum(1 for t in truth["starts"] if lo <= t < hi)
    return {"energy_kwh": energy, "charging_min": charging, "plugged_min": plugged, "open_min": open_min,
            "sessions": sessions, "utilisation": charging / open_min * 100 if open_min > 0 else None,
            "occupancy": plugged / open_min * 100 if open_min > 0 else None}


def utilisation_case(tmp):
    now_ms = int(time.time() * 1000)
    h0 = (now_ms // 3600000 - 20) * 3600000
    rows, truth = journal_rows(h0)
    path, db = os.path.join(tmp, "util.jsonl"), os.path.join(tmp, "util.db")
    write_journal(rows, path)
    p = run("journal", "import", path, "--db", db)
    check(p.returncode == 0, "journal import: %s %s" % (p.stdout, p.stderr))
    hub = Hub(ECORRIDOR, db, "--quiet", "--region", DEMO)
    try:
        admin = key(db, "admin", "hub-admin")
        s, _ = hub.call("POST", "/api/v1/organisations", admin,
                        {"id": "zh-agency", "name": "Zuid-Holland mobility", "kind": "agency", "jurisdiction_id": "nl-zh"})
        check(s in (200, 201), "an agency over nl-zh is registered: %s" % s)
        keys = {"operator": key(db, "operator", "corridor-hubs"), "other_operator": key(db, "operator", "ruhr-strom"),
                "agency_over": key(db, "agency", "zh-agency"), "agency_other": key(db, "agency", "frankfurt-transport"),
                "agency_corridor": key(db, "agency", "corridor-agency"), "fleet": key(db, "fleet", "rijnmond-logistics"),
                "admin": admin}
        url = "/api/v1/sites/NL-ROT-HUB/utilisation"
        s, ans = hub.call("GET", url, keys["operator"])
        if not check(s == 200 and isinstance(ans, dict), "utilisation for the site's operator: %s %s" % (s, ans)):
            return
        check(ans.get("site_id") == "NL-ROT-HUB" and ans.get("step_s") == 3600, "site_id and step_s: %s" % ans.get("step_s"))
        pts = ans.get("points", [])
        check(len(pts) == 24, "24 hours by default: %d" % len(pts))
        end = secs(pts[-1]["end"]) if pts else 0
        check(abs(end - time.time()) < 30, "the last hour ends now: %s" % (pts[-1]["end"] if pts else None))
        for i, pt in enumerate(pts):
            lo, hi = secs(pt["start"]) * 1000, secs(pt["end"]) * 1000
            check(hi - lo == 3600000 and (i == 0 or pt["start"] == pts[i - 1]["end"]), "hour %d spans an hour after the last" % i)
            want = hour_truth(truth, lo, hi)
            for k, v in want.items():
                got = pt.get(k)
                if v is None:
                    check(got is None, "hour %s: %s null, not %r" % (pt["start"], k, got))
                elif k == "sessions":
                    check(got == v, "hour %s: %d sessions, not %r" % (pt["start"], v, got))
                else:
                    check(near(got, v), "hour %s: %s %.4f, not %r" % (pt["start"], k, v, got))
        check(sum(pt["sessions"] for pt in pts) == 2 and near(sum(pt["energy_kwh"] for pt in pts), 42, 1e-3),
              "the day's 2 sessions and 42 kWh are in its hours")
        # The hours sum to /api/v1/kpis over the same span (one definition, docs/kpi.md).
        s, k = hub.call("GET", "/api/v1/kpis?group=site&from=%s&to=%s" % (pts[0]["start"], pts[-1]["end"]), keys["operator"])
        row = [r for r in (k or {}).get("data", []) if r["id"] == "NL-ROT-HUB"] if s == 200 else []
        if check(len(row) == 1, "/kpis has the site: %s %s" % (s, k)):
            row = row[0]
            for a, b in [("energy_kwh", "energy_kwh"), ("charging_min", "charging_min"), ("plugged_min", "plugged_min"),
                         ("open_min", "open_min")]:
                check(near(sum(pt[a] for pt in pts), row[b], 24 * 1e-4), "sum of hours' %s %.4f = /kpis %s %r"
                      % (a, sum(pt[a] for pt in pts), b, row[b]))
            check(sum(pt["sessions"] for pt in pts) == row["sessions"], "sessions as /kpis")
            util = sum(pt["charging_min"] for pt in pts) / sum(pt["open_min"] for pt in pts) * 100
            check(near(util, row["utilisation_pct"], 1e-2), "the day's utilisation from its hours %.4f = /kpis %r"
                  % (util, row["utilisation_pct"]))
        s, ans = hub.call("GET", url + "?hours=168", keys["admin"])
        check(s == 200 and len(ans.get("points", [])) == 168, "hours=168 for an admin: %s" % s)
        s, ans = hub.call("GET", url + "?hours=3", keys["agency_over"])
        check(s == 200 and len(ans.get("points", [])) == 3, "an agency over the site's province: %s %s" % (s, ans))
        for who in ["other_operator", "agency_other", "agency_corridor", "fleet"]:
            s, ans = hub.call("GET", url, keys[who])
            check(s == 403, "%s: 403, not %s" % (who, s))
        s, ans = hub.call("GET", url)
        check(s == 401, "no key: 401, not %s" % s)
        for bad in ["hours=0", "hours=169", "hours=abc", "hours=24&x=1"]:
            s, ans = hub.call("GET", url + "?" + bad, keys["admin"])
            check(s == 400, "%s: 400, not %s" % (bad, s))
        s, _ = hub.call("GET", "/api/v1/sites/NO-SUCH-SITE/utilisation", keys["admin"])
        check(s == 404, "no such site: 404, not %s" % s)
        s, _ = hub.call("POST", url, keys["admin"], {})
        check(s == 405, "POST: 405, not %s" % s)
        # Without --scenarios: an empty list, and no file.
        s, ans = hub.call("GET", "/api/v1/scenarios", keys["fleet"])
        check(s == 200 and ans == {"scenarios": []}, "no --scenarios: an empty list: %s %s" % (s, ans))
        s, _ = hub.call("GET", "/api/v1/scenarios/baseline/sites.csv", keys["fleet"])
        check(s == 404, "no --scenarios: no file: %s" % s)
    finally:
        check(hub.stop() == 0, "the hub stops cleanly")


# ---- 2. a substation's minutes ----------------------------------------------------------------

def history_case(tmp):
    db = os.path.join(tmp, "live.db")
    hub = Hub(ECORRIDOR, db, "--quiet", "--region", DEMO)
    try:
        admin, fleet = key(db, "admin", "hub-admin"), key(db, "fleet", "rijnmond-logistics")
        sim = run("chargers", "simulate", "--hub", "ws://127.0.0.1:%d/ocpp" % hub.port, "--region", DEMO, "--seed", "3",
                  "--first-s", "1", "--session-s", "10", "--pause-s", "2", "--meter-s", "2", "--duration", "15", "--quiet")
        check(sim.returncode == 0, "chargers simulate: %s %s" % (sim.returncode, sim.stderr[-400:]))
        reg = json.load(open(os.path.join(DEMO, "register.json")))
        sub = [x for x in reg["substations"] if x["id"] == "sub-rotterdam-maasvlakte"][0]
        behind = sorted(x["id"] for x in reg["sites"] if x.get("substation_id") == sub["id"])
        url = "/api/v1/substations/%s/history" % sub["id"]
        s, h = hub.call("GET", url, fleet)
        if not check(s == 200 and isinstance(h, dict), "history for any key: %s %s" % (s, h)):
            return
        s, alloc = hub.call("GET", "/api/v1/substations/%s/allocation" % sub["id"], fleet)
        check(h.get("substation_id") == sub["id"] and h.get("name") == sub["name"], "id and name: %s" % h.get("name"))
        check(near(h.get("capacity_kw"), sub["capacity_kw"]), "the register's capacity: %r" % h.get("capacity_kw"))
        check(h.get("step_s") == 60, "step_s 60")
        check(sorted(x["id"] for x in h.get("sites", [])) == behind, "the sites behind it: %s" % h.get("sites"))
        pts = h.get("points", [])
        check(len(pts) >= 1, "a point since its first charger connected: %d" % len(pts))
        ts = [secs(p["t"]) for p in pts]
        check(all(t % 60 == 0 for t in ts) and ts == sorted(set(ts)), "on the minute, in order: %s" % ts[:5])
        check(all(abs(t - time.time()) < 24 * 3600 for t in ts), "within the day asked for")
        for p in pts:
            check(set(p) == {"t", "allocated_kw", "held_kw", "headroom_kw", "base_load_kw", "renewables_kw"},
                  "a point's keys: %s" % sorted(p))
            check(any(near(p["base_load_kw"], v) for v in sub["base_load_kw"]), "base load %r is one of the register's"
                  % p["base_load_kw"])
            check(p["allocated_kw"] >= 0 and p["allocated_kw"] <= p["headroom_kw"] + 0.5, "allocated within headroom: %s" % p)
        if pts and s == 200 and time.gmtime(ts[-1]).tm_hour == time.gmtime().tm_hour:
            for k in ["base_load_kw", "renewables_kw", "headroom_kw"]:
                check(near(pts[-1][k], alloc.get(k)), "the latest point's %s %r as the allocation's %r"
                      % (k, pts[-1][k], alloc.get(k)))
        s, h = hub.call("GET", url + "?hours=168", fleet)
        check(s == 200, "hours=168: %s" % s)
        for bad in ["hours=0", "hours=169", "hours=1.5", "from=x"]:
            s, _ = hub.call("GET", url + "?" + bad, fleet)
            check(s == 400, "%s: 400, not %s" % (bad, s))
        s, _ = hub.call("GET", url)
        check(s == 401, "no key: 401, not %s" % s)
        s, _ = hub.call("GET", "/api/v1/substations/no-such-sub/history", admin)
        check(s == 404, "no such substation: 404, not %s" % s)
        s, ans = hub.call("GET", "/api/v1", None)
        check(s == 200 and "/api/v1/substations/{id}/history" in ans.get("resources", []), "listed at /api/v1")
    finally:
        check(hub.stop() == 0, "the live hub stops cleanly")


# ---- 3. the twin's runs --------------------------------------------------------------------

FILES = {"summary.json": "application/json", "sites.csv": "text/csv; charset=utf-8",
         "segments.csv": "text/csv; charset=utf-8", "segments.geojson": "application/geo+json",
         "substations.csv": "text/csv; charset=utf-8", "trips.csv": "text/csv; charset=utf-8"}


def scenarios_case(tmp):
    scen = os.path.join(tmp, "scen")
    base = ["simulate", "--corridor", DEMO, "--sites", os.path.join(DEMO, "sites.csv"), "--bev-share", "0.15", "--quiet"]
    p = run(*base, "--out", os.path.join(scen, "baseline"))
    check(p.returncode == 0, "simulate baseline: %s" % p.stderr[-300:])
    p = run(*base, "--scenario", os.path.join(DEMO, "scenarios", "cold-koeln-hub-down.json"),
            "--out", os.path.join(scen, "cold-koeln-hub-down"))
    check(p.returncode == 0, "simulate the cold day: %s" % p.stderr[-300:])
    # Folders that are not runs: no summary, a hidden one, a name out of the alphabet, a summary not an object.
    os.makedirs(os.path.join(scen, "empty"))
    for d in [".hidden", "has space"]:
        shutil.copytree(os.path.join(scen, "baseline"), os.path.join(scen, d))
    os.makedirs(os.path.join(scen, "not-object"))
    with open(os.path.join(scen, "not-object", "summary.json"), "w") as f:
        f.write("[1, 2]")
    # A run whose sites.csv is a link out of DIR, and one whose trips.csv is over 64 MiB.
    shutil.copytree(os.path.join(scen, "baseline"), os.path.join(scen, "linked"))
    secret = os.path.join(tmp, "secret.csv")
    with open(secret, "w") as f:
        f.write("not,for,you\n")
    os.remove(os.path.join(scen, "linked", "sites.csv"))
    os.symlink(secret, os.path.join(scen, "linked", "sites.csv"))
    with open(os.path.join(scen, "linked", "trips.csv"), "wb") as f:
        f.truncate((64 << 20) + 1)
    with open(os.path.join(scen, "baseline", "trips.csv"), "rb") as f:
        check(len(f.read()) < (64 << 20), "the baseline's trips.csv is under the cap")

    p = run("serve", "--db", os.path.join(tmp, "nodir.db"), "--scenarios", os.path.join(tmp, "no-such-dir"))
    check(p.returncode == 1 and "--scenarios" in p.stderr, "a missing --scenarios DIR: exit 1 naming it: %s %s"
          % (p.returncode, p.stderr))
    p = run("serve", "--help")
    check("--scenarios" in p.stdout + p.stderr, "serve --help lists --scenarios")

    db = os.path.join(tmp, "scen.db")
    hub = Hub(ECORRIDOR, db, "--quiet", "--scenarios", scen)
    try:
        fleet = key(db, "fleet", "any-fleet")
        s, ans = hub.call("GET", "/api/v1/scenarios", fleet)
        if not check(s == 200 and isinstance(ans, dict), "the list: %s %s" % (s, ans)):
            return
        names = [x["name"] for x in ans.get("scenarios", [])]
        check(names == ["baseline", "cold-koeln-hub-down", "linked"], "the runs, sorted: %s" % names)
        for x in ans.get("scenarios", []):
            want = json.load(open(os.path.join(scen, x["name"], "summary.json")))
            check(x["summary"] == want, "%s: its summary.json" % x["name"])
        summaries = {x["name"]: x["summary"] for x in ans.get("scenarios", [])}
        check(summaries.get("cold-koeln-hub-down", {}).get("temp_c") == -5 and
              summaries.get("baseline", {}).get("scenario") is None, "the two days differ as their inputs")
        for name in ["baseline", "cold-koeln-hub-down"]:
            for f, ctype in FILES.items():
                s, h, body = hub.request("GET", "/api/v1/scenarios/%s/%s" % (name, f), key=fleet, parse=False)
                with open(os.path.join(scen, name, f), "rb") as fh:
                    want = fh.read()
                ct = h.get("content-type")
                check(s == 200 and ct == ctype and body == want, "%s/%s: 200 %s, %d bytes as on disk (got %s %s %d)"
                      % (name, f, ctype, len(want), s, ct, len(body)))
        s, _, body = hub.request("GET", "/api/v1/scenarios/linked/sites.csv", key=fleet, parse=False)
        check(s == 404 and b"not,for,you" not in body, "a link out of DIR is not followed: %s" % s)
        s, _, body = hub.request("GET", "/api/v1/scenarios/linked/trips.csv", key=fleet, parse=False)
        check(s == 500 and b"too_large" in body, "a file over 64 MiB is refused: %s %s" % (s, body[:200]))
        for path in ["/api/v1/scenarios/baseline/journal.db", "/api/v1/scenarios/empty/sites.csv",
                     "/api/v1/scenarios/.hidden/sites.csv", "/api/v1/scenarios/has%20space/sites.csv",
                     "/api/v1/scenarios/..%2F..%2Fetc/passwd", "/api/v1/scenarios/%2E%2E/secret.csv",
                     "/api/v1/scenarios/baseline/../baseline/sites.csv", "/api/v1/scenarios/baseline",
                     "/api/v1/scenarios/baseline/", "/api/v1/scenarios/" + "a" * 65 + "/sites.csv",
                     "/api/v1/scenarios/baseline/sites.csv/x", "/api/v1/scenarios/no-such/summary.json"]:
            s, _, _ = hub.request("GET", path, key=fleet, parse=False)
            check(s == 404, "%s: 404, not %s" % (path, s))
        s, _, _ = hub.request("GET", "/api/v1/scenarios", parse=False)
        check(s == 401, "no key: 401, not %s" % s)
        s, _, _ = hub.request("GET", "/api/v1/scenarios/baseline/sites.csv", parse=False)
        check(s == 401, "a file without a key: 401, not %s" % s)
        s, _, _ = hub.request("DELETE", "/api/v1/scenarios/baseline/sites.csv", key=fleet, parse=False)
        check(s == 405, "DELETE: 405, not %s" % s)
        s, _, _ = hub.request("GET", "/api/v1/scenarios?x=1", key=fleet, parse=False)
        check(s == 400, "an unknown parameter: 400, not %s" % s)
    finally:
        check(hub.stop() == 0, "the scenarios hub stops cleanly")


def main():
    tmp = tempfile.mkdtemp(prefix="ec-dashboard-api-")
    try:
        for case in [scenarios_case, utilisation_case, history_case]:
            try:
                case(tmp)
            except Exception as e:  # a case that breaks is a failure, and the others still run
                check(False, "%s raised %r" % (case.__name__, e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed, failed = results()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
