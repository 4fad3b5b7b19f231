#!/usr/bin/env python3
"""The dashboard's files and the live events through the real hub: `ecorridor
serve` on a free port, spoken to with http.client and with raw sockets, as a
careless or hostile client of another organisation would.

Static files (`serve --web DIR`): a directory made here with a page, a script,
a style sheet, an SVG favicon, hidden files, a symbolic link to a file outside,
a file type the hub does not serve and directories nested to the limit and
past it. `/` is the page with its content type and security policy,
/favicon.ico falls back to the SVG, HEAD has the length and no body, other
methods are 405; no request target (dot segments plain and %-encoded, doubled
slashes, backslashes, very long paths) ever reads a byte of the file outside,
and the hub lives through all of them. A --web that is not a directory exits 2;
without --web the program finds web/ beside itself or PREFIX/share/ecorridor/web,
and with neither `/` is the API's JSON index.

Live events (GET /api/v1/events): the stream begins with `retry: 2000`; a
charge point of the test's own (OCPP 1.6J on a raw WebSocket) changing its
connectors' statuses yields a `site` event within a second, whose `status` is
the rule of ec_reg_site_state written again (hubkit.py) and applied to the EVSE
statuses of the event and of GET /api/v1/sites/{id}, also when the charger
repeats a status after the API rewrote its site's EVSEs; REST writes yield site
events (a DELETE a deleted one), an import a `register` event. Bounds: 4
streams per address (the 5th is 503 and the 4 go on; another address is not
affected), a client that never reads is dropped while /healthz stays fast and
its slot is free again (the HTTP layer's counters agree), quick connects and
disconnects leak no slot, 256 streams in all, the same over https, and SIGTERM
with streams open stops the hub promptly.

usage: test_live.py ECORRIDOR SOURCE_DIR
"""
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from hubkit import TLS_CLIENT, Charger, Hub, check, make_key, results, site_state

ECORRIDOR, SRC = os.path.abspath(sys.argv[1]), sys.argv[2]
SECRET = b"SECRET-OUTSIDE-THE-WEB-DIR-7f3a"


def metric(hub, name):
    """A counter of GET /metrics (its HTTP layer's are shown without a key), or None."""
    s, _, b = hub.request("GET", "/metrics")
    m = re.search(r"^%s (\d+)$" % re.escape(name), b.decode() if isinstance(b, bytes) else "", re.M)
    return int(m.group(1)) if s == 200 and m else None


def streams_settle(hub, want, timeout=2.0):
    """ecorridor_http_streams_open once it is want (the hub hears of closes on its next turns), or its last value."""
    end = time.time() + timeout
    while True:
        n = metric(hub, "ecorridor_http_streams_open")
        if n == want or time.time() > end:
            return n
        time.sleep(0.05)


def split_response(data):
    """(status, headers, body) of one HTTP/1.1 answer read whole; (0, {}, data) when it is not one."""
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", lines[0]) if sep else None
    if not m:
        return 0, {}, data
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.decode("latin-1").partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return int(m.group(1)), hdrs, body


