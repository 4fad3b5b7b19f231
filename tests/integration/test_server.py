#!/usr/bin/env python3
"""The regional hub end to end: the real `ecorridor serve` on a free port, spoken
to with curl (and, for the kill -9 stream, Python's http.client).

usage: test_server.py ECORRIDOR SOURCE_DIR DATA_DIR
"""
import base64
import csv
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ECORRIDOR, SRC, DATA = sys.argv[1], sys.argv[2], sys.argv[3]
# A sanitized build (.ci/run's second pass) runs several times slower: the
# latency bounds are then a second, as in test_attacks.py.
with open(ECORRIDOR, "rb") as _f:
    PROBE_LIMIT_S = 1.0 if b"__asan_init" in _f.read() else 0.1
FIX = os.path.join(SRC, "tests", "fixtures")
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


class Hub:
    """One `ecorridor serve` process on a port the kernel picked."""

    def __init__(self, db, extra=()):
        self.db = db
        # The hub's log goes to a file beside its database, shown when it dies.
        self.log_path = db + ".log"
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [ECORRIDOR, "serve", "--db", db, "--listen", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "listening on http://" not in line:
            raise RuntimeError("hub did not start: %r %s" % (line, open(self.log_path).read()))
        self.base = line.split("listening on ")[1].split("/ ")[0]
        self.port = int(self.base.rsplit(":", 1)[1])

    def alive(self):
        if self.proc.poll() is None:
            return True
        print("hub exited with %s; its log:\n%s" % (self.proc.returncode, open(self.log_path).read()[-4000:]))
        return False

    def stop(self, sig=signal.SIGTERM):
        if not self.alive():
            return self.proc.returncode
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=20)
        self.proc.stdout.close()
        self.log.close()
        if rc != 0:
            print("hub log:\n" + open(self.log_path).read()[-4000:])
        return rc


def curl(hub, method, path, body=None, key=None, raw=None):
    """(status, parsed JSON or text) through the curl command line tool."""
    cmd = ["curl", "-s", "-X", method, "-o", "-", "-w", "\n%{http_code}", hub.base + path]
    if key:
        cmd += ["-H", "Authorization: Bearer " + key]
    if method == "HEAD":
        cmd = [c for c in cmd if c not in ("-X", "HEAD")] + ["-I"]
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    if data is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
    out = subprocess.run(cmd, input=data.encode() if isinstance(data, str) else data,
                         capture_output=True, timeout=60).stdout.decode()
    text, _, code = out.rpartition("\n")
    if code == "000" and not hub.alive():
        raise RuntimeError("the hub died during %s %s" % (method, path))
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return int(code), parsed


