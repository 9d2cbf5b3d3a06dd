// The outbox: every write is saved here first, then sent in order. An item leaves the queue
// only when the server accepted it (2xx, a replay included) or refused it for good (a final
// 4xx: it stays visible as failed until discarded). Anything else keeps it for the next try.
import * as db from './db.js';
import { request, isRetryable, NetworkError } from './api.js';
import { isoNow } from './format.js';

const NETWORK_CAP_MS = 5000;    // no answer: try again soon, the signal may be back
const SERVER_CAP_MS = 30000;    // a struggling server: back off further
const RETRY_AFTER_CAP_S = 300;
const PERIOD_MS = 30000;

const hooks = {
  canSync: () => false,     // logged in, password settled
  synced: () => {},         // (item, answer)
  failed: () => {},         // (item)
  authLost: () => {},       // 401: log in again, then sync continues
  passwordChange: () => {}, // 403 password_change_required
  changed: () => {},        // (items): the queue changed
  reached: () => {},        // (bool): whether the server answered
};
let items = [];
let running = false;
let again = false;
let failures = 0;
let timer = null;
let generation = 0;   // bumped when the queue is forgotten: an answer arriving later is ignored
let halted = false;   // logging out: nothing is sent until the next login

export function configure(settings) {
  Object.assign(hooks, settings);
}

export const all = () => items;
export const waiting = () => items.filter((i) => i.state === 'waiting');
export const failedItems = () => items.filter((i) => i.state === 'failed');

async function reload() {
  items = await db.outboxAll();
  hooks.changed(items);
}

/** Load the queue, and sync at start, when back online, when shown, and every so often. */
export async function start() {
  await reload();
  window.addEventListener('online', () => syncSoon());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') syncSoon();
  });
  setInterval(() => { if (!timer && waiting().length) sync(); }, PERIOD_MS);
  syncSoon();
}

/** Save a write; it is sent as soon as it can be. */
export async function enqueue({ kind, path, body, ref, label }) {
  const item = { kind, path, body, ref, label, created_at: isoNow(), state: 'waiting',
    attempts: 0, exported: false };
  item.seq = await db.outboxAdd(item);
  await reload();
  syncSoon();
  return item;
}

/** Forget a failed item (the person decided to). */
export async function discard(seq) {
  await db.outboxDelete(seq);
  await reload();
}

/** Stop sending (logout): forget any send under way and any retry planned. */
export function halt() {
  halted = true;
  generation += 1;
  clearTimeout(timer);
  timer = null;
}

/** Start sending again (login). */
export function resume() {
  halted = false;
  syncSoon();
}

/** Drop everything (logout after copy-out or an explicit discard). */
export async function discardAll() {
  for (const item of await db.outboxAll()) await db.outboxDelete(item.seq);
  await reload();
}

/** Mark items as copied out, which lets the person log out without syncing them. */
export async function markExported() {
  await db.outboxPatch(() => ({ exported: true }));
  await reload();
}

/** What a person can keep elsewhere: the items as JSON. */
export function exportText(list = items) {
  return JSON.stringify(list.map(({ kind, path, body, created_at: createdAt, state, error }) =>
    ({ kind, path, body, created_at: createdAt, state, error })), null, 2);
}

/** Try now, forgetting any backoff. */
export function syncSoon() {
  failures = 0;
  clearTimeout(timer);
  timer = setTimeout(sync, 0);
}

function later(ms) {
  clearTimeout(timer);
  timer = setTimeout(sync, ms);
}

export async function sync() {
  timer = null;
  if (running) { again = true; return; }
  if (halted || !hooks.canSync()) return;
  running = true;
  try {
    const drain = () => drainQueue();
    if (navigator.locks) await navigator.locks.request('zaicun-outbox', drain);
    else await drain();
  } finally {
    running = false;
  }
  if (again) { again = false; sync(); }
}

async function drainQueue() {
  const mine = generation;
  for (const item of await db.outboxAll()) {
    if (item.state !== 'waiting') continue;
    if (mine !== generation || !hooks.canSync()) return;
    const next = await send(item, mine);
    if (next !== 'next') return;
  }
  failures = 0;
}

/** Send one item; 'next' when the queue may go on, anything else stops this round. */
async function send(item, mine) {
  let res;
  try {
    res = await request('POST', item.path, { body: item.body, clientTime: true });
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    res = null;
  }
  if (mine !== generation) return 'stop';
  if (!res) {
    await retryLater(item, null);
    return 'stop';
  }
  hooks.reached(true);
  if (res.ok) {
    await db.outboxDelete(item.seq);
    await reload();
    hooks.synced(item, res.data);
    return 'next';
  }
  if (res.status === 401) { await note(item, res); hooks.authLost(); return 'stop'; }
  if (res.status === 403 && res.data && res.data.code === 'password_change_required') {
    hooks.passwordChange();
    return 'stop';
  }
  if (isRetryable(res.status)) { await retryLater(item, res); return 'stop'; }
  const failure = { state: 'failed', attempts: item.attempts + 1, error: errorOf(res) };
  await db.outboxPatch(() => failure, item.seq);
  await reload();
  hooks.failed({ ...item, ...failure });
  return 'next';
}

function errorOf(res) {
  const data = res && res.data ? res.data : {};
  return { status: res ? res.status : null, code: data.code || null,
    message: data.message || null, errors: data.errors || null };
}

/** Count a try that did not get through, and why. */
async function note(item, res) {
  await db.outboxPatch((stored) => ({ attempts: stored.attempts + 1, last_error: errorOf(res) }),
    item.seq);
  await reload();
}

async function retryLater(item, res) {
  await note(item, res);
  if (!res) hooks.reached(false);
  failures += 1;
  const retryAfter = res ? Number(res.headers.get('Retry-After')) : 0;
  const cap = res ? SERVER_CAP_MS : NETWORK_CAP_MS;
  let ms = Math.min(1000 * 2 ** (failures - 1), cap) * (0.75 + Math.random() * 0.25);
  if (retryAfter > 0) ms = Math.min(retryAfter, RETRY_AFTER_CAP_S) * 1000;
  later(ms);
}
