"""What the integration tests that speak to a running hub share, written once (stdlib only).

- check(cond, what): counts a check, prints the ones that fail; results() gives (passed, failed).
- Hub: one `ecorridor serve` on a port the kernel picks (http or https), spoken to with http.client.
- make_key: a key from `ecorridor keys create`.
- Charger: a charge point of the test's own on the hub's OCPP 1.6J WebSocket, raw RFC 6455 frames.
- site_state: a site's state from its EVSEs' statuses, the map's rule written again from the
  contract (ec_reg_site_state), so that the tests check the hub against a second writing of it.

A test imports it from its own directory (Python puts a script's directory first on sys.path).
"""
import base64
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import threading

_counts = {"passed": 0, "failed": 0}

# The hubs of the tests present certificates the tests made themselves: none is verified.
TLS_CLIENT = ssl.create_default_context()
TLS_CLIENT.check_hostname = False
TLS_CLIENT.verify_mode = ssl.CERT_NONE


def check(cond, what):
    """Counts one check; a failing one is printed at once, so that a test that later hangs still says why."""
    if cond:
        _counts["passed"] += 1
    else:
        _counts["failed"] += 1
        print("FAIL:", what, flush=True)
    return cond


def results():
    """(passed, failed) so far."""
    return _counts["passed"], _counts["failed"]


def site_state(evse_statuses):
    """The site's state as the contract words it: the best state any of its EVSEs offers."""
    if "AVAILABLE" in evse_statuses:
        return "available"
    if any(s in ("CHARGING", "BLOCKED", "RESERVED") for s in evse_statuses):
        return "charging"
    if any(s in ("OUTOFORDER", "INOPERATIVE") for s in evse_statuses):
        return "out_of_order"
    return "unknown"


def make_key(exe, db, role, org, counted=False):
    """The key `keys create` prints last. A failure raises, unless counted: then it is one check."""
    p = subprocess.run([exe, "keys", "create", "--db", db, "--role", role, "--org", org],
                       capture_output=True, text=True, timeout=60)
    if counted:
        check(p.returncode == 0, "keys create %s %s: %s" % (role, org, p.stderr))
    elif p.returncode != 0:
        raise subprocess.CalledProcessError(p.returncode, p.args, p.stdout, p.stderr)
    return p.stdout.strip().splitlines()[-1]


def _is_json(content_type):
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class Hub:
    """One `ecorridor serve --db DB --listen 127.0.0.1:0 ARGS...` of the program exe. Its log (stderr)
    goes to DB.log; its banner is read for the port and whether it speaks https, and the rest of its
    output is read away so that a full pipe never blocks it. timeout bounds each request (seconds)."""

    def __init__(self, exe, db, *args, timeout=60):
        self.db, self.log_path = db, db + ".log"
        self.log = open(self.log_path, "a")
        self.timeout = timeout
        self.proc = subprocess.Popen([exe, "serve", "--db", db, "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on (https?)://[^/]*:(\d+)/", line)
        if not m:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            self.log.close()
            raise RuntimeError("hub did not start: %r %s" % (line, open(self.log_path).read()[-3000:]))
        self.tls, self.port = m.group(1) == "https", int(m.group(2))
        self.url = "%s://127.0.0.1:%d" % (m.group(1), self.port)  # for clients of other makes (curl)
        self._drain = threading.Thread(target=self.proc.stdout.read, daemon=True)
        self._drain.start()

    def request(self, method, path, body=None, key=None, raw=None, headers=None, timeout=None, parse=True):
        """(status, headers with lower-case names, body). body is sent as JSON, raw (str or bytes) as it
        is; a key goes in Authorization. The answer's body is parsed when it is JSON (and parse), else
        bytes. A connection that fails is status 0 with the error's text, unless the hub has died."""
        t = self.timeout if timeout is None else timeout
        conn = (http.client.HTTPSConnection("127.0.0.1", self.port, timeout=t, context=TLS_CLIENT) if self.tls
                else http.client.HTTPConnection("127.0.0.1", self.port, timeout=t))
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        h = {"Content-Type": "application/json"} if data is not None else {}
        h.update(headers or {})
        if key:
            h["Authorization"] = "Bearer " + key
        try:
            conn.request(method, path, data, h)
            r = conn.getresponse()
            text = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        except (OSError, http.client.HTTPException) as e:
            if self.proc.poll() is not None:
                raise RuntimeError("the hub died: %s" % open(self.log_path).read()[-3000:])
            return 0, {}, str(e)
        finally:
            conn.close()
        if parse and text and _is_json(hdrs.get("content-type")):
            try:
                return r.status, hdrs, json.loads(text)
            except ValueError:
                pass
        return r.status, hdrs, text

    def call(self, method, path, key=None, body=None):
        """(status, body parsed as request() does): the short form most checks need."""
        s, _, b = self.request(method, path, body, key)
        return s, b

    def get(self, path, key=None):
        return self.call("GET", path, key)

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        """SIGKILL: the hub gets no chance to finish anything (what it said it stored must be there)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._drain.join(5)
        if not self._drain.is_alive():
            self.proc.stdout.close()
        self.log.close()

    def stop(self, timeout=30):
        """SIGTERM, then its exit code; one that is still running after timeout s is killed, and the
        code is a sentence saying so (never 0)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "still running after %d s" % timeout
        self._drain.join(5)
        if not self._drain.is_alive():
            self.proc.stdout.close()
        self.log.close()
        return rc


class Charger:
    """A charge point of the test's own on the hub's OCPP 1.6J WebSocket: as much of RFC 6455 as text
    frames need (the client masks, the server does not); the hub's own calls to it are answered
    Accepted."""

    def __init__(self, port, cp_id, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /ocpp/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n" % (cp_id, port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            c = self.sock.recv(1)
            if not c:
                raise RuntimeError("the hub closed the handshake: %r" % head)
            head += c
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        if b" 101 " not in head.split(b"\r\n")[0] or accept not in head:
            raise RuntimeError("not a WebSocket: %r" % head)
        self.n = 0

    def _read(self, n):
        b = b""
        while len(b) < n:
            c = self.sock.recv(n - len(b))
            if not c:
                raise RuntimeError("the hub closed the connection")
            b += c
        return b

    def send(self, msg):
        data = json.dumps(msg).encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        """The next text frame's message (other frames are passed over)."""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            if b0 & 0x0F == 1:
                return json.loads(payload)

    def call(self, action, payload):
        """The hub's answer to one CALL: its payload, or {"error": the CALLERROR}."""
        self.n += 1
        self.send([2, "c%d" % self.n, action, payload])
        while True:
            m = self.recv()
            if m[0] == 2:  # the hub's own calls (configuration at boot): accepted
                self.send([3, m[1], {"status": "Accepted"}])
            elif m[0] in (3, 4) and m[1] == "c%d" % self.n:
                return m[2] if m[0] == 3 else {"error": m}

    def answer_next(self, action, status):
        """Waits for the hub's call of action and answers it with status (other calls get Accepted);
        the call's payload."""
        while True:
            m = self.recv()
            if m[0] != 2:
                continue
            self.send([3, m[1], {"status": status if m[2] == action else "Accepted"}])
            if m[2] == action:
                return m[3]

    def close(self):
        self.sock.close()
