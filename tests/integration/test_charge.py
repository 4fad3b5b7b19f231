#!/usr/bin/env python3
"""`ecorridor charge-schedule` on the real Caltech ACN sessions (March 2019) against the
published figures of the same input, and its errors. Usage: test_charge.py ECORRIDOR DATA_DIR"""
import json
import os
import subprocess
import sys
import tempfile

ECORRIDOR, DATA = sys.argv[1], sys.argv[2]
ACN = os.path.join(DATA, "charging", "acn_caltech_2019-03")
GZ = os.path.join(ACN, "acnsim_caltech_events_2019-03_5m_208V_6.6kW.json.gz")
CSV = os.path.join(ACN, "acnsim_caltech_events_2019-03.derived_sessions.csv")
# The published single-phase results (mean % of requested energy delivered, capacities 10..125 kW).
PUBLISHED = {"fcfs": 95.5, "rr": 95.4, "edf": 96.7, "llf": 96.9}
failed = passed = 0


def check(ok, what):
    global failed, passed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


def run(*args):
    return subprocess.run([ECORRIDOR, "charge-schedule", *args], capture_output=True, text=True, timeout=300)


DEPOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "demo", "depot")


def depot():
    """The truck depot: 40 trucks in the evening, MCS and CCS, a 3 MW connection, hourly prices."""
    base = ("--sessions", os.path.join(DEPOT, "sessions.csv"), "--prices", os.path.join(DEPOT, "prices.csv"),
            "--capacity-kw", "3000", "--evse-kw", "0", "--json")
    runs = {}
    for extra in ((), ("--peak",), ("--v2g-price", "0.30"), ("--peak", "--battery-kwh", "2000", "--battery-kw", "1000")):
        r = run(*base, *extra)
        check(r.returncode == 0, "depot %s runs: %s" % (extra, r.stderr))
        runs[extra] = {x["algo"]: x for x in json.loads(r.stdout)["runs"]}
    plain = runs[()]
    requested = plain["uncontrolled"]["requested_kwh"]
    with open(os.path.join(DEPOT, "sessions.csv")) as f:
        rows = f.read().split("\n")[1:]
    check(abs(requested - sum(float(x.split(",")[5]) for x in rows if x)) < 1e-6, "the depot's requested energy: %s" % requested)
    check(plain["uncontrolled"]["peak_kw"] > 3000, "uncontrolled charging overloads the 3 MW connection: %s" % plain["uncontrolled"])
    for extra, v in runs.items():
        for algo, x in v.items():
            if algo != "uncontrolled":
                check(x["peak_kw"] <= 3000 + 1e-6 and x["max_over_capacity_kw"] == 0, "depot %s %s within 3 MW: %s" % (extra, algo, x))
            check(x["below_departure_need_kwh"] <= 1e-6, "no V2G vehicle leaves below its need: %s %s %s" % (extra, algo, x))
            check(x["delivered_kwh"] <= x["requested_kwh"] + 1e-6, "never more than requested at the depot")
    # The price-aware optimum: all the energy, at the offline optimum's cost, far below charging at once.
    o, off = plain["opt"], plain["offline"]
    check(o["unmet_kwh"] < 1e-3 and off["unmet_kwh"] < 1e-3, "the depot's energy all delivered: %s %s" % (o, off))
    check(o["cost"] <= off["cost"] * 1.005, "opt within 0.5%% of the offline least cost: %s vs %s" % (o["cost"], off["cost"]))
    check(all(o["cost"] < 0.6 * plain[a]["cost"] for a in ("uncontrolled", "fcfs", "rr", "edf", "llf")),
          "opt charges when it is cheap: %s" % {a: plain[a]["cost"] for a in plain})
    # Peak first: a lower peak than opt alone, the same energy.
    pk = runs[("--peak",)]["opt"]
    check(pk["peak_kw"] < 0.6 * o["peak_kw"] and pk["unmet_kwh"] < 1e-3, "--peak holds the peak down: %s" % pk)
    # V2G exports at the dear hours under the heuristics (which charge at once), and pays for it.
    v = runs[("--v2g-price", "0.30")]
    check(v["fcfs"]["exported_kwh"] > 0 and v["fcfs"]["cost"] < plain["fcfs"]["cost"], "V2G earns at the peak: %s" % v["fcfs"])
    # Credited at an export price of its own: 0.05 a kWh earns less than the peak price did.
    r = run(*base, "--v2g-price", "0.30", "--export-price", "0.05", "--algo", "fcfs")
    e = json.loads(r.stdout)["runs"][0] if r.returncode == 0 else {}
    check(r.returncode == 0 and abs(e["exported_kwh"] - v["fcfs"]["exported_kwh"]) < 1e-6 and
          abs((e["cost"] - v["fcfs"]["cost"]) - e["exported_kwh"] * (0.30 - 0.05)) < e["exported_kwh"] * 0.05,
          "an export price of 0.05 credits less than the peak prices did: %s vs %s" % (e, v["fcfs"]))
    b = runs[("--peak", "--battery-kwh", "2000", "--battery-kw", "1000")]
    check(b["opt"]["peak_kw"] <= pk["peak_kw"] + 0.01 and b["opt"]["cost"] < pk["cost"], "a battery does not raise the peak (bisection to 1 W) and lowers the cost: %s vs %s" % (b["opt"], pk))
    with tempfile.TemporaryDirectory() as tmp:
        # The others' load at the connection: 0.4 MW by day, 0.8-1.5 MW in the evening, 0.2 MW at night.
        others = os.path.join(tmp, "others.csv")
        load = [400] * 6 + [800] * 2 + [1500] * 2 + [1200] * 2 + [500] * 4 + [200] * 8
        with open(others, "w") as f:
            f.write("start_h,kw\n" + "".join("%d,%d\n" % (h, v) for h, v in enumerate(load)))
        r = run(*base, "--others", others)
        check(r.returncode == 0, "depot with the others' load runs: %s" % r.stderr)
        o = {x["algo"]: x for x in json.loads(r.stdout)["runs"]}
        check(all(o[a]["peak_kw"] <= 3000 + 1e-6 and o[a]["max_over_capacity_kw"] == 0 for a in o if a != "uncontrolled"),
              "the others' load and the charging together within 3 MW: %s" % {a: o[a]["peak_kw"] for a in o})
        check(o["uncontrolled"]["peak_kw"] > plain["uncontrolled"]["peak_kw"], "the others' load adds to the peak")
        check(o["opt"]["unmet_kwh"] < 1e-3 and abs(o["opt"]["cost"] - o["offline"]["cost"]) <= 0.005 * o["offline"]["cost"],
              "opt meets the offline least cost around the others' load: %s %s" % (o["opt"], o["offline"]))
        check(o["fcfs"]["cost"] < plain["fcfs"]["cost"], "less room in the dear evening makes FCFS cheaper: %s" % o["fcfs"])
        for text, words in [("start_h,kw\n0,1\n1,x\n", "others.csv:3"), ("start_h\n0\n", "kw")]:
            with open(others, "w") as f:
                f.write(text)
            r = run(*base, "--others", others)
            check(r.returncode == 1 and words in r.stderr, "a bad others' load file names %s: %s" % (words, r.stderr))
        for text, words in [("start_h,price\n0,1\n", "price_per_kwh"), ("start_h,price_per_kwh\n1,0.1\n", "first start_h"),
                            ("start_h,price_per_kwh\n0,0.1\n1,0.2\n3,0.1\n", "evenly spaced"),
                            ("start_h,price_per_kwh\n0,x\n", "prices.csv:2")]:
            bad = os.path.join(tmp, "prices.csv")
            with open(bad, "w") as f:
                f.write(text)
            r = run("--sessions", os.path.join(DEPOT, "sessions.csv"), "--prices", bad, "--capacity-kw", "3000")
            check(r.returncode == 1 and words in r.stderr, "a bad price file names %s: %s" % (words, r.stderr))
        bad = os.path.join(tmp, "v2g.csv")
        with open(bad, "w") as f:
            f.write("session_id,station_id,arrival_period,departure_period,estimated_departure_period,"
                    "requested_energy_kWh,battery_max_power_kW,v2g,arrival_kWh,departure_need_kWh\na,S,1,2,2,10,6.6,1,5,20\n")
        r = run("--sessions", bad, "--capacity-kw", "5")
        check(r.returncode == 1 and "v2g.csv:2" in r.stderr and "departure_need_kWh" in r.stderr,
              "a need above what can be reached is refused: %s" % r.stderr)