def raw_request(port, data, timeout=5):
    """Sends data as it is and reads until the hub closes (or timeout); the bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = b""
    try:
        s.sendall(data)
        while True:
            c = s.recv(65536)
            if not c:
                break
            got += c
    except OSError:
        pass
    finally:
        s.close()
    return got


class Stream:
    """A client of GET /api/v1/events on a socket of its own, from address src (any of 127/8 reaches
    the hub, and the hub counts streams per address). With reader, a thread reads and parses what
    comes; without, nothing is ever read after the head (a client that does not read)."""

    def __init__(self, port, src="127.0.0.1", query="", reader=True, rcvbuf=None, key=None, method="GET", tls=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5)
        self.sock.bind((src, 0))
        self.sock.connect(("127.0.0.1", port))
        if tls:
            self.sock = TLS_CLIENT.wrap_socket(self.sock)
        auth = "Authorization: Bearer %s\r\n" % key if key else ""
        self.sock.sendall(("%s /api/v1/events%s HTTP/1.1\r\nHost: hub\r\nAccept: text/event-stream\r\n%s\r\n"
                           % (method, query, auth)).encode())
        self.items, self.seen, self.eof, self.nbytes = [], 0, False, 0
        self.cond = threading.Condition()
        self.buf = b""
        self.status, self.headers, self.body = 0, {}, b""
        try:
            while b"\r\n\r\n" not in self.buf:
                c = self.sock.recv(4096)
                if not c:
                    break
                self.buf += c
        except OSError:
            pass
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.status, self.headers, _ = split_response(head + b"\r\n\r\n")
        if self.status != 200 or method == "HEAD":
            n = int(self.headers.get("content-length", "0"))
            try:
                while len(self.buf) < n and method != "HEAD":
                    c = self.sock.recv(4096)
                    if not c:
                        break
                    self.buf += c
            except OSError:
                pass
            self.body = self.buf
            self.close()
            return
        self._parse()
        if reader:
            threading.Thread(target=self._run, daemon=True).start()

    def _parse(self):
        """Moves the complete blocks of self.buf into self.items."""
        while b"\n\n" in self.buf:
            block, _, self.buf = self.buf.partition(b"\n\n")
            item = {"event": None, "data": None, "retry": None, "comments": []}
            for ln in block.decode().split("\n"):
                if ln.startswith(":"):
                    item["comments"].append(ln[1:].strip())
                    continue
                k, _, v = ln.partition(":")
                v = v[1:] if v.startswith(" ") else v
                if k == "data":
                    item["data"] = v if item["data"] is None else item["data"] + "\n" + v
                elif k in ("event", "retry"):
                    item[k] = v
            with self.cond:
                self.items.append(item)
                self.cond.notify_all()

    def _run(self):
        while True:
            try:
                self.sock.settimeout(None)  # fails, as recv does, once the test has closed it
                c = self.sock.recv(65536)
            except OSError:
                c = b""
            if not c:
                with self.cond:
                    self.eof = True
                    self.cond.notify_all()
                return
            self.nbytes += len(c)
            self.buf += c
            self._parse()

    def wait(self, pred, timeout):
        """The first item not yet taken that pred accepts (those before it are passed over), or None."""
        end = time.time() + timeout
        with self.cond:
            while True:
                while self.seen < len(self.items):
                    it = self.items[self.seen]
                    self.seen += 1
                    if pred(it):
                        return it
                left = end - time.time()
                if left <= 0 or self.eof:
                    return None
                self.cond.wait(left)

    def site_event(self, site_id, timeout=1.0):
        it = self.wait(lambda i: i["event"] == "site" and json.loads(i["data"]).get("id") == site_id, timeout)
        return json.loads(it["data"]) if it else None

    def wait_eof(self, timeout):
        with self.cond:
            self.cond.wait_for(lambda: self.eof, timeout)
            return self.eof

    def close(self):
        # shutdown first: a close alone leaves the connection open while the reader thread is in recv.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


# ---- static files -----------------------------------------------------------

INDEX = b"<!doctype html><title>dashboard</title><script type=module src=/app/x.js></script>"
JS = b"export const x = 1;\n"
CSS = b"body { margin: 0 }\n"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1 1'/>"


def make_web(tmp):
    """A web directory with everything a careless deployment might hold, and a secret beside it."""
    outside = os.path.join(tmp, "outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "secret.js"), "wb") as f:
        f.write(SECRET)
    web = os.path.join(tmp, "web")
    deep = os.path.join(web, "a", "b", "c", "d", "e", "f")  # six levels below web: the deepest kept
    os.makedirs(os.path.join(web, "app"))
    os.makedirs(deep)
    files = {"index.html": INDEX, "app/x.js": JS, "app/y.css": CSS, "favicon.svg": SVG,
             ".env": SECRET, "app/.hidden.js": SECRET, "app/notes.md": SECRET, "app/map.js.map": SECRET,
             "a/b/c/d/e/f/deep.js": JS}
    for name, data in files.items():
        with open(os.path.join(web, name), "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(web, ".git"))
    with open(os.path.join(web, ".git", "config.js"), "wb") as f:
        f.write(SECRET)
    os.symlink(os.path.join(outside, "secret.js"), os.path.join(web, "app", "link.js"))
    os.symlink(outside, os.path.join(web, "out"))
    os.mkfifo(os.path.join(web, "app", "fifo.js"))  # read, it would hold the hub's start for ever
    return web


def test_static(tmp):
    web = make_web(tmp)
    hub = Hub(ECORRIDOR, os.path.join(tmp, "static.db"), "--web", web, timeout=30)
    try:
        s, h, b = hub.request("GET", "/")
        check(s == 200 and b == INDEX and h.get("content-type", "").startswith("text/html"),
              "/ is index.html as HTML: %s %s %r" % (s, h.get("content-type"), b[:80]))
        csp = h.get("content-security-policy", "")
        check("script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-eval" not in csp
              and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0],
              "a content security policy: scripts from the hub only, no eval or inline script: %r" % csp)
        check(h.get("x-content-type-options") == "nosniff", "nosniff: %s" % h)
        check(h.get("cache-control") == "no-store", "not kept by caches: %s" % h.get("cache-control"))
        for path, data, ctype in [("/index.html", INDEX, "text/html"), ("/app/x.js", JS, "text/javascript"),
                                  ("/app/y.css", CSS, "text/css"), ("/favicon.svg", SVG, "image/svg+xml"),
                                  ("/favicon.ico", SVG, "image/svg+xml"), ("/a/b/c/d/e/f/deep.js", JS, "text/javascript"),
                                  ("/app/x.js?v=2", JS, "text/javascript")]:
            s, h, b = hub.request("GET", path)
            check(s == 200 and b == data and h.get("content-type", "").startswith(ctype),
                  "%s: %s %s %r" % (path, s, h.get("content-type"), b[:60]))
        s, h, b = hub.request("HEAD", "/app/x.js")
        check(s == 200 and h.get("content-length") == str(len(JS)) and b == b"",
              "HEAD: the length, no body: %s %s %r" % (s, h, b))
        for path in ["/.env", "/app/.hidden.js", "/app/fifo.js", "/.git/config.js", "/app/link.js", "/out/secret.js",
                     "/app/notes.md", "/app/map.js.map", "/app/nope.js", "/app", "/app/", "/a/b",
                     "/index.html/", "/APP/X.JS"]:
            s, h, b = hub.request("GET", path)
            check(s == 404 and SECRET not in (b if isinstance(b, bytes) else json.dumps(b).encode()),
                  "%s is not served: %s %r" % (path, s, b))
        for method in ["POST", "PUT", "PATCH", "DELETE"]:
            for path in ["/", "/app/x.js"]:
                s, h, b = hub.request(method, path, raw="{}")
                check(s == 405 and isinstance(b, dict) and b.get("error", {}).get("code") == "method_not_allowed",
                      "%s %s is 405: %s %r" % (method, path, s, b))
        s, h, b = hub.request("GET", "/api/v1")
        check(s == 200 and isinstance(b, dict) and "/api/v1/events" in json.dumps(b),
              "/api/v1 is still the JSON index, with the events: %s %r" % (s, str(b)[:200]))
        s, h, b = hub.request("GET", "/api/v1/index.html")
        check(s == 404, "the page's files are not under /api/: %s" % s)

        # Request targets as a hostile client writes them: never a byte from outside, never a crash.
        targets = ["/app/../index.html", "/app/%2e%2e/index.html", "/app/%2e%2e/..", "/app/%2E%2E/%2E%2E/outside/secret.js",
                   "/../outside/secret.js", "/%2e%2e/outside/secret.js", "//index.html", "//app//x.js",
                   "/app/./x.js", "/app\\..\\index.html", "/app/%2fx.js", "/app/link.js", "/out/secret.js",
                   "/app/x.js%00.html", "/app/x.js%", "/%ff%fe", "/" + "a/" * 400 + "x.js", "/" + "x" * 1020,
                   "/" + "x" * 5000, "/app/" + "../" * 3000 + "etc/passwd", "http://hub/../outside/secret.js",
                   "*", "app/x.js"]
        for t in targets:
            got = raw_request(hub.port, ("GET %s HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n" % t).encode())
            s, h, body = split_response(got)
            ok_status = s in (400, 404, 414, 431) or (s == 200 and body in (INDEX, JS))
            check(SECRET not in got and ok_status and hub.alive(),
                  "%s: never a file from outside: %s %r" % (t[:60], s, got[:120]))
        # Headers far past the limit, and a request line of 100 KiB.
        got = raw_request(hub.port, b"GET /" + b"y" * 100000 + b" HTTP/1.1\r\nHost: hub\r\n\r\n")
        check(split_response(got)[0] in (414, 431) and hub.alive(), "a 100 KiB target: %r" % got[:80])
        s, _, b = hub.request("GET", "/healthz")
        check(s == 200 and hub.alive(), "the hub lives after all of them: %s %r" % (s, b))
    finally:
        check(hub.stop() == 0, "the static hub stops cleanly")

    # Too deep: a directory seven levels below the web directory is refused at start, by name.
    os.makedirs(os.path.join(web, "a", "b", "c", "d", "e", "f", "g"))
    with open(os.path.join(web, "a", "b", "c", "d", "e", "f", "g", "x.js"), "wb") as f:
        f.write(JS)
    r = subprocess.run([ECORRIDOR, "serve", "--db", os.path.join(tmp, "deep.db"), "--listen", "127.0.0.1:0",
                        "--web", web], capture_output=True, text=True, timeout=20)
    check(r.returncode == 1 and "deeper" in r.stderr and "/g" in r.stderr,
          "a web directory nested too deep is refused with its name: %s %r" % (r.returncode, r.stderr))
    check(not os.path.exists(os.path.join(tmp, "deep.db")), "before a database is made")

    many = os.path.join(tmp, "many")
    os.makedirs(many)
    for i in range(1025):
        with open(os.path.join(many, "f%04d.js" % i), "wb") as f:
            f.write(JS)
    r = subprocess.run([ECORRIDOR, "serve", "--db", os.path.join(tmp, "many.db"), "--listen", "127.0.0.1:0",
                        "--web", many], capture_output=True, text=True, timeout=20)
    check(r.returncode == 1 and "more than 1024 files" in r.stderr,
          "more files than the hub keeps are refused at start: %s %r" % (r.returncode, r.stderr))

    for bad in [os.path.join(tmp, "no-such-dir"), os.path.join(web, "index.html")]:
        r = subprocess.run([ECORRIDOR, "serve", "--db", os.path.join(tmp, "bad.db"), "--listen", "127.0.0.1:0",
                            "--web", bad], capture_output=True, text=True, timeout=20)
        check(r.returncode == 2 and "--web" in r.stderr and bad in r.stderr and "no such directory" in r.stderr,
              "--web %s exits 2 with a message: %s %r" % (bad, r.returncode, r.stderr))


def test_default_web(tmp):
    """Without --web: web/ beside the program, else PREFIX/share/ecorridor/web, else / is the JSON index."""
    alone = os.path.join(tmp, "alone")
    os.makedirs(alone)
    exe = shutil.copy(ECORRIDOR, os.path.join(alone, "ecorridor"))
    hub = Hub(exe, os.path.join(tmp, "alone.db"), timeout=30)
    s, h, b = hub.request("GET", "/")
    check(s == 200 and isinstance(b, dict) and "/api/v1/events" in json.dumps(b),
          "no web files: / is the JSON index: %s %r" % (s, str(b)[:200]))
    s, h, b = hub.request("GET", "/favicon.ico")
    check(s == 404, "no favicon without web files: %s" % s)
    check(hub.stop() == 0, "the hub without web files stops cleanly")
    check("not built" in open(hub.log_path).read(), "it says the dashboard's files are not built")

    beside = os.path.join(tmp, "beside")
    os.makedirs(os.path.join(beside, "web"))
    with open(os.path.join(beside, "web", "index.html"), "wb") as f:
        f.write(b"beside")
    with open(os.path.join(beside, "web", "favicon.ico"), "wb") as f:
        f.write(b"\x00\x00\x01\x00ico")
    exe = shutil.copy(ECORRIDOR, os.path.join(beside, "ecorridor"))
    prefix = os.path.join(tmp, "prefix")
    os.makedirs(os.path.join(prefix, "bin"))
    os.makedirs(os.path.join(prefix, "share", "ecorridor", "web"))
    with open(os.path.join(prefix, "share", "ecorridor", "web", "index.html"), "wb") as f:
        f.write(b"installed")
    exe2 = shutil.copy(ECORRIDOR, os.path.join(prefix, "bin", "ecorridor"))
    for e, want in [(exe, b"beside"), (exe2, b"installed")]:
        hub = Hub(e, os.path.join(tmp, "found.db"), timeout=30)
        s, h, b = hub.request("GET", "/")
        check(s == 200 and b == want, "%s finds its web files: %s %r" % (e, s, b[:60]))
        if want == b"beside":
            s, h, b = hub.request("GET", "/favicon.ico")
            check(s == 200 and b == b"\x00\x00\x01\x00ico" and h.get("content-type") == "image/x-icon",
                  "a favicon.ico of the page's own is preferred: %s %s %r" % (s, h.get("content-type"), b))
        check(hub.stop() == 0, "stops cleanly")


# ---- live events ------------------------------------------------------------

SITE = {"name": "Live site", "coordinates": {"latitude": "51.9", "longitude": "4.4"}, "operator_id": "op-a"}


def evse(uid, status=None):
    e = {"uid": uid, "connectors": [{"id": "1", "standard": "IEC_62196_T2_COMBO", "max_electric_power": 350000}]}
    if status:
        e["status"] = status
    return e


def check_event(hub, key, ev, site_id, want_statuses, what):
    """ev is site site_id's event carrying want_statuses (by EVSE uid), its status is the rule over
    them, and the register says the same."""
    check(ev is not None, "%s: a site event came within 1 s" % what)
    if ev is None:
        return
    got = {e["uid"]: e["status"] for e in ev.get("evses", [])}
    check(got == want_statuses, "%s: the event's EVSE statuses %s, want %s" % (what, got, want_statuses))
    check(ev.get("status") == site_state(list(got.values())),
          "%s: the event's status %s is the rule's over its EVSEs %s" % (what, ev.get("status"), got))
    check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", ev.get("last_updated") or "") is not None,
          "%s: last_updated in UTC: %s" % (what, ev.get("last_updated")))
    s, _, doc = hub.request("GET", "/api/v1/sites/" + site_id, key=key)
    stored = {e["uid"]: e.get("status") for e in doc.get("evses", [])} if s == 200 else None
    check(stored == got and site_state(list(stored.values())) == ev.get("status")
          and doc.get("last_updated") == ev.get("last_updated"),
          "%s: the register agrees: %s %s" % (what, stored, doc.get("last_updated") if s == 200 else doc))


def test_events_ocpp(hub, admin, st):
    """Each status a connector sends reaches the stream within a second, by the one rule."""
    cp = Charger(hub.port, "CP-LIVE")
    boot = cp.call("BootNotification", {"chargePointVendor": "test", "chargePointModel": "live"})
    check(boot.get("status") == "Accepted", "the charger is accepted: %s" % boot)
    want = {"E1": "UNKNOWN", "E2": "UNKNOWN"}
    steps = [(1, "Available", "AVAILABLE"), (1, "Charging", "CHARGING"), (2, "Faulted", "OUTOFORDER"),
             (1, "Faulted", "OUTOFORDER"), (1, "Unavailable", "INOPERATIVE"), (2, "Reserved", "RESERVED"),
             (2, "Unavailable", "INOPERATIVE"), (1, "Preparing", "CHARGING"), (2, "Available", "AVAILABLE")]
    seen_states = set()
    for conn, ocpp_status, ocpi in steps:
        want["E%d" % conn] = ocpi
        t0 = time.time()
        r = cp.call("StatusNotification", {"connectorId": conn, "status": ocpp_status,
                                           "errorCode": "OtherError" if ocpp_status == "Faulted" else "NoError"})
        check(r == {}, "StatusNotification answered: %s" % r)
        ev = st.site_event("live-1", timeout=1.0 - (time.time() - t0))
        dt = time.time() - t0
        check(ev is not None and dt <= 1.0, "connector %d %s: event after %.3f s" % (conn, ocpp_status, dt))
        check_event(hub, admin, ev, "live-1", dict(want), "connector %d %s" % (conn, ocpp_status))
        if ev:
            seen_states.add(ev.get("status"))
    check(seen_states == {"available", "charging", "out_of_order"}, "the charger's steps reach three states: %s"
          % seen_states)
    # A status the charger repeats changes nothing, and nothing is announced.
    cp.call("StatusNotification", {"connectorId": 2, "status": "Available", "errorCode": "NoError"})
    check(st.site_event("live-1", timeout=0.5) is None, "a repeated status is not announced")
    return cp


def test_rest_then_charger(hub, admin, st, cp):
    """A site written through the API (its EVSEs sent again without their live status), then a
    charger saying what it said before: the register takes it again, and the map hears of it."""
    s, _, b = hub.request("PATCH", "/api/v1/sites/live-1", {"evses": [evse("E1"), evse("E2")]}, admin)
    ev = st.site_event("live-1")
    check(s == 200, "PATCH without statuses: %s %s" % (s, b))
    check_event(hub, admin, ev, "live-1", {"E1": "UNKNOWN", "E2": "UNKNOWN"}, "the EVSEs sent again")
    want = {"E1": "UNKNOWN", "E2": "UNKNOWN"}
    for conn, ocpp_status, ocpi in [(2, "Available", "AVAILABLE"), (1, "Preparing", "CHARGING")]:
        want["E%d" % conn] = ocpi
        t0 = time.time()
        cp.call("StatusNotification", {"connectorId": conn, "status": ocpp_status, "errorCode": "NoError"})
        ev = st.site_event("live-1", timeout=1.0)
        check(ev is not None and time.time() - t0 <= 1.0,
              "connector %d %s again after the API's write: an event" % (conn, ocpp_status))
        check_event(hub, admin, ev, "live-1", dict(want), "connector %d %s again" % (conn, ocpp_status))


def test_events_rest(hub, admin, st):
    """REST writes of a site, its deletion and an import reach the stream."""
    # Each status decides the site's state at least once (here or from the charger).
    for statuses, state in [({"E1": "RESERVED", "E2": "OUTOFORDER"}, "charging"),
                            ({"E1": "INOPERATIVE", "E2": "BLOCKED"}, "charging"),
                            ({"E1": "PLANNED", "E2": "REMOVED"}, "unknown"),
                            ({"E1": "UNKNOWN", "E2": "INOPERATIVE"}, "out_of_order"),
                            ({"E1": "OUTOFORDER", "E2": "PLANNED"}, "out_of_order"),
                            ({"E1": "CHARGING", "E2": "REMOVED"}, "charging"),
                            ({"E1": "BLOCKED", "E2": "AVAILABLE"}, "available")]:
        s, _, b = hub.request("PATCH", "/api/v1/sites/live-1",
                              {"evses": [evse(u, v) for u, v in sorted(statuses.items())]}, admin)
        check(s == 200, "PATCH: %s %s" % (s, b))
        ev = st.site_event("live-1")
        check_event(hub, admin, ev, "live-1", statuses, "PATCH %s" % statuses)
        check(ev is not None and ev.get("status") == state, "PATCH %s: %s" % (statuses, ev and ev.get("status")))
    s, _, b = hub.request("POST", "/api/v1/sites", dict(SITE, id="live-2"), admin)
    ev = st.site_event("live-2")
    check(s == 201 and ev is not None and ev.get("status") == "unknown" and ev.get("evses") == [],
          "a new site without EVSEs is announced unknown: %s %s" % (s, ev))
    s, _, b = hub.request("PUT", "/api/v1/sites/live-2", dict(SITE, id="live-2", evses=[evse("X", "OUTOFORDER")]), admin)
    ev = st.site_event("live-2")
    check(s == 200 and ev is not None and ev.get("status") == "out_of_order", "PUT announced: %s %s" % (s, ev))
    s, _, b = hub.request("DELETE", "/api/v1/sites/live-2", key=admin)
    ev = st.site_event("live-2")
    check(s == 204 and ev == {"id": "live-2", "deleted": True, "status": None}, "DELETE announced: %s %s" % (s, ev))
    # An EVSE uid written to break the stream's framing stays inside its event's JSON.
    evil = "x\r\n\r\nevent: register\ndata: {}\n\n"
    s, _, b = hub.request("PATCH", "/api/v1/sites/live-1", {"evses": [evse(evil, "AVAILABLE")]}, admin)
    if s == 200:
        ev = st.site_event("live-1")
        check(ev is not None and ev.get("evses") == [{"uid": evil, "status": "AVAILABLE"}],
              "a uid with line breaks is one event's data: %s" % ev)
        check(st.wait(lambda i: i["event"] != "site", 0.3) is None, "and makes no other event")
        hub.request("PATCH", "/api/v1/sites/live-1", {"evses": [evse("E1", "BLOCKED"), evse("E2", "AVAILABLE")]}, admin)
        st.site_event("live-1")
    else:
        check(s == 400, "a uid with line breaks: %s %s" % (s, b))
    # A refused write announces nothing.
    s, _, b = hub.request("PATCH", "/api/v1/sites/live-1", {"evses": "nope"}, admin)
    check(s == 400 and st.site_event("live-1", timeout=0.3) is None, "a refused PATCH is not announced: %s" % s)
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [4.5, 51.95]},
         "properties": {"id": "imp-1", "name": "Imported"}}]}
    s, _, b = hub.request("POST", "/api/v1/import?format=geojson&operator=op-a", raw=json.dumps(fc), key=admin)
    it = st.wait(lambda i: i["event"] == "register", 2.0)
    check(s == 200 and it is not None and json.loads(it["data"]) == {},
          "an import is announced as register: %s %s %s" % (s, b, it))


def test_events_requests(hub, admin):
    """What the stream's request may be."""
    st = Stream(hub.port, query="?since=0")
    check(st.status == 400 and b"unknown_parameter" in st.body, "an unknown parameter is 400: %s %r" % (st.status, st.body))
    st = Stream(hub.port, method="POST")
    check(st.status == 405, "POST is 405: %s" % st.status)
    st = Stream(hub.port, method="HEAD")
    check(st.status == 200 and st.headers.get("content-type", "").startswith("text/event-stream"),
          "HEAD: %s %s" % (st.status, st.headers))
    st = Stream(hub.port, key="not-a-key")
    check(st.status == 401, "an unknown key is 401 as everywhere: %s" % st.status)
    st = Stream(hub.port, key=admin)
    first = st.wait(lambda i: True, 1.0)
    check(st.status == 200 and first is not None and first["retry"] == "2000", "a key is welcome too: %s" % first)
    st.close()
    # Whatever a stream's client sends after its request is dropped: no second answer comes.
    s = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
    s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: hub\r\n\r\nGET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n"
              + b"\x00garbage" * 20000)
    got = b""
    end = time.time() + 1.0
    try:
        while time.time() < end:
            r, _, _ = select.select([s], [], [], end - time.time())
            if r:
                c = s.recv(65536)
                if not c:
                    break
                got += c
    except OSError:
        pass
    s.close()
    check(got.count(b"HTTP/1.1") == 1 and b"retry: 2000" in got and b"schema_version" not in got,
          "a pipelined request after the stream's is not answered: %r" % got[:300])
    check(hub.request("GET", "/healthz")[0] == 200, "the hub lives")
    # The stream as the second request of a kept-alive connection: the first answer whole, then the stream.
    s = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\nGET /api/v1/events HTTP/1.1\r\nHost: hub\r\n\r\n")
    got, end = b"", time.time() + 2.0
    while b"retry: 2000\n\n" not in got and time.time() < end:
        r, _, _ = select.select([s], [], [], 0.1)
        c = s.recv(65536) if r else b""
        if r and not c:
            break
        got += c
    s.close()
    s1, h1, rest = split_response(got)
    n = int(h1.get("content-length", "0"))
    s2, h2, body2 = split_response(rest[n:])
    check(s1 == 200 and b"schema_version" in rest[:n] and s2 == 200 and h2.get("content-type", "").startswith(
        "text/event-stream") and body2.startswith(b"retry: 2000\n\n"),
          "events after another request on one connection: %r" % got[:400])


