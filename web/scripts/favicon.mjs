// Draws favicon.svg's picture (a road and a bolt on a rounded square) into web/src/favicon.ico,
// 16 and 32 pixels, for clients that ask for /favicon.ico and read no SVG. Run it after a change
// of the picture: node web/scripts/favicon.mjs. The ICO holds PNG images (as ICO allows since
// Windows Vista and every browser reads).
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const NAVY = [0x1d, 0x35, 0x57];
const ROAD = [0xc6, 0xdb, 0xef];
const BOLT = [0xf0, 0xc0, 0x00];
const BOLT_POLY = [[17, 6], [11, 17], [16, 17], [14, 27], [21, 14], [16, 14]];

function inRoundedSquare(x, y) {
  const r = 6;
  if (x < 0 || y < 0 || x > 32 || y > 32) return false;
  const cx = Math.min(Math.max(x, r), 32 - r);
  const cy = Math.min(Math.max(y, r), 32 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function inPolygon(x, y, poly) {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// The road: the cubic curve M4 24 C10 20 13 12 28 8, 3 units wide with round ends.
const ROAD_POINTS = [];
for (let i = 0; i <= 200; i++) {
  const t = i / 200;
  const u = 1 - t;
  ROAD_POINTS.push([u ** 3 * 4 + 3 * u * u * t * 10 + 3 * u * t * t * 13 + t ** 3 * 28, u ** 3 * 24 + 3 * u * u * t * 20 + 3 * u * t * t * 12 + t ** 3 * 8]);
}
function onRoad(x, y) {
  return ROAD_POINTS.some(([px, py]) => (x - px) ** 2 + (y - py) ** 2 <= 1.5 * 1.5);
}

// One pixel's colour and cover, from 4 × 4 samples.
function pixel(px, py, size) {
  const acc = [0, 0, 0, 0];
  for (let sy = 0; sy < 4; sy++) {
    for (let sx = 0; sx < 4; sx++) {
      const x = ((px + (sx + 0.5) / 4) * 32) / size;
      const y = ((py + (sy + 0.5) / 4) * 32) / size;
      if (!inRoundedSquare(x, y)) continue;
      const c = inPolygon(x, y, BOLT_POLY) ? BOLT : onRoad(x, y) ? ROAD : NAVY;
      acc[0] += c[0];
      acc[1] += c[1];
      acc[2] += c[2];
      acc[3] += 1;
    }
  }
  if (!acc[3]) return [0, 0, 0, 0];
  return [Math.round(acc[0] / acc[3]), Math.round(acc[1] / acc[3]), Math.round(acc[2] / acc[3]), Math.round((acc[3] / 16) * 255)];
}

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function png(size) {
  const raw = Buffer.alloc(size * (1 + size * 4));
  for (let y = 0; y < size; y++) {
    const row = y * (1 + size * 4);
    raw[row] = 0; // no filter
    for (let x = 0; x < size; x++) Buffer.from(pixel(x, y, size)).copy(raw, row + 1 + x * 4);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bits per channel
  ihdr[9] = 6; // RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const images = [16, 32].map((s) => ({ size: s, data: png(s) }));
const header = Buffer.alloc(6 + 16 * images.length);
header.writeUInt16LE(0, 0);
header.writeUInt16LE(1, 2); // an icon
header.writeUInt16LE(images.length, 4);
let offset = header.length;
images.forEach((img, i) => {
  const e = 6 + 16 * i;
  header[e] = img.size;
  header[e + 1] = img.size;
  header.writeUInt16LE(1, e + 4); // colour planes
  header.writeUInt16LE(32, e + 6); // bits per pixel
  header.writeUInt32LE(img.data.length, e + 8);
  header.writeUInt32LE(offset, e + 12);
  offset += img.data.length;
});
const out = fileURLToPath(new URL('../src/favicon.ico', import.meta.url));
writeFileSync(out, Buffer.concat([header, ...images.map((i) => i.data)]));
console.log(`wrote ${out} (${offset} bytes)`);
