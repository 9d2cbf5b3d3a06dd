// What the app knows: the session, the last answers from the server (kept in IndexedDB so the
// app opens without a network), the open visit, and the outbox. Views read `state` and are
// told of changes; nothing else talks to the server.
import * as db from './db.js';
import * as api from './api.js';
import * as outbox from './outbox.js';
import { cst, isoNow } from './format.js';
import { getLang, LANG_KEY } from './i18n.js';

const SHELL_CACHE_PREFIX = 'zaicun-shell-';
const CACHED = ['session', 'me', 'villages', 'rules', 'compliance', 'team', 'reports',
  'rectifications', 'openVisit', 'lastVisit', 'updatedAt'];

export const state = {
  ready: false,
  session: null,      // {token, expires_at, user}
  authLost: false,    // the token stopped working: log in again, the outbox waits
  me: null,           // GET /me
  villages: [],       // GET /me/villages: the township's villages
  rules: null,        // GET /rules
  compliance: null,   // GET /compliance/me
  team: null,         // GET /compliance?unit_code= (secretaries)
  reports: null,      // GET /reports?year= (secretaries)
  rectifications: null, // GET /rectifications?unit_code= (secretaries: the township's 整改)
  openVisit: null,    // the visit this phone knows to be open
  lastVisit: null,    // the last one closed or withdrawn here
  updatedAt: null,    // when the answers above were fetched
  reachable: null,    // whether the server answered the last time we asked
  outbox: [],
  month: null,        // {y, m} shown in 我的走访
  loading: false,     // a refresh is on its way
};

const listeners = new Set();
export const subscribe = (fn) => listeners.add(fn);

// Told once a login or a logout has finished (the new session, or none, is kept by then).
const sessionListeners = new Set();
export const onSessionChange = (fn) => sessionListeners.add(fn);
const sessionChanged = () => { for (const fn of sessionListeners) fn(state.session); };
export function emit() { for (const fn of listeners) fn(state); }

/** Keep these parts of the state on the phone (nothing is kept without a session). */
export async function save(...keys) {
  if (state.session && !forgetting) await db.kvSetMany(keys.map((key) => [key, state[key]]));
  emit();
}

let epoch = 0;   // bumped at login and logout, so an answer for an older session is dropped
let forgetting = false;   // logging out: nothing may be written any more

export const user = () => (state.session ? state.session.user : null);
export const mustChangePassword = () => Boolean(user() && user().must_change_password);
export const canSync = () => Boolean(state.session && !state.authLost && !mustChangePassword());

/** Every village of the township, the linked ones marked; linked ones first. */
export function villageChoices() {
  const linked = (state.me && state.me.linked_villages) || [];
  const codes = new Set(linked.map((v) => v.code));
  const others = (state.villages || []).filter((v) => !codes.has(v.code));
  return [...linked.map((v) => ({ ...v, linked: true })), ...others];
}

export const villageByCode = (code) => villageChoices().find((v) => v.code === code) || null;

// --- start -----------------------------------------------------------------------------------

export async function start() {
  for (const key of CACHED) {
    const value = await db.kvGet(key);
    if (value !== undefined) state[key] = value;
  }
  api.configure({ token: state.session ? state.session.token : null, lang: apiLang() });
  outbox.configure({
    canSync,
    synced: onSynced,
    failed: onFailed,
    authLost: () => { state.authLost = true; emit(); },
    passwordChange: () => markMustChange(),
    changed: (items) => { state.outbox = items; emit(); },
    reached: (yes) => {
      if (state.reachable === yes) return;
      if (yes && state.reachable === false) refreshSoon();   // back online: fresh numbers
      state.reachable = yes;
      emit();
    },
  });
  state.ready = true;
  await outbox.start();
  emit();
  if (state.session) refresh();
}

export const apiLang = () => (getLang() === 'en' ? 'en' : 'zh-CN');

export function languageChanged() {
  api.configure({ lang: apiLang() });
  emit();
  refresh();
}

// --- session ---------------------------------------------------------------------------------

/** Log in; resolves {} or, when refused, {message} (the server's) or {error: 'offline'|'other_user'}. */
export async function login(username, password) {
  let res;
  try {
    res = await api.post('/auth/login', { username, password }, { token: null });
  } catch (err) {
    return { error: 'offline' };
  }
  if (!res.ok) return { message: api.messageOf(res, null) };
  if (state.session && state.session.user.username !== res.data.user.username) {
    if (unsyncedItems().length) return { error: 'other_user' };   // the outbox is the other's
    forgetting = true;
    epoch += 1;
    await forgetEverything();   // someone else on this phone: nothing of theirs stays
  }
  if (!state.session) epoch += 1;
  state.session = res.data;
  state.authLost = false;
  api.configure({ token: res.data.token });
  await save('session');
  refresh();
  outbox.resume();
  sessionChanged();
  return {};
}

function markMustChange() {
  if (!state.session) return;
  state.session = { ...state.session, user: { ...state.session.user, must_change_password: true } };
  save('session');
}

