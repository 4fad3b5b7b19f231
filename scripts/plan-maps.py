#!/usr/bin/env python3
"""Draws a corridor and its charging sites as an SVG map, for the planning docs.

    scripts/plan-maps.py --corridor DIR --sites SITES.csv [--plan plan.json] --title T --out MAP.svg
                         [--new-prefix even-] [--width 900]

The corridor's roads come from DIR/segments.csv (each row a direction of a segment from `source` to
`target`; a node's position is `position_x`, `position_y` of the rows leaving it), drawn once per pair
of nodes. The sites file (docs/sites.md) gives today's sites, one dot per site_id at its first row's
position; sites whose id starts with --new-prefix (the evenly spaced pools, "even-001", ...) are drawn
as new sites, sized by their points. With --plan, plan.json's "chosen" items (lat, lon, points, action,
rank) are drawn as the plan's sites: new sites and extended ones (add_points, grid_upgrade) sized by
their points, the first ten ranks numbered.

The map is equirectangular with longitudes scaled by the cosine of the middle latitude, so distances
read the same both ways; a scale bar and a legend are drawn. Python 3 standard library only."""
import argparse
import csv
import html
import json
import math
import sys

NICE_KM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)
ROAD, TODAY, NEW, EXTEND = "#9aa3ad", "#4a6fa5", "#d95f02", "#1b9e77"


def fail(msg):
    sys.exit("plan-maps: " + msg)


def read_corridor(d):
    pos, pairs = {}, set()
    try:
        with open(d + "/segments.csv", newline="") as f:
            for i, r in enumerate(csv.DictReader(f), 2):
                try:
                    s, t = r["source"], r["target"]
                    pos.setdefault(s, (float(r["position_y"]), float(r["position_x"])))
                except (KeyError, TypeError, ValueError):
                    fail("%s/segments.csv: line %d: source, target, position_x, position_y expected" % (d, i))
                pairs.add((min(s, t), max(s, t)))
    except OSError as e:
        fail("%s/segments.csv: %s" % (d, e.strerror))
    roads = [(pos[a], pos[b]) for a, b in sorted(pairs) if a in pos and b in pos]
    if not roads:
        fail("%s/segments.csv: no segments" % d)
    return roads


def read_sites(path, prefix):
    sites = {}
    try:
        with open(path, newline="") as f:
            for i, r in enumerate(csv.DictReader(f), 2):
                try:
                    sid, lat, lon, n = r["site_id"], float(r["lat"]), float(r["lon"]), int(r["count"])
                except (KeyError, TypeError, ValueError):
                    fail("%s: line %d: site_id, lat, lon and count expected" % (path, i))
                s = sites.setdefault(sid, {"lat": lat, "lon": lon, "points": 0, "new": bool(prefix) and
                                           sid.startswith(prefix)})
                s["points"] += n
    except OSError as e:
        fail("%s: %s" % (path, e.strerror))
    return list(sites.values())


def read_plan(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (path, e))
    out = []
    for i, c in enumerate(doc.get("chosen", [])):
        try:
            out.append({"lat": float(c["lat"]), "lon": float(c["lon"]), "points": int(c.get("points", 0)),
                        "action": str(c.get("action", "new_site")), "rank": int(c.get("rank", i + 1))})
        except (KeyError, TypeError, ValueError):
            fail("%s: chosen[%d]: lat, lon, points, action and rank expected" % (path, i))
    return out


def radius(points):
    return 2.5 + 1.6 * math.sqrt(max(points, 0))


