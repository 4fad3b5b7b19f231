// Every request the page makes goes through here, so that the key is sent the one way it may be
// (a header, never an address) and a 401 anywhere leads back to the key prompt.

const KEY_SLOT = 'ecorridor.key';
let onUnauthorized = () => {};

export function getKey() {
  return sessionStorage.getItem(KEY_SLOT) || '';
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY_SLOT, key);
  else sessionStorage.removeItem(KEY_SLOT);
}

export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(path, { method = 'GET', body, accept = 'application/json' } = {}) {
  const headers = { Accept: accept };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) {
    setKey('');
    onUnauthorized();
    throw new ApiError(401, 'the key was refused');
  }
  if (!res.ok) {
    let msg = `${res.status}`;
    try {
      const j = await res.json();
      if (j && j.error && j.error.message) msg = j.error.message;
    } catch (e) {
      // The body was not JSON: the status says enough.
    }
    throw new ApiError(res.status, msg);
  }
  return res;
}

export async function getJSON(path) {
  return (await request(path)).json();
}

export async function postJSON(path, body) {
  return (await request(path, { method: 'POST', body })).json();
}

export async function getText(path, accept) {
  return (await request(path, { accept })).text();
}
