#!/usr/bin/env python3
"""Excluded outage time through the real hub: `ecorridor serve` on a free port,
keys for each role from `ecorridor keys create`, spoken to with http.client.

Recorded, listed, read and changed by the roles that may (a site's operator,
the agency of its jurisdiction, admins), refused to the others (fleets,
the public, another organisation, whose outage ids answer 404 as absent ones
do), every malformed field named in a 400, the list's period filter against
the overlaps computed here, and an outage whose 201 came back survives a
kill -9 of the hub right after it (read back through the API and straight
from the database file). A charge point of the test's own on the OCPP
WebSocket accepts ChangeAvailability: Inoperative opens an outage with reason
operator_request for the port, Operative closes it.

usage: test_outages.py ECORRIDOR SOURCE_DIR
"""
import calendar
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time

from hubkit import Charger, Hub, check, make_key, results

ECORRIDOR, SRC = sys.argv[1], sys.argv[2]


def error_is(body, code, field=None):
    e = isinstance(body, dict) and body.get("error")
    return bool(e) and e.get("code") == code and (field is None or e.get("field") == field)


def ts(text):
    """Unix seconds of a UTC time written YYYY-MM-DDTHH:MM:SSZ."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


SITE = {"name": "Outage site", "coordinates": {"latitude": "50.5", "longitude": "7.5"}}


def setup(hub, db):
    admin = make_key(ECORRIDOR, db, "admin", "hub-admin")
    for j in ["city-a", "city-b"]:
        s, _, b = hub.request("POST", "/api/v1/jurisdictions", {"id": j, "name": j, "kind": "city"}, admin)
        check(s == 201, "jurisdiction %s: %s %s" % (j, s, b))
    for org in [{"id": "op-a", "name": "A", "kind": "operator"}, {"id": "op-b", "name": "B", "kind": "operator"},
                {"id": "agency-a", "name": "Agency A", "kind": "agency", "jurisdiction_id": "city-a"},
                {"id": "agency-x", "name": "Agency without a jurisdiction", "kind": "agency"},
                {"id": "fleet-a", "name": "Fleet", "kind": "fleet"}]:
        s, _, b = hub.request("POST", "/api/v1/organisations", org, admin)
        check(s == 201, "organisation %s: %s %s" % (org["id"], s, b))
    # s-a: op-a in city-a; s-b: op-b in city-b; s-c: op-b in city-a (the agency's, not op-a's).
    for sid, op, jur in [("s-a", "op-a", "city-a"), ("s-b", "op-b", "city-b"), ("s-c", "op-b", "city-a")]:
        s, _, b = hub.request("POST", "/api/v1/sites", dict(SITE, id=sid, operator_id=op, jurisdiction_id=jur), admin)
        check(s == 201, "site %s: %s %s" % (sid, s, b))
    for cp in [{"id": "CP-A1", "site_id": "s-a", "connectors": 2}, {"id": "CP-B1", "site_id": "s-b"},
               {"id": "CP-LOOSE", "operator_id": "op-a"}]:
        s, _, b = hub.request("POST", "/api/v1/chargers", cp, admin)
        check(s == 201, "charger %s: %s %s" % (cp["id"], s, b))
    keys = {"admin": admin, "public": None}
    for name, role, org in [("operator", "operator", "op-a"), ("operator_b", "operator", "op-b"),
                            ("agency", "agency", "agency-a"), ("agency_x", "agency", "agency-x"),
                            ("fleet", "fleet", "fleet-a")]:
        keys[name] = make_key(ECORRIDOR, db, role, org)
    return keys


def test_create_and_read(hub, keys):
    """What is recorded comes back, in RFC 3339 UTC, with who recorded it."""
    s, _, o = hub.request("POST", "/api/v1/outages", {"site_id": "s-a", "from": "2026-12-01T09:00:00+01:00",
                                                   "reason": "utility_outage", "note": "grid fault"}, keys["operator"])
    check(s == 201, "an operator records an outage of its site: %s %s" % (s, o))
    check(isinstance(o, dict) and o.get("id", "").isdigit(), "the outage has an id: %s" % o)
    check(o.get("site_id") == "s-a" and o.get("charge_point") is None and o.get("connector") == 0,
          "a whole site's outage: %s" % o)
    check(o.get("from") == "2026-12-01T08:00:00Z" and o.get("to") is None, "from in UTC, to open: %s" % o)
    check(o.get("reason") == "utility_outage" and o.get("note") == "grid fault" and o.get("created_by") == "op-a",
          "reason, note and who: %s" % o)
    check(abs(ts(o["created"]) - time.time()) < 120 and o["last_updated"] == o["created"], "when: %s" % o)
    s, _, again = hub.request("GET", "/api/v1/outages/" + o["id"], None, keys["operator"])
    check(s == 200 and again == o, "read back as written: %s %s" % (s, again))
    # The answer's fields are the ones docs/openapi.json describes, all of them.
    schema = json.load(open(os.path.join(SRC, "docs", "openapi.json")))["components"]["schemas"]["Outage"]
    check(set(o) == set(schema["properties"]), "the fields of docs/openapi.json's Outage: %s" % sorted(o))
    check(schema["properties"]["reason"]["enum"] == ["utility_outage", "vehicle_fault", "scheduled_maintenance",
                                                     "vandalism", "natural_disaster", "operator_request"],
          "the documented reasons")
    for reason in schema["properties"]["reason"]["enum"]:
        s, _, r = hub.request("POST", "/api/v1/outages", {"site_id": "s-b", "from": "2026-11-01T00:00:00Z",
                                                       "to": "2026-11-01T00:00:01Z", "reason": reason}, keys["admin"])
        check(s == 201 and r["reason"] == reason, "reason %s is taken: %s %s" % (reason, s, r))

    # The epoch as an end is not an open outage (the store's 0 for open): refused like any end before the start.
    s, _, e = hub.request("POST", "/api/v1/outages", {"site_id": "s-a", "from": "2026-06-01T00:00:00Z",
                                                   "to": "1970-01-01T00:00:00Z", "reason": "vandalism"}, keys["admin"])
    check(s == 400 and error_is(e, "invalid_field", "to"), "to at the epoch refused: %s %s" % (s, e))

    # A charge point's connector: its site comes from the charge point.
    s, _, c = hub.request("POST", "/api/v1/outages", {"charge_point": "CP-A1", "connector": 2,
                                                   "from": "2026-12-02T00:00:00Z", "to": "2026-12-02T06:30:00Z",
                                                   "reason": "vandalism"}, keys["operator"])
    check(s == 201 and c.get("site_id") == "s-a" and c.get("charge_point") == "CP-A1" and c.get("connector") == 2
          and c.get("to") == "2026-12-02T06:30:00Z" and c.get("note") == "", "a connector's outage: %s %s" % (s, c))
    s, _, c2 = hub.request("POST", "/api/v1/outages", {"site_id": "s-a", "charge_point": "CP-A1",
                                                    "from": "2026-12-03T00:00:00Z", "to": "2026-12-03T01:00:00Z",
                                                    "reason": "scheduled_maintenance"}, keys["operator"])
    check(s == 201 and c2.get("connector") == 0, "every connector of a charge point at the site named: %s %s" % (s, c2))

    # The agency of a site's jurisdiction records for a site another operator runs.
    s, _, g = hub.request("POST", "/api/v1/outages", {"site_id": "s-c", "from": "2026-12-04T00:00:00Z",
                                                   "to": "2026-12-05T00:00:00Z", "reason": "natural_disaster"},
                       keys["agency"])
    check(s == 201 and g.get("created_by") == "agency-a", "an agency records for its jurisdiction: %s %s" % (s, g))
    s, _, b = hub.request("POST", "/api/v1/outages", {"site_id": "s-b", "from": "2026-12-06T00:00:00Z",
                                                   "to": "2026-12-06T12:00:00Z", "reason": "vehicle_fault"},
                       keys["admin"])
    check(s == 201 and b.get("created_by") == "hub-admin", "an admin records anywhere: %s %s" % (s, b))
    return {"a_open": o, "a_cp": c, "a_cp2": c2, "c": g, "b": b}


def test_refusals(hub, keys, made):
    """Each role where it may not, and another organisation's ids."""
    body = {"site_id": "s-b", "from": "2026-12-01T00:00:00Z", "reason": "vandalism"}
    for who, status, code in [("public", 401, "unauthorized"), ("fleet", 403, "forbidden"),
                              ("operator", 403, "forbidden"), ("agency", 403, "forbidden"),
                              ("agency_x", 403, "forbidden")]:
        s, _, e = hub.request("POST", "/api/v1/outages", body, keys[who])
        check(s == status and error_is(e, code), "%s may not record an outage of s-b: %s %s" % (who, s, e))
    s, _, e = hub.request("POST", "/api/v1/outages", {"charge_point": "CP-B1", "from": "2026-12-01T00:00:00Z",
                                                   "reason": "vandalism"}, keys["operator"])
    check(s == 403 and error_is(e, "forbidden", "charge_point"), "nor of another operator's charge point: %s %s" % (s, e))
    for who, status in [("public", 401), ("fleet", 403)]:
        s, _, e = hub.request("GET", "/api/v1/outages", None, keys[who])
        check(s == status and "data" not in (e or {}), "%s sees no list: %s %s" % (who, s, e))
        s, _, e = hub.request("GET", "/api/v1/outages/" + made["a_open"]["id"], None, keys[who])
        check(s == status and "site_id" not in (e or {}), "%s reads no outage: %s %s" % (who, s, e))
        s, _, e = hub.request("PATCH", "/api/v1/outages/" + made["a_open"]["id"], {"note": "x"}, keys[who])
        check(s == status, "%s changes no outage: %s %s" % (who, s, e))
    # Another's outage answers as one that does not exist.
    s_none, _, e_none = hub.request("GET", "/api/v1/outages/999999", None, keys["operator"])
    check(s_none == 404 and error_is(e_none, "not_found"), "no such outage: %s %s" % (s_none, e_none))
    for who, oid in [("operator", made["b"]["id"]), ("operator", made["c"]["id"]), ("operator_b", made["a_open"]["id"]),
                     ("agency", made["b"]["id"]), ("agency_x", made["a_open"]["id"])]:
        s, _, e = hub.request("GET", "/api/v1/outages/" + oid, None, keys[who])
        check(s == 404 and error_is(e, "not_found") and e["error"]["message"] == "no outage " + oid,
              "%s: outage %s of another is not found: %s %s" % (who, oid, s, e))
        s, _, e = hub.request("PATCH", "/api/v1/outages/" + oid, {"to": "2026-12-31T00:00:00Z"}, keys[who])
        check(s == 404 and error_is(e, "not_found"), "%s: outage %s of another is not changed: %s %s" % (who, oid, s, e))
    s, _, e = hub.request("GET", "/api/v1/outages/" + made["b"]["id"], None, keys["admin"])
    check(s == 200 and e.get("note") == "" and e.get("to") is not None, "still as it was: %s %s" % (s, e))
    s, _, e = hub.request("GET", "/api/v1/outages/" + made["c"]["id"], None, keys["agency"])
    check(s == 200, "the agency reads its jurisdiction's: %s %s" % (s, e))
    for bad in ["abc", "0", "-1", "1x", "12345678901234567890"]:
        s, _, e = hub.request("GET", "/api/v1/outages/" + bad, None, keys["admin"])
        check(s == 404 and error_is(e, "not_found"), "id %s: %s %s" % (bad, s, e))
    for method, path in [("DELETE", "/api/v1/outages/1"), ("PUT", "/api/v1/outages"), ("DELETE", "/api/v1/outages")]:
        s, _, e = hub.request(method, path, {}, keys["admin"])
        check(s == 405 and error_is(e, "method_not_allowed"), "%s %s: %s %s" % (method, path, s, e))