def draw(roads, sites, plan, title, width):
    lats = [p[0] for r in roads for p in r] + [s["lat"] for s in sites + plan]
    lons = [p[1] for r in roads for p in r] + [s["lon"] for s in sites + plan]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    k = math.cos(math.radians((lat0 + lat1) / 2))
    span_x, span_y = max((lon1 - lon0) * k, 1e-6), max(lat1 - lat0, 1e-6)
    pad, top, legend_h = 20, 44, 96
    inner = width - 2 * pad
    scale = inner / span_x  # pixels per degree of latitude
    if span_y * scale > 1.4 * inner:
        scale = 1.4 * inner / span_y
    map_h = span_y * scale
    height = int(top + map_h + pad + legend_h)

    def xy(lat, lon):
        return pad + (lon - lon0) * k * scale, top + (lat1 - lat) * scale

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="12">' % (width, height, width, height),
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           '<text x="%d" y="26" font-size="16" font-weight="bold">%s</text>' % (pad, html.escape(title))]
    out.append('<g stroke="%s" stroke-width="1.6" stroke-linecap="round">' % ROAD)
    for a, b in roads:
        (x1, y1), (x2, y2) = xy(*a), xy(*b)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>' % (x1, y1, x2, y2))
    out.append("</g>")
    # Today's sites under the new ones, small first so big circles do not hide small ones.
    for s in sorted([s for s in sites if not s["new"]], key=lambda s: -s["points"]):
        x, y = xy(s["lat"], s["lon"])
        out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s" stroke="#fff" stroke-width="0.6"/>' % (x, y, TODAY))
    marks = [(s["lat"], s["lon"], s["points"], NEW, None) for s in sites if s["new"]]
    marks += [(c["lat"], c["lon"], c["points"], NEW if c["action"] == "new_site" else EXTEND, c["rank"]) for c in plan]
    for lat, lon, pts, color, rank in sorted(marks, key=lambda m: -m[2]):
        x, y = xy(lat, lon)
        out.append('<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" fill-opacity="0.75" stroke="#333" '
                   'stroke-width="0.6"/>' % (x, y, radius(pts), color))
        if rank is not None and rank <= 10:
            out.append('<text x="%.1f" y="%.1f" font-size="10" font-weight="bold">%d</text>' %
                       (x + radius(pts) + 1, y - radius(pts), rank))
    # Scale bar: about a fifth of the width, a round number of km.
    km_per_px = 111.195 / scale
    bar_km = max([n for n in NICE_KM if n / km_per_px <= inner / 5] or [NICE_KM[0]])
    bar = bar_km / km_per_px
    y0 = top + map_h + 16
    out.append('<g stroke="#333" stroke-width="2"><line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f"/>'
               '<line x1="%d" y1="%.1f" x2="%d" y2="%.1f"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/></g>' %
               (pad, y0, pad + bar, y0, pad, y0 - 4, pad, y0 + 4, pad + bar, y0 - 4, pad + bar, y0 + 4))
    out.append('<text x="%.1f" y="%.1f">%g km</text>' % (pad + bar + 6, y0 + 4, bar_km))
    # Legend.
    ly = y0 + 24
    n_today = sum(1 for s in sites if not s["new"])
    n_new = sum(1 for s in sites if s["new"]) + sum(1 for c in plan if c["action"] == "new_site")
    n_ext = sum(1 for c in plan if c["action"] != "new_site")
    items = [("line", ROAD, "motorway segments (%d)" % len(roads)),
             ("dot", TODAY, "today's sites (%d)" % n_today),
             ("big", NEW, "new sites, area by points (%d)" % n_new)]
    if plan:
        items.append(("big", EXTEND, "extended sites: points or grid added (%d)" % n_ext))
    x = pad
    for kind, color, text in items:
        if kind == "line":
            out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>' %
                       (x, ly, x + 18, ly, color))
        elif kind == "dot":
            out.append('<circle cx="%d" cy="%d" r="3" fill="%s"/>' % (x + 9, ly, color))
        else:
            out.append('<circle cx="%d" cy="%d" r="6" fill="%s" fill-opacity="0.75" stroke="#333" '
                       'stroke-width="0.6"/>' % (x + 9, ly, color))
        out.append('<text x="%d" y="%d">%s</text>' % (x + 24, ly + 4, html.escape(text)))
        x += 34 + 7 * len(text)
        if x > width - 220:
            x, ly = pad, ly + 22
    ly += 26
    sx = pad
    for pts in (1, 4, 10, 20):
        out.append('<circle cx="%.1f" cy="%d" r="%.1f" fill="none" stroke="#333"/>' % (sx + radius(pts), ly,
                                                                                          radius(pts)))
        out.append('<text x="%.1f" y="%d">%d point%s</text>' % (sx + 2 * radius(pts) + 4, ly + 4, pts,
                                                                "" if pts == 1 else "s"))
        sx += 2 * radius(pts) + 70
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corridor", required=True)
    ap.add_argument("--sites", required=True)
    ap.add_argument("--plan")
    ap.add_argument("--title", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--new-prefix", default="even-")
    ap.add_argument("--width", type=int, default=900)
    a = ap.parse_args()
    if not 300 <= a.width <= 5000:
        fail("--width %d: not 300..5000" % a.width)
    svg = draw(read_corridor(a.corridor), read_sites(a.sites, a.new_prefix), read_plan(a.plan) if a.plan else [],
               a.title, a.width)
    try:
        with open(a.out, "w") as f:
            f.write(svg)
    except OSError as e:
        fail("%s: %s" % (a.out, e.strerror))


if __name__ == "__main__":
    main()
