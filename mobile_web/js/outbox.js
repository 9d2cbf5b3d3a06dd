// The outbox: every write is saved here first, then sent. Each item belongs to an object, its
// `ref` (a visit's or a report's client_id): the items of one object go strictly in order (a
// check-out never before its check-in; a later one waits while an earlier one waits or has
// failed), and an object that cannot go on never holds back the items of other objects.
// An item leaves the queue only when the server accepted it (2xx, a replay included).
//
// What an answer does to the item that got it:
// - none (no signal, server down): tried again soon, for as long as it takes; not counted
//   against the item. The round stops there, as nothing else would get through either.
// - 401: log in again, then sync goes on. 403 password_change_required: change it first.
// - 408, 429: tried again with backoff (Retry-After respected); not counted. A 429 ends the
//   round: the server asks this phone to slow down, not about this item.
// - 5xx: tried again with exponential backoff (Retry-After respected, as a 503 may send). After
//   MAX_SERVER_ERRORS of them the item is failed: the server would likely keep failing on it
//   (a 500 on a title it cannot store), and the person decides: retry, copy it out, or discard.
// - any other 4xx: final; the item is failed at once.
// A failed item stays visible until retried or discarded.
import * as db from './db.js';
import { request, isRetryable, retryAfterMs, NetworkError } from './api.js';
import { isoNow } from './format.js';

/** 5xx answers an item gets before it is shown as failed (retrying resets the count). */
export const MAX_SERVER_ERRORS = 5;
// After a 5xx (or 408/429) the item waits 2 s, then 4, 8, 16 s … (less up to a quarter, so
// phones do not come back all at once): five 5xx in a row make it failed after about 30 s.
const SERVER_BASE_MS = 2000;
const SERVER_CAP_MS = 60000;
const RETRY_AFTER_CAP_MS = 300000;
// No answer: try again soon, the signal may be back (1 s, 2 s, 4 s, then every 5 s).
const NETWORK_BASE_MS = 1000;
const NETWORK_CAP_MS = 5000;
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
let unanswered = 0;      // tries in a row that got no answer at all
let timer = null;
let timerAt = 0;         // when `timer` fires (ms since the epoch)
const backoff = new Map();   // seq -> {n: backoffs in a row, at: not to be sent before (ms)}
let generation = 0;   // bumped when the queue is forgotten: an answer arriving later is ignored
let halted = false;   // logging out: nothing is sent until the next login

export function configure(settings) {
  Object.assign(hooks, settings);
}

export const all = () => items;
export const waiting = () => items.filter((i) => i.state === 'waiting');

/** The object an item belongs to: its items are sent in order, one after the other. */
export const objectOf = (item) => item.ref || `#${item.seq}`;

/** Whether an earlier item of the same object has failed (this one waits for that one). */
export function heldByFailure(item, list = items) {
  return list.some((other) => other.seq < item.seq && other.state === 'failed'
    && objectOf(other) === objectOf(item));
}

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
    attempts: 0, server_errors: 0, exported: false };
  item.seq = await db.outboxAdd(item);
  await reload();
  syncSoon();
  return item;
}

/** Forget a failed item (the person decided to). */
export async function discard(seq) {
  backoff.delete(seq);
  await db.outboxDelete(seq);
  await reload();
  syncSoon();   // the later items of its object may go now
}

/** Send a failed item again, as if it were new: back to waiting, its counts reset. */
export async function retry(seq) {
  backoff.delete(seq);
  await db.outboxPatch((stored) => (stored.state === 'failed' ? { state: 'waiting', attempts: 0,
    server_errors: 0, error: null, last_error: null } : {}), seq);
  await reload();
  syncSoon();
}

/** Stop sending (logout): forget any send under way and any retry planned. */
export function halt() {
  halted = true;
  generation += 1;
  clearTimeout(timer);
  timer = null;
  backoff.clear();
}

/** Start sending again (login). */
export function resume() {
  halted = false;
  syncSoon();
}