def key(db, role, org):
    out = subprocess.run([ECORRIDOR, "keys", "create", "--db", db, "--role", role, "--org", org],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


def is_error(body, code=None):
    e = isinstance(body, dict) and body.get("error")
    return bool(e) and set(e) == {"code", "message", "field"} and (code is None or e["code"] == code)


def setup_register(hub, db):
    admin = key(db, "admin", "hub-admin")
    for body in [
        {"id": "city-a", "name": "City A", "kind": "city"},
        {"id": "city-b", "name": "City B", "kind": "city"},
    ]:
        s, _ = curl(hub, "POST", "/api/v1/jurisdictions", body, admin)
        check(s == 201, "create jurisdiction %s: %s" % (body["id"], s))
    for body in [
        {"id": "op-a", "name": "Operator A", "kind": "operator"},
        {"id": "op-b", "name": "Operator B", "kind": "operator"},
        {"id": "agency-a", "name": "Agency A", "kind": "agency", "jurisdiction_id": "city-a"},
        {"id": "fleet-a", "name": "Fleet A", "kind": "fleet"},
        {"id": "util-a", "name": "Utility A", "kind": "utility", "jurisdiction_id": "city-a"},
    ]:
        s, _ = curl(hub, "POST", "/api/v1/organisations", body, admin)
        check(s == 201, "create organisation %s: %s" % (body["id"], s))
    keys = {"public": None, "admin": admin}
    for role, org in [("operator", "op-a"), ("agency", "agency-a"), ("fleet", "fleet-a")]:
        keys[role] = key(db, role, org)
    keys["operator_b"] = key(db, "operator", "op-b")
    return keys


SITE = {"name": "Matrix site", "coordinates": {"latitude": "50.5", "longitude": "7.5"}}


def test_role_matrix(hub, keys):
    """Every endpoint x role, allowed and refused, against the policy in docs/api.md."""
    admin = keys["admin"]
    s, b = curl(hub, "POST", "/api/v1/sites", dict(SITE, id="site-op-a", operator_id="op-a",
                                                   jurisdiction_id="city-a"), admin)
    check(s == 201, "admin creates site-op-a: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/sites", dict(SITE, id="site-op-b", operator_id="op-b",
                                                   jurisdiction_id="city-b"), admin)
    check(s == 201, "admin creates site-op-b: %s" % s)
    s, _ = curl(hub, "POST", "/api/v1/substations", {"id": "sub-a", "name": "Sub A", "capacity_kw": 4000,
                                                     "jurisdiction_id": "city-a"}, admin)
    check(s == 201, "admin creates a substation: %s" % s)
    s, _ = curl(hub, "POST", "/api/v1/substations", {"id": "sub-b", "name": "Sub B", "capacity_kw": 4000,
                                                     "jurisdiction_id": "city-b"}, admin)
    check(s == 201, "admin creates a second substation: %s" % s)
    s, _ = curl(hub, "POST", "/api/v1/tariffs", {"id": "tar-a", "currency": "EUR", "operator_id": "op-a",
                                                 "elements": [{"price_components": [
                                                     {"type": "ENERGY", "price": 0.45}]}]}, admin)
    check(s == 201, "admin creates a tariff: %s" % s)
    route = {"from": {"latitude": "51.9225", "longitude": "4.4792"},
             "to": {"latitude": "50.94", "longitude": "6.96"}, "soc": 0.8}
    tariff = {"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.5}]}]}
    A, O, G, F, P = "admin", "operator", "agency", "fleet", "public"
    ALL = [A, O, G, F, P]
    # (method, path, body, roles allowed, status when allowed, status for a refused key)
    rows = [
        ("GET", "/api/v1/sites", None, ALL, 200),
        ("GET", "/api/v1/sites/site-op-a", None, ALL, 200),
        ("GET", "/api/v1/sites.geojson", None, ALL, 200),
        ("GET", "/api/v1/tariffs", None, ALL, 200),
        ("GET", "/api/v1/tariffs/tar-a", None, ALL, 200),
        ("GET", "/api/v1/jurisdictions", None, [A, O, G, F], 200),
        ("GET", "/api/v1/organisations", None, [A, O, G, F], 200),
        ("GET", "/api/v1/organisations/op-b", None, [A, G], 200),
        ("GET", "/api/v1/substations", None, [A, O, G], 200),
        ("GET", "/api/v1/renewables", None, [A, O, G], 200),
        ("POST", "/api/v1/routes", route, [A, O, G, F], 200),
        ("POST", "/api/v1/jurisdictions", {"name": "C", "kind": "city"}, [A], 201),
        ("POST", "/api/v1/organisations", {"name": "X", "kind": "fleet"}, [A], 201),
        ("POST", "/api/v1/sites", dict(SITE, jurisdiction_id="city-a"), [A, O, G], 201),
        ("POST", "/api/v1/sites", dict(SITE, operator_id="op-b"), [A, G], 201),
        ("POST", "/api/v1/sites", dict(SITE, operator_id="op-b", jurisdiction_id="city-b"), [A], 201),
        ("POST", "/api/v1/sites", dict(SITE, jurisdiction_id="city-b"), [A, O], 201),
        ("PATCH", "/api/v1/sites/site-op-a", {"name": "Renamed"}, [A, O, G], 200),
        ("PATCH", "/api/v1/sites/site-op-b", {"name": "Renamed"}, [A], 200),
        ("POST", "/api/v1/tariffs", tariff, [A, O], 201),
        ("PATCH", "/api/v1/tariffs/tar-a", {"currency": "EUR"}, [A, O], 200),
        ("POST", "/api/v1/substations", {"name": "S", "capacity_kw": 100}, [A, G], 201),
        ("PATCH", "/api/v1/substations/sub-a", {"capacity_kw": 4100}, [A, G], 200),
        ("PATCH", "/api/v1/substations/sub-b", {"capacity_kw": 4100}, [A], 200),
        ("POST", "/api/v1/renewables", {"name": "PV", "kind": "solar", "capacity_kw": 50}, [A, G], 201),
        # The admin's import stores sites without an operator, which only admins may then replace.
        ("POST", "/api/v1/import?format=geojson", None, [A], 200),
    ]
    geo = open(os.path.join(FIX, "register_sites.geojson")).read()
    for method, path, body, allowed, ok_status in rows:
        for role in ALL:
            raw = geo if "import" in path else None
            s, b = curl(hub, method, path, body, keys[role], raw=raw)
            if role in allowed:
                check(s == ok_status, "%s %s as %s: expected %d, got %d %s" % (method, path, role, ok_status, s,
                                                                               str(b)[:200]))
            else:
                want = 401 if role == P else 403
                check(s == want and is_error(b), "%s %s as %s: expected %d, got %d %s" % (
                    method, path, role, want, s, str(b)[:200]))
    # Deletes last, each on an object of its own so that order does not matter.
    for role in ALL:
        s, b = curl(hub, "POST", "/api/v1/sites", dict(SITE, operator_id="op-a", jurisdiction_id="city-a"), admin)
        sid = b["id"]
        s, b = curl(hub, "DELETE", "/api/v1/sites/" + sid, None, keys[role])
        want = 204 if role in (A, O, G) else 401 if role == P else 403
        check(s == want, "DELETE a site of op-a as %s: expected %d, got %d" % (role, want, s))
    s, _ = curl(hub, "DELETE", "/api/v1/sites/site-op-a", None, keys["operator_b"])
    check(s == 403, "operator B may not delete operator A's site: %d" % s)
    s, b = curl(hub, "GET", "/api/v1/organisations", None, keys["fleet"])
    check(s == 200 and [o["id"] for o in b["data"]] == ["fleet-a"], "a fleet lists only its own organisation")
    s, b = curl(hub, "POST", "/api/v1/import?format=geojson&operator=op-b", None, keys["operator"], raw=geo)
    check(s == 403, "an operator may not import for another: %d" % s)
    s, b = curl(hub, "GET", "/api/v1/sites", None, "eck_not-a-real-key")
    check(s == 401 and is_error(b, "unauthorized"), "an unknown key is 401 even where none is needed")
    # Operations answer through policy.c like the register: a 401 names the scheme.
    for path in ("/api/v1/chargers", "/api/v1/tokens", "/api/v1/sessions", "/api/v1/cdrs", "/api/v1/settlement",
                 "/api/v1/sites/site-op-b/allocation"):
        c = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=10)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        c.close()
        check(r.status == 401 and (r.getheader("WWW-Authenticate") or "").startswith("Bearer"),
              "GET %s without a key: 401 with WWW-Authenticate: %d %r" % (path, r.status, r.getheader("WWW-Authenticate")))


def test_import_ownership(hub, keys):
    """An operator's import replaces its own records only: a file naming another's is refused
    whole, and the answer names the records (issue 12, item 2)."""
    admin, opa, opb = keys["admin"], keys["operator"], keys["operator_b"]
    head = "site_id,name,lat,lon,standard,power_kw,count\n"
    mine_b = head + "OPB-1,B,50,8,MCS,1000,2\nOPB-2,B two,50.1,8,MCS,1000,2\n"
    s, b = curl(hub, "POST", "/api/v1/import?format=csv&operator=op-b", None, admin, raw=mine_b)
    check(s == 200 and b["added"] == 2, "an admin imports for op-b: %s %s" % (s, b))
    hijack = head + "OPA-NEW,new,50.2,8,MCS,1000,1\nOPB-1,HIJACKED,50,8,MCS,1000,2\nOPB-2,HIJACKED,50.1,8,MCS,1000,2\n"
    s, b = curl(hub, "POST", "/api/v1/import?format=csv", None, opa, raw=hijack)
    msg = b["error"]["message"] if is_error(b) else ""
    check(s == 403 and is_error(b, "forbidden") and "OPB-1" in msg and "OPB-2" in msg and "op-b" in msg
          and msg.startswith("2 records"), "op-a's import over op-b's sites is refused, naming them: %s %s" % (s, b))
    s, x = curl(hub, "GET", "/api/v1/sites/OPB-1")
    check(s == 200 and x["name"] == "B" and x["operator_id"] == "op-b", "op-b's site is unchanged: %s" % x)
    s, _ = curl(hub, "GET", "/api/v1/sites/OPA-NEW")
    check(s == 404, "nothing of the refused file is stored: %s" % s)
    s, _ = curl(hub, "PATCH", "/api/v1/sites/OPB-1", {"name": "B renamed"}, opb)
    check(s == 200, "op-b still manages its site: %s" % s)
    s, b = curl(hub, "POST", "/api/v1/import?format=csv", None, opb, raw=mine_b)
    check(s == 200 and b["updated"] == 1 and b["unchanged"] == 1, "op-b re-imports its own file: %s %s" % (s, b))
    # Demo sites carry no operator: they belong to nobody but admins.
    demo = open(os.path.join(SRC, "data", "demo", "rhine_alpine", "sites.csv")).read()
    s, b = curl(hub, "POST", "/api/v1/import?format=csv", None, opa, raw=demo)
    check(s == 403 and is_error(b, "forbidden") and "admins only" in b["error"]["message"],
          "an operator cannot take the operator-less demo sites over by import: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/import?format=csv", None, admin, raw=demo)
    check(s == 200, "an admin re-imports the demo file: %s %s" % (s, b))
    # Two operators whose files price alike get a tariff each, not one the first owns.
    priced = "site_id,name,lat,lon,standard,power_kw,count,price_per_kwh,price_per_min,operator\n"
    s, b = curl(hub, "POST", "/api/v1/import?format=csv", None, opa, raw=priced + "OPA-P,A,50.3,8,MCS,1000,1,0.42,0,Same\n")
    check(s == 200 and b["added"] == 2, "op-a imports a priced site: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/import?format=csv", None, opb, raw=priced + "OPB-P,B,50.4,8,MCS,1000,1,0.42,0,Same\n")
    check(s == 200 and b["added"] == 2, "op-b imports the same prices: %s %s" % (s, b))


def test_write_ownership(hub, keys):
    """Chargers, tariffs and a site's substation link name only what the key's organisation may
    use (issue 12, items 4 and 11); run after test_role_matrix, whose sites and substations it uses."""
    admin, opa = keys["admin"], keys["operator"]
    cp = {"id": "CP-EVIL", "site_id": "DE-DAR-01", "connectors": 2, "evse_uids": ["E1-1", "E1-2"]}
    s, b = curl(hub, "POST", "/api/v1/chargers", cp, opa)
    check(s == 403 and is_error(b, "forbidden") and b["error"]["field"] == "site_id",
          "an operator cannot put a charger on an operator-less demo site: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/chargers", dict(cp, site_id="site-op-b"), opa)
    check(s == 403 and is_error(b), "nor on another operator's site: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/chargers", {"id": "CP-EVIL", "operator_id": "op-b"}, opa)
    check(s in (400, 403) and is_error(b), "nor register one as another operator's: %s %s" % (s, b))
    s, b = curl(hub, "GET", "/api/v1/chargers/CP-EVIL", None, admin)
    check(s == 404, "none of those was stored: %s" % s)
    s, b = curl(hub, "POST", "/api/v1/chargers", dict(cp, id="CP-OWN-A", site_id="site-op-a"), opa)
    check(s == 201 and b["operator_id"] == "op-a", "an operator registers a charger on its own site: %s %s" % (s, b))
    s, b = curl(hub, "PATCH", "/api/v1/chargers/CP-OWN-A", {"site_id": "DE-DAR-01"}, opa)
    check(s == 403 and is_error(b), "and cannot move it to an operator-less site: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/chargers", dict(cp, id="CP-ADM", operator_id="op-a"), admin)
    check(s == 201 and b["operator_id"] == "op-a", "an admin may put one on an operator-less site: %s %s" % (s, b))
    s, b = curl(hub, "PATCH", "/api/v1/chargers/CP-ADM", {"name": "Bay 9"}, opa)
    check(s == 200 and b["site_id"] == "DE-DAR-01", "whose operator may then change the rest: %s %s" % (s, b))
    tariff = {"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.5}]}]}
    s, b = curl(hub, "POST", "/api/v1/tariffs", dict(tariff, id="tar-evil", site_id="site-op-b"), opa)
    check(s == 403 and is_error(b, "forbidden") and b["error"]["field"] == "site_id",
          "an operator cannot write a tariff for a competitor's site: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/tariffs", dict(tariff, id="tar-evil", site_id="DE-DAR-01"), opa)
    check(s == 403 and is_error(b), "nor for an operator-less site: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/tariffs", dict(tariff, id="tar-own-a", site_id="site-op-a"), opa)
    check(s == 201 and b["operator_id"] == "op-a", "a tariff for its own site: %s %s" % (s, b))
    s, b = curl(hub, "PATCH", "/api/v1/tariffs/tar-own-a", {"site_id": "site-op-b"}, opa)
    check(s == 403 and is_error(b), "a tariff cannot be moved to a competitor's site: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/tariffs", dict(tariff, id="tar-adm-b", site_id="site-op-b", operator_id="op-b"),
                admin)
    check(s == 201, "an admin writes a tariff for any site: %s %s" % (s, b))
    # site-op-a is in city-a; sub-a is city-a's, sub-b city-b's.
    s, b = curl(hub, "PATCH", "/api/v1/sites/site-op-a", {"substation_id": "sub-b"}, opa)
    check(s == 403 and is_error(b, "forbidden") and b["error"]["field"] == "substation_id",
          "an operator cannot hang its site under another jurisdiction's substation: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/sites", dict(SITE, id="site-a-sub", jurisdiction_id="city-a", substation_id="sub-b"), opa)
    check(s == 403 and is_error(b), "nor create one so: %s %s" % (s, b))
    s, b = curl(hub, "PATCH", "/api/v1/sites/site-op-a", {"substation_id": "sub-a"}, opa)
    check(s == 200 and b["substation_id"] == "sub-a", "under its own jurisdiction's substation: %s %s" % (s, b))
    s, b = curl(hub, "PATCH", "/api/v1/sites/site-op-a", {"jurisdiction_id": "city-b"}, opa)
    check(s == 403 and is_error(b), "moving it with its link is checked against the new jurisdiction: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/sites", dict(SITE, id="site-a-nojur", substation_id="sub-b"), opa)
    check(s == 201, "a site without a jurisdiction may hang under any substation: %s %s" % (s, b))
    s, b = curl(hub, "PATCH", "/api/v1/sites/site-op-a", {"substation_id": "sub-b"}, admin)
    check(s == 200, "an admin links any: %s %s" % (s, b))
    s, b = curl(hub, "PATCH", "/api/v1/sites/site-op-a", {"name": "Renamed again"}, opa)
    check(s == 200, "a link an admin made does not block the operator's other edits: %s %s" % (s, b))
    s, b = curl(hub, "PATCH", "/api/v1/sites/site-op-a", {"substation_id": "sub-a"}, admin)


def raw_request(hub, text):
    """Sends text as bytes on a fresh connection; (status, body) of the answer."""
    with socket.create_connection(("127.0.0.1", hub.port), timeout=10) as c:
        c.sendall(text.encode())
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                n = [int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")]
                if n and len(body) >= n[0]:
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body.decode(errors="replace")


class Charger:
    """A charge point over a WebSocket written here with the standard library: enough OCPP-J
    to send a CALL and read its answer."""

    def __init__(self, hub, cp_id, password):
        self.sock = socket.create_connection(("127.0.0.1", hub.port), timeout=10)
        auth = base64.b64encode(("%s:%s" % (cp_id, password)).encode()).decode()
        self.sock.sendall(("GET /ocpp/%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n"
                           "Authorization: Basic %s\r\n\r\n" % (cp_id, base64.b64encode(os.urandom(16)).decode(), auth)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("the hub closed the handshake")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0] + b" ":
            raise RuntimeError("handshake refused: %r" % head[:80])
        self.n = 0

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("the hub closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text):
        data, mask = text.encode(), os.urandom(4)
        n = len(data)
        head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self._read(2), "big")
        elif n == 127:
            n = int.from_bytes(self._read(8), "big")
        return b0 & 0x0F, self._read(n)

    def call(self, action, payload):
        self.n += 1
        uid = "m%d" % self.n
        self.send(json.dumps([2, uid, action, payload]))
        while True:
            op, data = self.recv()
            if op != 1:
                continue
            msg = json.loads(data)
            if msg[0] in (3, 4) and msg[1] == uid:
                return msg
            if msg[0] == 2:  # a call from the hub (a charging profile): accepted
                self.send(json.dumps([3, msg[1], {"status": "Accepted"}]))

    def close(self):
        self.sock.close()


def test_small_items(hub, keys):
    """The small items of issue 12's list 11 that the API answers, each with its refusal."""
    admin, opa, fleet = keys["admin"], keys["operator"], keys["fleet"]
    # Keys: unknown or revoked ones are 401 everywhere; none is still the public role.
    for path in ("/healthz", "/metrics", "/api/v1", "/api/v1/"):
        s, b = curl(hub, "GET", path, None, "eck_not-a-real-key")
        check(s == 401 and is_error(b, "unauthorized"), "an unknown key on %s is 401: %s" % (path, s))
    s, b = curl(hub, "GET", "/healthz")
    check(s == 200 and b["status"] == "ok", "no key on /healthz is 200")
    for ows in ("  ", "\t", " \t "):
        st, body = raw_request(hub, "GET /api/v1/organisations/op-a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                    "Authorization: Bearer %s%s\r\n\r\n" % (opa, ows))
        check(st == 200 and '"op-a"' in body, "a key followed by %r is accepted: %s %s" % (ows, st, body[:120]))
    st, body = raw_request(hub, "GET /api/v1/organisations/op-a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                "Authorization: bearer %s\r\n\r\n" % opa)
    check(st == 200, "the scheme's name is case-insensitive: %s" % st)
    # The admin key of this hub names an organisation the register does not hold.
    s, _ = curl(hub, "GET", "/api/v1/organisations/hub-admin", None, admin)
    s2, _ = curl(hub, "POST", "/api/v1/jurisdictions", {"name": "Admin without organisation", "kind": "city"}, admin)
    check(s == 404 and s2 == 201, "an admin key works without its organisation in the register: %s %s" % (s, s2))
    # /metrics: the register's counts for admins and agencies, not for anyone.
    s, m = curl(hub, "GET", "/metrics")
    check(s == 200 and "ecorridor_http_requests_total" in m and "ecorridor_store_objects" not in m,
          "/metrics without a key has no object counts")
    for role, shown in (("fleet", False), ("operator", False), ("agency", True), ("admin", True)):
        s, m = curl(hub, "GET", "/metrics", None, keys[role])
        check(s == 200 and ("ecorridor_store_objects{kind=\"sites\"}" in m) == shown,
              "/metrics object counts for %s: %s" % (role, shown))
    # Lists: a status the register does not use is refused, naming the ones it does.
    s, b = curl(hub, "GET", "/api/v1/sites?status=FOO")
    check(s == 400 and is_error(b, "invalid_parameter") and b["error"]["field"] == "status" and
          "AVAILABLE" in b["error"]["message"] and "OUTOFORDER" in b["error"]["message"], "status=FOO: %s %s" % (s, b))
    s, b = curl(hub, "GET", "/api/v1/sites.geojson?status=charging")
    check(s == 400 and is_error(b), "statuses are OCPI's capitals: %s" % s)
    s, b = curl(hub, "GET", "/api/v1/sites?status=OUTOFORDER")
    check(s == 200, "a real status is taken: %s" % s)
    # Sessions: the key before the session's existence.
    for method in ("PATCH", "GET"):
        s, b = curl(hub, method, "/api/v1/sessions/999", {"requested_kwh": 1} if method == "PATCH" else None)
        check(s in (401, 405) and is_error(b) and (s == 401 or method == "GET"),
              "public %s /sessions/999 is not 404: %s" % (method, s))
    s, b = curl(hub, "PATCH", "/api/v1/sessions/999", {"requested_kwh": 1})
    check(s == 401, "public PATCH /sessions/999 is 401: %s" % s)
    s, b = curl(hub, "PATCH", "/api/v1/sessions/999", {"requested_kwh": 1}, admin)
    check(s == 404, "with a key, a session that does not exist is 404: %s" % s)
    # Names in characters, not bytes.
    s, b = curl(hub, "POST", "/api/v1/sites", dict(SITE, name="\u00e9" * 128), opa)
    check(s == 201 and b["name"] == "\u00e9" * 128, "128 x e-acute is a name of 128 characters: %s %s" % (s, str(b)[:100]))
    s, b = curl(hub, "POST", "/api/v1/sites", dict(SITE, name="\u00e9" * 255), opa)
    check(s == 201, "255 characters (510 bytes) are taken: %s" % s)
    s, b = curl(hub, "POST", "/api/v1/sites", dict(SITE, name="e" * 256), opa)
    check(s == 400 and b["error"]["field"] == "name", "256 characters are not: %s" % s)
    s, b = curl(hub, "POST", "/api/v1/tokens", {"uid": "NAMED1", "name": "\u00fc" * 200}, fleet)
    check(s == 201, "a token's name is counted in characters too: %s %s" % (s, b))
    # Shapes.
    for body, field in [({"time_zone": "Mars/Olympus"}, "time_zone"), ({"time_zone": "not a zone"}, "time_zone"),
                        ({"country": "de"}, "country"), ({"country": "12"}, "country"),
                        ({"opening_times": {"twentyfourseven": False, "regular_hours": [
                            {"weekday": 1, "period_begin": "99:99", "period_end": "10:00"}]}},
                         "opening_times.regular_hours[0].period_begin")]:
        s, b = curl(hub, "PATCH", "/api/v1/sites/site-op-a", body, opa)
        check(s == 400 and is_error(b, "invalid_field") and b["error"]["field"] == field,
              "PATCH %s is refused: %s %s" % (body, s, b))
    s, b = curl(hub, "PATCH", "/api/v1/sites/site-op-a", {"time_zone": "Europe/Berlin", "country": "DEU"}, opa)
    check(s == 200 and b["time_zone"] == "Europe/Berlin", "a real time zone and country: %s %s" % (s, b))
    tariff = {"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.5}],
                                               "restrictions": {"start_time": "24:00"}}]}
    s, b = curl(hub, "POST", "/api/v1/tariffs", tariff, opa)
    check(s == 400 and b["error"]["field"] == "elements[0].restrictions.start_time", "start_time 24:00: %s %s" % (s, b))
    evse = {"uid": "E1", "connectors": [{"id": "1", "standard": "MCS", "tariff_ids": ["tar-a", "no-such-tariff"]}]}
    s, b = curl(hub, "PATCH", "/api/v1/sites/site-op-a", {"evses": [evse]}, opa)
    check(s == 400 and is_error(b, "unknown_reference") and
          b["error"]["field"] == "evses[0].connectors[0].tariff_ids[1]", "tariff_ids naming no tariff: %s %s" % (s, b))
    s, b = curl(hub, "PATCH", "/api/v1/sites/site-op-a", {"evses": [dict(evse, connectors=[
        dict(evse["connectors"][0], tariff_ids=["tar-a"])])]}, opa)
    check(s == 200, "tariff_ids naming a tariff: %s %s" % (s, b))
    # Tokens: a uid that is a path segment; an expiry in a sane window.
    for uid in ("a/b", "a b", "a%2Fb", "a?b"):
        s, b = curl(hub, "POST", "/api/v1/tokens", {"uid": uid}, fleet)
        check(s == 400 and b["error"]["field"] == "uid", "token uid %r is refused: %s" % (uid, s))
    s, b = curl(hub, "POST", "/api/v1/tokens", {"uid": "DE*ABC*C1234*X"}, fleet)
    check(s == 201, "a contract id with '*' is a uid: %s %s" % (s, b))
    for expiry in ("0000-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "9999-12-31T00:00:00Z"):
        s, b = curl(hub, "POST", "/api/v1/tokens", {"uid": "EXP-" + expiry[:4], "expiry": expiry}, fleet)
        check(s == 400 and b["error"]["field"] == "expiry", "expiry %s is refused: %s" % (expiry, s))
    s, b = curl(hub, "POST", "/api/v1/tokens", {"uid": "EXP-OK", "expiry": "2099-12-31T23:59:59Z"}, fleet)
    check(s == 201, "an expiry in 2099: %s" % s)
    # Chargers' and tokens' bodies go through the register's field tables: code and field named.
    for path, body, code, field in (("/api/v1/tokens", {"uid": "NULL1", "name": None}, "wrong_type", "name"),
                                    ("/api/v1/tokens", {"uid": "ID1", "id": "x"}, "unknown_field", "id"),
                                    ("/api/v1/tokens", {"uid": "T1", "max_concurrent": 1.5}, "wrong_type", "max_concurrent"),
                                    ("/api/v1/chargers", {"id": "CP-UNIT", "charging_rate_unit": "kW"}, "invalid_field",
                                     "charging_rate_unit"),
                                    ("/api/v1/chargers", {"id": "CP-UNIT", "evse_uids": ["E1", 2]}, "wrong_type", "evse_uids[1]"),
                                    ("/api/v1/chargers", {"id": "CP UNIT"}, "invalid_field", "id")):
        s, b = curl(hub, "POST", path, body, fleet if "tokens" in path else opa)
        check(s == 400 and is_error(b, code) and b["error"]["field"] == field,
              "POST %s %s: 400 %s at %s: %s %s" % (path, body, code, field, s, b))
    # A charger's price: for its operator and admins; the token's group for admins only.
    s, b = curl(hub, "POST", "/api/v1/tokens", {"uid": "GRP1", "group_id": "g1"}, fleet)
    check(s == 201, "a token with a group: %s" % s)
    price = "/api/v1/chargers/CP-OWN-A/price?token=GRP1"
    s, b = curl(hub, "GET", price, None, opa)
    check(s == 200 and b["charge_point_id"] == "CP-OWN-A" and b["token_group"] is None,
          "the charger's operator sees the price, not the token's group: %s %s" % (s, b))
    s, b = curl(hub, "GET", price, None, admin)
    check(s == 200 and b["token_group"] == "g1", "an admin sees the group: %s %s" % (s, b))
    for who, want in (("operator_b", 403), ("fleet", 403), ("agency", 403), ("public", 401)):
        s, b = curl(hub, "GET", price, None, keys[who])
        check(s == want and is_error(b), "the price as %s: %d, want %d" % (who, s, want))
    for method in ("POST", "PUT", "DELETE"):
        s, b = curl(hub, method, price, {} if method != "DELETE" else None, opa)
        check(s == 405 and is_error(b, "method_not_allowed"), "%s on a price is 405: %s %s" % (method, s, b))
    # A charger whose clock says 9999: its session starts at the hub's time.
    s, b = curl(hub, "POST", "/api/v1/chargers", {"id": "CP-CLOCK", "site_id": "site-op-a",
                                                  "password": "clock-password-1"}, opa)
    check(s == 201, "CP-CLOCK: %s %s" % (s, b))
    cp = Charger(hub, "CP-CLOCK", "clock-password-1")
    try:
        r = cp.call("BootNotification", {"chargePointVendor": "py", "chargePointModel": "clock"})
        check(r[0] == 3 and r[2]["status"] == "Accepted", "boot: %s" % r)
        r = cp.call("StartTransaction", {"connectorId": 1, "idTag": "NAMED1", "meterStart": 0,
                                         "timestamp": "9999-12-31T23:59:59Z"})
        check(r[0] == 3 and isinstance(r[2].get("transactionId"), int), "a start dated 9999 is answered: %s" % r)
        txid = r[2]["transactionId"] if r[0] == 3 else 0
        s, b = curl(hub, "GET", "/api/v1/sessions?charge_point=CP-CLOCK", None, opa)
        got = [x for x in (b or {}).get("data", []) if x["transaction_id"] == txid]
        start = got[0]["start_date_time"] if got else ""
        now = time.strftime("%Y-%m-%dT%H:%M", time.gmtime())
        check(start[:4] == now[:4] and abs(time.mktime(time.strptime(start[:16], "%Y-%m-%dT%H:%M")) -
                                           time.mktime(time.strptime(now, "%Y-%m-%dT%H:%M"))) <= 120,
              "the session starts at the hub's time, not 9999: %s" % start)
        r = cp.call("StopTransaction", {"transactionId": txid, "meterStop": 1000, "timestamp": "0001-01-01T00:00:00Z"})
        check(r[0] == 3, "a stop dated year 1 is answered: %s" % r)
        s, b = curl(hub, "GET", "/api/v1/cdrs?charge_point=CP-CLOCK", None, opa)
        cdr = (b or {}).get("data", [{}])[0] if s == 200 and b["data"] else {}
        check(str(cdr.get("end_date_time", "")).startswith(now[:4]), "and stops at the hub's time: %s" % str(cdr)[:300])
    finally:
        cp.close()


def test_crud_and_errors(hub, keys):
    admin, op = keys["admin"], keys["operator"]
    s, b = curl(hub, "POST", "/api/v1/sites", {"name": "Min", "coordinates": {"latitude": "50.99",
                                                                           "longitude": "6.95"}}, op)
    check(s == 201 and b.get("id") and b["operator_id"] == "op-a" and b["evses"] == [] and
          b["opening_times"] == {"twentyfourseven": True}, "minimal site gets an id and defaults: %s" % b)
    sid = b["id"]
    s, g = curl(hub, "GET", "/api/v1/sites/" + sid)
    check(s == 200 and g == b, "GET returns what POST answered")
    full = {"name": "Full", "coordinates": {"latitude": "51.0", "longitude": "7.0"},
            "evses": [{"uid": "E1", "status": "AVAILABLE", "connectors": [
                {"id": "1", "standard": "MCS", "power_type": "DC", "max_voltage": 1250, "max_amperage": 3000,
                 "max_electric_power": 3750000}]}],
            "truck_access": {"vehicle_types": ["SEMI_TRACTOR"], "max_height_m": 4.2, "drive_through_bays": 2},
            "facilities": ["TRUCK_PARKING"], "planning": {"rail_interchange_km": 3.5}}
    s, p = curl(hub, "PUT", "/api/v1/sites/" + sid, full, op)
    check(s == 200 and p["name"] == "Full" and p["evses"][0]["connectors"][0]["standard"] == "MCS",
          "PUT replaces: %s %s" % (s, p))
    before = curl(hub, "GET", "/api/v1/sites/" + sid)[1]
    bad = [
        ({"name": 5}, "wrong_type", "name"),
        ({"colour": "red"}, "unknown_field", "colour"),
        ({"coordinates": {"latitude": "91.0", "longitude": "7"}}, "invalid_field", "coordinates.latitude"),
        ({"coordinates": {"latitude": 50.1, "longitude": "7"}}, "wrong_type", "coordinates.latitude"),
        ({"evses": [{"uid": "E1", "connectors": [{"id": "1", "standard": "PLUG9"}]}]}, "invalid_field",
         "evses[0].connectors[0].standard"),
        ({"evses": [{"uid": "E1"}]}, "missing_field", "evses[0].connectors"),
        ({"name": None}, "missing_field", "name"),
        ({"operator_id": "op-b"}, "forbidden", ""),
        ({"substation_id": "no-such"}, "unknown_reference", "substation_id"),
        ({"id": "other"}, "invalid_field", "id"),
    ]
    for body, code, field in bad:
        s, b = curl(hub, "PATCH", "/api/v1/sites/" + sid, body, op)
        check(s in (400, 403) and is_error(b, code) and b["error"]["field"] == field,
              "PATCH %s: expected %s on %s, got %s %s" % (body, code, field, s, b))
    check(curl(hub, "GET", "/api/v1/sites/" + sid)[1] == before, "refused writes change nothing")
    for raw, what in [("{", "truncated JSON"), ("[1,2]", "an array"), ("", "no body"),
                      ('{"name":"a","name":"b"}', "a duplicate key")]:
        s, b = curl(hub, "POST", "/api/v1/sites", None, op, raw=raw)
        check(s == 400 and is_error(b), "POST %s: %s %s" % (what, s, b))
    s, b = curl(hub, "POST", "/api/v1/sites", None, op, raw="x" * (2 << 20))
    check(s == 413 and is_error(b, "body_too_large"), "a 2 MiB body is refused: %s" % s)
    out = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "-H", "Transfer-Encoding: chunked",
                          "-H", "Authorization: Bearer " + op, "--data-binary", "@-", hub.base + "/api/v1/sites"],
                         input=json.dumps(SITE).encode(), capture_output=True, timeout=30).stdout.decode()
    text, _, code = out.rpartition("\n")
    check(code == "201" and json.loads(text).get("name") == SITE["name"], "a chunked body is read: %s" % out[-120:])
    out = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "-H", "Transfer-Encoding: chunked",
                          "-H", "Authorization: Bearer " + op, "--data-binary", "@-", hub.base + "/api/v1/sites"],
                         input=b"x" * (2 << 20), capture_output=True, timeout=30).stdout.decode()
    text, _, code = out.rpartition("\n")
    check(code == "413" and is_error(json.loads(text), "body_too_large"), "a chunked body over the limit is 413: %s" % out[-120:])
    s, b = curl(hub, "POST", "/api/v1/sites", dict(SITE, id=sid), op)
    check(s == 409 and is_error(b, "conflict"), "POST with a taken id is 409: %s" % s)
    s, b = curl(hub, "GET", "/api/v1/sites/nope")
    check(s == 404 and is_error(b, "not_found"), "unknown id is 404")
    s, b = curl(hub, "GET", "/api/v1/nothing")
    check(s == 404 and is_error(b), "unknown kind is 404")
    s, b = curl(hub, "DELETE", "/api/v1/sites", None, admin)
    check(s == 405 and is_error(b), "DELETE on a list is 405: %s" % s)
    s, b = curl(hub, "GET", "/api/v1/sites?colour=red")
    check(s == 400 and is_error(b, "unknown_parameter"), "unknown query parameter is 400")
    s, b = curl(hub, "GET", "/api/v1/sites?bbox=1,2,3")
    check(s == 400 and b["error"]["field"] == "bbox", "a short bbox is 400")
    s, b = curl(hub, "POST", "/api/v1/substations", {"id": "sub-x", "name": "X", "capacity_kw": 100}, admin)
    s, b = curl(hub, "PATCH", "/api/v1/sites/" + sid, {"substation_id": "sub-x"}, op)
    check(s == 200 and b["substation_id"] == "sub-x", "a site names the substation behind it")
    s, b = curl(hub, "GET", "/api/v1/sites?substation=sub-x")
    check(s == 200 and [x["id"] for x in b["data"]] == [sid], "the sites a substation feeds: %s" % b)
    s, b = curl(hub, "GET", "/api/v1/sites?substation=sub-a&limit=1000")
    check(s == 200 and all(x.get("substation_id") == "sub-a" for x in b["data"]), "substation filter")
    s, b = curl(hub, "DELETE", "/api/v1/substations/sub-x", None, admin)
    check(s == 409 and is_error(b, "in_use"), "a substation a site names cannot be deleted: %s" % s)
    # A site too large for a precomputed feature is served from its document.
    big = {"name": "Depot", "coordinates": {"latitude": "10.5", "longitude": "10.5"},
           "evses": [{"uid": "E%d" % i, "status": "AVAILABLE", "connectors": [
               {"id": "1", "standard": "IEC_62196_T2_COMBO", "max_electric_power": 150000}]} for i in range(200)]}
    s, b = curl(hub, "POST", "/api/v1/sites", dict(big, id="big-depot"), admin)
    check(s == 201, "a 200-EVSE site: %s" % s)
    for q in ("bbox=10,10,11,11", "bbox=10.4,10.4,10.6,10.6"):
        s, g = curl(hub, "GET", "/api/v1/sites.geojson?" + q)
        f = [x for x in g["features"] if x["id"] == "big-depot"]
        check(s == 200 and len(f) == 1 and len(f[0]["properties"]["connectors"]) == 200 and
              f[0]["properties"]["max_power_kw"] == 150.0 and f[0]["geometry"]["coordinates"] == [10.5, 10.5],
              "the large site's feature: %s" % str(f)[:200])
    s, _ = curl(hub, "DELETE", "/api/v1/sites/big-depot", None, admin)
    s, b = curl(hub, "HEAD", "/api/v1/sites")
    check(s == 200, "HEAD works")
    s, b = curl(hub, "GET", "/healthz")
    check(s == 200 and b["status"] == "ok", "healthz")
    s, m = curl(hub, "GET", "/metrics", None, admin)
    check(s == 200 and "ecorridor_http_requests_total{" in m and "ecorridor_store_objects{kind=\"sites\"}" in m
          and "ecorridor_http_request_duration_seconds_bucket" in m and "ecorridor_http_connections_open" in m,
          "metrics in Prometheus text format")


def test_lists(hub, keys):
    s, allsites = curl(hub, "GET", "/api/v1/sites?limit=1000")
    check(s == 200 and allsites["total"] == len(allsites["data"]), "the whole list fits in one page")
    sites = allsites["data"]
    ids = [x["id"] for x in sites]
    check(ids == sorted(ids), "lists come in id order")
    page = []
    off = 0
    while True:
        s, b = curl(hub, "GET", "/api/v1/sites?limit=7&offset=%d" % off)
        check(b["limit"] == 7 and b["offset"] == off and b["total"] == len(sites), "paging fields")
        if not b["data"]:
            break
        page += b["data"]
        off += 7
    check([x["id"] for x in page] == ids, "pages walk the whole list once")

    def inside(x, box):
        la, lo = float(x["coordinates"]["latitude"]), float(x["coordinates"]["longitude"])
        return box[0] <= lo <= box[2] and box[1] <= la <= box[3]

    for box in [(4, 51, 6, 53), (6, 49, 9, 51.5), (-98, 30, -97, 31), (0, 0, 1, 1)]:
        q = ",".join(str(v) for v in box)
        want = sorted(x["id"] for x in sites if inside(x, box))
        s, b = curl(hub, "GET", "/api/v1/sites?limit=1000&bbox=" + q)
        check(sorted(x["id"] for x in b["data"]) == want and b["total"] == len(want), "bbox %s list" % q)
        s, g = curl(hub, "GET", "/api/v1/sites.geojson?bbox=" + q)
        check(s == 200 and g["type"] == "FeatureCollection" and
              sorted(f["properties"]["id"] for f in g["features"]) == want, "bbox %s geojson" % q)
        for f in g["features"]:
            lon, lat = f["geometry"]["coordinates"]
            check(box[0] <= lon <= box[2] and box[1] <= lat <= box[3] and "connectors" in f["properties"]
                  and "operator" in f["properties"] and "name" in f["properties"], "feature inside its bbox")

    def conns(x):
        return [c for e in x["evses"] for c in e["connectors"]]

    for q, pred in [
        ("standard=MCS", lambda x: any(c["standard"] == "MCS" for c in conns(x))),
        ("min_power_kw=400", lambda x: any(c.get("max_electric_power", 0) >= 400000 for c in conns(x))),
        ("truck=true", lambda x: any(v in ("RIGID", "SEMI_TRACTOR", "TRUCK_WITH_TRAILER")
                                     for v in x.get("truck_access", {}).get("vehicle_types", []))),
        ("status=AVAILABLE", lambda x: any(e["status"] == "AVAILABLE" for e in x["evses"])),
        ("operator=op-a", lambda x: x.get("operator_id") == "op-a"),
        ("jurisdiction=city-a", lambda x: x.get("jurisdiction_id") == "city-a"),
        ("standard=MCS&min_power_kw=900&truck=true",
         lambda x: any(c["standard"] == "MCS" for c in conns(x)) and
         any(c.get("max_electric_power", 0) >= 900000 for c in conns(x)) and
         any(v in ("RIGID", "SEMI_TRACTOR") for v in x.get("truck_access", {}).get("vehicle_types", []))),
    ]:
        want = sorted(x["id"] for x in sites if pred(x))
        s, b = curl(hub, "GET", "/api/v1/sites?limit=1000&" + q)
        check(s == 200 and sorted(x["id"] for x in b["data"]) == want, "filter %s: %d sites" % (q, len(want)))
        check(len(want) > 0 or q.startswith("jurisdiction"), "filter %s matches something" % q)


def test_import(hub, keys):
    admin = keys["admin"]
    n0 = curl(hub, "GET", "/api/v1/sites?limit=1")[1]["total"]
    ocm = os.path.join(DATA, "register", "ocm_austin_north_poi.json")
    if os.path.exists(ocm):
        raw = open(ocm, "rb").read()
        s, b = curl(hub, "POST", "/api/v1/import?format=ocm", None, admin, raw=raw)
        check(s == 200 and b["added"] == 247 and b["records"] == 247, "OCM import adds 247 sites: %s %s" % (
            s, str(b)[:300]))
        s, b = curl(hub, "POST", "/api/v1/import", None, admin, raw=raw)
        check(s == 200 and b["added"] == 0 and b["updated"] == 0 and b["unchanged"] == 247,
              "OCM import again changes nothing: %s" % str(b)[:200])
        s, x = curl(hub, "GET", "/api/v1/sites/ocm-26442")
        check(s == 200 and x["name"] == "RPP GARAGE" and x["city"] == "Austin" and len(x["evses"]) >= 1,
              "an imported OCM record: %s" % str(x)[:300])
        n0 += 247
    else:
        print("skip: OCM import (%s absent)" % ocm)
    osm = os.path.join(DATA, "register", "osm_charging_stations_2015.geojson")
    if os.path.exists(osm):
        s, b = curl(hub, "POST", "/api/v1/import", None, admin, raw=open(osm, "rb").read())
        check(s == 200 and b["added"] == 82, "OSM GeoJSON import adds 82 sites: %s" % str(b)[:200])
        n0 += 82
    else:
        print("skip: OSM GeoJSON import (%s absent)" % osm)
    s, b = curl(hub, "POST", "/api/v1/import?format=afdc", None, admin,
                raw=open(os.path.join(FIX, "afdc_stations.csv"), "rb").read())
    check(s == 200 and b["added"] == 3 and any("CNG" in k["reason"] for k in b["skipped"]),
          "AFDC import: 3 electric stations, the CNG one skipped with its reason: %s" % b)
    n0 += 3
    s, b = curl(hub, "POST", "/api/v1/import?format=geojson", None, admin,
                raw=open(os.path.join(FIX, "register_bad.geojson"), "rb").read())
    check(s == 400 and is_error(b) and "feature 1" in b["error"]["message"], "a bad file names its record: %s" % b)
    s, b = curl(hub, "GET", "/api/v1/sites/GOOD-1")
    check(s == 404, "all or nothing: the good record of a bad file is not stored")
    s, b = curl(hub, "POST", "/api/v1/import?format=csv", None, admin, raw="site_id,name\nX,Y\n")
    check(s == 400 and "lat" in b["error"]["message"], "a CSV without columns names the column: %s" % b)
    s, b = curl(hub, "POST", "/api/v1/import?format=xml", None, admin, raw="<x/>")
    check(s == 400 and is_error(b), "an unknown format is 400")
    s, b = curl(hub, "GET", "/api/v1/sites?limit=1")
    check(b["total"] == n0, "the register holds exactly what the good imports added: %d vs %d" % (b["total"], n0))


def test_routes(hub, keys):
    body = {"from": {"latitude": "51.9225", "longitude": "4.4792"},
            "to": {"latitude": "47.5596", "longitude": "7.5886"},
            "soc": 0.85, "vehicle": "eactros600", "rules": "eu", "depart": "2026-11-24T06:00Z"}
    s, b = curl(hub, "POST", "/api/v1/routes", body, keys["fleet"])
    check(s == 200 and b["feasible"] and len(b["stops"]) >= 1, "route Rotterdam -> Basel: %s" % str(b)[:200])
    sites = {x["id"] for x in curl(hub, "GET", "/api/v1/sites?limit=1000")[1]["data"]}
    check(all(st["site_id"] in sites for st in b["stops"]), "every stop is a register site")
    first = b["stops"][0]["site_id"]
    s, b2 = curl(hub, "POST", "/api/v1/routes", dict(body, avoid=[first]), keys["fleet"])
    check(s == 200 and all(st["site_id"] != first for st in b2["stops"]), "avoid leaves a site out")
    # A site taken out of service in the register is no longer used.
    s, site = curl(hub, "GET", "/api/v1/sites/" + first)
    evses = [dict(e, status="OUTOFORDER") for e in site["evses"]]
    s, _ = curl(hub, "PATCH", "/api/v1/sites/" + first, {"evses": evses}, keys["admin"])
    s, b3 = curl(hub, "POST", "/api/v1/routes", dict(body, geometry=True), keys["fleet"])
    check(s == 200 and all(st["site_id"] != first for st in b3["stops"]) and
          b3["geometry"]["type"] == "LineString", "routing follows the register's live status")
    for bad in [{"from": {"latitude": "x"}}, dict(body, soc=2), dict(body, rules="mars"), dict(body, wings=1)]:
        s, e = curl(hub, "POST", "/api/v1/routes", bad, keys["fleet"])
        check(s == 400 and is_error(e), "bad route request %s: %s" % (str(bad)[:60], s))


def test_openapi(hub, keys):
    """docs/openapi.json against the server: every documented path and method is
    answered (not 404/405), and every field an object comes back with is in its schema."""
    doc = json.load(open(os.path.join(SRC, "docs", "openapi.json")))
    schemas = doc["components"]["schemas"]
    # A charge point and a token, so their paths have something to answer with.
    curl(hub, "POST", "/api/v1/organisations", {"id": "op-openapi", "name": "O", "kind": "operator"}, keys["admin"])
    curl(hub, "POST", "/api/v1/organisations", {"id": "fleet-openapi", "name": "F", "kind": "fleet"}, keys["admin"])
    s, b = curl(hub, "POST", "/api/v1/chargers", {"id": "CP-OPENAPI", "operator_id": "op-openapi"}, keys["admin"])
    check(s == 201, "a charger for the OpenAPI check: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/tokens", {"uid": "OPENAPI1", "issuer_id": "fleet-openapi"}, keys["admin"])
    check(s == 201, "a token for the OpenAPI check: %s %s" % (s, b))
    ids = {}
    for path in doc["paths"]:
        if path.endswith("{id}"):
            s, b = curl(hub, "GET", path[:-len("/{id}")] + "?limit=1", None, keys["admin"])
            first = b["data"][0] if s == 200 and b["data"] else {}
            ids[path] = first.get("id", first.get("uid", "none"))
    for path, ops in doc["paths"].items():
        for method in ops:
            if method == "parameters" or "{name}" in path:  # the twin's files need --scenarios: test_dashboard_api.py
                continue
            url = path.replace("{id}", ids.get(path, ids.get(path.split("/{id}")[0] + "/{id}", "")))
            url = url.replace("{action}", "Reset")
            m = method.upper()
            body = None if m in ("GET", "DELETE") else {}
            if m == "DELETE":
                url = path.replace("{id}", "no-such-id")
            if url.endswith("/commands/Reset"):
                body = {"type": "Soft"}  # to a charger that is not connected: 409, not 404
            if "text/event-stream" in json.dumps(ops[method].get("responses", {})):
                m = "HEAD"  # a stream never ends: its head shows that it is answered
            s, b = curl(hub, m, url, body, keys["admin"])
            # 404 only as an answer about the object: deleted, or none to name (no session runs here).
            check(s not in (404, 405) or ((m == "DELETE" or url.endswith("/none")) and s == 404 and is_error(b, "not_found")),
                  "documented %s %s is answered: %d" % (m, url, s))

    def fields_in(obj, schema, where):
        if "$ref" in schema:
            schema = schemas[schema["$ref"].split("/")[-1]]
        if isinstance(obj, dict) and schema.get("type") == "object" and "properties" in schema:
            for k, v in obj.items():
                check(k in schema["properties"], "%s.%s is in the OpenAPI schema" % (where, k))
                if k in schema["properties"]:
                    fields_in(v, schema["properties"][k], where + "." + k)
        if isinstance(obj, list) and "items" in schema:
            for i, v in enumerate(obj[:3]):
                fields_in(v, schema["items"], "%s[%d]" % (where, i))

    for plural, name in [("jurisdictions", "Jurisdiction"), ("organisations", "Organisation"), ("sites", "Site"),
                         ("substations", "Substation"), ("renewables", "Renewable"), ("tariffs", "Tariff"),
                         ("chargers", "Charger"), ("tokens", "Token")]:
        s, b = curl(hub, "GET", "/api/v1/%s?limit=20" % plural, None, keys["admin"])
        check(s == 200 and b["data"], "some %s to hold to the schema: %s %s" % (plural, s, str(b)[:300]))
        for o in b["data"]:
            fields_in(o, {"$ref": "#/components/schemas/" + name}, plural)


def test_durability(tmp):
    """Writes streamed over one keep-alive connection; kill -9 at a random moment;
    every acknowledged write must be there after a restart."""
    db = os.path.join(tmp, "durable.db")
    hub = Hub(db, ["--region", os.path.join(SRC, "tests", "fixtures", "region_sites_only")])
    admin = key(db, "admin", "hub")
    hub.stop()
    rng = random.Random(7)
    acked = []
    for round_ in range(4):
        hub = Hub(db)
        stop = threading.Event()

        def writer():
            conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=10)
            i = 0
            while not stop.is_set():
                sid = "dur-%d-%d" % (round_, i)
                body = json.dumps(dict(SITE, id=sid, name="durable %d" % i))
                try:
                    conn.request("POST", "/api/v1/sites", body, {"Authorization": "Bearer " + admin,
                                                                 "Content-Type": "application/json"})
                    r = conn.getresponse()
                    r.read()
                except (OSError, http.client.HTTPException):
                    return
                if r.status == 201:
                    acked.append(sid)
                i += 1

        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.3 + rng.random() * 0.7)
        hub.proc.send_signal(signal.SIGKILL)
        hub.proc.wait()
        stop.set()
        t.join()
        hub.proc.stdout.close()
        hub.log.close()
    check(len(acked) > 20, "the stream acknowledged writes (%d)" % len(acked))
    hub = Hub(db)
    have, off = set(), 0
    while True:
        s, b = curl(hub, "GET", "/api/v1/sites?limit=1000&bbox=7.4,50.4,7.6,50.6&offset=%d" % off)
        if s != 200 or not b["data"]:
            break
        have |= {x["id"] for x in b["data"]}
        off += 1000
    lost = [x for x in acked if x not in have]
    check(not lost, "every acknowledged write survived kill -9 (%d acked, %d lost)" % (len(acked), len(lost)))
    check(hub.stop() == 0, "SIGTERM stops the hub with exit code 0")