def test_per_address(hub, admin):
    """Four streams per address: the fifth is 503, the four go on, another address is not affected."""
    four = [Stream(hub.port, src="127.0.0.2") for _ in range(4)]
    check(all(s.status == 200 for s in four), "four streams from one address: %s" % [s.status for s in four])
    check(all((s.wait(lambda i: True, 1.0) or {}).get("retry") == "2000" for s in four),
          "each begins with retry: 2000")
    fifth = Stream(hub.port, src="127.0.0.2")
    check(fifth.status == 503 and b"busy" in fifth.body, "the fifth is 503 busy: %s %r" % (fifth.status, fifth.body))
    other = Stream(hub.port, src="127.0.0.5")
    check(other.status == 200, "another address is not affected: %s" % other.status)
    hub.request("PATCH", "/api/v1/sites/live-1", {"name": "Live site, renamed"}, admin)
    got = [s.site_event("live-1") for s in four + [other]]
    check(all(g is not None for g in got), "the four (and the other) still hear: %s" % got)
    for s in four + [other]:
        s.close()


def test_churn(hub):
    """Many quick connects and disconnects, in every manner, leave no slot taken."""
    for rnd in range(25):
        socks = []
        for k in range(4):
            s = socket.socket()
            s.bind(("127.0.0.3", 0))
            s.connect(("127.0.0.1", hub.port))
            s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: hub\r\n\r\n")
            if k == 1:
                s.recv(100)
            if k == 2:  # a reset instead of a close
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if k == 3:
                s.shutdown(socket.SHUT_WR)
            socks.append(s)
        for s in socks:
            s.close()
    # The hub hears of the last ones on its next turns: four are accepted again within a second.
    end, four = time.time() + 2.0, []
    while True:
        four = [Stream(hub.port, src="127.0.0.3") for _ in range(4)]
        if all(s.status == 200 for s in four) or time.time() > end:
            break
        for s in four:
            s.close()
        time.sleep(0.1)
    check(all(s.status == 200 for s in four), "after 100 quick streams, four again: %s" % [s.status for s in four])
    fifth = Stream(hub.port, src="127.0.0.3")
    check(fifth.status == 503, "and still no fifth: %s" % fifth.status)
    for s in four:
        s.close()
    n = streams_settle(hub, 1)
    check(n == 1, "the HTTP layer counts one stream open again (the first): %s" % n)


