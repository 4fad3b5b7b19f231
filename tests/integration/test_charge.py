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


def main():
    if not os.path.exists(GZ):
        print("SKIP: %s is absent" % GZ)
        return 77
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
            check(abs(mean[algo] - pub) <= 1.0, "%s %s: %.2f within 1 point of the published %.1f" % (flag, algo, mean[algo], pub))
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
    check(m["llf"] <= m["offline"] and m["offline"] - m["llf"] < 0.5, "LLF is close to the offline optimum: %s" % m)
    # The online optimising scheduler (no knowledge of future arrivals): within 0.2 points of the
    # offline optimum of the same model, and no worse than the best heuristic.
    check(m["offline"] - m["opt"] <= 0.2 and m["opt"] >= max(m[a] for a in PUBLISHED) - 1e-9,
          "opt within 0.2 of the offline optimum and not below the heuristics: %s" % m)
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