/** Drop everything (logout after copy-out or an explicit discard). */
export async function discardAll() {
  backoff.clear();
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

/** Try soon, without waiting out the wait after a lost signal. */
export function syncSoon() {
  unanswered = 0;
  clearTimeout(timer);
  timer = null;
  later(0);
}

/** The person asked: try every waiting item now, those backing off after an error too. */
export function syncNow() {
  backoff.clear();
  syncSoon();
}

/** Run a round in `ms`, unless one is planned sooner. */
function later(ms) {
  const at = Date.now() + ms;
  if (timer && timerAt <= at) return;
  clearTimeout(timer);
  timerAt = at;
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

/** One round: the first waiting item of every object that may go, oldest first. */
async function drainQueue() {
  const mine = generation;
  const busy = new Set();   // objects with an earlier item not through yet: the rest waits
  for (const item of await db.outboxAll()) {
    const object = objectOf(item);
    if (busy.has(object)) continue;
    busy.add(object);
    if (item.state !== 'waiting') continue;   // failed: its object waits for the person
    if (mine !== generation || !hooks.canSync()) return;
    const wait = backoff.get(item.seq);
    if (wait && wait.at > Date.now()) continue;
    const outcome = await send(item, mine);
    if (outcome === 'stop') break;
    if (outcome === 'sent') busy.delete(object);
  }
  if (mine === generation) planBackoff();
}

/** Wake up when the first item backing off may be tried again. */
function planBackoff() {
  const waitingSeqs = new Set(waiting().map((i) => i.seq));
  let soonest = Infinity;
  for (const [seq, wait] of backoff) {
    if (!waitingSeqs.has(seq)) backoff.delete(seq);
    else soonest = Math.min(soonest, wait.at);
  }
  if (soonest < Infinity) later(Math.max(0, soonest - Date.now()));
}

/**
 * Send one item: 'sent' (it left the queue), 'held' (backing off), 'failed', or 'stop' when
 * nothing more should be sent this round.
 */
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
    await note(item, null, 0);
    hooks.reached(false);
    unanswered += 1;
    later(jitter(Math.min(NETWORK_BASE_MS * 2 ** (unanswered - 1), NETWORK_CAP_MS)));
    return 'stop';
  }
  unanswered = 0;
  hooks.reached(true);
  if (res.ok) {
    backoff.delete(item.seq);
    await db.outboxDelete(item.seq);
    await reload();
    hooks.synced(item, res.data);
    return 'sent';
  }
  if (res.status === 401) { await note(item, res, 0); hooks.authLost(); return 'stop'; }
  if (res.status === 403 && res.data && res.data.code === 'password_change_required') {
    hooks.passwordChange();
    return 'stop';
  }
  const counted = res.status !== 408 && res.status !== 429;   // a 5xx: counts toward failing
  const serverErrors = (item.server_errors || 0) + (counted ? 1 : 0);
  if (isRetryable(res.status) && serverErrors < MAX_SERVER_ERRORS) {
    await note(item, res, counted ? 1 : 0);
    backOff(item, res);
    return res.status === 429 ? 'stop' : 'held';
  }
  backoff.delete(item.seq);
  const failure = { state: 'failed', attempts: item.attempts + 1, server_errors: serverErrors,
    error: errorOf(res) };
  await db.outboxPatch(() => failure, item.seq);
  await reload();
  hooks.failed({ ...item, ...failure });
  return 'failed';
}

function errorOf(res) {
  const data = res && res.data ? res.data : {};
  return { status: res ? res.status : null, code: data.code || null,
    message: data.message || null, errors: data.errors || null };
}

/** Count a try that did not get through, and why. */
async function note(item, res, serverErrors) {
  await db.outboxPatch((stored) => ({ attempts: stored.attempts + 1,
    server_errors: (stored.server_errors || 0) + serverErrors, last_error: errorOf(res) }),
  item.seq);
  await reload();
}

const jitter = (ms) => ms * (0.75 + Math.random() * 0.25);

/** Hold the item back for a while: longer each time, or as long as the server asked. */
function backOff(item, res) {
  const n = (backoff.has(item.seq) ? backoff.get(item.seq).n : 0) + 1;
  let ms = jitter(Math.min(SERVER_BASE_MS * 2 ** (n - 1), SERVER_CAP_MS));
  const asked = retryAfterMs(res.headers);
  if (asked > 0) ms = Math.min(asked, RETRY_AFTER_CAP_MS);
  backoff.set(item.seq, { n, at: Date.now() + ms });
}
