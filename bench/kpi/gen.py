#!/usr/bin/env python3
"""A month of a 1,000-charger hub, for bench/kpi/run: seeded, deterministic.

  gen.py OUT_DIR [--month 2026-11] [--seed 16] [--sites 250] [--rate 1.8]

writes
  OUT_DIR/region/sites.csv, OUT_DIR/region/register.json
      a region `ecorridor serve --region` loads: 10 jurisdictions (German
      states), 6 operators, 8 utilities, 25 substations, SITES sites of 4
      charge points each along the motorways (a third of them MCS hubs behind a
      substation, charged under the edf algorithm; the rest CCS2 sites,
      uncontrolled), each site with its jurisdiction_id and operator_id
  OUT_DIR/journal.jsonl
      the engine's journal of that hub for the month (plus 2 h before and 1 h
      after), in the form `ecorridor journal export` writes and `ecorridor
      journal import` reads, with the mix of rows a live hub writes: the
      chargers' boots (site and substation rows, cp_up twice, a status per
      connector), sessions (Preparing, tx_start, Charging, tx_meter every 60 s,
      SuspendedEV once full, tx_stop, Finishing, Available), the managed groups'
      ticks every 60 s, their limit commands and the chargers' results, hourly
      price commands, connection drops (most shorter than the 600 s grace, some
      hours long), faulted connectors, charge points taken Unavailable for
      maintenance, and one hub restart (reset) in the middle of the month.

RATE is the sessions a connector starts on an average day (before the site's
popularity and the time of day). The defaults give about 5 M rows. Prints a
summary of what it wrote to standard error.
"""
import calendar
import heapq
import json
import math
import os
import random
import sys

JURISDICTIONS = [  # id, name, weight (share of the sites)
    ("de-nw", "Nordrhein-Westfalen", 18), ("de-by", "Bayern", 16), ("de-bw", "Baden-Wuerttemberg", 14),
    ("de-ni", "Niedersachsen", 12), ("de-he", "Hessen", 10), ("de-rp", "Rheinland-Pfalz", 7),
    ("de-sn", "Sachsen", 7), ("de-st", "Sachsen-Anhalt", 6), ("de-th", "Thueringen", 5), ("de-hh", "Hamburg", 5),
]
CENTRES = {  # a rough middle of each state, for the sites' positions
    "de-nw": (51.45, 7.35), "de-by": (48.95, 11.40), "de-bw": (48.65, 9.05), "de-ni": (52.60, 9.50),
    "de-he": (50.55, 8.90), "de-rp": (49.95, 7.45), "de-sn": (51.05, 13.20), "de-st": (51.95, 11.70),
    "de-th": (50.90, 11.00), "de-hh": (53.55, 9.99),
}
OPERATORS = [("autobahn-laden", "Autobahn Laden GmbH"), ("truckcharge", "TruckCharge Europe"),
             ("fernverkehr-strom", "Fernverkehr Strom AG"), ("milence-de", "Corridor MCS Deutschland"),
             ("rasthof-energie", "Rasthof Energie"), ("logistik-power", "Logistik Power")]
FAULTS = ["GroundFailure", "OverCurrentFailure", "HighTemperature", "PowerSwitchFailure", "ConnectorLockFailure",
          "EVCommunicationError", "OtherError"]
GRACE_S = 600
HOUR_WEIGHT = [0.35, 0.3, 0.3, 0.35, 0.5, 0.8, 1.1, 1.3, 1.4, 1.4, 1.4, 1.5, 1.6, 1.5, 1.4, 1.4, 1.4, 1.3, 1.2,
               1.1, 1.0, 0.8, 0.6, 0.45]  # trucks charge by day, less at night (UTC, close enough)


def month_bounds(month):
    y, m = (int(x) for x in month.split("-"))
    start = calendar.timegm((y, m, 1, 0, 0, 0))
    end = calendar.timegm((y + (m == 12), m % 12 + 1, 1, 0, 0, 0))
    return start, end


# ---- the register --------------------------------------------------------------------------------