def test_bad_fields(hub, keys):
    """Every malformed field refused with a 400 that names it; nothing stored."""
    admin = keys["admin"]
    _, _, before = hub.request("GET", "/api/v1/outages?limit=1", None, admin)
    good = {"site_id": "s-a", "from": "2026-12-01T00:00:00Z", "to": "2026-12-01T01:00:00Z", "reason": "vandalism"}
    cases = [
        (dict(good, site_id="s-nowhere"), "unknown_reference", "site_id"),
        (dict(good, site_id="bad id!"), "invalid_field", "site_id"),
        (dict(good, site_id=7), "invalid_field", "site_id"),
        (dict(good, charge_point="CP-NONE"), "unknown_reference", "charge_point"),
        (dict(good, site_id="s-b", charge_point="CP-A1"), "invalid_field", "charge_point"),
        ({"charge_point": "CP-LOOSE", "from": good["from"], "reason": "vandalism"}, "invalid_field", "charge_point"),
        (dict(good, charge_point="x" * 49), "invalid_field", "charge_point"),
        (dict(good, charge_point=""), "invalid_field", "charge_point"),
        (dict(good, charge_point="CP-A1", connector=17), "invalid_field", "connector"),
        (dict(good, charge_point="CP-A1", connector=-1), "invalid_field", "connector"),
        (dict(good, charge_point="CP-A1", connector=1.5), "invalid_field", "connector"),
        (dict(good, charge_point="CP-A1", connector="1"), "invalid_field", "connector"),
        (dict(good, connector=1), "invalid_field", "connector"),
        ({k: v for k, v in good.items() if k != "from"}, "missing_field", "from"),
        ({k: v for k, v in good.items() if k != "reason"}, "missing_field", "reason"),
        ({k: v for k, v in good.items() if k != "site_id"}, "missing_field", "site_id"),
        (dict(good, to="2026-12-01T00:00:00Z"), "invalid_field", "to"),
        (dict(good, to="2026-11-30T23:00:00Z"), "invalid_field", "to"),
        (dict(good, **{"from": "2026-13-01T00:00:00Z"}), "invalid_field", "from"),
        (dict(good, **{"from": "2026-12-01 00:00:00"}), "invalid_field", "from"),
        (dict(good, **{"from": "1969-12-31T23:59:59Z"}), "invalid_field", "from"),
        (dict(good, **{"from": "1970-01-01T00:30:00+01:00"}), "invalid_field", "from"),
        (dict(good, **{"from": 1764547200}), "invalid_field", "from"),
        (dict(good, to="9999-12-31T23:59:59-00:01"), "invalid_field", "to"),
        (dict(good, to="10000-01-01T00:00:00Z"), "invalid_field", "to"),
        (dict(good, reason="weather"), "invalid_field", "reason"),
        (dict(good, reason="Vandalism"), "invalid_field", "reason"),
        (dict(good, reason=None), "invalid_field", "reason"),
        (dict(good, note="n" * 257), "invalid_field", "note"),
        (dict(good, note="\u00e9" * 129), "invalid_field", "note"),  # 129 characters, 258 bytes
        (dict(good, note=5), "invalid_field", "note"),
        (dict(good, colour="red"), "unknown_field", "colour"),
        (dict(good, id="5"), "unknown_field", "id"),
        (dict(good, created_by="op-b"), "unknown_field", "created_by"),
    ]
    for body, code, field in cases:
        s, _, e = hub.request("POST", "/api/v1/outages", body, admin)
        check(s == 400 and error_is(e, code, field), "%s: expected 400 %s naming %s, got %s %s" % (
            json.dumps(body)[:120], code, field, s, e))
    for raw, what in [("", "no body"), ("[1]", "an array"), ("{\"site_id\":", "broken JSON"), ("null", "null")]:
        s, _, e = hub.request("POST", "/api/v1/outages", None, admin, raw=raw)
        check(s == 400 and error_is(e, "invalid_json"), "%s: %s %s" % (what, s, e))
    s, _, e = hub.request("POST", "/api/v1/outages?site=s-a", good, admin)
    check(s == 400 and error_is(e, "unknown_parameter"), "POST with a query: %s %s" % (s, e))
    # The edges that are allowed.
    for body in [dict(good, note="\u00e9" * 128), dict(good, note="n" * 256),
                 dict(good, **{"from": "1970-01-01T00:00:00Z"}), dict(good, to="9999-12-31T23:59:59Z"),
                 dict(good, charge_point="CP-A1", connector=16), dict(good, to=None, note=None)]:
        s, _, o = hub.request("POST", "/api/v1/outages", body, admin)
        check(s == 201, "allowed: %s: %s %s" % (json.dumps(body)[:100], s, o))
        if s == 201 and body.get("note"):
            check(o["note"] == body["note"], "the note kept byte for byte")
    # The body's limit is that of every write: 1 MiB with a key (413), 64 KiB without one (401).
    big = json.dumps(dict(good, note="n" * (1 << 20)))
    s, _, e = hub.request("POST", "/api/v1/outages", None, admin, raw=big)
    check(s == 413, "a body over 1 MiB: %s %s" % (s, str(e)[:200]))
    s, _, e = hub.request("POST", "/api/v1/outages", None, None, raw=json.dumps(dict(good, note="n" * (70 << 10))))
    check(s == 401, "a stranger's body over 64 KiB: %s %s" % (s, str(e)[:200]))
    _, _, after = hub.request("GET", "/api/v1/outages?limit=1", None, admin)
    check(after["total"] == before["total"] + 6, "only the allowed ones stored: %s -> %s" % (before["total"],
                                                                                            after["total"]))