/** Change the password (online only); resolves {} or, like login, {message} / {error}. */
export async function changePassword(oldPassword, newPassword) {
  let res;
  try {
    res = await api.post('/me/password', { old_password: oldPassword, new_password: newPassword });
  } catch (err) {
    return { error: 'offline' };
  }
  if (!res.ok) return { message: api.messageOf(res, null) };
  state.session = { ...state.session, user: { ...state.session.user, must_change_password: false } };
  await save('session');
  refresh();
  outbox.syncSoon();
  return {};
}

/** Whether logging out would lose writes the server has not taken. */
export const unsyncedItems = () => state.outbox.filter((i) => !i.exported);

/**
 * Log out: refused ({refused: n}) while items wait unsynced and not copied out; otherwise the
 * token is revoked (when the server can be reached) and everything personal is forgotten.
 */
export async function logout() {
  const left = unsyncedItems().length;
  if (left) return { refused: left };
  forgetting = true;   // from here on nothing is written back, and late answers are dropped
  epoch += 1;
  outbox.halt();
  try {
    await api.post('/auth/logout');
  } catch (err) {
    // offline: the token is forgotten here and expires on the server by itself
  }
  await forgetEverything();
  sessionChanged();
  return {};
}

/** After `forgetting` is set: clear the phone of everything personal, then show the login. */
async function forgetEverything() {
  api.configure({ token: null });
  await db.clearAll();    // the outbox and every cached answer
  for (const key of Object.keys(localStorage)) if (key !== LANG_KEY) localStorage.removeItem(key);
  sessionStorage.clear();
  if (window.caches) {    // only the app shell is cached; anything else would be personal
    for (const name of await caches.keys()) {
      if (!name.startsWith(SHELL_CACHE_PREFIX)) await caches.delete(name);
    }
  }
  for (const key of CACHED) state[key] = null;
  Object.assign(state, { villages: [], month: null, authLost: false });
  months.clear();
  await outbox.discardAll();   // reloads the (now empty) queue
  forgetting = false;
  emit();
}

// --- reading from the server -----------------------------------------------------------------

/** GET a path: the data, or undefined when there was no usable answer. */
export async function fetchJson(path) {
  const mine = epoch;
  let res;
  try {
    res = await api.get(path);
  } catch (err) {
    if (mine === epoch && state.reachable !== false) { state.reachable = false; emit(); }
    return undefined;
  }
  if (mine !== epoch) return undefined;   // logged out (or in again) meanwhile
  state.reachable = true;
  if (res.status === 401 && state.session) { state.authLost = true; emit(); return undefined; }
  if (res.status === 403 && res.data && res.data.code === 'password_change_required') {
    markMustChange();
    return undefined;
  }
  return res.ok ? res.data : undefined;
}

let refreshing = null;
let visitGeneration = 0;   // bumped by every local visit action, so a slow answer cannot undo it

/** Fetch everything the screens show; keeps the cached answers when offline. */
export function refresh() {
  if (!refreshing) {
    state.loading = true;
    refreshing = doRefresh().finally(() => { refreshing = null; state.loading = false; emit(); });
  }
  return refreshing;
}

async function doRefresh() {
  if (!state.session || state.authLost) return;
  if (mustChangePassword()) { await fetchJson('/me'); return; }
  const generation = visitGeneration;
  const mine = epoch;
  const year = cst().y;
  const mineOnly = `user_id=${user().id}`;   // a secretary may read the whole township's
  const [me, villages, rules, compliance, open] = await Promise.all([
    fetchJson('/me'), fetchJson('/me/villages'), fetchJson('/rules'),
    fetchJson('/compliance/me'), fetchJson(`/visits?status=open&${mineOnly}&page_size=5`)]);
  if (me === undefined || mine !== epoch) return;
  for (const [key, value] of Object.entries({ me, villages, rules, compliance })) {
    if (value !== undefined) state[key] = value;
  }
  state.updatedAt = isoNow();
  state.session = { ...state.session, user: me.user };
  if (me.user.role === 'secretary' && me.unit) {
    const [team, reports, rectifications] = await Promise.all([
      fetchJson(`/compliance?unit_code=${encodeURIComponent(me.unit.code)}`),
      fetchJson(`/reports?year=${year}&${mineOnly}`),
      fetchJson(`/rectifications?unit_code=${encodeURIComponent(me.unit.code)}`)]);
    if (mine !== epoch) return;
    if (team !== undefined) state.team = team;
    if (reports !== undefined) state.reports = reports;
    if (rectifications !== undefined) state.rectifications = rectifications;
  }
  if (open !== undefined) reconcileOpenVisit(open[0] || null, generation);
  await refreshLastVisit(generation);
  if (mine !== epoch) return;
  await save('session', 'me', 'villages', 'rules', 'compliance', 'team', 'reports',
    'rectifications', 'openVisit', 'lastVisit', 'updatedAt');
  if (state.month) await loadMonth(state.month.y, state.month.m);
}

