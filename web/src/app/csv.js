// RFC 4180 CSV as the twin writes it (a header row, quotes around fields with commas, quotes or
// line breaks). A folder the reader picks may hold anything, so the parser has limits.

export const CSV_MAX_BYTES = 64 * 1024 * 1024;
export const CSV_MAX_ROWS = 500000;
export const CSV_MAX_FIELDS = 256;

export function parseCSV(text) {
  if (text.length > CSV_MAX_BYTES) throw new Error(`the file is over ${CSV_MAX_BYTES / 1048576} MiB`);
  const rows = [];
  let row = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let touched = false; // the line so far holds anything, an empty quoted field too
  const n = text.length;
  const endField = () => {
    if (row.length >= CSV_MAX_FIELDS) throw new Error(`line ${rows.length + 1} has more than ${CSV_MAX_FIELDS} fields`);
    row.push(field);
    field = '';
  };
  const endRow = () => {
    endField();
    // Only a line with nothing on it is skipped: `""` alone is a record of one empty field.
    if (touched) {
      if (rows.length >= CSV_MAX_ROWS) throw new Error(`more than ${CSV_MAX_ROWS} rows`);
      rows.push(row);
    }
    row = [];
    touched = false;
  };
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '\n') {
      endRow();
      i++;
      continue;
    }
    if (c !== '\r') touched = true;
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') endField();
    else if (c !== '\r') field += c;
    i++;
  }
  if (quoted) throw new Error('a quoted field is not closed');
  if (touched) endRow();
  if (!rows.length) return { header: [], records: [] };
  const header = rows[0].map((h) => h.trim());
  const records = rows.slice(1).map((r, k) => {
    if (r.length !== header.length) throw new Error(`line ${k + 2} has ${r.length} fields, the header ${header.length}`);
    const o = {};
    header.forEach((h, j) => {
      o[h] = r[j];
    });
    return o;
  });
  return { header, records };
}

// A number, or null for an empty field (the twin leaves a figure it cannot give empty).
export function numOrNull(s) {
  if (s === undefined || s === null || s === '') return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}
