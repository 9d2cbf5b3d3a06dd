// The HTTP API: one place that adds the token, the language and the device clock.
import { isoNow } from './format.js';

const BASE = '/api/v1';
const TIMEOUT_MS = 20000;

/** No answer at all: no signal, server down, or too slow. */
export class NetworkError extends Error {}

let auth = { token: null, lang: 'zh-CN' };

export function configure(settings) {
  auth = { ...auth, ...settings };
}

/**
 * Send a request; resolves {status, ok, data, headers} for any HTTP answer and rejects with
 * NetworkError when none came. `clientTime` adds X-Client-Time (the device clock, now).
 * `body` is sent as JSON; `text` as it is, with `contentType` (a CSV file). With
 * `file: true` a successful answer's `data` is its Blob (a download); errors stay JSON.
 * The phone app and the console both send everything through here.
 */
export async function request(method, path, {
  body, text, contentType = 'text/plain', clientTime = false, token, file = false,
  timeoutMs = TIMEOUT_MS,
} = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': auth.lang };
  const bearer = token === undefined ? auth.token : token;
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (text !== undefined) headers['Content-Type'] = contentType;
  if (clientTime) headers['X-Client-Time'] = isoNow();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let res;
  let data = null;
  try {
    res = await fetch(BASE + path, { method, headers, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? text : JSON.stringify(body), signal: abort.signal });
    if (file && res.ok) {
      data = await res.blob();
    } else {
      try { data = await res.json(); } catch (err) { data = null; }
    }
  } catch (err) {
    throw new NetworkError(String(err));
  } finally {
    clearTimeout(timer);
  }
  return { status: res.status, ok: res.ok, data, headers: res.headers };
}

export const get = (path) => request('GET', path);
export const post = (path, body, options = {}) => request('POST', path, { ...options, body });

/**
 * API.md: 401 (after logging in again), 408, 429 and 5xx may be retried; other 4xx are final.
 * A 5xx that keeps coming is not retried for ever: see MAX_SERVER_ERRORS in outbox.js.
 */
export function isRetryable(status) {
  return status === 401 || status === 408 || status === 429 || status >= 500 || status < 400;
}

/** How long the server asked to wait (Retry-After: seconds or an HTTP date); 0 when it did not. */
export function retryAfterMs(headers) {
  const value = headers && headers.get('Retry-After');
  if (!value) return 0;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

/** The server's readable message, or a fallback. */
export function messageOf(res, fallback) {
  return (res && res.data && res.data.message) || fallback;
}
