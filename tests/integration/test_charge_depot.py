#!/usr/bin/env python3
"""`ecorridor charge-schedule` as a depot manager uses it, on the bundled truck depot: each truck at
its own power, the schedule it writes (read back and checked against the capacity, the sessions file
and the price file), the offline optimum on the same problem, a battery that never makes the optimum
dearer, timestamped sessions, the currency and the mark on a run over the capacity.
Needs no shared data. Usage: test_charge_depot.py ECORRIDOR SOURCE_DIR"""
import csv
import datetime
import json
import os
import subprocess
import sys
import tempfile

ECORRIDOR, SRC = sys.argv[1], sys.argv[2]
DEPOT = os.path.join(SRC, "data", "demo", "depot")
SESSIONS, PRICES = os.path.join(DEPOT, "sessions.csv"), os.path.join(DEPOT, "prices.csv")
START = "2026-11-24T12:00:00Z"
PERIOD_H = 300 / 3600
CONTROLLED = ("fcfs", "rr", "edf", "llf", "opt", "offline")
failed = passed = 0


def check(ok, what):
    global failed, passed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


def run(*args):
    return subprocess.run([ECORRIDOR, "charge-schedule", *args], capture_output=True, text=True, timeout=120)


def runs(*args):
    r = run("--json", *args)
    check(r.returncode == 0, "%s runs: %s" % (args, r.stderr))
    return {x["algo"]: x for x in json.loads(r.stdout)["runs"]} if r.returncode == 0 else {}


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


TRUCKS = {r["session_id"]: r for r in rows(SESSIONS)}
PRICE = [float(r["price_per_kwh"]) for r in rows(PRICES)]


def at(iso):
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


T0 = at(START)


