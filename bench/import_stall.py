#!/usr/bin/env python3
"""How long the hub keeps others waiting while one big import runs: starts
`ecorridor serve` on a new database, sends a synthetic register of N sites
(2 CSV rows each, bench/gen_sites.py) to POST /api/v1/import, and meanwhile
probes, each from its own thread, one after another:
  - GET /healthz (a read),
  - an OCPP 1.6J Heartbeat over one WebSocket (the loop, no store),
  - an OCPP BootNotification of a registered charge point (a store write),
  - POST /api/v1/routes is not probed (needs a road graph).
Prints one JSON line: the import's time and, per probe, the number of probes,
the longest wait and the 99th percentile while the import ran.

usage: import_stall.py ECORRIDOR [ROWS] [WORKDIR] [--no-writes]     (ROWS default 60000)
  --no-writes: no BootNotification probe (the loop then writes nothing meanwhile)
  --geojson: then, with the register loaded, 10 clients each GET /api/v1/sites.geojson?limit=2000
             at once (an older hub ignores... refuses limit: then the whole register each), and the
             same probes meanwhile
"""
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def start(exe, db):
    p = subprocess.Popen([exe, "serve", "--db", db, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                         stderr=open(db + ".log", "w"), text=True)
    line = p.stdout.readline()
    if "listening on http://" not in line:
        raise RuntimeError("hub did not start: %r" % line)
    return p, line.split("listening on ")[1].split("/ ")[0]


def request(base, method, path, body=None, key=None, timeout=120):
    req = urllib.request.Request(base + path, data=body, method=method)
    if key:
        req.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Ws:
    """The smallest OCPP 1.6J client: text frames, masked, no fragments."""

    def __init__(self, host, port, cp_id):
        self.s = socket.create_connection((host, port))
        k = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET /ocpp/%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                        "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n" % (cp_id, k)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.s.recv(4096)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("handshake refused: %r" % head[:200])
        self.buf = head.split(b"\r\n\r\n", 1)[1]
        self.n = 0

    def _read(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise RuntimeError("closed")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def call(self, action, payload):
        self.n += 1
        data = json.dumps([2, str(self.n), action, payload]).encode()
        mask = os.urandom(4)
        hdr = bytes([0x81])
        hdr += bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) + len(data).to_bytes(2, "big")
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self._read(2), "big")
        elif n == 127:
            n = int.from_bytes(self._read(8), "big")
        return json.loads(self._read(n))


def probe(fn, stop, out):
    while not stop.is_set():
        t0 = time.monotonic()
        fn()
        out.append(time.monotonic() - t0)
        time.sleep(0.005)


def main():
    writes = "--no-writes" not in sys.argv
    geo = "--geojson" in sys.argv
    sys.argv = [a for a in sys.argv if a not in ("--no-writes", "--geojson")]
    exe = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 60000
    tmp = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp()
    db = os.path.join(tmp, "stall.db")
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    csv = os.path.join(tmp, "stall.csv")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_sites.py"), str(rows // 2), csv, "3"], check=True)
    admin = subprocess.run([exe, "keys", "create", "--db", db, "--role", "admin", "--org", "hub"],
                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    hub, base = start(exe, db)
    host, port = base.split("//")[1].rsplit(":", 1)
    try:
        for path, body in [("/api/v1/organisations", {"id": "op-x", "name": "X", "kind": "operator"}),
                           ("/api/v1/sites", {"id": "PROBE-1", "name": "Probe", "operator_id": "op-x",
                                              "coordinates": {"latitude": "50", "longitude": "8"}}),
                           ("/api/v1/chargers", {"id": "CP-PROBE", "site_id": "PROBE-1", "connectors": 1})]:
            s, b = request(base, "POST", path, json.dumps(body).encode(), admin)
            if s != 201:
                raise RuntimeError("%s: %s %s" % (path, s, b[:200]))
        hb, boot = Ws(host, int(port), "CP-HB"), Ws(host, int(port), "CP-PROBE")
        body = open(csv, "rb").read()
        stop = threading.Event()
        lat = {"healthz": [], "ocpp_heartbeat": [], "ocpp_boot_write": []}
        fns = {"healthz": lambda: request(base, "GET", "/healthz"),
               "ocpp_heartbeat": lambda: hb.call("Heartbeat", {}),
               "ocpp_boot_write": lambda: boot.call("BootNotification", {"chargePointVendor": "V",
                                                                          "chargePointModel": "M"})}
        if not writes:
            del lat["ocpp_boot_write"]
        threads = [threading.Thread(target=probe, args=(fns[k], stop, lat[k])) for k in lat]
        for t in threads:
            t.start()
        time.sleep(0.3)
        for v in lat.values():
            v.clear()
        t0 = time.monotonic()
        s, b = request(base, "POST", "/api/v1/import?format=csv", body, admin)
        took = time.monotonic() - t0
        stop.set()
        for t in threads:
            t.join()
        summary = json.loads(b) if s == 200 else b[:300].decode()
        out = {"bench": "import_stall", "rows": rows, "body_mib": round(len(body) / 2**20, 1), "status": s,
               "import_s": round(took, 2),
               "added": summary.get("added") if isinstance(summary, dict) else summary}
        for k, v in lat.items():
            v.sort()
            out[k] = {"n": len(v), "max_ms": round(1000 * max(v), 1) if v else None,
                      "p99_ms": round(1000 * v[int(0.99 * (len(v) - 1))], 1) if v else None,
                      "median_ms": round(1000 * statistics.median(v), 1) if v else None}
        print(json.dumps(out))
        if geo:
            q = "/api/v1/sites.geojson?limit=2000"
            if request(base, "GET", q)[0] == 400:
                q = "/api/v1/sites.geojson"  # an unpaged hub
            stop.clear()
            lat = {k: [] for k in lat}
            threads = [threading.Thread(target=probe, args=(fns[k], stop, lat[k])) for k in lat]
            for t in threads:
                t.start()
            sizes = []
            t0 = time.monotonic()
            gets = [threading.Thread(target=lambda: sizes.append(request(base, "GET", q))) for _ in range(10)]
            for g in gets:
                g.start()
            for g in gets:
                g.join()
            took = time.monotonic() - t0
            stop.set()
            for t in threads:
                t.join()
            out = {"bench": "geojson_stall", "sites": rows // 2, "clients": 10, "path": q,
                   "answer_mb": round(max(len(b) for _, b in sizes) / 2**20, 1), "all_s": round(took, 2),
                   "status": sorted(st for st, _ in sizes)}
            for k, v in lat.items():
                v.sort()
                out[k] = {"n": len(v), "max_ms": round(1000 * max(v), 1) if v else None}
            print(json.dumps(out))
    finally:
        hub.terminate()
        hub.wait(timeout=30)


if __name__ == "__main__":
    main()
