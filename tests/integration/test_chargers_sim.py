#!/usr/bin/env python3
"""`ecorridor chargers simulate` against a real hub, and against a fake one.

A real `ecorridor serve --region` holds a small region (tests/fixtures/cpsim_region:
three charge points, a hub site whose 600 kW connection is shared by the
hub's power sharing); the simulator runs its chargers for about 20 s. The
hub's own API must then show them online, sessions with meter values, CDRs
whose energy is the simulator's, and the limits the simulator accepted; and
every meter reading the simulator sent after accepting a limit must be
within it. Then a fake hub (a small WebSocket server here) sends malformed
and oversized frames and a wrong handshake: the simulator refuses each and
keeps going.

usage: test_chargers_sim.py ECORRIDOR SOURCE_DIR
"""
import base64
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from hubkit import Hub, check, make_key, results

ECORRIDOR, SRC = sys.argv[1], sys.argv[2]
REGION = os.path.join(SRC, "tests", "fixtures", "cpsim_region")
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def curl(hub, method, path, body=None, key=None):
    cmd = ["curl", "-s", "-X", method, "-o", "-", "-w", "\n%{http_code}", hub.url + path]
    if key:
        cmd += ["-H", "Authorization: Bearer " + key]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    out = subprocess.run(cmd, capture_output=True, timeout=60).stdout.decode()
    text, _, code = out.rpartition("\n")
    try:
        return int(code), json.loads(text) if text else None
    except ValueError:
        return int(code), text


def region_loaded(hub, admin):
    """`serve --region` loaded the fixture's register: its chargers are there."""
    reg = json.load(open(os.path.join(REGION, "register.json")))
    s, body = curl(hub, "GET", "/api/v1/chargers", key=admin)
    ids = {c["id"] for c in (body or {}).get("data", [])}
    check(s == 200 and ids == {c["id"] for c in reg["chargers"]}, "the region's chargers are registered: %s" % ids)
    return reg