def price_at(iso):
    """The price file's rule, independently: hours since the start, a day repeated."""
    return PRICE[int((at(iso) - T0).total_seconds() // 3600) % len(PRICE)]


def schedule(tmp, algo, *extra):
    """One run and its schedule: (the run's JSON, the rows of the CSV, its header)."""
    out = os.path.join(tmp, "%s.csv" % algo)
    v = runs("--sessions", SESSIONS, "--capacity-kw", "3000", "--start", START, "--algo", algo, "--schedule", out, *extra)
    if not v or not os.path.exists(out):
        check(False, "%s %s wrote no schedule" % (algo, extra))
        return {}, [], []
    with open(out, newline="") as f:
        header = next(csv.reader(f))
    return v[algo], rows(out), header


def own_power():
    """Without --evse-kw every truck charges at its own power, not the ACN's 6.656 kW."""
    capped, own = runs("--sessions", SESSIONS, "--capacity-kw", "3000", "--evse-kw", "6.656"), \
        runs("--sessions", SESSIONS, "--capacity-kw", "3000")
    check(abs(capped["fcfs"]["energy_delivered_pct"] - 17.70) < 0.01, "capped by hand, 17.70 %% as before: %s" % capped["fcfs"])
    check(all(own[a]["energy_delivered_pct"] > 99.99 for a in own), "each truck at its own power gets all it asked: %s" %
          {a: own[a]["energy_delivered_pct"] for a in own})
    check(own["uncontrolled"]["peak_kw"] > 3000 and capped["uncontrolled"]["peak_kw"] < 267,
          "the peak follows the trucks' own power: %s vs %s" % (own["uncontrolled"]["peak_kw"], capped["uncontrolled"]["peak_kw"]))
    with tempfile.TemporaryDirectory() as tmp:
        run_, sched, _ = schedule(tmp, "uncontrolled")
        for sid, t in TRUCKS.items():
            kw = [float(r[sid]) for r in sched]
            check(abs(max(kw) - float(t["battery_max_power_kW"])) < 1e-3,
                  "uncontrolled: %s charges at its own %s kW: %s" % (sid, t["battery_max_power_kW"], max(kw)))
        # An EVSE column holds a truck below its vehicle's power.
        path = os.path.join(tmp, "evse.csv")
        with open(SESSIONS) as f, open(path, "w") as g:
            lines = f.read().splitlines()
            g.write(lines[0] + ",evse_max_power_kW\n" + "".join(x + (",350\n" if i == 0 else ",\n") for i, x in enumerate(lines[1:])))
        out = os.path.join(tmp, "evse_sched.csv")
        r = run("--sessions", path, "--capacity-kw", "3000", "--algo", "uncontrolled", "--schedule", out)
        first = lines[1].split(",")[0]
        kw = [float(x[first]) for x in rows(out)] if r.returncode == 0 else [0]
        check(r.returncode == 0 and abs(max(kw) - 350) < 1e-3, "evse_max_power_kW 350 holds %s to 350 kW: %s %s" % (first, max(kw), r.stderr))
        # --evse-kw is a cap on top.
        r = run("--sessions", SESSIONS, "--capacity-kw", "3000", "--algo", "uncontrolled", "--evse-kw", "100", "--schedule", out)
        kw = [float(x[s]) for x in rows(out) for s in TRUCKS] if r.returncode == 0 else [1e9]
        check(max(kw) <= 100 + 1e-3, "--evse-kw 100 caps every truck: %s" % max(kw))


def schedules():
    """The schedule CSV read back: within the capacity each period, each truck only while plugged in and
    within its power, and the energy and cost the command prints recomputed from it and the price file."""
    with tempfile.TemporaryDirectory() as tmp:
        for extra in ((), ("--battery-kwh", "2000", "--battery-kw", "1000"), ("--peak",),
                      ("--peak", "--battery-kwh", "2000", "--battery-kw", "1000")):
            for algo in CONTROLLED:
                res, sched, header = schedule(tmp, algo, "--prices", PRICES, *extra)
                if not sched:
                    continue
                bat = "battery_kw" in header
                check(header[:2] == ["period_start", "total_kw"] and header[2 + bat:] == list(TRUCKS),
                      "%s %s: the columns: %s" % (algo, extra, header[:4]))
                worst = max(float(r["total_kw"]) for r in sched)
                check(worst <= 3000 + 1e-3, "%s %s: the load curve within 3000 kW: %s" % (algo, extra, worst))
                check(abs(worst - res["peak_kw"]) < 0.01 or algo == "offline" and worst <= res["peak_kw"] + 0.01,
                      "%s %s: the load curve's peak is the one printed: %s vs %s" % (algo, extra, worst, res["peak_kw"]))
                delivered, cost = 0.0, 0.0
                for r in sched:
                    parts = sum(float(r[s]) for s in TRUCKS) + (float(r["battery_kw"]) if bat else 0)
                    if abs(parts - float(r["total_kw"])) > 0.05:
                        check(False, "%s %s %s: total_kw %s is not the sum of its parts %s" % (algo, extra, r["period_start"], r["total_kw"], parts))
                        break
                    cost += float(r["total_kw"]) * PERIOD_H * price_at(r["period_start"])
                    for sid, t in TRUCKS.items():
                        kw, when = float(r[sid]), (at(r["period_start"]) - T0).total_seconds() / 300
                        if kw > 0 and not (int(t["arrival_period"]) <= when < int(t["departure_period"])):
                            check(False, "%s %s: %s charges at %s, not plugged in" % (algo, extra, sid, r["period_start"]))
                        if kw > float(t["battery_max_power_kW"]) + 1e-3:
                            check(False, "%s %s: %s above its power" % (algo, extra, sid))
                        delivered += kw * PERIOD_H
                # What the battery holds at the end less at the start, at the lowest price: the cost's rule.
                cost -= res["battery_change_kwh"] * min(PRICE)
                check(abs(delivered - res["delivered_kwh"]) < 0.5, "%s %s: %.3f kWh in the schedule, %s printed" % (algo, extra, delivered, res["delivered_kwh"]))
                check(abs(cost - res["cost"]) < 0.05, "%s %s: the schedule priced by the file costs %.2f, %s printed" % (algo, extra, cost, res["cost"]))
        r = run("--sessions", SESSIONS, "--capacity-kw", "3000", "--schedule", os.path.join(tmp, "x.csv"))
        check(r.returncode == 2 and "--algo" in r.stderr, "--schedule without one --algo is refused: %s" % r.stderr)
        r = run("--sessions", SESSIONS, "--sweep", "100:300:100", "--algo", "opt", "--schedule", os.path.join(tmp, "x.csv"))
        check(r.returncode == 2 and "--capacity-kw" in r.stderr, "--schedule of a sweep is refused: %s" % r.stderr)


def lex(x, peak, prices):
    """What opt and offline minimise, in their order."""
    key = [round(x["unmet_kwh"], 3)]
    if peak:
        key.append(round(x["peak_kw"], 2))
    if prices:
        key.append(x["cost"])
    return key


def lex_le(a, b, tol=0.011):
    """a comes no later than b in the lexicographic order, each term to within tol."""
    for x, y in zip(a, b):
        if x < y - tol:
            return True
        if x > y + tol:
            return False
    return True


def offline_same_problem():
    """offline is never beaten by opt on the same problem (energy, then peak, then cost), and says so
    when it leaves out the battery or V2G."""
    for extra in ((), ("--peak",), ("--prices", PRICES), ("--prices", PRICES, "--peak")):
        r = run("--sessions", SESSIONS, "--sweep", "300:3000:900", "--algo", "all", "--json", *extra)
        check(r.returncode == 0, "sweep %s: %s" % (extra, r.stderr))
        by = {}
        for x in json.loads(r.stdout)["runs"] if r.returncode == 0 else []:
            by.setdefault(x["capacity_kw"], {})[x["algo"]] = x
        for cap, v in by.items():
            o, off = lex(v["opt"], "--peak" in extra, "--prices" in extra), lex(v["offline"], "--peak" in extra, "--prices" in extra)
            check(lex_le(off, o), "%s %s kW: offline %s not beaten by opt %s" % (extra, cap, off, o))
            check(v["offline"]["same_problem"], "%s: offline is the same problem" % (extra,))
    # The least peak, checked by the capacity alone: just under it some energy is left unmet, at it none.
    for cap in ("1000", "3000"):
        off = runs("--sessions", SESSIONS, "--capacity-kw", cap, "--algo", "offline", "--peak")["offline"]
        unmet = off["unmet_kwh"]
        under = runs("--sessions", SESSIONS, "--capacity-kw", "%.3f" % (off["peak_kw"] - 0.5), "--algo", "offline")["offline"]
        at_ = runs("--sessions", SESSIONS, "--capacity-kw", "%.3f" % min(off["peak_kw"] + 0.002, float(cap)), "--algo", "offline")["offline"]
        check(under["unmet_kwh"] > unmet + 1e-3 and abs(at_["unmet_kwh"] - unmet) < 1e-3,
              "%s kW: offline's least peak %s kW is the least: %s unmet at 0.5 kW less, %s at it, %s with --peak" %
              (cap, off["peak_kw"], under["unmet_kwh"], at_["unmet_kwh"], unmet))
    for extra in (("--battery-kwh", "500"), ("--v2g-price", "0.3")):
        v = runs("--sessions", SESSIONS, "--prices", PRICES, "--capacity-kw", "3000", *extra)
        check(v and not v["offline"]["same_problem"] and "without the battery and V2G" in v["offline"]["problem"],
              "%s: offline is labelled as the smaller problem: %s" % (extra, v.get("offline")))
        r = run("--sessions", SESSIONS, "--prices", PRICES, "--capacity-kw", "3000", *extra)
        check("offline *" in r.stdout and "* offline is" in r.stdout, "%s: the table marks offline: %s" % (extra, r.stdout))


def battery_never_dearer():
    """With prices and no peak to hold, opt minimises the energy not delivered, then the cost: a battery may
    deliver more (which costs more) or the same for less, never the same for more."""
    for cap in ("1500", "2200", "3000"):
        plain = runs("--sessions", SESSIONS, "--prices", PRICES, "--capacity-kw", cap, "--algo", "opt")["opt"]
        for kwh, kw in (("500", "250"), ("2000", "1000"), ("2000", "2000"), ("6000", "3000")):
            b = runs("--sessions", SESSIONS, "--prices", PRICES, "--capacity-kw", cap, "--algo", "opt",
                     "--battery-kwh", kwh, "--battery-kw", kw)["opt"]
            check(lex_le([b["unmet_kwh"], b["cost"]], [plain["unmet_kwh"], plain["cost"]], 0.005),
                  "%s kW, battery %s kWh / %s kW: opt leaves %s kWh unmet for %s, %s for %s without" %
                  (cap, kwh, kw, b["unmet_kwh"], b["cost"], plain["unmet_kwh"], plain["cost"]))
            if cap == "3000":
                check(b["unmet_kwh"] < 1e-3 and b["cost"] <= plain["cost"] + 0.005,
                      "all the energy, and no dearer with the battery: %s vs %s" % (b["cost"], plain["cost"]))


def marks_and_currency():
    args = ("--sessions", SESSIONS, "--prices", PRICES, "--capacity-kw", "3000")
    r = run(*args)
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and lines[0].split()[5] == "cost_EUR", "the cost column names its currency: %s" % lines[:1])
    unc = [x for x in lines if x.startswith("uncontrolled")]
    check(unc and unc[0].split()[1] == "!" and "4053.2" in unc[0], "uncontrolled is marked over the capacity: %s" % unc)
    check(any(x.startswith("! ") and "4053.2 kW" in x for x in lines), "a note says by how much: %s" % lines[-2:])
    check(not [x for x in lines if x.startswith(("fcfs", "opt")) and "!" in x], "controlled runs are not marked")
    v = runs(*args, "--currency", "CHF")
    check(v["uncontrolled"]["exceeds_capacity"] and abs(v["uncontrolled"]["max_over_capacity_kw"] - (v["uncontrolled"]["peak_kw"] - 3000)) < 1e-6
          and not v["opt"]["exceeds_capacity"] and v["opt"]["currency"] == "CHF", "JSON: over the capacity and the currency: %s" % v["uncontrolled"])
    r = run(*args, "--currency", "eur")
    check(r.returncode == 2 and "ISO 4217" in r.stderr, "a bad currency is refused: %s" % r.stderr)


def timestamps():
    """The depot written with ISO 8601 times gives exactly the runs of its period numbers."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "iso.csv")

        def iso(p):
            return (T0 + datetime.timedelta(seconds=300 * int(p))).strftime("%Y-%m-%dT%H:%M:%SZ")

        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["session_id", "station_id", "arrival", "departure", "estimated_departure", "requested_energy_kWh",
                        "battery_max_power_kW", "v2g", "arrival_kWh", "departure_need_kWh", "battery_max_discharge_kW"])
            for t in TRUCKS.values():
                w.writerow([t["session_id"], t["station_id"], iso(t["arrival_period"]), iso(t["departure_period"]),
                            iso(t["estimated_departure_period"]), t["requested_energy_kWh"], t["battery_max_power_kW"],
                            t["v2g"], t["arrival_kWh"], t["departure_need_kWh"], t["battery_max_discharge_kW"]])
        for extra in (("--prices", PRICES), ("--prices", PRICES, "--v2g-price", "0.3", "--battery-kwh", "1000")):
            a = run("--sessions", SESSIONS, "--start", START, "--capacity-kw", "2000", "--json", *extra)
            b = run("--sessions", path, "--start", START, "--capacity-kw", "2000", "--json", *extra)
            check(a.returncode == 0 and b.returncode == 0 and json.loads(a.stdout) == json.loads(b.stdout),
                  "timestamps and periods give the same runs %s: %s" % (extra, b.stderr))
        # Without --start the replay starts at the hour of the first arrival (17:00), and says so.
        d = json.loads(run("--sessions", path, "--capacity-kw", "2000", "--algo", "fcfs", "--json").stdout)
        check(d["start"] == "2026-11-24T17:00:00Z", "the start is the first arrival's hour: %s" % d["start"])
        # An offset is read as such; times between periods round inwards.
        with open(path, "w") as f:
            f.write("session_id,station_id,arrival,departure,requested_energy_kWh,battery_max_power_kW\n"
                    "a,S,2026-11-24T18:03:00+01:00,2026-11-24T17:58Z,100,60\n")
        out = os.path.join(tmp, "s.csv")
        r = run("--sessions", path, "--capacity-kw", "100", "--algo", "fcfs", "--schedule", out, "--json")
        sched = rows(out) if r.returncode == 0 else []
        on = [x["period_start"] for x in sched if float(x["a"]) > 0]
        check(on and on[0] == "2026-11-24T17:05:00Z" and on[-1] == "2026-11-24T17:50:00Z",
              "17:03Z to 17:58Z charges from 17:05 to 17:55: %s %s" % (on[:1] + on[-1:], r.stderr))
        for text, words in [("session_id,station_id,arrival,departure,requested_energy_kWh,battery_max_power_kW\n"
                             "a,S,2026-11-24T17:00Z,2026-11-24T18:00Z,10,50\nb,S,2026-13-24T17:00Z,2026-11-24T18:00Z,10,50\n",
                             ("iso.csv:3", "arrival", "2026-13-24")),
                            ("session_id,station_id,arrival,departure,requested_energy_kWh,battery_max_power_kW\n"
                             "a,S,2026-11-24T17:00Z,2026-11-24T16:00Z,10,50\n", ("iso.csv:2", "departure", "before")),
                            ("session_id,station_id,arrival,departure,arrival_period,requested_energy_kWh,battery_max_power_kW\n",
                             ("iso.csv:1", "not both")),
                            ("session_id,station_id,arrival,requested_energy_kWh,battery_max_power_kW\n", ("iso.csv:1", "departure")),
                            ("session_id,station_id,arrival,departure,requested_energy_kWh,battery_max_power_kW,evse_max_power_kW\n"
                             "a,S,2026-11-24T17:00Z,2026-11-24T18:00Z,10,50,fast\n", ("iso.csv:2", "evse_max_power_kW"))]:
            with open(path, "w") as f:
                f.write(text)
            r = run("--sessions", path, "--capacity-kw", "100")
            check(r.returncode == 1 and all(w in r.stderr for w in words), "bad timestamps name %s: %s" % (words, r.stderr))
        r = run("--sessions", SESSIONS, "--capacity-kw", "100", "--start", "tomorrow")
        check(r.returncode == 2 and "--start" in r.stderr, "a bad --start is refused: %s" % r.stderr)


def main():
    own_power()
    schedules()
    offline_same_problem()
    battery_never_dearer()
    marks_and_currency()
    timestamps()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