def test_patch(hub, keys, made):
    """Closing an open outage, changing its reason and note; what may not change."""
    oid = made["a_open"]["id"]
    s, _, o = hub.request("PATCH", "/api/v1/outages/" + oid, {"to": "2026-12-01T12:15:00Z", "reason": "vandalism",
                                                          "note": "glass broken"}, keys["operator"])
    check(s == 200 and o["to"] == "2026-12-01T12:15:00Z" and o["reason"] == "vandalism" and o["note"] == "glass broken"
          and o["from"] == "2026-12-01T08:00:00Z" and o["created_by"] == "op-a" and o["id"] == oid,
          "the operator closes its open outage: %s %s" % (s, o))
    check(o["created"] == made["a_open"]["created"] and ts(o["last_updated"]) >= ts(o["created"]), "times: %s" % o)
    s, _, g = hub.request("GET", "/api/v1/outages/" + oid, None, keys["agency"])
    check(s == 200 and g == o, "the agency of s-a's city reads the change: %s %s" % (s, g))
    # What the operator attested the agency does not rewrite under the operator's name (nor the other way).
    s, _, g = hub.request("PATCH", "/api/v1/outages/" + oid, {"note": "seen"}, keys["agency"])
    check(s == 403 and error_is(g, "forbidden", None), "but may not change it: %s %s" % (s, g))
    s, _, g = hub.request("PATCH", "/api/v1/outages/" + oid, {"note": "seen"}, keys["admin"])
    check(s == 200 and g["note"] == "seen" and g["created_by"] == "op-a", "an admin may: %s %s" % (s, g))
    for body, code, field in [({"site_id": "s-c"}, "invalid_field", "site_id"),
                              ({"charge_point": "CP-A1"}, "invalid_field", "charge_point"),
                              ({"connector": 1}, "invalid_field", "connector"),
                              ({"to": "2026-12-01T08:00:00Z"}, "invalid_field", "to"),
                              ({"from": "2026-12-01T12:15:00Z"}, "invalid_field", "from"),
                              ({"reason": "bored"}, "invalid_field", "reason"),
                              ({"created": "2026-12-01T00:00:00Z"}, "unknown_field", "created")]:
        s, _, e = hub.request("PATCH", "/api/v1/outages/" + oid, body, keys["operator"])
        check(s == 400 and error_is(e, code, field), "PATCH %s: %s %s" % (body, s, e))
    s, _, e = hub.request("GET", "/api/v1/outages/" + oid, None, keys["operator"])
    check(s == 200 and e["to"] == "2026-12-01T12:15:00Z" and e["note"] == "seen", "refused changes left it: %s" % e)
    s, _, e = hub.request("PATCH", "/api/v1/outages/" + oid, {"to": None}, keys["operator"])
    check(s == 200 and e["to"] is None, "to null reopens it: %s %s" % (s, e))
    s, _, e = hub.request("PATCH", "/api/v1/outages/" + oid, {"to": "2026-12-01T12:15:00Z"}, keys["operator"])
    check(s == 200 and e["to"] == "2026-12-01T12:15:00Z", "closed again: %s %s" % (s, e))