def test_real_hub(tmp):
    db = os.path.join(tmp, "hub.db")
    hub = Hub(ECORRIDOR, db, "--region", REGION, "--heartbeat", "30")
    admin = make_key(ECORRIDOR, db, "admin", "hub-admin")
    reg = region_loaded(hub, admin)
    out_path = os.path.join(tmp, "sim.jsonl")
    with open(out_path, "w") as out:
        sim = subprocess.Popen([ECORRIDOR, "chargers", "simulate", "--hub", "ws://127.0.0.1:%d/ocpp" % hub.port,
                                "--region", REGION, "--json", "--seed", "7", "--first-s", "2", "--session-s", "10",
                                "--pause-s", "3", "--meter-s", "2"],
                               stdout=out, stderr=subprocess.PIPE, text=True)
        # Midway: the hub sees every charger online, and the shared site's limits.
        time.sleep(9)
        s, chargers = curl(hub, "GET", "/api/v1/chargers", key=admin)
        online = {c["id"] for c in (chargers or {}).get("data", []) if c.get("connected")}
        check(online == {c["id"] for c in reg["chargers"]}, "all chargers online at the hub: %s" % online)
        allocations = []
        for _ in range(8):
            s, al = curl(hub, "GET", "/api/v1/sites/HUB-A/allocation", key=admin)
            check(s == 200, "allocation of HUB-A: %s" % s)
            allocations.append(al)
            time.sleep(1.5)
        s, sessions = curl(hub, "GET", "/api/v1/sessions", key=admin)
        check(s == 200 and sessions["total"] >= 1, "sessions running at the hub: %s" % sessions)
        time.sleep(3)
        sim.send_signal(signal.SIGINT)
        try:
            rc = sim.wait(timeout=20)
        except subprocess.TimeoutExpired:
            sim.kill()
            rc = "hung"
        err = sim.stderr.read()
    check(rc == 0, "the simulator exits 0 at Ctrl-C: %s %s" % (rc, err[-2000:]))
    events = [json.loads(line) for line in open(out_path) if line.strip()]
    kinds = [e["event"] for e in events]
    boots = {e["charger"] for e in events if e["event"] == "boot" and e.get("detail") == "Accepted"}
    check(len(boots) == 3, "three boots accepted: %s" % boots)
    check(kinds.count("start") >= 3, "sessions started: %d" % kinds.count("start"))
    check(kinds.count("meter") >= 5, "meter values sent: %d" % kinds.count("meter"))
    check(kinds[-1] == "summary", "a summary at the end: %s" % kinds[-1:])
    summary = events[-1]
    check(summary.get("sessions_started") == summary.get("sessions_stopped"),
          "every session stopped at Ctrl-C: %s" % summary)
    check(summary.get("frames_refused") == 0 and summary.get("call_errors") == 0,
          "the real hub sent nothing refused and refused nothing: %s" % summary)
    # The power follows the limits: after a limit was accepted, every reading
    # of that connector is within it and within the charge point's own limit.
    limits, cp_max, meters_checked, over = {}, {}, 0, []
    for e in events:
        if e["event"] == "limit" and e.get("limit_w") is not None:
            if "connector" in e:
                limits[(e["charger"], e["connector"])] = e["limit_w"]
            elif e.get("detail") == "ChargePointMaxProfile":
                cp_max[e["charger"]] = e["limit_w"]
        if e["event"] == "meter":
            lim = min(limits.get((e["charger"], e["connector"]), float("inf")), cp_max.get(e["charger"], float("inf")))
            if lim != float("inf"):
                meters_checked += 1
                if e["power_w"] > lim + 0.5:
                    over.append((e, lim))
            check(e["power_w"] <= {"HUB-A-1": 1000000, "HUB-A-2": 400000, "SITE-B-1": 350000}[e["charger"]],
                  "power within the connector's rating: %s" % e)
    check(any(e["event"] == "limit" and e["site"] == "HUB-A" for e in events), "the hub sent HUB-A limits")
    check(meters_checked >= 3, "readings under a limit: %d" % meters_checked)
    check(not over, "readings over an accepted limit: %s" % over[:3])
    check(not any(e["event"] == "limit" and e["site"] == "SITE-B" for e in events),
          "SITE-B has no charging policy: no limits there")
    # What the hub counts as accepted is a limit the simulator logged.
    logged = {}
    for e in events:
        if e["event"] == "limit" and "connector" in e and e.get("limit_w") is not None:
            logged.setdefault((e["charger"], e["connector"]), set()).add(round(e["limit_w"] / 1000, 1))
    seen_limit = 0
    for al in allocations:
        for sess in (al or {}).get("sessions", []):
            if sess.get("limit_kw") is None:
                continue
            seen_limit += 1
            check(round(sess["limit_kw"], 1) in logged.get((sess["charge_point_id"], sess["connector_id"]), set()),
                  "the hub's limit %s is one the simulator accepted: %s" % (sess, logged))
    check(seen_limit >= 1, "the hub's allocation shows accepted limits")
    # CDRs: one per stopped session, with the simulator's energy.
    stops = {(e["charger"], e["transaction_id"]): e for e in events if e["event"] == "stop"}
    s, cdrs = curl(hub, "GET", "/api/v1/cdrs?limit=1000", key=admin)
    check(s == 200 and cdrs["total"] == len(stops) and cdrs["total"] >= 3,
          "a CDR per stopped session: %s CDRs, %d stops" % (cdrs and cdrs.get("total"), len(stops)))
    for cdr in (cdrs or {}).get("data", []):
        st = stops.get((cdr["charge_point_id"], cdr["transaction_id"]))
        check(st is not None and abs(cdr["energy_wh"] - st["energy_wh"]) <= 1,
              "CDR %s energy %s Wh = the simulator's %s" % (cdr["id"], cdr["energy_wh"], st and st["energy_wh"]))
        check(cdr["token_uid"].startswith("TESTFLEET-0"), "a fleet token: %s" % cdr["token_uid"])
    s, after = curl(hub, "GET", "/api/v1/sessions", key=admin)
    check(s == 200 and after["total"] == 0, "no session left running at the hub: %s" % after.get("total"))
    check(hub.stop() == 0, "the hub stops cleanly")