def test_slow_reader(hub, admin):
    """A client that never reads, while large events are sent, is dropped; the hub stays fast and the
    slot is free again; the clients that read hear every event."""
    big = dict(SITE, id="live-big", evses=[evse("EVSE-%030d" % i, "AVAILABLE") for i in range(256)])
    s, _, b = hub.request("POST", "/api/v1/sites", big, admin)
    check(s == 201, "a site of 256 EVSEs: %s %s" % (s, str(b)[:200]))
    readers = [Stream(hub.port, src="127.0.0.6") for _ in range(3)]
    slow = Stream(hub.port, src="127.0.0.6", reader=False, rcvbuf=4096)
    check(all(r.status == 200 for r in readers) and slow.status == 200, "four streams from the slow one's address")
    dropped0 = metric(hub, "ecorridor_http_streams_dropped_total")
    lat, stop = [], threading.Event()

    def probe():
        while not stop.is_set():
            t = time.time()
            s, _, _ = hub.request("GET", "/healthz")
            lat.append((time.time() - t, s))
            time.sleep(0.05)

    pt = threading.Thread(target=probe)
    pt.start()
    dropped_after = None
    sent = 0
    t_start = time.time()
    try:
        for i in range(1, 1201):
            statuses = ["CHARGING" if (i + k) % 2 else "AVAILABLE" for k in range(256)]
            s, _, _ = hub.request("PATCH", "/api/v1/sites/live-big",
                                  {"evses": [evse("EVSE-%030d" % k, statuses[k]) for k in range(256)]}, admin)
            if s != 200:
                check(False, "PATCH %d: %s" % (i, s))
            sent = i
            if i % 10 == 0:
                # The address's fifth stream is accepted once the slow one's slot is free.
                probe_st = Stream(hub.port, src="127.0.0.6")
                probe_st.close()
                if probe_st.status == 200:
                    dropped_after = i
                    break
            if time.time() - t_start > 25:
                break
    finally:
        stop.set()
        pt.join()
    check(dropped_after is not None, "the client that does not read is dropped (after %d events of ~16 KiB)" % sent)
    # The loop is never held up by the client that does not read: probes wait only for the PATCHes
    # before them. The bounds leave room for a machine shared with other builds.
    times = sorted(t for t, _ in lat)
    worst, median = (times[-1], times[len(times) // 2]) if times else (-1, -1)
    check(lat and all(s == 200 for _, s in lat) and median < 0.1 and worst < 1.0,
          "/healthz meanwhile: %d probes, median %.3f s, the slowest %.3f s" % (len(lat), median, worst))
    print("slow reader dropped after %s events; /healthz %d probes, median %.3f s, slowest %.3f s"
          % (dropped_after, len(lat), median, worst), flush=True)
    t = time.time()
    s, _, _ = hub.request("GET", "/healthz")
    check(s == 200 and time.time() - t < 0.5, "/healthz after: %s %.3f s" % (s, time.time() - t))
    # The slow client, reading at last, finds its stream ended by the hub.
    slow.sock.settimeout(5)
    n, ended = 0, False
    try:
        while True:
            c = slow.sock.recv(1 << 20)
            if not c:
                ended = True
                break
            n += len(c)
    except ConnectionResetError:
        ended = True
    except OSError:
        pass
    check(ended, "the slow client's stream was closed by the hub (%d bytes had reached it)" % n)
    dropped1 = metric(hub, "ecorridor_http_streams_dropped_total")
    check(dropped0 is not None and dropped1 == dropped0 + 1, "metrics count one stream dropped: %s -> %s"
          % (dropped0, dropped1))
    slow.close()
    # The readers heard the last one.
    for r in readers:
        last = None
        while True:
            ev = r.site_event("live-big", timeout=2.0)
            if ev is None:
                break
            last = ev
        want = "CHARGING" if sent % 2 else "AVAILABLE"
        check(last is not None and last["evses"][0]["status"] == want and not r.eof,
              "a reader heard the last event and is still open: %s" % (last and last["evses"][0]))
        r.close()
    again = Stream(hub.port, src="127.0.0.6")
    check(again.status == 200, "a new stream is accepted from that address: %s" % again.status)
    again.close()


def test_total(hub, already):
    """256 streams in all, whatever their addresses; one more is 503 until one of them ends."""
    time.sleep(0.3)  # the streams the tests before closed are gone by now
    held, refused = [], None
    for i in range(300):
        st = Stream(hub.port, src="127.0.%d.%d" % (1 + i // 4 // 200, 1 + (i // 4) % 200), reader=False)
        if st.status != 200:
            refused = st
            break
        held.append(st)
    check(refused is not None and refused.status == 503 and b"as many event streams" in refused.body
          and len(held) + already == 256, "256 streams in all (%d here, %d before), then %s %r"
          % (len(held), already, refused and refused.status, refused and refused.body))
    if held:
        held.pop().close()
        end = time.time() + 2.0
        while True:
            st = Stream(hub.port, src="127.0.3.1", reader=False)
            if st.status == 200 or time.time() > end:
                break
            time.sleep(0.05)
        check(st.status == 200, "one ends, one more is taken: %s" % st.status)
        held.append(st)
    for st in held:
        st.close()
    n = streams_settle(hub, already)
    check(n == already, "all of them closed, %d stream open again: %s" % (already, n))


def test_tls(tmp):
    """The same over https: the page, a stream and its events, and a client that does not read."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                       capture_output=True, text=True)
    if r.returncode:
        check(False, "openssl makes a test certificate: %s" % r.stderr)
        return
    web = os.path.join(tmp, "tlsweb")
    os.makedirs(web)
    with open(os.path.join(web, "index.html"), "wb") as f:
        f.write(INDEX)
    db = os.path.join(tmp, "tls.db")
    hub = Hub(ECORRIDOR, db, "--tls-cert", cert, "--tls-key", key, "--web", web, timeout=30)
    try:
        s, h, b = hub.request("GET", "/")
        check(hub.tls and s == 200 and b == INDEX, "the page over https: %s %r" % (s, b[:60]))
        admin = make_key(ECORRIDOR, db, "admin", "hub-admin")
        hub.request("POST", "/api/v1/organisations", {"id": "op-a", "name": "A", "kind": "operator"}, admin)
        st = Stream(hub.port, tls=True)
        first = st.wait(lambda i: True, 1.0)
        check(st.status == 200 and first is not None and first["retry"] == "2000", "a stream over https: %s" % first)
        slow = Stream(hub.port, src="127.0.0.7", reader=False, rcvbuf=4096, tls=True)
        big = dict(SITE, id="tls-big", evses=[evse("EVSE-%030d" % i, "AVAILABLE") for i in range(256)])
        s, _, b = hub.request("POST", "/api/v1/sites", big, admin)
        ev = st.site_event("tls-big")
        check(s == 201 and ev is not None and ev["status"] == "available" and len(ev["evses"]) == 256,
              "its event over https: %s" % s)
        dropped, t0 = False, time.time()
        for i in range(1, 1201):
            status = "CHARGING" if i % 2 else "AVAILABLE"
            hub.request("PATCH", "/api/v1/sites/tls-big",
                        {"evses": [evse("EVSE-%030d" % k, status) for k in range(256)]}, admin)
            if i % 10 == 0:
                # Four more from that address are taken only once the slow client is gone.
                fill = [Stream(hub.port, src="127.0.0.7", tls=True, reader=False) for _ in range(4)]
                dropped = all(f.status == 200 for f in fill)
                for f in fill:
                    f.close()
                if dropped:
                    break
            if time.time() - t0 > 20:
                break
        check(dropped and i > 10, "a client that does not read over https is dropped too (after %d events)" % i)
        print("over https: the slow reader dropped after %d events" % i, flush=True)
        check(hub.request("GET", "/healthz")[0] == 200 and not st.eof, "the hub and the reading stream go on")
        st.close()
        slow.close()
    finally:
        check(hub.stop() == 0, "the https hub stops cleanly")


def test_sigterm(tmp):
    """Streams open do not keep the hub from stopping."""
    hub = Hub(ECORRIDOR, os.path.join(tmp, "term.db"), timeout=30)
    streams = [Stream(hub.port, src="127.0.0.%d" % (10 + i)) for i in range(6)]
    streams.append(Stream(hub.port, src="127.0.0.20", reader=False, rcvbuf=4096))
    check(all(s.status == 200 for s in streams), "streams open: %s" % [s.status for s in streams])
    t = time.time()
    rc = hub.stop(timeout=10)
    dt = time.time() - t
    check(rc == 0 and dt < 3.0, "SIGTERM with streams open: exit %s after %.2f s" % (rc, dt))
    check(all(s.wait_eof(2.0) for s in streams[:6]), "the streams end")
    for s in streams:
        s.close()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "hub.db")
        hub = Hub(ECORRIDOR, db, timeout=30)
        try:
            admin = make_key(ECORRIDOR, db, "admin", "hub-admin")
            s, _, b = hub.request("POST", "/api/v1/organisations", {"id": "op-a", "name": "A", "kind": "operator"}, admin)
            check(s == 201, "organisation: %s %s" % (s, b))
            s, _, b = hub.request("POST", "/api/v1/sites", dict(SITE, id="live-1", evses=[evse("E1"), evse("E2")]), admin)
            check(s == 201, "site: %s %s" % (s, b))
            s, _, b = hub.request("POST", "/api/v1/chargers", {"id": "CP-LIVE", "site_id": "live-1", "connectors": 2,
                                                               "evse_uids": ["E1", "E2"]}, admin)
            check(s == 201, "charger: %s %s" % (s, b))
            t_open = time.time()
            st = Stream(hub.port)
            check(st.status == 200 and st.headers.get("content-type", "").startswith("text/event-stream"),
                  "the stream: %s %s" % (st.status, st.headers))
            first = st.wait(lambda i: True, 1.0)
            check(first is not None and first["retry"] == "2000" and first["event"] is None,
                  "it begins with retry: 2000: %s" % first)
            cp = test_events_ocpp(hub, admin, st)
            test_rest_then_charger(hub, admin, st, cp)
            test_events_rest(hub, admin, st)
            test_events_requests(hub, admin)
            test_per_address(hub, admin)
            test_churn(hub)
            test_slow_reader(hub, admin)
            test_total(hub, 1)
            # The other hubs meanwhile; the first stream stays open past the ping's 15 s.
            test_static(tmp)
            test_default_web(tmp)
            test_sigterm(tmp)
            test_tls(tmp)
            time.sleep(max(0.0, t_open + 16.5 - time.time()))
            check(any("ping" in i["comments"] for i in st.items), "a quiet stream has a ping comment every 15 s")
            check(not st.eof and hub.alive(), "the first stream is still open")
            cp.close()
            st.close()
        finally:
            check(hub.stop() == 0, "the hub stops cleanly on SIGTERM")
    passed, failed = results()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
