#!/usr/bin/env python3
"""What the web page's map reads, through the real hub: `ecorridor serve` on a
free port, keys from `ecorridor keys create`, spoken to with http.client.

- /api/v1/map/sites on the demo region: its count equals /api/v1/sites' total
  for every operator and jurisdiction filter; each site's status follows the
  rule worked out here from the EVSE statuses /api/v1/sites gives; names are
  the register's organisations' and jurisdictions'.
- The status after a charge point's StatusNotification (a charge point of
  the test's own on the OCPP WebSocket), for each case of the rule; a renamed
  operator shows at once.
- /api/v1/map/network on the demo region equals the graph read here from
  data/demo/rhine_alpine/graph.graphml with xml.etree: one line per road
  between two places (its two directions are one line), one point per named
  place; on the Heidelberg OSM extract (when ../shared/data is there) it stays
  under its vertex cap and holds the motorways.
- /api/v1/whoami for each role, an agency's jurisdictions worked out here from
  the parent_id chains; an unknown key is 401.
- Hostile input: unknown parameters, long and malformed filter values, other
  methods, HEAD; serve refuses malformed --tile-url and --tile-attribution.

usage: test_map.py ECORRIDOR SOURCE_DIR DATA_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET

from hubkit import Charger, Hub, check, make_key, results, site_state

ECORRIDOR, SRC = sys.argv[1], sys.argv[2]
DATA = sys.argv[3] if len(sys.argv) > 3 else os.path.join(SRC, "..", "shared", "data")
DEMO = os.path.join(SRC, "data", "demo", "rhine_alpine")


def error_is(body, code):
    return isinstance(body, dict) and isinstance(body.get("error"), dict) and body["error"].get("code") == code


def all_of(hub, kind, key, query=""):
    """Every object of kind, page by page."""
    out, offset = [], 0
    while True:
        s, b = hub.get("/api/v1/%s?limit=1000&offset=%d%s" % (kind, offset, query), key)
        if s != 200:
            raise RuntimeError("%s: %s %s" % (kind, s, b))
        out += b["data"]
        offset += len(b["data"])
        if offset >= b["total"] or not b["data"]:
            return out


def map_sites(hub, query=""):
    s, b = hub.get("/api/v1/map/sites" + query)
    check(s == 200, "map/sites%s: %s %s" % (query, s, b))
    return b if s == 200 else {"count": -1, "sites": []}


# ---- the demo region ---------------------------------------------------------------

def test_sites(hub, admin):
    sites = all_of(hub, "sites", None)
    orgs = {o["id"]: o["name"] for o in all_of(hub, "organisations", admin)}
    jurs = {j["id"]: j["name"] for j in all_of(hub, "jurisdictions", admin)}
    m = map_sites(hub)
    check(m["count"] == len(sites) == len(m["sites"]) and len(sites) > 10,
          "every site: %d on the map, %d listed" % (m["count"], len(sites)))
    check([x["id"] for x in m["sites"]] == sorted(x["id"] for x in sites), "sorted by id, the same ids")
    # The fields are the ones docs/openapi.json describes, all of them.
    schemas = json.load(open(os.path.join(SRC, "docs", "openapi.json")))["components"]["schemas"]
    check(all(set(x) == set(schemas["MapSite"]["properties"]) for x in m["sites"]),
          "the fields of docs/openapi.json's MapSite: %s" % sorted(m["sites"][0]))
    by_id = {x["id"]: x for x in sites}
    for x in m["sites"]:
        d = by_id.get(x["id"])
        if not d:
            continue
        statuses = [e["status"] for e in d.get("evses", [])]
        powers = [c["max_electric_power"] for e in d.get("evses", []) for c in e["connectors"]]
        stds = []
        for e in d.get("evses", []):
            for c in e["connectors"]:
                if c["standard"] not in stds:
                    stds.append(c["standard"])
        want = {"name": d["name"], "lat": float(d["coordinates"]["latitude"]),
                "lon": float(d["coordinates"]["longitude"]), "status": site_state(statuses),
                "operator_id": d.get("operator_id"), "operator": orgs.get(d.get("operator_id")),
                "jurisdiction_id": d.get("jurisdiction_id"), "jurisdiction": jurs.get(d.get("jurisdiction_id")),
                "max_power_kw": max(powers) / 1000.0 if powers else 0,
                "evses": [{"uid": e["uid"], "status": e["status"]} for e in d.get("evses", [])],
                "standards": stds}
        got = {k: x.get(k) for k in want}
        check(got == want, "site %s: %s, want %s" % (x["id"], got, want))
    # The count equals the list's total for every filter, and names what it holds.
    ops = sorted({x.get("operator_id") for x in sites if x.get("operator_id")}) + ["no-such-operator"]
    js = sorted({x.get("jurisdiction_id") for x in sites if x.get("jurisdiction_id")}) + ["de", "nowhere"]
    for name, values in [("operator_id", ops), ("jurisdiction_id", js)]:
        for v in values:
            q = "?%s=%s" % (name, v)
            s, lst = hub.get("/api/v1/sites" + q)
            m = map_sites(hub, q)
            check(s == 200 and m["count"] == lst["total"] == len(m["sites"]) and
                  all(x[name] == v for x in m["sites"]), "%s: map %d, sites %s" % (q, m["count"], lst.get("total")))
    q = "?operator_id=%s&jurisdiction_id=%s" % (sites[0]["operator_id"], sites[0]["jurisdiction_id"])
    s, lst = hub.get("/api/v1/sites" + q)
    check(map_sites(hub, q)["count"] == lst["total"] >= 1, "both filters: %s" % q)
    # The older names of the filters, as /api/v1/sites takes them.
    check(map_sites(hub, "?operator=" + ops[0])["count"] == map_sites(hub, "?operator_id=" + ops[0])["count"],
          "operator= is operator_id=")


def test_network(hub):
    s, h, text = hub.request("GET", "/api/v1/map/network", parse=False)
    check(s == 200 and "geo+json" in h.get("content-type", ""), "network: %s %s" % (s, h.get("content-type")))
    net = json.loads(text)
    check(net.get("type") == "FeatureCollection" and net.get("tile_url") is None and
          "tile_attribution" in net and net["tile_attribution"] is None, "a collection without tiles: %s" %
          {k: v for k, v in net.items() if k != "features"})
    # The graph, read here: named places and the roads between them.
    root = ET.parse(os.path.join(DEMO, "graph.graphml")).getroot()
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    keys = {k.get("id"): k.get("attr.name") for k in root.iter("{%s}key" % ns["g"])}
    nodes = {}
    for n in root.iter("{%s}node" % ns["g"]):
        a = {keys[d.get("key")]: d.text for d in n.findall("g:data", ns)}
        nodes[n.get("id")] = (round(float(a["position_x"]), 5), round(float(a["position_y"]), 5), a.get("name"))
    roads = set()
    for e in root.iter("{%s}edge" % ns["g"]):
        a = {keys[d.get("key")]: d.text for d in e.findall("g:data", ns)}
        u, v = nodes[e.get("source")], nodes[e.get("target")]
        roads.add((frozenset([u[:2], v[:2]]), a.get("ref") or ""))
    places = {(x, y, name) for x, y, name in nodes.values() if name}
    got_places, got_roads = set(), set()
    for f in net["features"]:
        g, p = f["geometry"], f["properties"]
        if g["type"] == "Point":
            check(p.get("kind") == "place", "a point is a place: %s" % p)
            got_places.add((round(g["coordinates"][0], 5), round(g["coordinates"][1], 5), p.get("name")))
        else:
            check(g["type"] == "LineString" and p.get("kind") == "road" and "name" in p and len(g["coordinates"]) >= 2,
                  "a road: %s" % f)
            ends = frozenset(tuple(round(c, 5) for c in g["coordinates"][i]) for i in (0, -1))
            check((ends, p.get("ref")) not in got_roads, "each road once, not once per direction: %s" % p)
            got_roads.add((ends, p.get("ref")))
    check(got_places == places, "places: %d, the graph names %d" % (len(got_places), len(places)))
    check(got_roads == roads, "roads: %d, the graph has %d (missing %s, extra %s)" %
          (len(got_roads), len(roads), list(roads - got_roads)[:3], list(got_roads - roads)[:3]))
    s2, _, text2 = hub.request("GET", "/api/v1/map/network", parse=False)
    check(s2 == 200 and text2 == text, "built once: the same answer again")


def descendants(jurs, root):
    """root and every jurisdiction within it, from the parent_id chains."""
    out, grew = {root}, True
    while grew:
        grew = False
        for j in jurs:
            if j["id"] not in out and j.get("parent_id") in out:
                out.add(j["id"])
                grew = True
    return out


def test_whoami(hub, db, admin):
    jurs = all_of(hub, "jurisdictions", admin)
    cases = [(None, "public", None), ("fleet", "rijnmond-logistics", "Rijnmond Logistics"),
             ("operator", "suedhessen-laden", "Suedhessen Laden"),
             ("agency", "frankfurt-transport", "Frankfurt am Main transport department"),
             ("agency", "corridor-agency", "Rhine-Alpine Corridor Office"), ("admin", "hub", None)]
    for role, org, name in cases:
        key = make_key(ECORRIDOR, db, role, org) if role else None
        s, b = hub.get("/api/v1/whoami", key)
        role = role or "public"
        views = ["map", "jurisdictions"] + (["grid", "dispatch", "planning"] if key else [])
        scope = {"all": role == "admin", "operator_id": org if role == "operator" else None,
                 "jurisdiction_ids": None}
        if role == "agency":
            jid = {"frankfurt-transport": "frankfurt", "corridor-agency": "rhine-alpine"}[org]
            scope["jurisdiction_ids"] = sorted(descendants(jurs, jid))
        if s == 200 and isinstance((b.get("scope") or {}).get("jurisdiction_ids"), list):
            b["scope"]["jurisdiction_ids"] = sorted(b["scope"]["jurisdiction_ids"])
        want = {"role": role, "org_id": org if key else None, "org": name, "views": views,
                "kpi_public": role in ("public", "fleet"), "scope": scope}
        check(s == 200 and b == want, "whoami %s %s: %s %s, want %s" % (role, org, s, b, want))
        schema = json.load(open(os.path.join(SRC, "docs", "openapi.json")))["components"]["schemas"]["Whoami"]
        check(set(b) == set(schema["properties"]) and set(b["scope"]) == set(schema["properties"]["scope"]["properties"]),
              "the fields of docs/openapi.json's Whoami: %s" % sorted(b))
        # kpi_public says what /api/v1/kpis answers: only the public shape.
        if role in ("fleet", "operator"):
            s, _ = hub.get("/api/v1/kpis?group=site&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", key)
            check((s == 403) == want["kpi_public"], "kpis by site for %s: %s" % (role, s))
    # The scope is what /sites/{id}/utilisation allows: the page asks for a site's figures only
    # where it may, and every such request succeeds.
    sites = all_of(hub, "sites", None)
    for role, org in [("operator", "suedhessen-laden"), ("agency", "rhein-main-netz"), ("fleet", "rijnmond-logistics"),
                      ("admin", "hub")]:
        key = make_key(ECORRIDOR, db, role, org)
        s, who = hub.get("/api/v1/whoami", key)
        sc = who["scope"]
        for x in sites:
            may = sc["all"] or (sc["operator_id"] is not None and x.get("operator_id") == sc["operator_id"]) or \
                (sc["jurisdiction_ids"] is not None and x.get("jurisdiction_id") in sc["jurisdiction_ids"])
            s, b = hub.get("/api/v1/sites/%s/utilisation?hours=1" % x["id"], key)
            check(s == (200 if may else 403), "%s %s: utilisation of %s (%s) is %s, scope says %s" %
                  (role, org, x["id"], x.get("jurisdiction_id"), s, may))
    # An agency over a state: its cities too, worked out here.
    key = make_key(ECORRIDOR, db, "agency", "rhein-main-netz")
    s, b = hub.get("/api/v1/whoami", key)
    want = sorted(descendants(jurs, "de-he"))
    check(s == 200 and sorted(b["scope"]["jurisdiction_ids"]) == want and len(want) > 3,
          "an agency over Hessen: %s, want %s" % (b, want))
    s, b = hub.get("/api/v1/whoami", "eck_not-a-key")
    check(s == 401 and error_is(b, "unauthorized"), "an unknown key: %s %s" % (s, b))


def test_hostile(hub, admin):
    for q in ["?status=AVAILABLE", "?limit=5", "?bbox=1,2,3,4", "?x=1"]:
        s, b = hub.get("/api/v1/map/sites" + q)
        check(s == 400 and error_is(b, "unknown_parameter"), "map/sites%s: %s %s" % (q, s, b))
    for q in ["?operator_id=" + "a" * 37, "?jurisdiction_id=a%20b", "?operator_id=", "?jurisdiction_id=%22%3E",
              "?operator_id=" + "x" * 600, "?" + "&".join("operator_id=a" for _ in range(40))]:
        s, b = hub.get("/api/v1/map/sites" + q)
        check(s == 400 and error_is(b, "invalid_parameter") or error_is(b, "unknown_parameter"),
              "map/sites%s: %s %s" % (q[:60], s, b))
    for path in ["/api/v1/map/network?x=1", "/api/v1/whoami?role=admin"]:
        s, b = hub.get(path)
        check(s == 400 and error_is(b, "unknown_parameter"), "%s: %s %s" % (path, s, b))
    for path in ["/api/v1/map/sites", "/api/v1/map/network", "/api/v1/whoami"]:
        for m in ["POST", "PUT", "DELETE"]:
            s, b = hub.call(m, path, admin, {})
            check(s == 405 and error_is(b, "method_not_allowed"), "%s %s: %s %s" % (m, path, s, b))
        s, h, text = hub.request("HEAD", path, parse=False)
        check(s == 200 and text == b"", "HEAD %s: %s %r" % (path, s, text[:40]))
    for path in ["/api/v1/map", "/api/v1/map/", "/api/v1/map/sites/x", "/api/v1/whoami/x"]:
        s, b = hub.get(path)
        check(s == 404, "%s: %s" % (path, s))
    s, b = hub.get("/api/v1")
    check(s == 200 and all(p in b["resources"] for p in ["/api/v1/map/sites", "/api/v1/map/network", "/api/v1/whoami"]),
          "the index lists them: %s" % b)


def test_demo(tmp):
    db = os.path.join(tmp, "demo.db")
    hub = Hub(ECORRIDOR, db, "--region", DEMO)
    admin = make_key(ECORRIDOR, db, "admin", "hub")
    try:
        test_sites(hub, admin)
        test_network(hub)
        test_whoami(hub, db, admin)
        test_hostile(hub, admin)
    finally:
        check(hub.stop() == 0, "the hub stops cleanly")


# ---- live statuses ---------------------------------------------------------------------

def test_live(tmp):
    db = os.path.join(tmp, "live.db")
    hub = Hub(ECORRIDOR, db)
    admin = make_key(ECORRIDOR, db, "admin", "hub")
    try:
        for path, body in [("jurisdictions", {"id": "town", "name": "Town", "kind": "city"}),
                           ("organisations", {"id": "op-a", "name": "Operator A", "kind": "operator"}),
                           ("sites", {"id": "s-live", "name": "Live", "operator_id": "op-a", "jurisdiction_id": "town",
                                      "coordinates": {"latitude": "50.1", "longitude": "8.6"},
                                      "evses": [{"uid": "E%d" % i, "connectors": [
                                          {"id": "1", "standard": "MCS", "format": "CABLE", "power_type": "DC",
                                           "max_electric_power": 1000000}]} for i in (1, 2, 3)]}),
                           ("sites", {"id": "s-bare", "name": "No EVSEs", "coordinates":
                                      {"latitude": "50.2", "longitude": "8.7"}}),
                           ("chargers", {"id": "CP-LIVE", "site_id": "s-live", "connectors": 3,
                                         "evse_uids": ["E1", "E2", "E3"]})]:
            s, b = hub.call("POST", "/api/v1/" + path, admin, body)
            check(s == 201, "POST %s: %s %s" % (path, s, b))

        def site(sid):
            return {x["id"]: x for x in map_sites(hub)["sites"]}.get(sid, {})

        check(site("s-bare").get("status") == "unknown" and site("s-bare").get("operator") is None,
              "a site without EVSEs or operator: %s" % site("s-bare"))
        check(site("s-live").get("operator") == "Operator A" and site("s-live").get("jurisdiction") == "Town",
              "names: %s" % site("s-live"))
        cp = Charger(hub.port, "CP-LIVE")
        boot = cp.call("BootNotification", {"chargePointVendor": "test", "chargePointModel": "map"})
        check(boot.get("status") == "Accepted", "the charger is accepted: %s" % boot)
        ocpi = {"Available": "AVAILABLE", "Charging": "CHARGING", "Preparing": "CHARGING", "Reserved": "RESERVED",
                "Faulted": "OUTOFORDER", "Unavailable": "INOPERATIVE"}
        for states in [("Available", "Available", "Available"), ("Charging", "Faulted", "Unavailable"),
                       ("Faulted", "Unavailable", "Faulted"), ("Faulted", "Available", "Faulted"),
                       ("Reserved", "Faulted", "Faulted"), ("Unavailable", "Unavailable", "Unavailable"),
                       ("Preparing", "Unavailable", "Faulted"), ("Available", "Charging", "Charging")]:
            for i, st in enumerate(states):
                cp.call("StatusNotification", {"connectorId": i + 1, "status": st, "errorCode":
                                               "OtherError" if st == "Faulted" else "NoError"})
            want = [ocpi[x] for x in states]
            got = site("s-live")
            check(got.get("status") == site_state(want) and [e["status"] for e in got.get("evses", [])] == want,
                  "after %s: %s, want %s %s" % (states, got, site_state(want), want))
            s, lst = hub.get("/api/v1/sites/s-live")
            check([e["status"] for e in lst["evses"]] == want, "the register agrees: %s" % lst["evses"])
        cp.close()
        # A renamed operator: its sites show the new name at once.
        s, b = hub.call("PATCH", "/api/v1/organisations/op-a", admin, {"name": "Operator Renamed"})
        check(s == 200 and site("s-live").get("operator") == "Operator Renamed", "renamed: %s" % site("s-live"))
        s, b = hub.call("DELETE", "/api/v1/sites/s-bare", admin)
        check(s == 204 and map_sites(hub)["count"] == 1 and not site("s-bare"), "a deleted site leaves the map")
        test_crowd(hub, admin, tmp)
    finally:
        check(hub.stop() == 0, "the hub stops cleanly")


def test_crowd(hub, admin, tmp):
    """Many clients from one address at once, right after each change, on 3,000 sites: every one is
    answered (none refused for a full read lane), and each answer shows the change made before it
    was asked."""
    csv = os.path.join(tmp, "crowd.csv")
    subprocess.run([sys.executable, os.path.join(SRC, "bench", "gen_sites.py"), "3000", csv, "5"], check=True)
    with open(csv, "rb") as f:
        s, _, _ = hub.request("POST", "/api/v1/import?format=csv&operator=op-a", raw=f.read(), key=admin,
                              headers={"Content-Type": "text/csv"}, timeout=120)
    check(s == 200, "3,000 sites imported: %s" % s)
    n = map_sites(hub)["count"]
    for round_ in range(4):
        name = "Crowd %d" % round_
        s, b = hub.call("PATCH", "/api/v1/sites/s-live", admin, {"name": name})
        check(s == 200, "renamed: %s %s" % (s, b))
        got = []

        def ask(q):
            s, b = hub.get("/api/v1/map/sites" + q)
            live = [x for x in b["sites"] if x["id"] == "s-live"] if s == 200 else []
            got.append((s, b["count"] if s == 200 else b, live[0]["name"] if live else None, q))

        threads = [threading.Thread(target=ask, args=("?operator_id=op-a" if i % 3 else "",)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        check(len(got) == 16 and all(x[0] == 200 and x[1] == n and x[2] == name for x in got),
              "round %d: 16 at once all answered with the change: %s" % (round_, [x[:3] for x in got
                                                                                  if x[0] != 200 or x[2] != name][:4]))


# ---- tiles and a real road graph ---------------------------------------------------------

def test_tiles(tmp):
    db = os.path.join(tmp, "tiles.db")
    for args, what in [(["--tile-url", "ftp://x/{z}/{x}/{y}.png"], "not http"),
                       (["--tile-url", "https://x/tiles.png"], "no {z}/{x}/{y}"),
                       (["--tile-url", "https://x/{z}/{x}/{y}.png\n"], "a control character"),
                       (["--tile-url", "https://x/{z}/{x}/{y}/" + "a" * 600], "too long"),
                       (["--tile-attribution", "x"], "attribution alone")]:
        p = subprocess.run([ECORRIDOR, "serve", "--db", db, "--listen", "127.0.0.1:0", *args],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 2 and "tile" in p.stderr, "%s refused: %s %s" % (what, p.returncode, p.stderr))
    url, attr = "https://tiles.example.org/{z}/{x}/{y}.png", "\u00a9 OpenStreetMap contributors <a href=\"x\">"
    hub = Hub(ECORRIDOR, db, "--tile-url", url, "--tile-attribution", attr)
    s, b = hub.get("/api/v1/map/network")
    check(s == 200 and b.get("tile_url") == url and b.get("tile_attribution") == attr and b.get("features") == [],
          "tiles and no graph: %s %s" % (s, b))
    check(hub.stop() == 0, "the hub stops cleanly")
    p = subprocess.run([ECORRIDOR, "serve", "--help"], capture_output=True, text=True)
    check("--tile-url" in p.stdout and "--tile-attribution" in p.stdout, "serve --help names the options")


def test_osm(tmp):
    pbf = os.path.join(DATA, "roads", "heidelberg", "heidelberg.test.pbf")
    if not os.path.exists(pbf):
        print("skip: %s is absent (the Heidelberg extract of ../shared/data)" % pbf)
        return
    g = os.path.join(tmp, "hd.ecg")
    subprocess.run([ECORRIDOR, "graph", "build", "--osm", pbf, "--out", g, "--quiet"], check=True, timeout=300)
    db = os.path.join(tmp, "hd.db")
    hub = Hub(ECORRIDOR, db, "--graph", g)
    s, b = hub.get("/api/v1/map/network")
    lines = [f for f in b.get("features", []) if f["geometry"]["type"] == "LineString"] if s == 200 else []
    n = sum(len(f["geometry"]["coordinates"]) for f in lines)
    refs = {f["properties"]["ref"] for f in lines}
    inside = all(49.2 < c[1] < 49.6 and 7.6 < c[0] < 9.2 for f in lines for c in f["geometry"]["coordinates"])
    check(s == 200 and 1000 < len(lines) and n <= 200000 and "A 5" in refs and "A 656" in refs and inside,
          "Heidelberg: %s, %d lines, %d vertices, motorways %s" % (s, len(lines), n, {"A 5", "A 656"} & refs))
    check(hub.stop() == 0, "the hub stops cleanly")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for t in [test_demo, test_live, test_tiles, test_osm]:
            try:
                t(tmp)
            except Exception as e:  # noqa: BLE001 - a test that cannot go on is one failure
                check(False, "%s: %r" % (t.__name__, e))
    passed, failed = results()
    print("map: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