def region(rng, n_sites):
    """Sites with their charge points, substations and the register file's objects."""
    weights = [w for _, _, w in JURISDICTIONS]
    sites, substations = [], []
    per_jur = {}
    for i in range(n_sites):
        jur = rng.choices(JURISDICTIONS, weights)[0][0]
        per_jur[jur] = per_jur.get(jur, 0) + 1
        sid = f"{jur.upper()}-{per_jur[jur]:03d}"
        hub = i % 3 == 0  # a third: MCS hubs behind a substation
        lat0, lon0 = CENTRES[jur]
        s = {"id": sid, "jur": jur, "hub": hub, "operator": OPERATORS[rng.randrange(len(OPERATORS))][0],
             "lat": round(lat0 + rng.uniform(-0.8, 0.8), 4), "lon": round(lon0 + rng.uniform(-1.0, 1.0), 4),
             "popularity": math.exp(rng.gauss(0, 0.45)), "cps": [], "evses": []}
        if hub:
            # two MCS chargers of one connector each, two CCS2 chargers of two
            s["evses"] = [("E1-1", 1000000), ("E1-2", 1000000)] + [(f"E2-{k}", 400000) for k in range(1, 5)]
            s["cps"] = [["E1-1"], ["E1-2"], ["E2-1", "E2-2"], ["E2-3", "E2-4"]]
            s["groups"] = [("MCS", 1000, 2), ("CCS2", 400, 4)]
        else:
            kw = rng.choice([300, 350, 400])
            conns = [rng.choice([1, 2]) for _ in range(4)]
            uids = [f"E1-{k}" for k in range(1, sum(conns) + 1)]
            s["evses"] = [(u, kw * 1000) for u in uids]
            s["cps"], k = [], 0
            for c in conns:
                s["cps"].append(uids[k:k + c])
                k += c
            s["groups"] = [("CCS2", kw, sum(conns))]
        sites.append(s)
    hubs = [s for s in sites if s["hub"]]
    n_sub = max(1, (len(hubs) + 2) // 3)
    for k in range(n_sub):
        members = hubs[k::n_sub]
        jur = members[0]["jur"]
        base = [round((2000 + 1500 * math.sin(math.pi * (h - 4) / 16) if 4 <= h <= 20 else 1900) * 1000)
                for h in range(24)]
        prices = [round(0.08 + 0.09 * max(0.0, math.sin(math.pi * (h - 5) / 15)), 3) for h in range(24)]
        sub = {"id": f"sub-{k + 1:02d}", "jur": jur, "capacity_kw": 5000 + 500 * rng.randrange(6),
               "base_w": base, "prices": prices, "sites": [m["id"] for m in members]}
        substations.append(sub)
        for m in members:
            m["substation"] = sub["id"]
    for s in sites:
        s.setdefault("substation", "")
        s["cp_ids"] = [f"{s['id']}-{k + 1}" for k in range(len(s["cps"]))]
    return sites, substations


def write_region(out, sites, substations):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "sites.csv"), "w") as f:
        f.write("site_id,name,lat,lon,standard,power_kw,count,price_per_kwh,price_per_min,operator\n")
        for s in sites:
            for std, kw, n in s["groups"]:
                f.write(f"{s['id']},{s['id']} truck charging,{s['lat']:.4f},{s['lon']:.4f},{std},{kw},{n},0.49,0,\n")
    utilities = sorted({sub["jur"] for sub in substations})
    reg = {
        "note": "A synthetic hub for bench/kpi: invented sites, operators and substations.",
        "jurisdictions": [{"id": "de", "name": "Deutschland", "kind": "country", "country": "DE"}] +
                         [{"id": j, "name": n, "kind": "state", "country": "DE", "parent_id": "de"}
                          for j, n, _ in JURISDICTIONS],
        "organisations": [{"id": o, "name": n, "kind": "operator", "country_code": "DE"} for o, n in OPERATORS] +
                         [{"id": f"netz-{j}", "name": f"Netz {j}", "kind": "utility", "jurisdiction_id": j}
                          for j in utilities],
        "substations": [{"id": sub["id"], "name": f"Substation {sub['id']}", "capacity_kw": sub["capacity_kw"],
                         "operator_id": f"netz-{sub['jur']}", "jurisdiction_id": sub["jur"],
                         "base_load_kw": [v // 1000 for v in sub["base_w"]], "interval_s": 3600,
                         "prices": sub["prices"], "price_interval_s": 3600, "congestion_price": 0.12,
                         "congestion_threshold": 0.8} for sub in substations],
        "sites": [dict({"id": s["id"], "jurisdiction_id": s["jur"], "operator_id": s["operator"], "country": "DEU",
                        "time_zone": "Europe/Berlin", "facilities": ["TRUCK_PARKING"],
                        "charging": {"algo": "edf" if s["hub"] else "uncontrolled", "interval_s": 60,
                                     "default_dwell_min": 45}},
                       **({"substation_id": s["substation"]} if s["substation"] else {})) for s in sites],
        "chargers": [{"id": cp, "password": f"bench-only-{cp.lower()}", "site_id": s["id"],
                      "connectors": len(uids), "evse_uids": uids} for s in sites
                     for cp, uids in zip(s["cp_ids"], s["cps"])],
    }
    with open(os.path.join(out, "register.json"), "w") as f:
        json.dump(reg, f, indent=1)


# ---- the schedule: outages, faults and sessions -------------------------------------------------

def free(blocked, a, b):
    return all(b <= x or a >= y for x, y in blocked)


def place(rng, blocked, lo, hi, dur):
    """A start in [lo, hi - dur) whose interval misses the blocked ones; None after a few tries."""
    for _ in range(20):
        a = rng.uniform(lo, hi - dur)
        if free(blocked, a - 120, a + dur + 120):
            return a
    return None


def schedule(rng, sites, t0, t1, reset_s, rate):
    """Per charge point: its outages; per connector: its faults and sessions (times in s)."""
    cps, sessions = [], []
    for s in sites:
        for cp, uids in zip(s["cp_ids"], s["cps"]):
            blocked = [(reset_s - 5, reset_s + 180)]  # the hub restart: no session runs across it
            c = {"id": cp, "site": s, "uids": uids, "out": []}
            # connection drops, most of them short; a long one on some charge points
            for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
                d = rng.uniform(15, 420) if rng.random() < 0.85 else rng.uniform(700, 1800)
                a = place(rng, blocked, t0, t1, d)
                if a is not None:
                    c["out"].append(("drop", a, a + d, ""))
                    blocked.append((a, a + d))
            if rng.random() < 0.08:
                d = rng.uniform(3600, 10 * 3600)
                a = place(rng, blocked, t0, t1, d)
                if a is not None:
                    c["out"].append(("drop", a, a + d, ""))
                    blocked.append((a, a + d))
            if rng.random() < 0.05:  # taken out for maintenance
                d = rng.uniform(2 * 3600, 6 * 3600)
                a = place(rng, blocked, t0, t1, d)
                if a is not None:
                    c["out"].append(("cp_status", a, a + d, "Unavailable"))
                    blocked.append((a, a + d))
            if rng.random() < 0.03:  # the whole charge point faulted
                d = rng.uniform(3600, 24 * 3600)
                a = place(rng, blocked, t0, t1, d)
                if a is not None:
                    c["out"].append(("cp_status", a, a + d, "Faulted"))
                    blocked.append((a, a + d))
            c["conns"] = []
            for k, uid in enumerate(uids):
                cb = list(blocked)
                faults = []
                if rng.random() < 0.10:
                    d = rng.uniform(1200, 36 * 3600)
                    a = place(rng, cb, t0, t1, d)
                    if a is not None:
                        faults.append((a, a + d, rng.choice(FAULTS)))
                        cb.append((a, a + d))
                kw = dict(s["evses"])[uid] / 1000
                sess = connector_sessions(rng, s, cp, k + 1, uid, kw, cb, t0, t1, rate)
                sessions += sess
                c["conns"].append({"n": k + 1, "uid": uid, "faults": faults, "sessions": sess})
            cps.append(c)
    sessions.sort(key=lambda x: (x["start"], x["cp"], x["conn"]))
    for i, x in enumerate(sessions):
        x["tx"] = i + 1
    return cps, sessions


def connector_sessions(rng, s, cp, conn, uid, kw, blocked, t0, t1, rate):
    out = []
    t = t0 + rng.uniform(0, 3600)
    base = rate * s["popularity"] / 24 / 3600  # arrivals per second at hour weight 1
    while t < t1:
        # the next arrival: thinning of a Poisson process by the hour's weight and the weekday
        lam_max = base * 1.6
        t += rng.expovariate(lam_max)
        tm = int(t)
        wd = (tm // 86400 + 3) % 7  # 0 = Monday
        w = HOUR_WEIGHT[(tm // 3600) % 24] * (0.35 if wd == 6 else 0.8 if wd == 5 else 1.0)
        if rng.random() * 1.6 > w or t >= t1:
            continue
        mcs = kw >= 1000
        truck_kw = rng.uniform(550, 950) if mcs else rng.uniform(250, 380)
        p_kw = min(kw, truck_kw)
        need_kwh = rng.uniform(120, 620) if mcs else rng.uniform(80, 420)
        dwell = min(max(rng.gauss(45, 14), 12), 120) * 60  # the driver's break
        plug = rng.uniform(10, 60)  # plugged in to tx_start
        unplug = rng.uniform(40, 480)  # tx_stop to the connector Available again
        length = plug + dwell + unplug
        if not free(blocked, t - 60, t + length + 60):
            continue
        out.append({"start": t + plug, "plug": t, "cp": cp, "conn": conn, "uid": uid, "site": s["id"], "jur": s["jur"],
                    "p_w": p_kw * 1000, "need_wh": need_kwh * 1000, "dwell": dwell, "unplug": unplug,
                    "plan": rng.random() < 0.3, "fault": rng.random() < 0.01, "jitter": rng.random()})
        t += length + rng.uniform(60, 900)
    return out


# ---- the rows -------------------------------------------------------------------------------------

def row(t_ms, kind, data, command=False):
    return f'{{"t_ms":{t_ms},"type":"{"command" if command else "event"}","kind":"{kind}","data":{data}}}\n'


def status(cp, conn, st, err="NoError"):
    return f'{{"cp":"{cp}","connector":{conn},"status":"{st}","error_code":"{err}"}}'


def site_data(s):
    evses = ",".join(f'["{u}",{w}]' for u, w in s["evses"])
    managed = 1 if s["hub"] else 0
    return (f'{{"id":"{s["id"]}","substation_id":"{s["substation"]}","managed":{managed},'
            f'"algo":"{"edf" if managed else "uncontrolled"}","limit_w":0,"interval_s":60,'
            f'"dwell_min":{45 if managed else 60},"default_wh":0,"evses":[{evses}]}}')


def substation_data(sub):
    v = ",".join(str(x) for x in sub["base_w"])
    p = ",".join(str(x) for x in sub["prices"])
    return (f'{{"id":"{sub["id"]}","capacity_w":{sub["capacity_kw"] * 1000},"congestion_price":0.12,'
            f'"congestion_threshold":0.8,"base_w":{{"interval_s":3600,"v":[{v}]}},'
            f'"renewables_w":{{"interval_s":3600,"v":[]}},"prices":{{"interval_s":3600,"v":[{p}]}}}}')


def boot_rows(t, c, status_now, managed):
    """A charge point connects: cp_up on the connection and again on its BootNotification, the
    connector statuses; on a managed site a tick, the charge point's maximum and the charger's
    answer. (The site's and substation's rows before the first boot: site_rows.)"""
    s = c["site"]
    cp = c["id"]
    out = []
    uids = ",".join(f'"{u}"' for u in [""] + c["uids"])
    up = f'{{"cp":"{cp}","site":"{s["id"]}","serial":{c["serial"]},"evse_uids":[{uids}]}}'
    out.append((t, row(t, "cp_up", up)))
    if managed:
        out.append((t, row(t, "tick", "{}")))
        out.append((t, row(t, "limit", f'{{"cp":"{cp}","connector":0,"tx":0,"limit_w":0,"lowers":1}}', True)))
    out.append((t + 1, row(t + 1, "cp_up", up)))
    if managed:
        out.append((t + 1, row(t + 1, "tick", "{}")))
    out.append((t + 2, row(t + 2, "status", status(cp, 0, status_now.get(0, "Available")))))
    if managed:
        out.append((t + 2, row(t + 2, "result", f'{{"cp":"{cp}","accepted":1}}')))
        out.append((t + 2, row(t + 2, "tick", "{}")))
    for k in range(1, len(c["uids"]) + 1):
        st = status_now.get(k, ("Available", "NoError"))
        out.append((t + 3, row(t + 3, "status", status(cp, k, *st))))
    return out


def cp_rows(c, t_start, reset_s, hub_state, rng):
    """Every row of one charge point, in time order (ms)."""
    s = c["site"]
    cp = c["id"]
    managed = s["hub"]
    ev = []  # (t_ms, text)
    # boots: at the journal's start and after the hub restart, within two minutes; after each drop
    for t in (t_start + rng.uniform(1, 120), reset_s + rng.uniform(2, 150)):
        ev.append((int(t * 1000), "boot", None))
    for kind, a, b, st in c["out"]:
        if kind == "drop":
            ev.append((int(a * 1000), "down", None))
            ev.append((int(b * 1000), "boot", None))
        else:
            ev.append((int(a * 1000), "cpst", st))
            ev.append((int(b * 1000), "cpst", "Available"))
    for k in c["conns"]:
        for a, b, err in k["faults"]:
            ev.append((int(a * 1000), "fault", (k["n"], err)))
            ev.append((int(b * 1000), "fault", (k["n"], None)))
        for x in k["sessions"]:
            ev.append((int(x["plug"] * 1000), "session", x))
    ev.sort(key=lambda e: (e[0], e[1]))
    conn_status = {}
    out = []
    for t, what, arg in ev:
        if what == "boot":
            c["serial"] = hub_state["serial"] = hub_state["serial"] + 1
            key = (s["id"], t >= reset_s * 1000)
            hub_state["first_boot"][key] = min(t, hub_state["first_boot"].get(key, t))
            out += boot_rows(t, c, conn_status, managed)
        elif what == "down":
            out.append((t, row(t, "cp_down", f'{{"cp":"{cp}"}}')))
        elif what == "cpst":
            conn_status[0] = arg
            out.append((t, row(t, "status", status(cp, 0, arg, "NoError" if arg != "Faulted" else "InternalError"))))
        elif what == "fault":
            n, err = arg
            conn_status[n] = ("Faulted", err) if err else ("Available", "NoError")
            out.append((t, row(t, "status", status(cp, n, *conn_status[n]))))
        else:
            out += session_rows(arg, managed)
    out.sort(key=lambda r: r[0])
    return out


# What the month holds, per jurisdiction, counted while the rows are made: sessions that start in it
# and the energy of the intervals between readings, pro rata of the part of their time in it
# (docs/kpi.md's definitions), for bench/kpi/run to compare with the report.
MONTH = [0, 0]
TRUTH = {}


def session_rows(x, managed):
    cp, conn, tx = x["cp"], x["conn"], x["tx"]
    out = []
    truth = TRUTH.setdefault(x["jur"], {"sessions": 0, "energy_wh": 0})
    in_month = lambda t: MONTH[0] <= t < MONTH[1]
    t = int(x["plug"] * 1000)
    out.append((t, row(t, "status", status(cp, conn, "Preparing"))))
    ts = int(x["start"] * 1000)
    req = f'{round(x["need_wh"])}' if x["plan"] else "-1"
    dep = int(x["start"] + x["dwell"]) if x["plan"] else 0
    out.append((ts, row(ts, "tx_start", f'{{"tx":{tx},"cp":"{cp}","connector":{conn},"site":"{x["site"]}",'
                                        f'"start_s":{ts // 1000},"evse_uid":"{x["uid"]}","delivered_wh":0,'
                                        f'"requested_wh":{req},"departure_s":{dep}}}')))
    truth["sessions"] += in_month(ts)
    limit = x["p_w"]
    if managed:
        out.append((ts, row(ts, "tick", "{}")))
        out.append((ts, row(ts, "limit", f'{{"cp":"{cp}","connector":0,"tx":0,"limit_w":{int(limit)},"lowers":0}}',
                            True)))
    out.append((ts + 2, row(ts + 2, "status", status(cp, conn, "Charging"))))
    if managed:
        out.append((ts + 3, row(ts + 3, "result", f'{{"cp":"{cp}","accepted":1}}')))
        out.append((ts + 3, row(ts + 3, "limit", f'{{"cp":"{cp}","connector":{conn},"tx":{tx},'
                                                 f'"limit_w":{int(limit)},"lowers":1}}', True)))
        out.append((ts + 3, row(ts + 3, "tick", "{}")))
        out.append((ts + 4, row(ts + 4, "result", f'{{"cp":"{cp}","accepted":1}}')))
    # meter values every 60 s: the truck's power until 85 % of what it needs, then tapering; the
    # reading repeats once it is full (SuspendedEV) until the driver's break is over
    wh, need, p = 0.0, x["need_wh"], x["p_w"]
    end = x["dwell"]
    full = False
    last, prev = 0, ts
    j = x["jitter"]
    step = 60
    k = 1
    while k * step < end:
        tm = ts + k * step * 1000 + int(j * 400)
        if not full:
            q = p if wh < 0.85 * need else max(0.25 * p, p * (1 - (wh - 0.85 * need) / (0.15 * need)))
            if managed and k % 9 == 4:  # the group's allocation moves now and then
                lim = int(min(limit, q * (0.8 + 0.2 * ((k * 7919 + x["tx"]) % 5) / 4)) // 100 * 100)
                q = min(q, lim)
                out.append((tm - 900, row(tm - 900, "tick", "{}")))
                out.append((tm - 900, row(tm - 900, "limit", f'{{"cp":"{cp}","connector":{conn},"tx":{tx},'
                                                             f'"limit_w":{lim},"lowers":1}}', True)))
                out.append((tm - 700, row(tm - 700, "result", f'{{"cp":"{cp}","accepted":1}}')))
            wh = min(need, wh + q * step / 3600)
            if wh >= need:
                full = True
                out.append((tm + 1, row(tm + 1, "status", status(cp, conn, "SuspendedEV"))))
        out.append((tm, row(tm, "tx_meter", f'{{"tx":{tx},"delivered_wh":{int(wh)}}}')))
        if int(wh) > last:  # the part of the interval's energy its time has in the month
            inside = min(tm, MONTH[1]) - max(prev, MONTH[0])
            truth["energy_wh"] += (int(wh) - last) * max(0, inside) / (tm - prev)
        last, prev = int(wh), tm
        k += 1
        if x["fault"] and k * step > end / 2:  # the session ends in a fault
            break
    te = max(ts + int(min(end, k * step) * 1000), out[-1][0] + 500)  # after the last reading
    out.append((te, row(te, "tx_stop", f'{{"tx":{tx}}}')))
    if x["fault"]:
        out.append((te + 5, row(te + 5, "status", status(cp, conn, "Faulted", "EVCommunicationError"))))
        tu = te + int(x["unplug"] * 1000) + 600000
    else:
        out.append((te + 5, row(te + 5, "status", status(cp, conn, "Finishing"))))
        tu = te + int(x["unplug"] * 1000)
    out.append((tu, row(tu, "status", status(cp, conn, "Available"))))
    return out


def group_rows(sub, t_start, t_end, reset_s, seed):
    """A managed group: allocated every 60 s (a tick), its price sent when the hour changes it."""
    rng = random.Random(seed)
    t = (t_start + 150 + rng.uniform(0, 60)) * 1000
    price = None
    while t < t_end * 1000:
        tm = int(t)
        h = (tm // 3600000) % 24
        quiet = h < 4 and rng.random() < 0.5  # few sessions at night: nothing to allocate
        if not quiet and not (reset_s * 1000 <= tm < (reset_s + 150) * 1000):
            yield (tm, row(tm, "tick", "{}"))
            p = sub["prices"][h]
            if p != price:
                price = p
                yield (tm, row(tm, "price", f'{{"group":"sub:{sub["id"]}","price_per_kwh":{p}}}', True))
        t += 60000 + rng.uniform(0, 40)


def main():
    a = sys.argv[1:]
    if not a or a[0] in ("-h", "--help"):
        sys.exit(__doc__)
    out = a[0]
    opt = {"--month": "2026-11", "--seed": "16", "--sites": "250", "--rate": "1.8"}
    for i in range(1, len(a), 2):
        if a[i] not in opt or i + 1 >= len(a):
            sys.exit(f"gen.py: unknown option {a[i]}\n{__doc__}")
        opt[a[i]] = a[i + 1]
    m0, m1 = month_bounds(opt["--month"])
    MONTH[:] = [m0 * 1000, m1 * 1000]
    seed = int(opt["--seed"])
    rng = random.Random(seed)
    sites, subs = region(rng, int(opt["--sites"]))
    write_region(os.path.join(out, "region"), sites, subs)
    t_start, t_end = m0 - 7200, m1 + 3600
    reset_s = m0 + 16 * 86400 + 3 * 3600 + 1234  # a restart on the 17th, 03:20 UTC
    cps, sessions = schedule(rng, sites, t_start + 180, t_end - 9000, reset_s, float(opt["--rate"]))
    hub_state = {"serial": 0, "first_boot": {}}
    per_cp = [cp_rows(c, t_start, reset_s, hub_state, random.Random(f"{seed}/{c['id']}")) for c in cps]
    # heapq.merge keeps the streams' order among rows of the same millisecond: the resets first,
    # then a site's rows before its charge point's cp_up
    streams = [iter([(t_start * 1000, row(t_start * 1000, "reset", "{}")),
                     (reset_s * 1000, row(reset_s * 1000, "reset", "{}"))]),
               iter(site_rows(hub_state["first_boot"], sites, {s["id"]: s for s in subs}))]
    streams += [iter(x) for x in per_cp]
    streams += [group_rows(s, t_start, t_end, reset_s, f"{seed}/{s['id']}") for s in subs]
    n, kinds = 0, {}
    with open(os.path.join(out, "journal.jsonl"), "w") as f:
        for i, (t, r) in enumerate(heapq.merge(*streams, key=lambda e: e[0])):
            f.write(r)
            k = r[r.index('"kind":"') + 8:r.index('","data"')]
            kinds[k] = kinds.get(k, 0) + 1
            n += 1
    summary = {"month": opt["--month"], "seed": seed, "sites": len(sites), "charge_points": len(cps),
               "ports": sum(len(c["uids"]) for c in cps), "substations": len(subs), "sessions": len(sessions),
               "rows": n, "kinds": kinds,
               "jurisdictions": {j: {"sessions": v["sessions"], "energy_kwh": round(v["energy_wh"] / 1000, 4)}
                                 for j, v in sorted(TRUTH.items())}}
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"gen.py: {len(sites)} sites, {len(cps)} charge points, "
          f"{sum(len(c['uids']) for c in cps)} connectors, {len(subs)} substations, {len(sessions)} sessions, "
          f"{n} journal rows: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda e: -e[1])),
          file=sys.stderr)


def site_rows(first_boot, sites, subs):
    """The engine hears of a site (and of its substation, first) when the first of its charge points
    connects after each reset: those rows, at those times."""
    by_id = {s["id"]: s for s in sites}
    out, known = [], set()
    for (sid, epoch), t in sorted(first_boot.items(), key=lambda e: (e[1], e[0])):
        s = by_id[sid]
        if s["substation"] and (s["substation"], epoch) not in known:
            known.add((s["substation"], epoch))
            out.append((t, row(t, "substation", substation_data(subs[s["substation"]]))))
        out.append((t, row(t, "site", site_data(s))))
    return out


if __name__ == "__main__":
    main()