/** The home card's 上次走访 as the server now has it (a review may have changed it since). */
async function refreshLastVisit(generation) {
  const last = state.lastVisit;
  if (!last || !last.client_id || last.status === 'withdrawn') return;
  if (state.outbox.some((i) => i.ref === last.client_id && i.state === 'waiting')) return;
  const visit = await fetchJson(`/visits/${encodeURIComponent(last.client_id)}`);
  if (!visit || generation !== visitGeneration || state.lastVisit !== last) return;
  state.lastVisit = { ...last, status: visit.status, flags: visit.flags,
    review_comment: visit.review_comment || null, synced: true,
    households: visit.households ?? last.households, note: visit.note ?? last.note };
}

// --- a month of visits and the year's village days (for 我的走访) ------------------------------

const pad = (n) => String(n).padStart(2, '0');
export const monthKey = (y, m) => `visits:${y}-${pad(m)}`;
export const months = new Map();   // monthKey -> visits; `days:YYYY` -> the year's days

/** Show a month: what is cached at once, then what the server says. */
export async function loadMonth(y, m) {
  state.month = { y, m };
  for (const key of [monthKey(y, m), `days:${y}`]) {
    if (!months.has(key)) {
      const cached = await db.kvGet(key);
      if (cached) { months.set(key, cached); emit(); }
    }
  }
  if (!canSync()) return;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const visits = await fetchPages(
    `/visits?user_id=${user().id}&from=${y}-${pad(m)}-01&to=${y}-${pad(m)}-${pad(last)}`);
  const days = await fetchJson(`/compliance/users/${user().id}/days?year=${y}`);
  if (!canSync()) return;
  if (visits !== undefined) await keep(monthKey(y, m), visits);
  if (days !== undefined) await keep(`days:${y}`, days.days);
  emit();
}

async function keep(key, value) {
  months.set(key, value);
  if (state.session && !forgetting) await db.kvSet(key, value);
}

/** Every page of a paginated list (flask-smorest's X-Pagination header). */
async function fetchPages(path, pageSize = 100, maxPages = 20) {
  const rows = [];
  for (let page = 1; page <= maxPages; page += 1) {
    let res;
    try {
      res = await api.get(`${path}&page=${page}&page_size=${pageSize}`);
    } catch (err) {
      return undefined;
    }
    if (!res.ok) return undefined;
    rows.push(...res.data);
    const info = JSON.parse(res.headers.get('X-Pagination') || '{}');
    if (!info.total_pages || page >= info.total_pages) break;
  }
  return rows;
}

const VISIT_KINDS = new Set(['check_in', 'check_out', 'withdraw', 'village']);

/** Take the server's open visit as the truth unless this phone has visit writes still waiting. */
function reconcileOpenVisit(serverOpen, generation) {
  if (generation !== visitGeneration) return;
  if (state.outbox.some((i) => i.state === 'waiting' && VISIT_KINDS.has(i.kind))) return;
  if (!serverOpen) { state.openVisit = null; return; }
  const local = state.openVisit && state.openVisit.client_id === serverOpen.client_id
    ? state.openVisit : {};
  state.openVisit = { ...local, ...openVisitFrom(serverOpen) };
}

function openVisitFrom(v) {
  const village = villageByCode(v.village_code);
  return { client_id: v.client_id, id: v.id, village_code: v.village_code,
    village_name: v.village_name, at: v.check_in.at, location: v.check_in.location,
    distance_m: v.check_in.distance_m, radius_m: village ? village.radius_m : null,
    flags: v.flags, synced: true };
}

// --- what the outbox reports back ------------------------------------------------------------

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh(), 400);
}

function onSynced(item, answer) {
  // A visit's writes answer the visit (reports and 整改 notes answer other objects).
  const visit = VISIT_KINDS.has(item.kind) || item.kind === 'explain' ? answer : null;
  if (visit && state.openVisit && state.openVisit.client_id === item.ref) {
    state.openVisit = { ...state.openVisit, synced: true, id: visit.id, flags: visit.flags };
    save('openVisit');
  }
  const closing = item.kind === 'check_out' || item.kind === 'withdraw';
  if (closing && state.lastVisit && state.lastVisit.client_id === item.ref) {
    state.lastVisit = { ...state.lastVisit, status: visit.status, flags: visit.flags, synced: true };
    save('lastVisit');
  }
  refreshSoon();
}

function onFailed(item) {
  if (item.kind === 'check_in' && state.openVisit && state.openVisit.client_id === item.ref) {
    state.openVisit = null;
    save('openVisit');
  }
  if (state.lastVisit && state.lastVisit.client_id === item.ref) {
    state.lastVisit = { ...state.lastVisit, status: 'failed' };
    save('lastVisit');
  }
  refreshSoon();
}

/** Called by every local visit action before it changes the open visit. */
export function visitChanged() {
  visitGeneration += 1;
}