def test_start_errors(tmp):
    db = os.path.join(tmp, "errs.db")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    r = subprocess.run([ECORRIDOR, "serve", "--db", db, "--listen", "127.0.0.1:%d" % port],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "already in use" in r.stderr, "a busy port: %d %s" % (r.returncode, r.stderr))
    busy.close()
    # A database where none can be written (root writes read-only files, so
    # a folder that does not exist stands for one).
    bad = os.path.join(tmp, "no-such-folder", "x.db")
    r = subprocess.run([ECORRIDOR, "serve", "--db", bad, "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "x.db" in r.stderr, "an unwritable database: %s" % r.stderr)
    notdb = os.path.join(tmp, "not.db")
    open(notdb, "w").write("this is not a database, it is text" * 100)
    r = subprocess.run([ECORRIDOR, "serve", "--db", notdb, "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "not.db" in r.stderr, "a file that is not a database: %s" % r.stderr)
    newer = os.path.join(tmp, "newer.db")
    c = sqlite3.connect(newer)
    c.execute("PRAGMA user_version = 99")
    c.commit()
    c.close()
    r = subprocess.run([ECORRIDOR, "serve", "--db", newer, "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "newer" in r.stderr and "99" in r.stderr, "a newer database: %s" % r.stderr)
    r = subprocess.run([ECORRIDOR, "serve", "--listen", "nonsense"], capture_output=True, text=True)
    check(r.returncode == 2, "a bad --listen is a usage error")
    r = subprocess.run([ECORRIDOR, "keys", "create", "--db", db, "--role", "king", "--org", "x"],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "--role" in r.stderr, "keys create with an unknown role")


def test_keys_cli(tmp):
    db = os.path.join(tmp, "keys.db")
    k = key(db, "fleet", "fleet-z")
    check(k.startswith("eck_") and len(k) == 47, "a key is eck_ and 43 base64url characters")
    out = subprocess.run([ECORRIDOR, "keys", "list", "--db", db, "--json"], capture_output=True, text=True).stdout
    rows = json.loads(out)
    check(len(rows) == 1 and rows[0]["role"] == "fleet" and k not in out, "keys list shows no key")
    c = sqlite3.connect(db)
    stored = [r[0] for r in c.execute("SELECT hash FROM api_keys")]
    c.close()
    check(len(stored) == 1 and k not in stored[0] and len(stored[0]) == 64, "only a hash is stored")
    hub = Hub(db, ["--region", os.path.join(SRC, "tests", "fixtures", "region_sites_only")])
    s, _ = curl(hub, "GET", "/api/v1/jurisdictions", None, k)
    check(s == 200, "the new key works")
    # Another process writes the register while the hub runs: the hub sees it, and its
    # route planner (built by this first route) is rebuilt.
    trip = {"from": {"latitude": "50.99", "longitude": "6.94"}, "to": {"latitude": "47.5596", "longitude": "7.5886"},
            "soc": 0.3, "rules": "none"}
    s, b = curl(hub, "POST", "/api/v1/routes", trip, k)
    check(s == 200 and all(st["site_id"] != "KLN-TRUCK-1" for st in b.get("stops", [])), "a route before the import")
    r = subprocess.run([ECORRIDOR, "import", "--db", db, os.path.join(FIX, "register_sites.geojson")],
                       capture_output=True, text=True, timeout=60)
    s, b = curl(hub, "GET", "/api/v1/sites/KLN-TRUCK-1")
    check(r.returncode == 0 and s == 200 and b["name"] == "Koeln Nord truck charging",
          "an import by another process is visible to the running hub: %d %s" % (s, r.stderr))
    s, b = curl(hub, "POST", "/api/v1/routes", trip, k)
    check(s == 200 and any(st["site_id"] == "KLN-TRUCK-1" for st in b.get("stops", [])),
          "routes plan over the sites another process imported: %s" % [st["site_id"] for st in b.get("stops", [])])
    r = subprocess.run([ECORRIDOR, "keys", "revoke", "--db", db, str(rows[0]["id"])], capture_output=True, text=True)
    check(r.returncode == 0, "keys revoke")
    s, _ = curl(hub, "GET", "/api/v1/jurisdictions", None, k)
    check(s == 401, "a revoked key is refused at once: %d" % s)
    hub.stop()


def test_cli_import(tmp):
    db = os.path.join(tmp, "cli.db")
    csv = os.path.join(SRC, "data", "demo", "rhine_alpine", "sites.csv")
    r = subprocess.run([ECORRIDOR, "import", "--db", db, csv, "--json"], capture_output=True, text=True)
    first = json.loads(r.stdout)
    check(r.returncode == 0 and first["added"] > 0, "CLI import of our CSV")
    r = subprocess.run([ECORRIDOR, "import", "--db", db, csv, "--json"], capture_output=True, text=True)
    again = json.loads(r.stdout)
    check(again["added"] == 0 and again["updated"] == 0 and again["unchanged"] == first["added"],
          "CLI import is idempotent")
    r = subprocess.run([ECORRIDOR, "import", "--db", db, os.path.join(FIX, "register_bad.geojson")],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "feature 1" in r.stderr, "CLI import error names the record: %s" % r.stderr)
    r = subprocess.run([ECORRIDOR, "import", "--db", db, csv, "--format", "pdf"], capture_output=True, text=True)
    check(r.returncode == 2, "unknown --format is a usage error")


def test_route_dynamic_price(hub, keys):
    """A route priced by a dynamic tariff: the planner is built on a worker, the dynamic price
    (the power sharing's, on the loop) asked of the loop, and the build run again with it."""
    body = {"from": {"latitude": "51.9225", "longitude": "4.4792"},
            "to": {"latitude": "47.5596", "longitude": "7.5886"},
            "soc": 0.85, "vehicle": "eactros600", "rules": "eu", "depart": "2026-11-24T06:00Z"}
    s, b = curl(hub, "POST", "/api/v1/routes", body, keys["fleet"])
    stop = next((x for x in b.get("stops", []) if x["energy_kwh"] > 50), None)
    check(s == 200 and stop is not None, "a route with a charging stop: %s" % str(b)[:200])
    if not stop:
        return
    sid = stop["site_id"]
    s, site = curl(hub, "GET", "/api/v1/sites/" + sid)
    tids = {t for e in site["evses"] for c in e["connectors"] for t in c.get("tariff_ids", [])}
    s, _ = curl(hub, "POST", "/api/v1/substations", {"id": "sub-dyn", "name": "Dynamic", "capacity_kw": 100000,
                                                      "operator_id": "util-a", "prices": [2.0] * 24,
                                                      "congestion_price": 0, "congestion_threshold": 0.9},
                keys["admin"])
    check(s == 201, "a substation with a price of 2.00 per kWh: %s" % s)
    s, _ = curl(hub, "PATCH", "/api/v1/sites/" + sid, {"substation_id": "sub-dyn"}, keys["admin"])
    check(s == 200, "the stop's site behind it: %s" % s)
    for tid in tids or {"tar-dyn"}:
        doc = {"dynamic": True, "elements": [{"price_components": [{"type": "ENERGY", "price": 0.05}]}]}
        if tids:
            s, _ = curl(hub, "PATCH", "/api/v1/tariffs/" + tid, doc, keys["admin"])
        else:
            s, _ = curl(hub, "POST", "/api/v1/tariffs", dict(doc, id=tid, currency="EUR", site_id=sid), keys["admin"])
        check(s in (200, 201), "tariff %s dynamic, 0.05 on the price: %s" % (tid, s))
    s, b = curl(hub, "POST", "/api/v1/routes", body, keys["fleet"])
    again = next((x for x in b.get("stops", []) if x["site_id"] == sid), None)
    check(s == 200 and again is not None and again["energy_kwh"] > 0 and
          abs(again["cost"] / again["energy_kwh"] - 2.05) < 0.02,
          "the stop is priced at the substation's price now plus the margin (2.05): %s" % again)


def test_geojson_paging(hub, keys):
    """sites.geojson comes in pages: total, offset, limit and a next link beside the features."""
    s, allsites = curl(hub, "GET", "/api/v1/sites?limit=1000")
    ids = sorted(x["id"] for x in allsites["data"])
    s, g = curl(hub, "GET", "/api/v1/sites.geojson")
    check(s == 200 and g["type"] == "FeatureCollection" and g["total"] == len(ids) and g["offset"] == 0 and
          g["limit"] == 1000, "geojson: total, offset and the default limit: %s" % {k: v for k, v in g.items()
                                                                                 if k != "features"})
    check(len(g["features"]) == min(1000, len(ids)) and ("next" in g) == (len(ids) > 1000),
          "geojson: one page, a next link only when more follow")
    seen, path, pages = [], "/api/v1/sites.geojson?limit=40", 0
    while path and pages < 100:
        s, g = curl(hub, "GET", path)
        check(s == 200 and g["limit"] == 40 and len(g["features"]) <= 40, "geojson page %s" % path)
        seen += [f["properties"]["id"] for f in g["features"]]
        path, pages = g.get("next"), pages + 1
    check(seen == ids, "geojson: the next links walk every site once, in id order (%d of %d)" % (len(seen), len(ids)))
    s, g = curl(hub, "GET", "/api/v1/sites.geojson?limit=2000")
    check(s == 200 and g["limit"] == 2000, "geojson: limit 2000 is allowed")
    for bad in ["limit=2001", "limit=0", "offset=-1", "limit=x"]:
        s, e = curl(hub, "GET", "/api/v1/sites.geojson?" + bad)
        check(s == 400 and is_error(e, "invalid_parameter"), "geojson %s is 400: %s" % (bad, s))
    # The filters go on in the next link.
    s, g = curl(hub, "GET", "/api/v1/sites.geojson?standard=MCS&limit=1")
    check(s == 200 and g["total"] > 1 and "standard=MCS" in g.get("next", ""), "geojson: next keeps the filters: %s" %
          g.get("next"))
    s, g2 = curl(hub, "GET", g["next"])
    check(s == 200 and g2["offset"] == 1 and g2["total"] == g["total"], "geojson: the next link answers")


def big_csv(n_sites, prefix):
    rows = ["site_id,name,lat,lon,standard,power_kw,count,price_per_kwh,price_per_min,operator"]
    for i in range(n_sites):
        lat, lon = 44 + (i * 7919 % 12000) / 1000.0, 2 + (i * 104729 % 14000) / 1000.0
        rows.append("%s%06d,Site %d,%.4f,%.4f,MCS,1000,2,0.49,0,Big Op" % (prefix, i, i, lat, lon))
        rows.append("%s%06d,Site %d,%.4f,%.4f,CCS2,350,4,0.49,0,Big Op" % (prefix, i, i, lat, lon))
    return ("\n".join(rows) + "\n").encode()


def post_raw(hub, path, body, key, out):
    c = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=120)
    c.request("POST", path, body, {"Authorization": "Bearer " + key})
    r = c.getresponse()
    out.append((r.status, json.loads(r.read() or b"null")))
    c.close()


def test_import_off_loop(tmp):
    """A 60,000-row import runs on a worker: /healthz answers within ~100 ms all the while; a second
    import of the same organisation meanwhile gets 503; the import is whole and idempotent."""
    db = os.path.join(tmp, "big.db")
    admin = key(db, "admin", "hub-admin")
    hub = Hub(db)
    try:
        n0 = curl(hub, "GET", "/api/v1/sites?limit=1")[1]["total"]
        check(n0 == 0, "a hub started without --region starts with an empty register (%d sites)" % n0)
        s, b = curl(hub, "GET", "/api/v1/chargers", key=admin)
        check(s == 200 and b["total"] == 0, "and without the demo region's charge points: %s" % str(b)[:200])
        body = big_csv(30000, "BIG")
        done = []
        t = threading.Thread(target=post_raw, args=(hub, "/api/v1/import?format=csv", body, admin, done))
        t0 = time.monotonic()
        t.start()
        time.sleep(0.2)
        busy = []
        post_raw(hub, "/api/v1/import?format=csv", b"site_id,name,lat,lon\nX,Y,50,8\n", admin, busy)
        waits = []
        while t.is_alive():
            c = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=30)
            p0 = time.monotonic()
            c.request("GET", "/healthz")
            ok = c.getresponse().status == 200
            if t.is_alive():
                waits.append(time.monotonic() - p0)
            c.close()
            check(ok, "healthz answers during the import")
            time.sleep(0.01)
        t.join()
        took = time.monotonic() - t0
        s, b = done[0]
        check(s == 200 and b["added"] >= 30000 and b["records"] == b["added"],
              "the big import is stored: %s %s" % (s, str(b)[:200]))
        check(len(waits) >= 10 and max(waits) < PROBE_LIMIT_S,
              "healthz within %.0f ms while the import ran %.1f s: %d probes, longest %.0f ms" % (PROBE_LIMIT_S * 1000,
                  took, len(waits), 1000 * max(waits or [0])))
        check(busy and busy[0][0] == 503 and is_error(busy[0][1], "busy"),
              "a second import of the same organisation meanwhile is 503 busy: %s" % (busy,))
        s, x = curl(hub, "GET", "/api/v1/sites/BIG029999")
        check(s == 200 and len(x["evses"]) == 6, "the last site of the file is whole: %s" % s)
        again = []
        post_raw(hub, "/api/v1/import?format=csv", body, admin, again)
        s, b2 = again[0]
        check(s == 200 and b2["added"] == 0 and b2["updated"] == 0 and b2["unchanged"] == b["added"],
              "the same file again changes nothing: %s" % str(b2)[:200])
        s, b = curl(hub, "GET", "/api/v1/sites?limit=1")
        check(b["total"] == n0 + 30000, "30,000 sites more, no more: %s" % b["total"])
        # Map pages over 30,000 sites are written on workers: /healthz does not wait for them, and
        # one address has at most 4 under way (a fifth meanwhile is 503).
        pages, waits = [], []

        def page(off):
            c = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=60)
            c.request("GET", "/api/v1/sites.geojson?limit=2000&offset=%d" % off)
            r = c.getresponse()
            pages.append((r.status, r.read()))  # parsed later: json.loads holds the GIL the probes need
            c.close()

        threads = [threading.Thread(target=page, args=(2000 * i,)) for i in range(10)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            c = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=30)
            p0 = time.monotonic()
            c.request("GET", "/healthz")
            c.getresponse().read()
            waits.append(time.monotonic() - p0)
            c.close()
            time.sleep(0.005)
        for t in threads:
            t.join()
        pages = [(st, json.loads(b)) for st, b in pages]
        full = [b for st, b in pages if st == 200]
        check(all(len(b["features"]) == 2000 and b["total"] == n0 + 30000 for b in full) and len(full) >= 4,
              "full map pages: %d of 10" % len(full))
        check(all(st == 200 or (st == 503 and is_error(b, "busy")) for st, b in pages) and len(full) < 10,
              "one address gets at most 4 map pages under way, then 503 busy: %s" % sorted(st for st, _ in pages))
        check(max(waits) < PROBE_LIMIT_S, "healthz within %.0f ms beside 10 map pages of 2,000 sites: %d probes, longest %.0f ms" % (PROBE_LIMIT_S * 1000,
            len(waits), 1000 * max(waits)))
        # A bad record at the end: nothing of the file is stored, and the record is named.
        bad = big_csv(2000, "BAD") + b"BAD999999,Bad,95,8,MCS,1000,2,0.49,0,Big Op\n"
        err = []
        post_raw(hub, "/api/v1/import?format=csv", bad, admin, err)
        s, e = err[0]
        check(s == 400 and is_error(e) and ":4002:" in e["error"]["message"],
              "a bad record names its line: %s" % (err,))
        s, _ = curl(hub, "GET", "/api/v1/sites/BAD000001")
        check(s == 404, "all or nothing: nothing of the bad file is stored")
    finally:
        check(hub.stop() == 0, "the hub stops cleanly after the imports")


def test_ocpp_backlog(hub, keys):
    """A loop turn that reads thousands of messages commits on the way (at most 256 replies wait
    for one commit), and every message is answered, in order, once what it wrote is durable."""
    opa = keys["operator"]
    evse = {"uid": "B1", "status": "AVAILABLE", "connectors": [{"id": "1", "standard": "IEC_62196_T2",
                                                                 "max_electric_power": 22000}]}
    s, b = curl(hub, "POST", "/api/v1/sites", dict(SITE, id="site-burst", operator_id="op-a", evses=[evse]), opa)
    check(s == 201, "site-burst: %s %s" % (s, b))
    s, b = curl(hub, "POST", "/api/v1/chargers", {"id": "CP-BURST", "site_id": "site-burst", "evse_uids": ["B1"],
                                                  "password": "burst-password-1"}, opa)
    check(s == 201, "CP-BURST: %s %s" % (s, b))

    def commits():
        _, m = curl(hub, "GET", "/metrics")
        return int(float([x.split()[1] for x in m.splitlines() if x.startswith("ecorridor_ocpp_commits_total ")][0]))

    cp = Charger(hub, "CP-BURST", "burst-password-1")
    try:
        r = cp.call("BootNotification", {"chargePointVendor": "py", "chargePointModel": "burst"})
        check(r[0] == 3, "boot: %s" % r)
        # 3,000 status changes in one write: each changes its EVSE, so each reply waits for a commit.
        n, c0 = 3000, commits()
        frames = []
        for i in range(n):
            data, mask = json.dumps([2, "b%d" % i, "StatusNotification", {
                "connectorId": 1, "errorCode": "NoError", "status": ("Faulted", "Available")[i % 2]}]).encode(), os.urandom(4)
            frames.append(bytes([0x81, 0x80 | len(data)]) + mask + bytes(x ^ mask[k % 4] for k, x in enumerate(data)))
        cp.sock.sendall(b"".join(frames))
        got = []
        while len(got) < n:
            op, data = cp.recv()
            if op == 1:
                got.append(json.loads(data))
        check([g[1] for g in got] == ["b%d" % i for i in range(n)] and all(g[0] == 3 for g in got),
              "3,000 pipelined messages are all answered, in order")
        made = commits() - c0
        check(made >= n // 256, "with a commit at least every 256 replies: %d commits" % made)
        s, b = curl(hub, "GET", "/api/v1/sites/site-burst")
        check(s == 200 and b["evses"][0]["status"] == "AVAILABLE", "the last status is the EVSE's: %s" % b.get("evses"))
    finally:
        cp.close()


def test_region(tmp):
    """serve --region loads the demo region's whole register, through the API's
    rules, into an empty database once; a broken region file is refused with
    the file, the array and the index."""
    region = os.path.join(SRC, "data", "demo", "rhine_alpine")
    reg = json.load(open(os.path.join(region, "register.json")))
    with open(os.path.join(region, "sites.csv")) as f:
        site_ids = {row["site_id"] for row in csv.DictReader(f)}
    db = os.path.join(tmp, "region.db")
    hub = Hub(db, ["--region", region])
    try:
        admin = key(db, "admin", "hub")
        for kind in ("jurisdictions", "organisations", "substations", "renewables", "chargers", "tokens"):
            s, b = curl(hub, "GET", "/api/v1/%s?limit=1" % kind, key=admin)
            check(s == 200 and b["total"] == len(reg[kind]),
                  "region: %d %s as register.json has: %s %s" % (len(reg[kind]), kind, s, str(b)[:200]))
        s, b = curl(hub, "GET", "/api/v1/sites?limit=1000", key=admin)
        check(s == 200 and {x["id"] for x in b["data"]} == site_ids, "region: the sites file's sites")
        # Every site has what register.json says of it (a PATCH onto the CSV's site).
        by_id = {x["id"]: x for x in b["data"]}
        for patch in reg["sites"]:
            got = by_id.get(patch["id"], {})
            bad = [k for k, v in patch.items() if got.get(k) != v]
            check(not bad, "region: site %s has the fields register.json gives it (%s differ)" % (patch["id"], bad))
        s, b = curl(hub, "GET", "/api/v1/sites?jurisdiction=frankfurt", key=admin)
        check(s == 200 and [x["id"] for x in b["data"]] == ["DE-FRA-HUB"], "region: ?jurisdiction=frankfurt finds the hub")
        # The substation's headroom by hand: capacity less this hour's base
        # load (24 hourly values repeat from the start of the UTC year).
        sub = next(x for x in reg["substations"] if x["id"] == "sub-frankfurter-kreuz")
        for _ in range(3):  # an hour may turn between the two reads
            hour = time.gmtime().tm_hour
            s, a = curl(hub, "GET", "/api/v1/sites/DE-FRA-HUB/allocation", key=admin)
            if time.gmtime().tm_hour == hour:
                break
        want = sub["capacity_kw"] - sub["base_load_kw"][hour % len(sub["base_load_kw"])]
        check(s == 200 and abs(a["headroom_kw"] - want) < 0.01 and a["capacity_kw"] == sub["capacity_kw"],
              "region: DE-FRA-HUB headroom is capacity - base load = %.0f kW: %s" % (want, str(a)[:300]))
        s, p = curl(hub, "GET", "/api/v1/sites/DE-FRA-HUB/prices", key=admin)
        check(s == 200 and p["slots"] and all(x["wholesale_per_kwh"] > 0 for x in p["slots"]),
              "region: the hub's prices are the substation's, not zero: %s" % str(p)[:200])
        s, t = curl(hub, "GET", "/api/v1/chargers/DE-FRA-HUB-1/price?token=WEB-0001", key=admin)
        check(s == 200 and t["tariff"]["id"] == "t-de-fra-hub-small-fleet",
              "region: a small fleet's token gets the small-fleet tier: %s" % str(t)[:200])
        s, t = curl(hub, "GET", "/api/v1/chargers/DE-FRA-HUB-1/price?token=RL-0001", key=admin)
        check(s == 200 and t["tariff"]["id"] == "t-de-fra-hub", "region: other fleets get the site's tariff")
        s, b = curl(hub, "PATCH", "/api/v1/sites/DE-FRA-HUB", {"name": "Renamed hub"}, key=admin)
        check(s == 200, "region: a site can be edited")
    finally:
        check(hub.stop() == 0, "region: the hub stops cleanly")
    hub = Hub(db, ["--region", region])  # a register in use is never loaded over
    try:
        admin = key(db, "admin", "hub2")
        s, b = curl(hub, "GET", "/api/v1/sites/DE-FRA-HUB", key=admin)
        check(s == 200 and b["name"] == "Renamed hub", "region: a second start keeps the register as it is")
        s, b = curl(hub, "GET", "/api/v1/tokens?limit=1", key=admin)
        check(s == 200 and b["total"] == len(reg["tokens"]), "region: nothing loaded twice")
    finally:
        hub.stop()
    # A region whose register.json the API refuses: the start fails, naming it.
    bad_dir = os.path.join(tmp, "bad_region")
    os.mkdir(bad_dir)
    shutil.copy(os.path.join(region, "sites.csv"), bad_dir)
    broken = dict(reg)
    broken["chargers"] = reg["chargers"][:2] + [{"id": "CP-X", "password": "demo-only-x", "site_id": "NO-SUCH-SITE"}]
    json.dump(broken, open(os.path.join(bad_dir, "register.json"), "w"))
    r = subprocess.run([ECORRIDOR, "serve", "--db", os.path.join(tmp, "bad.db"), "--listen", "127.0.0.1:0",
                        "--region", bad_dir], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "register.json: chargers[2] (CP-X)" in r.stderr and "site_id" in r.stderr,
          "region: a charger on an unknown site stops the start, naming file, array, index and field: %s"
          % r.stderr[-300:])
    json.dump({"jurisdictions": [], "sitez": []}, open(os.path.join(bad_dir, "register.json"), "w"))
    r = subprocess.run([ECORRIDOR, "serve", "--db", os.path.join(tmp, "bad2.db"), "--listen", "127.0.0.1:0",
                        "--region", bad_dir], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and 'unknown key "sitez"' in r.stderr, "region: an unknown key is named: %s" % r.stderr[-200:])
    json.dump({"sites": [{"id": "NL-ROT-HUB/../../jurisdictions", "name": "x"}]},
              open(os.path.join(bad_dir, "register.json"), "w"))
    r = subprocess.run([ECORRIDOR, "serve", "--db", os.path.join(tmp, "bad3.db"), "--listen", "127.0.0.1:0",
                        "--region", bad_dir], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and 'register.json: sites[0]: "id" must name the site' in r.stderr,
          "region: a site id that is no register id never becomes part of a path: %s" % r.stderr[-200:])


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "hub.db")
        hub = Hub(db, ["--region", os.path.join(SRC, "tests", "fixtures", "region_sites_only")])
        try:
            keys = setup_register(hub, db)
            test_role_matrix(hub, keys)
            test_import_ownership(hub, keys)
            test_write_ownership(hub, keys)
            test_small_items(hub, keys)
            test_crud_and_errors(hub, keys)
            test_import(hub, keys)
            test_lists(hub, keys)
            test_routes(hub, keys)
            test_route_dynamic_price(hub, keys)
            test_geojson_paging(hub, keys)
            test_ocpp_backlog(hub, keys)
            test_openapi(hub, keys)
        finally:
            check(hub.stop() == 0, "the hub stops cleanly on SIGTERM")
        test_durability(tmp)
        test_start_errors(tmp)
        test_keys_cli(tmp)
        test_cli_import(tmp)
        test_import_off_loop(tmp)
        test_region(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