def test_lists(hub, keys):
    """Who sees which, and the period filter against overlaps computed here."""
    def ids(key, query=""):
        s, _, b = hub.request("GET", "/api/v1/outages" + query, None, key)
        check(s == 200 and isinstance(b, dict) and set(b) == {"data", "total", "offset", "limit"},
              "list %s: %s %s" % (query, s, str(b)[:200]))
        return b
    everything = ids(keys["admin"], "?limit=1000")
    all_o = everything["data"]
    check(everything["total"] == len(all_o) and len(all_o) >= 10, "the admin sees all: %d" % len(all_o))
    check([int(o["id"]) for o in all_o] == sorted(int(o["id"]) for o in all_o), "in id order")
    site_of = {o["id"]: o["site_id"] for o in all_o}
    for who, sites in [("operator", {"s-a"}), ("operator_b", {"s-b", "s-c"}), ("agency", {"s-a", "s-c"}),
                       ("agency_x", set())]:
        b = ids(keys[who], "?limit=1000")
        want = [o["id"] for o in all_o if o["site_id"] in sites]
        check([o["id"] for o in b["data"]] == want and b["total"] == len(want),
              "%s sees the outages of %s: %s" % (who, sorted(sites), [(o["id"], o["site_id"]) for o in b["data"]]))
    b = ids(keys["operator"], "?site=s-b")
    check(b["data"] == [] and b["total"] == 0, "an operator's filter on another's site shows nothing: %s" % b)
    b = ids(keys["admin"], "?site=s-c")
    check({o["site_id"] for o in b["data"]} == {"s-c"} and b["total"] == sum(v == "s-c" for v in site_of.values()),
          "by site: %s" % b)
    # Periods: [from, to) meets [o.from, o.to or forever).
    windows = [("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"), ("2026-12-01T12:15:00Z", None),
               (None, "2026-12-02T00:00:00Z"), ("2026-12-02T06:30:00Z", "2026-12-03T00:00:01Z"),
               ("2026-12-04T12:00:00Z", "2026-12-04T12:00:01Z"), ("2027-01-01T00:00:00Z", None),
               ("1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z"), ("2026-12-01T00:00", "2026-12-06T00:00")]
    for frm, to in windows:
        q = "?limit=1000" + ("&from=" + frm if frm else "") + ("&to=" + to if to else "")
        got = [o["id"] for o in ids(keys["admin"], q)["data"]]
        f = ts(frm if frm.endswith("Z") else frm + ":00Z") if frm else None
        t = ts(to if to.endswith("Z") else to + ":00Z") if to else None
        want = [o["id"] for o in all_o
                if (t is None or ts(o["from"]) < t) and (o["to"] is None or f is None or ts(o["to"]) > f)]
        check(got == want, "period %s..%s: %s, expected %s" % (frm, to, got, want))
    # Paging.
    b1 = ids(keys["admin"], "?limit=3")
    b2 = ids(keys["admin"], "?limit=3&offset=3")
    b3 = ids(keys["admin"], "?offset=%d" % len(all_o))
    check([o["id"] for o in b1["data"] + b2["data"]] == [o["id"] for o in all_o[:6]] and
          b1["total"] == b2["total"] == b3["total"] == len(all_o) and b3["data"] == [] and b1["limit"] == 3,
          "pages: %s %s %s" % (b1["total"], b2["total"], b3))
    for q, field in [("?limit=0", "limit"), ("?limit=1001", "limit"), ("?offset=-1", "offset"), ("?from=yesterday", "from"),
                     ("?to=2026-12-01T00:00:00Z&from=2026-12-02T00:00:00Z", "to"), ("?site=a%20b", "site"),
                     ("?colour=red", None)]:
        s, _, e = hub.request("GET", "/api/v1/outages" + q, None, keys["admin"])
        check(s == 400 and (error_is(e, "invalid_parameter", field) if field else error_is(e, "unknown_parameter")),
              "list %s: %s %s" % (q, s, e))


