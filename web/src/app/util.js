// Small helpers every view shares: building elements without innerHTML (names come from the
// register and must never be read as markup), times in the reader's local time, numbers.

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

// Times come from the hub in UTC; people read them in their own zone.
const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const shortFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function localTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '–' : timeFmt.format(d);
}

export function localClock(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '–' : shortFmt.format(d);
}

export function num(v, digits = 1) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  return Number(v).toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const m = Math.round(seconds / 60);
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
}

// The site states the hub decides (ec_reg_site_state): each has a colour from a palette that
// colour-blind readers tell apart (Okabe and Ito's, darkened so white text keeps 4.5:1), and a
// letter and a shape, so that colour is never the only cue.
export const STATES = {
  available: { label: 'available', letter: 'A', shape: 'circle', color: '#00704f' },
  charging: { label: 'charging or busy', letter: 'C', shape: 'square', color: '#005b94' },
  out_of_order: { label: 'out of order', letter: 'X', shape: 'diamond', color: '#b34400' },
  unknown: { label: 'unknown', letter: '?', shape: 'circle', color: '#5c5c5c' },
};

export function stateOf(status) {
  return STATES[status] ? status : 'unknown';
}

export const STANDARD_NAMES = {
  MCS: 'MCS',
  IEC_62196_T1: 'Type 1',
  IEC_62196_T1_COMBO: 'CCS1',
  IEC_62196_T2: 'Type 2',
  IEC_62196_T2_COMBO: 'CCS2',
  CHADEMO: 'CHAdeMO',
  SAE_J3400: 'NACS',
};

export function standardName(s) {
  return STANDARD_NAMES[s] || s;
}

// A download made from text the page already holds (fetched with the key), so that the key never
// goes into a link.
export function download(text, filename, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function errorBox(message) {
  return el('p', { class: 'error', role: 'alert', text: message });
}