def negative_cost():
    """A vehicle that gives back more than it takes earns money: the cost is negative, and the
    table and the JSON print it as the one money formatter does, with its sign (not "0.-50")."""
    with tempfile.TemporaryDirectory() as tmp:
        sessions, prices = os.path.join(tmp, "s.csv"), os.path.join(tmp, "p.csv")
        with open(sessions, "w") as f:
            f.write("session_id,station_id,arrival_period,departure_period,estimated_departure_period,"
                    "requested_energy_kWh,battery_max_power_kW,v2g,arrival_kWh,departure_need_kWh,"
                    "battery_max_discharge_kW\nT01,MCS-01,0,12,12,1,100,1,500,10,400\n")
        with open(prices, "w") as f:
            f.write("start_h,price_per_kwh\n0,0.5\n1,0.5\n")
        args = ("--sessions", sessions, "--prices", prices, "--capacity-kw", "1000", "--evse-kw", "0",
                "--v2g-price", "0.3", "--export-price", "0.9", "--algo", "fcfs")
        r, j = run(*args), run(*args, "--json")
        check(r.returncode == 0 and j.returncode == 0, "the V2G run: %s %s" % (r.stderr, j.stderr))
        if r.returncode or j.returncode:
            return
        raw = j.stdout.split('"cost":')[1].split(",")[0]
        cost = json.loads(j.stdout)["runs"][0]["cost"]
        row = r.stdout.split("\n")[1].split()
        check(cost < 0 and raw == "%.2f" % cost and raw.startswith("-") and row[5] == raw,
              "a negative cost prints as %s in the JSON and %s in the table" % (raw, row[4]))