def command(hub, key, cp, charger, body, status):
    """The REST command, answered by charger with status; (HTTP status, body, what the charger got)."""
    got = {}
    t = threading.Thread(target=lambda: got.update(payload=charger.answer_next("ChangeAvailability", status)))
    t.start()
    s, _, b = hub.request("POST", "/api/v1/chargers/%s/commands/ChangeAvailability" % cp, body, key)
    t.join(10)
    return s, b, got.get("payload")


def test_change_availability(tmp):
    """An operator's ChangeAvailability, once accepted, opens and closes an operator_request outage."""
    db = os.path.join(tmp, "avail.db")
    hub = Hub(ECORRIDOR, db, timeout=30)
    keys = setup(hub, db)
    op = keys["operator"]
    cp = Charger(hub.port, "CP-A1")
    boot = cp.call("BootNotification", {"chargePointVendor": "test", "chargePointModel": "outages"})
    check(boot.get("status") == "Accepted", "the charger is accepted: %s" % boot)

    def mine(query=""):
        s, _, b = hub.request("GET", "/api/v1/outages?site=s-a" + query, None, op)
        return [o for o in b["data"] if o["reason"] == "operator_request"] if s == 200 else None

    t0 = time.time()
    s, b, sent = command(hub, op, "CP-A1", cp, {"connectorId": 1, "type": "Inoperative"}, "Accepted")
    check(s == 200 and b.get("status") == "Accepted" and sent == {"connectorId": 1, "type": "Inoperative"},
          "Inoperative accepted: %s %s %s" % (s, b, sent))
    # Stored before the answer came back: a kill -9 now keeps it.
    hub.kill()
    hub = Hub(ECORRIDOR, db, timeout=30)
    out = mine()
    check(out is not None and len(out) == 1, "one operator_request outage after the kill: %s" % out)
    if out:
        o = out[0]
        check(o["charge_point"] == "CP-A1" and o["connector"] == 1 and o["to"] is None and o["site_id"] == "s-a"
              and o["created_by"] == "op-a" and abs(ts(o["from"]) - t0) < 60, "for that port, open, now: %s" % o)
    cp.close()
    cp = Charger(hub.port, "CP-A1")
    cp.call("BootNotification", {"chargePointVendor": "test", "chargePointModel": "outages"})
    s, b, _ = command(hub, op, "CP-A1", cp, {"connectorId": 1, "type": "Inoperative"}, "Accepted")
    check(s == 200 and len(mine()) == 1, "asked again: still one: %s %s" % (s, mine()))
    s, b, _ = command(hub, op, "CP-A1", cp, {"connectorId": 2, "type": "Inoperative"}, "Rejected")
    check(s == 200 and b.get("status") == "Rejected" and len(mine()) == 1, "a refused one records nothing: %s" % mine())
    s, b, _ = command(hub, op, "CP-A1", cp, {"connectorId": 2, "type": "Inoperative"}, "Scheduled")
    check(s == 200 and len(mine()) == 1, "nor one scheduled for after a session: %s" % mine())
    s, b, _ = command(hub, op, "CP-A1", cp, {"connectorId": 1, "type": "Operative"}, "Accepted")
    out = mine()
    check(s == 200 and len(out) == 1 and out[0]["to"] is not None and ts(out[0]["to"]) > ts(out[0]["from"]),
          "Operative accepted closes it: %s %s" % (s, out))
    # The whole charge point: connector 0, and back.
    s, b, _ = command(hub, op, "CP-A1", cp, {"connectorId": 0, "type": "Inoperative"}, "Accepted")
    out = mine()
    check(s == 200 and len(out) == 2 and out[1]["connector"] == 0 and out[1]["to"] is None,
          "the whole charge point out: %s" % out)
    s, b, _ = command(hub, op, "CP-A1", cp, {"connectorId": 2, "type": "Inoperative"}, "Accepted")
    check(len(mine()) == 2, "a port of a charge point out already adds none: %s" % mine())
    s, b, _ = command(hub, op, "CP-A1", cp, {"connectorId": 0, "type": "Operative"}, "Accepted")
    out = mine()
    check(s == 200 and len(out) == 2 and all(o["to"] is not None for o in out), "all closed: %s" % out)
    cp.close()
    check(hub.stop() == 0, "the hub stops cleanly")


