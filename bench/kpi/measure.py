#!/usr/bin/env python3
"""Timing for bench/kpi/run (Python stdlib only).

  measure.py cli RUNS NAME CMD...
      runs CMD (standard output to /dev/null) once to warm the page cache
      and then RUNS times; prints one JSON line: name, runs, best_s,
      median_s, each run's seconds, the median CPU time (user + system: on a
      shared machine the wall time also holds the others' load) and the
      largest resident set (MiB)
  measure.py http BASE_URL KEY PATH N
      N GETs of PATH on one kept-alive connection with the key as a bearer
      token, after one to warm up; prints one JSON line: status, bytes,
      p50_ms, p95_ms (nearest rank), max_ms
  measure.py check REPORT.json SUMMARY.json
      compares the report's sessions and energy per jurisdiction with what
      gen.py counted while writing the journal; prints one JSON line
"""
import http.client
import json
import math
import os
import statistics
import subprocess
import sys
import time
import urllib.parse


def run_once(cmd):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode:
        sys.exit(f"measure.py: {' '.join(cmd)} failed ({p.returncode}): {err.strip()[-400:]}")
    return dt, ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime


def cli(runs, name, cmd):
    run_once(cmd)
    times, cpu, rss = [], [], 0.0
    for _ in range(runs):
        dt, r, c = run_once(cmd)
        times.append(round(dt, 3))
        cpu.append(round(c, 3))
        rss = max(rss, r)
    print(json.dumps({"name": name, "runs": runs, "best_s": min(times), "median_s": statistics.median(times),
                      "times_s": times, "cpu_median_s": statistics.median(cpu), "max_rss_mib": round(rss, 1)}))


def nearest_rank(xs, p):
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def http_get(base, key, path, n):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    hdr = {"Authorization": f"Bearer {key}"}
    ms, status, size = [], None, 0
    for i in range(n + 1):
        t0 = time.perf_counter()
        c.request("GET", path, headers=hdr)
        r = c.getresponse()
        body = r.read()
        dt = (time.perf_counter() - t0) * 1000
        status, size = r.status, len(body)
        if r.status != 200:
            break
        if i:
            ms.append(dt)
    c.close()
    out = {"path": path, "status": status, "bytes": size, "requests": len(ms)}
    if ms:
        out.update({"p50_ms": round(nearest_rank(ms, 50), 2), "p95_ms": round(nearest_rank(ms, 95), 2),
                    "max_ms": round(max(ms), 2)})
        try:
            out["rows"] = len(json.loads(body)["data"])
        except (ValueError, KeyError, TypeError):
            pass
    else:
        out["body"] = body[:300].decode(errors="replace")
    print(json.dumps(out))


def check(report, summary):
    rows = {r["id"]: r for r in json.load(open(report))["data"]}
    truth = json.load(open(summary))["jurisdictions"]
    worst_s, worst_e = 0, 0.0
    for j, t in truth.items():
        r = rows.get(j, {"sessions": 0, "energy_kwh": 0})
        worst_s = max(worst_s, abs(r["sessions"] - t["sessions"]))
        worst_e = max(worst_e, abs(r["energy_kwh"] - t["energy_kwh"]))
    print(json.dumps({"jurisdictions": len(rows), "expected": len(truth),
                      "sessions": sum(r["sessions"] for r in rows.values()),
                      "sessions_expected": sum(t["sessions"] for t in truth.values()),
                      "max_session_diff": worst_s, "max_energy_diff_kwh": round(worst_e, 3),
                      "ports": sum(r["ports"] for r in rows.values())}))


def main():
    a = sys.argv[1:]
    if len(a) >= 4 and a[0] == "cli":
        cli(int(a[1]), a[2], a[3:])
    elif len(a) == 5 and a[0] == "http":
        http_get(a[1], a[2], a[3], int(a[4]))
    elif len(a) == 3 and a[0] == "check":
        check(a[1], a[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