# ---- a fake hub ------------------------------------------------------------------------------


def recv_frame(conn):
    """One frame from the client (masked): (opcode, payload)."""
    def need(n):
        b = b""
        while len(b) < n:
            part = conn.recv(n - len(b))
            if not part:
                raise EOFError
            b += part
        return b
    h = need(2)
    op, n = h[0] & 0x0F, h[1] & 0x7F
    if n == 126:
        n = struct.unpack(">H", need(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", need(8))[0]
    mask = need(4) if h[1] & 0x80 else b"\0\0\0\0"
    data = bytes(c ^ mask[i % 4] for i, c in enumerate(need(n)))
    return op, data, bool(h[1] & 0x80)


def send_frame(conn, data, op=1):
    n = len(data)
    head = bytes([0x80 | op])
    head += bytes([n]) if n < 126 else (bytes([126]) + struct.pack(">H", n) if n < 65536
                                         else bytes([127]) + struct.pack(">Q", n))
    conn.sendall(head + data)


def handshake(conn, good=True):
    req = b""
    while b"\r\n\r\n" not in req:
        part = conn.recv(4096)
        if not part:
            raise EOFError
        req += part
    lines = req.decode().split("\r\n")
    hdr = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    key = hdr["sec-websocket-key"]
    acc = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    if not good:
        acc = base64.b64encode(b"x" * 20).decode()
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n" % acc).encode())
    return lines[0], hdr


def test_fake_hub(tmp):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(20)
    port = srv.getsockname()[1]
    out_path = os.path.join(tmp, "fake.jsonl")
    out = open(out_path, "w")
    sim = subprocess.Popen([ECORRIDOR, "chargers", "simulate", "--hub", "ws://127.0.0.1:%d/ocpp" % port,
                            "--region", REGION, "--count", "1", "--json"], stdout=out, stderr=subprocess.PIPE)
    try:
        conn, _ = srv.accept()
        conn.settimeout(10)
        line, hdr = handshake(conn)
        check(line == "GET /ocpp/HUB-A-1 HTTP/1.1", "the upgrade names the charger: %s" % line)
        check(hdr.get("sec-websocket-protocol") == "ocpp1.6", "subprotocol ocpp1.6: %s" % hdr)
        check(hdr.get("authorization") == "Basic " + base64.b64encode(b"HUB-A-1:test-only-pw-a1").decode(),
              "Basic auth with the charger's password: %s" % hdr.get("authorization"))
        op, data, masked = recv_frame(conn)
        msg = json.loads(data)
        check(op == 1 and masked and msg[0] == 2 and msg[2] == "BootNotification",
              "the first frame is a masked BootNotification: %s" % data[:200])
        send_frame(conn, json.dumps([3, msg[1], {"status": "Accepted", "currentTime": "2026-12-06T10:00:00Z",
                                                  "interval": 300}]).encode())
        # Malformed calls are answered with CALLERRORs, not crashes.
        cases = [
            (b"not json at all", None),
            (b'[2, 17, "Reset", {}]', None),
            (b'{"a": 1}', None),
            (b'[2, "m1", "Reset", {"type": "Bogus"}]', "PropertyConstraintViolation"),
            (b'[2, "m2", "NoSuchAction", {}]', "NotImplemented"),
            (b'[2, "m3", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1}}]',
             "PropertyConstraintViolation"),
            (b'[2, "m4", "GetConfiguration", []]', "FormationViolation"),
            (b'[9, "m5", "x", {}]', "ProtocolError"),
            ('[2, "m6", "RemoteStopTransaction", {"transactionId": 1e300}]'.encode(), "OccurenceConstraintViolation"),
        ]
        for frame, code in cases:
            send_frame(conn, frame)
        send_frame(conn, b'[2, "ok1", "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}]')
        answers = {}
        deadline = time.time() + 10
        while "ok1" not in answers and time.time() < deadline:
            op, data, _ = recv_frame(conn)
            m = json.loads(data)
            if m[0] in (3, 4):
                answers[m[1]] = m
        for frame, code in cases:
            if code:
                uid = json.loads(frame)[1]
                check(uid in answers and answers[uid][0] == 4 and answers[uid][2] == code,
                      "%s answered %s: %s" % (frame[:60], code, answers.get(uid)))
        ok = answers.get("ok1")
        check(ok and ok[0] == 3 and ok[2]["configurationKey"][0]["key"] == "HeartbeatInterval" and
              ok[2]["unknownKey"] == ["Nope"], "a good call after the bad ones is answered: %s" % ok)
        # An oversized message: closed with 1009, and the charger comes back.
        send_frame(conn, b'["' + b"x" * 70000 + b'"]')
        codes = []
        try:
            while True:
                op, data, _ = recv_frame(conn)
                if op == 8:
                    codes.append(struct.unpack(">H", data[:2])[0])
                    break
        except (EOFError, socket.timeout, ConnectionError):
            pass
        check(codes == [1009], "an oversized message is closed with 1009: %s" % codes)
        conn.close()
        conn, _ = srv.accept()
        conn.settimeout(10)
        handshake(conn)
        recv_frame(conn)  # its BootNotification
        send_frame(conn, b"\x00\x01binary", op=2)
        codes = []
        try:
            while True:
                op, data, _ = recv_frame(conn)
                if op == 8:
                    codes.append(struct.unpack(">H", data[:2])[0])
                    break
        except (EOFError, socket.timeout, ConnectionError):
            pass
        check(codes == [1003], "a binary frame is closed with 1003: %s" % codes)
        conn.close()
        # A handshake with the wrong Sec-WebSocket-Accept: no frame is sent.
        conn, _ = srv.accept()
        conn.settimeout(5)
        handshake(conn, good=False)
        try:
            got = conn.recv(100)
        except socket.timeout:
            got = b"timeout"
        check(got == b"", "a wrong Sec-WebSocket-Accept is refused without a frame: %r" % got[:40])
        conn.close()
        conn, _ = srv.accept()  # and it tries again
        check(sim.poll() is None, "the simulator is still running")
        conn.close()
    finally:
        sim.send_signal(signal.SIGINT)
        try:
            rc = sim.wait(timeout=15)
        except subprocess.TimeoutExpired:
            sim.kill()
            rc = "hung"
        out.close()
        srv.close()
    check(rc == 0, "the simulator exits 0: %s %s" % (rc, sim.stderr.read()[-2000:]))
    events = [json.loads(l) for l in open(out_path) if l.strip()]
    bad = [e for e in events if e["event"] == "bad_frame"]
    check(len(bad) >= 9, "every malformed frame logged: %d" % len(bad))
    text = " ".join(e.get("message", "") for e in events)
    check("1009" in text and "1003" in text and "Sec-WebSocket-Accept" in text,
          "the log says why each connection ended: %s" % text[-600:])


def test_usage():
    r = subprocess.run([ECORRIDOR, "chargers", "simulate", "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "--hub" in r.stdout and "--site" in r.stdout, "--help")
    r = subprocess.run([ECORRIDOR, "chargers", "simulate"], capture_output=True, text=True)
    check(r.returncode == 2 and "--hub" in r.stderr, "no --hub is a usage error: %s" % r.stderr)
    r = subprocess.run([ECORRIDOR, "chargers", "simulate", "--hub", "wss://x/ocpp", "--region", REGION],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "ws://" in r.stderr, "wss:// is refused with a reason: %s" % r.stderr)
    r = subprocess.run([ECORRIDOR, "chargers", "simulate", "--hub", "ws://127.0.0.1:1/ocpp", "--region", REGION,
                        "--site", "NOPE"], capture_output=True, text=True)
    check(r.returncode == 1 and "NOPE" in r.stderr, "an unknown site is named: %s" % r.stderr)
    r = subprocess.run([ECORRIDOR, "chargers", "simulate", "--hub", "ws://127.0.0.1:1/ocpp", "--region", SRC],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "sites.csv" in r.stderr, "a directory without a region: %s" % r.stderr)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_usage()
        test_fake_hub(tmp)
        test_real_hub(tmp)
    passed, failed = results()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