def test_kill9(tmp):
    """A 201 means stored: each outage whose answer came back is there after kill -9 right after it."""
    db = os.path.join(tmp, "kill.db")
    hub = Hub(ECORRIDOR, db, timeout=30)
    admin = make_key(ECORRIDOR, db, "admin", "hub-admin")
    hub.request("POST", "/api/v1/sites", dict(SITE, id="s-k"), admin)
    acked = []
    for i in range(5):
        s, _, o = hub.request("POST", "/api/v1/outages", {"site_id": "s-k", "from": "2026-12-%02dT00:00:00Z" % (i + 1),
                                                       "reason": "utility_outage", "note": "kill %d" % i}, admin)
        check(s == 201, "recorded before the kill: %s %s" % (s, o))
        hub.kill()
        if s == 201:
            acked.append(o)
        hub = Hub(ECORRIDOR, db, timeout=30)
    for o in acked:
        s, _, back = hub.request("GET", "/api/v1/outages/" + o["id"], None, admin)
        check(s == 200 and back == o, "outage %s survived kill -9: %s %s" % (o["id"], s, back))
    check(hub.stop() == 0, "the hub stops cleanly")
    # The database itself, read without the hub.
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, site_id, from_s, to_s, reason, note FROM outages ORDER BY id").fetchall()
    con.close()
    check([(int(o["id"]), "s-k", ts(o["from"]), 0, "utility_outage", o["note"]) for o in acked] == rows,
          "the rows in the file: %s" % rows)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "hub.db")
        hub = Hub(ECORRIDOR, db, timeout=30)
        try:
            keys = setup(hub, db)
            made = test_create_and_read(hub, keys)
            test_refusals(hub, keys, made)
            test_bad_fields(hub, keys)
            test_patch(hub, keys, made)
            test_lists(hub, keys)
        finally:
            check(hub.stop() == 0, "the hub stops cleanly on SIGTERM")
        test_kill9(tmp)
        test_change_availability(tmp)
    passed, failed = results()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
