// The cadre's actions in the field. Each one changes what the phone shows at once and puts
// the write in the outbox; the outbox gets it to the server when it can.
import * as outbox from './outbox.js';
import { kvSet } from './db.js';
import { state, save, villageByCode, visitChanged } from './store.js';
import { distanceM } from './geo.js';
import { isoAt, dateKey } from './format.js';

/** The open visit's age in seconds. */
export const openSeconds = (visit, now = Date.now()) => (now - new Date(visit.at).getTime()) / 1000;

/** An open visit older than this offers 补签退 (a typed check-out time). */
export const FORGOTTEN_AFTER_S = 14 * 3600;

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const distanceTo = (location, village) =>
  (location && village ? Math.round(distanceM(location, village)) : null);

/** Check in at `village` at `at` (the moment of the tap), with the location if there was one. */
export async function checkIn({ village, location, at, activity }) {
  visitChanged();
  const clientId = uuid();
  const body = { client_id: clientId, village_code: village.code, check_in: { at: isoAt(at) } };
  if (location) body.check_in.location = location;
  if (activity) body.activity = activity;
  state.openVisit = { client_id: clientId, village_code: village.code, village_name: village.name,
    radius_m: village.radius_m, at: body.check_in.at, location: location || null,
    distance_m: distanceTo(location, village), activity: activity || null,
    households: '', note: '', synced: false, flags: [] };
  await save('openVisit');
  await outbox.enqueue({ kind: 'check_in', path: '/visits', body, ref: clientId,
    label: { village: village.name, at: body.check_in.at } });
}

/** Check out of the open visit: now with a location, or (补签退) at a typed time. */
export async function checkOut({ location, at, manual = false }) {
  const visit = state.openVisit;
  if (!visit) return;
  visitChanged();
  const body = { at: isoAt(at) };
  if (location) body.location = location;
  if (manual) body.manual = true;
  const households = parseInt(visit.households, 10);
  if (Number.isFinite(households) && households >= 0) body.households = households;
  if (visit.note && visit.note.trim()) body.note = visit.note.trim();
  const village = villageByCode(visit.village_code);
  state.lastVisit = { ...visit, check_out_at: body.at, manual,
    check_out_distance_m: distanceTo(location, village), status: 'waiting' };
  state.openVisit = null;
  await save('openVisit', 'lastVisit');
  await outbox.enqueue({ kind: 'check_out', path: `/visits/${visit.client_id}/check-out`, body,
    ref: visit.client_id, label: { village: visit.village_name, at: body.at } });
}

/** Withdraw an accidental check-in. */
export async function withdrawOpenVisit() {
  const visit = state.openVisit;
  if (!visit) return;
  visitChanged();
  state.lastVisit = { ...visit, status: 'withdrawn' };
  state.openVisit = null;
  await save('openVisit', 'lastVisit');
  await outbox.enqueue({ kind: 'withdraw', path: `/visits/${visit.client_id}/withdraw`, body: {},
    ref: visit.client_id, label: { village: visit.village_name, at: visit.at } });
}

/** Move the open visit to another village of the township. */
export async function changeVillage(village) {
  const visit = state.openVisit;
  if (!visit || village.code === visit.village_code) return;
  visitChanged();
  state.openVisit = { ...visit, village_code: village.code, village_name: village.name,
    radius_m: village.radius_m, distance_m: distanceTo(visit.location, village) };
  await save('openVisit');
  await outbox.enqueue({ kind: 'village', path: `/visits/${visit.client_id}/village`,
    body: { village_code: village.code }, ref: visit.client_id,
    label: { village: village.name, at: visit.at } });
}

/** Keep what the person types about the open visit; it goes with the check-out. */
export async function noteOpenVisit(changes) {
  if (!state.openVisit) return;
  state.openVisit = { ...state.openVisit, ...changes };
  await kvSet('openVisit', state.openVisit);   // quietly: the person is still typing
}

/** Explain a flagged visit (one the server already has). */
export async function explain(visit, note) {
  await outbox.enqueue({ kind: 'explain', path: `/visits/${visit.id}/explain`, body: { note },
    ref: visit.client_id, label: { village: visit.village_name, at: visit.check_in.at } });
}

/** File a thematic report (secretaries). */
export async function fileReport({ reported_on: reportedOn, title, category, summary }) {
  const body = { client_id: uuid(), reported_on: reportedOn || dateKey(), title };
  if (category) body.category = category;
  if (summary) body.summary = summary;
  await outbox.enqueue({ kind: 'report', path: '/reports', body, ref: body.client_id,
    label: { title, at: body.reported_on } });
  return body.client_id;
}