def main():
    depot()
    negative_cost()
    if not os.path.exists(GZ):
        print("SKIP: %s is absent (%d passed, %d failed on the depot)" % (GZ, passed, failed))
        return 1 if failed else 77
    results = {}
    for flag, path in (("--acn", GZ), ("--sessions", CSV)):
        r = run(flag, path, "--sweep", "10:125:5", "--json")
        check(r.returncode == 0, "%s runs: %s" % (flag, r.stderr))
        d = json.loads(r.stdout)
        results[flag] = d
        check(d["sessions"] == 954, "954 sessions: %s" % d["sessions"])
        req = {round(x["requested_kwh"], 1) for x in d["runs"]}
        check(req == {8900.5}, "8,900.5 kWh requested: %s" % req)
        mean = d["mean_energy_delivered_pct"]
        for algo, pub in PUBLISHED.items():
            # Today: FCFS -0.39, RR -0.51, EDF -0.35, LLF -0.39 (docs/charging.md says the same).
            check(abs(mean[algo] - pub) <= 0.55, "%s %s: %.2f within 0.55 point of the published %.1f" % (flag, algo, mean[algo], pub))
        check(mean["rr"] < mean["fcfs"] < mean["edf"] < mean["llf"], "the published order RR < FCFS < EDF < LLF: %s" % mean)
        for x in d["runs"]:
            if x["algo"] == "uncontrolled":
                check(abs(x["peak_kw"] - 99) < 2, "uncontrolled peaks near 99 kW: %s" % x["peak_kw"])
            else:
                check(x["max_over_capacity_kw"] == 0 and x["peak_kw"] <= x["capacity_kw"] + 1e-6,
                      "%s at %s kW never above the capacity" % (x["algo"], x["capacity_kw"]))
                check(x["delivered_kwh"] <= x["requested_kwh"] + 1e-6, "never more than requested")
    by = {}
    for x in results["--acn"]["runs"]:
        by.setdefault(x["capacity_kw"], {})[x["algo"]] = x
    for cap, v in by.items():
        best = v["offline"]["energy_delivered_pct"]
        check(all(v[a]["energy_delivered_pct"] <= best + 1e-9 for a in list(PUBLISHED) + ["opt"]),
              "at %s kW no online algorithm beats the offline optimum %.3f" % (cap, best))
        check(v["offline"]["peak_kw"] <= cap + 1e-6, "the optimum within the capacity at %s kW" % cap)
    m = results["--acn"]["mean_energy_delivered_pct"]
    check(m["llf"] <= m["offline"] and m["offline"] - m["llf"] <= 0.01, "LLF within 0.01 point of the offline optimum: %s" % m)
    # The online optimising scheduler (no knowledge of future arrivals): within 0.01 point of the
    # offline optimum of the same model, and no worse than the best heuristic.
    check(m["offline"] - m["opt"] <= 0.01 and m["opt"] >= max(m[a] for a in PUBLISHED) - 1e-9,
          "opt within 0.01 of the offline optimum and not below the heuristics: %s" % m)
    check(results["--acn"]["mean_energy_delivered_pct"] == results["--sessions"]["mean_energy_delivered_pct"],
          "the event queue and the CSV give the same answers")
    # More capacity never delivers less (for the same algorithm).
    runs = [x for x in results["--acn"]["runs"] if x["algo"] == "llf"]
    check(all(a["energy_delivered_pct"] <= b["energy_delivered_pct"] + 1e-9 for a, b in zip(runs, runs[1:])),
          "llf: more capacity, no less energy")
    r = run("--acn", GZ, "--capacity-kw", "50", "--algo", "edf")
    check(r.returncode == 0 and "edf" in r.stdout and "delivered_pct" in r.stdout, "a table by default: %s" % r.stdout)
    r = run("--acn", GZ, "--capacity-kw", "50", "--algo", "edf", "--price-per-kwh", "0.2", "--json")
    d = json.loads(r.stdout)["runs"][0]
    check(abs(d["cost"] - round(d["delivered_kwh"] * 0.2, 2)) < 0.01, "cost is energy times price: %s" % d)
    # Errors: usage (2) and bad files (1), each naming what is wrong.
    for args, code, words in [((), 2, "--acn"), (("--acn", GZ), 2, "--capacity-kw"),
                              (("--acn", GZ, "--capacity-kw", "x"), 2, "capacity-kw"),
                              (("--acn", GZ, "--capacity-kw", "5", "--algo", "best"), 2, "best"),
                              (("--acn", GZ, "--sweep", "10:5:1"), 2, "sweep"),
                              (("--acn", "/no/such.json.gz", "--capacity-kw", "5"), 1, "/no/such.json.gz")]:
        r = run(*args)
        check(r.returncode == code and words in r.stderr, "%s: exit %d naming %s: %d %s" % (args, code, words, r.returncode, r.stderr))
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "bad.csv")
        with open(bad, "w") as f:
            f.write("session_id,station_id,arrival_period,departure_period,estimated_departure_period,"
                    "requested_energy_kWh,battery_max_power_kW\na,S,1,2,2,ten,6.6\n")
        r = run("--sessions", bad, "--capacity-kw", "5")
        check(r.returncode == 1 and "bad.csv:2" in r.stderr and "requested_energy_kWh" in r.stderr,
              "a bad number names the file, line and column: %s" % r.stderr)
        r = run("--acn", bad, "--capacity-kw", "5")
        check(r.returncode == 1 and "bad.csv" in r.stderr, "a CSV is not an event queue: %s" % r.stderr)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
