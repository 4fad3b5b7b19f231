// The page's CSV reader (web/src/app/csv.js), which reads the twin's files served by the hub or
// picked from the reader's disk, against a writer of the test's own: random records with commas,
// quotes, line breaks, CRs and empty fields written as RFC 4180 and read back equal; random bytes
// of the characters that matter read or refused with an Error, never anything else and never
// slowly; and every limit refused with a message. Run with node; exit 1 on any failure.
import { parseCSV, CSV_MAX_FIELDS, CSV_MAX_ROWS } from '../../web/src/app/csv.js';

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else {
    failed++;
    console.log('FAIL:', what);
  }
}

// A seeded generator, so that a failure can be run again.
let seed = 20261206;
function rand(n) {
  // xorshift32: every bit of it varies (an LCG's low bits repeat with a short period).
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const PIECES = ['a', 'b', ' ', ',', '"', '\n', '\r\n', 'é', 'Köln', '0.5', ''];
function field() {
  let s = '';
  for (let k = rand(5); k > 0; k--) s += PIECES[rand(PIECES.length)];
  return s;
}
function quote(s) {
  return /[",\r\n]/.test(s) || s === '' ? `"${s.replace(/"/g, '""')}"` : s;
}

// Round trips: whatever the fields hold, they come back as they were.
for (let t = 0; t < 2000; t++) {
  const cols = 1 + rand(6);
  const header = Array.from({ length: cols }, (_, j) => `c${j}`);
  const rows = Array.from({ length: rand(8) }, () => Array.from({ length: cols }, field));
  const eol = rand(2) ? '\r\n' : '\n';
  const text = [header, ...rows].map((r) => r.map(quote).join(',')).join(eol) + (rand(2) ? eol : '');
  let got;
  try {
    got = parseCSV(text);
  } catch (e) {
    check(false, `round trip ${t}: refused (${e.message}): ${JSON.stringify(text)}`);
    continue;
  }
  const want = rows.map((r) => Object.fromEntries(header.map((h, j) => [h, r[j]])));
  check(JSON.stringify(got.header) === JSON.stringify(header) && JSON.stringify(got.records) === JSON.stringify(want),
    `round trip ${t}: ${JSON.stringify(text)} read as ${JSON.stringify(got.records)}`);
}

// Random input: read or refused with an Error, in little time.
const ALPHABET = ['"', ',', '\n', '\r', 'a', ' '];
const t0 = Date.now();
for (let t = 0; t < 5000; t++) {
  let text = '';
  for (let k = rand(200); k > 0; k--) text += ALPHABET[rand(ALPHABET.length)];
  try {
    const r = parseCSV(text);
    check(Array.isArray(r.header) && Array.isArray(r.records), `random ${t}: an answer of the right shape`);
  } catch (e) {
    check(e instanceof Error && typeof e.message === 'string' && e.message.length > 0, `random ${t}: ${e}`);
  }
}
check(Date.now() - t0 < 10000, `5000 random inputs read in ${Date.now() - t0} ms`);

// Limits and malformed files, each refused with a message that says why.
function refused(text, why, what) {
  try {
    parseCSV(text);
    check(false, `${what}: read, not refused`);
  } catch (e) {
    check(e instanceof Error && why.test(e.message), `${what}: refused with "${e.message}"`);
  }
}
refused(Array.from({ length: CSV_MAX_FIELDS + 1 }, (_, j) => `c${j}`).join(','), /more than 256 fields/, 'too many fields');
refused('a\n' + 'x\n'.repeat(CSV_MAX_ROWS), /more than 500000 rows/, 'too many rows');
refused('a,b\n"1,2\n', /not closed/, 'an unclosed quote');
refused('a,b\n1\n', /line 2 has 1 fields, the header 2/, 'a short row');
check(parseCSV('a,b\n1,2\n').records.length === 1 && parseCSV('').records.length === 0, 'a row, and nothing');

console.log(`web csv: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
