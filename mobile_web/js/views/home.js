// 我的进度: the check-in button or the open visit, then this year's progress.
import { h } from '../dom.js';
import { t, getLang } from '../i18n.js';
import * as fmt from '../format.js';
import { state, villageChoices, refresh } from '../store.js';
import * as field from '../field.js';
import { pickVillage as choose } from '../geo.js';
import * as dialogs from './dialogs.js';
import { icon } from '../icons.js';
import { chip, entered, flagWords, ruleCard, shortHint, updatedNote } from './common.js';

let activity = '';   // chosen before the tap, optional
let busy = false;    // one check-in or check-out at a time

export function homeView() {
  return h('div', { class: 'screen home' },
    greeting(),
    state.openVisit ? openVisitCard(state.openVisit) : withoutPost() ? noPostCard() : startCard(),
    state.lastVisit && !state.openVisit ? lastVisitCard(state.lastVisit) : null,
    progress());
}

function greeting() {
  const me = state.me || {};
  const user = (state.session && state.session.user) || {};
  return h('div', { class: 'greeting' },
    h('p', { class: 'greeting-name' }, user.name || '',
      me.unit ? h('span', { class: 'greeting-unit' }, ` · ${me.unit.name}`) : null),
    h('p', { class: 'greeting-date' }, fmt.dayLabel(new Date())));
}

/** No cadre or secretary post today (RULES.md §8): the server would refuse a check-in. */
function withoutPost() {
  const me = state.me;
  return Boolean(me && 'post' in me && (me.post === null || !['cadre', 'secretary'].includes(me.post.role)));
}

function noPostCard() {
  return h('section', { class: 'card start no-post', 'aria-labelledby': 'no-post-title' },
    h('h2', { class: 'section-title', id: 'no-post-title' }, t('no_post_title')),
    h('p', {}, t('no_post_text')));
}

function startCard() {
  const activities = (state.rules && state.rules.activities) || [];
  const select = h('select', { id: 'activity', onchange: (e) => { activity = e.target.value; } },
    h('option', { value: '' }, t('activity_none')),
    activities.map((a) => h('option', { value: a.id, selected: a.id === activity },
      getLang() === 'en' ? a.en : a.zh)));
  return h('section', { class: 'card start', 'aria-label': t('check_in') },
    h('button', { type: 'button', class: 'primary huge', id: 'check-in', onclick: startCheckIn },
      icon('pin', 'button-icon'), t('check_in')),
    h('p', { class: 'hint center' }, t('check_in_hint')),
    h('details', { class: 'extra', id: 'activity-details' },
      h('summary', {}, t('activity_optional')),
      h('div', { class: 'field' }, h('label', { for: 'activity' }, t('activity')), select)));
}

function openVisitCard(v) {
  const seconds = field.openSeconds(v);
  const forgotten = seconds > field.FORGOTTEN_AFTER_S;
  return h('section', { class: 'card open-visit', 'aria-labelledby': 'open-village' },
    h('p', { class: 'eyebrow' }, placeChip(v)),
    h('h2', { class: 'village-title', id: 'open-village' }, v.village_name),
    h('p', { class: 'timer' }, h('span', {}, t('time_in_village')), ' ',
      h('time', { 'data-timer-since': v.at }, fmt.timer(seconds))),
    h('p', { class: 'meta' }, t('checked_in_at', { at: fmt.dateKey(v.at) === fmt.dateKey()
      ? fmt.clock(v.at) : `${fmt.dayLabel(v.at)} ${fmt.clock(v.at)}` }),
      v.location ? [' · ', t('distance_to_village', { d: fmt.distance(v.distance_m) }),
        ' · ', t('accuracy', { n: fmt.number(v.location.accuracy_m, 0) })] : null),
    geofenceNote(v),
    forgotten ? h('div', { class: 'notice warn', role: 'alert' },
      h('p', {}, t('forgotten_text')),
      h('button', { type: 'button', class: 'primary', onclick: manualCheckOut }, t('manual_check_out')))
      : null,
    h('button', { type: 'button', class: forgotten ? 'secondary huge' : 'primary huge',
      id: 'check-out', onclick: checkOut }, icon('exit', 'button-icon'), t('check_out')),
    details(v),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'secondary', onclick: changeVillage }, t('change_village')),
      h('button', { type: 'button', class: 'secondary', onclick: withdraw }, t('withdraw'))),
    h('div', { class: 'elsewhere' },
      h('p', { class: 'hint' }, t('elsewhere_hint')),
      h('button', { type: 'button', class: 'secondary', id: 'check-in', onclick: startCheckIn },
        t('check_in'))));
}

const outside = (v) => Boolean(v.location) && v.radius_m != null && v.distance_m != null
  && v.distance_m > v.radius_m;

/** Where the phone says the person is: 在村中 only when it was read inside the radius. */
function placeChip(v) {
  if (!v.location) return chip('open', t('checked_in_no_location'));
  if (outside(v)) return chip('outside', t('outside_chip'));
  return chip('open', t('in_village'));
}

/** Inside the radius, outside it (it still counts once reviewed), or no location. */
function geofenceNote(v) {
  if (!v.location) return h('p', { class: 'notice info' }, t('no_location_note'));
  if (outside(v)) {
    return h('p', { class: 'notice warn', role: 'alert' }, h('strong', {}, '⚠ '),
      t('outside_warning', { d: fmt.distance(v.distance_m), r: fmt.distance(v.radius_m) }));
  }
  if (v.location.accuracy_m > 500) {
    return h('p', { class: 'notice warn', role: 'alert' }, '⚠ ', t('low_accuracy_warning'));
  }
  return h('p', { class: 'notice good' }, '✓ ', t('inside_note'));
}

function details(v) {
  const households = h('input', { id: 'households', type: 'number', min: '0', max: '10000',
    inputmode: 'numeric', value: v.households || '',
    oninput: (e) => field.noteOpenVisit({ households: e.target.value }) });
  const note = h('textarea', { id: 'visit-note', rows: 3, maxlength: 2000, value: v.note || '',
    oninput: (e) => field.noteOpenVisit({ note: e.target.value }) });
  return h('details', { class: 'extra', id: 'visit-details', open: Boolean(v.households || v.note) },
    h('summary', {}, t('details_optional')),
    h('div', { class: 'field' }, h('label', { for: 'households' }, t('households')), households),
    h('div', { class: 'field' }, h('label', { for: 'visit-note' }, t('note')), note),
    h('p', { class: 'hint' }, t('details_hint')));
}

function lastVisitCard(v) {
  const status = v.status || 'waiting';
  const span = v.check_out_at ? `${fmt.clock(v.at)}–${fmt.clock(v.check_out_at)}` : fmt.clock(v.at);
  const words = flagWords(v);
  const seconds = v.check_out_at ? (new Date(v.check_out_at) - new Date(v.at)) / 1000 : null;
  return h('section', { class: 'card last-visit', 'aria-label': t('last_visit') },
    h('div', { class: 'row spread' },
      h('p', {}, h('span', { class: 'muted' }, t('last_visit'), ' '),
        h('strong', {}, v.village_name), ' ', span),
      chip(status)),
    status === 'pending_review' ? h('p', { class: 'hint' }, t('pending_hint')) : null,
    status === 'rejected' ? h('p', { class: 'hint' }, t('rejected_hint')) : null,
    v.review_comment ? h('p', { class: 'quote' }, t('review_comment'), v.review_comment) : null,
    words.length ? h('p', { class: 'flags' }, words.join(' · ')) : null,
    entered(v),
    status !== 'withdrawn' ? shortHint(seconds) : null);
}

function progress() {
  const results = (state.compliance && state.compliance.rules) || [];
  const year = state.compliance ? state.compliance.year : fmt.cst().y;
  return h('section', { class: 'progress', 'aria-labelledby': 'progress-title' },
    h('h2', { class: 'section-title', id: 'progress-title' }, t('my_progress', { year })),
    results.length ? results.map(ruleCard) : h('p', { class: 'muted' },
      state.compliance ? t('no_rules') : t(state.loading ? 'loading' : 'progress_unknown')),
    state.outbox.some((i) => i.state === 'waiting' && i.kind !== 'report')
      ? h('p', { class: 'note' }, t('progress_after_sync')) : null,
    updatedNote());
}

// --- actions ---------------------------------------------------------------------------------

async function once(action) {
  if (busy) return;
  busy = true;
  try { await action(); } finally { busy = false; }
}

function startCheckIn() {
  return once(async () => {
    if (state.openVisit) {
      const v = state.openVisit;
      if (field.openSeconds(v) > field.FORGOTTEN_AFTER_S) {
        const ok = await dialogs.confirm(t('still_open_title'),
          t('still_open_forgotten', { village: v.village_name }), t('manual_check_out'));
        if (ok) await doManualCheckOut();
        return;
      }
      const ok = await dialogs.confirm(t('still_open_title'),
        t('still_open_text', { village: v.village_name }), t('check_out_then_in'));
      if (!ok || !(await doCheckOut())) return;
    }
    await doCheckIn();
  });
}

async function doCheckIn() {
  if (!villageChoices().length) await refresh();   // just logged in: the list may be on its way
  const villages = villageChoices();
  if (!villages.length) {
    await dialogs.inform(t('check_in'), t('no_villages'));
    return;
  }
  const at = new Date();
  const fix = await dialogs.locate('check_in');
  if (!fix) return;
  const linked = villages.filter((v) => v.linked);
  let village = choose(fix.location, linked, villages);
  if (!fix.location && !village) {
    village = await dialogs.pickVillage(villages, null, null, t(`locate_failed_${fix.reason}`));
  }
  if (!village) return;
  await field.checkIn({ village, location: fix.location, at, activity });
  activity = '';
}

function checkOut() {
  return once(doCheckOut);
}

async function doCheckOut() {
  const at = new Date();
  const fix = await dialogs.locate('check_out');
  if (!fix) return false;
  await field.checkOut({ location: fix.location, at });
  return true;
}

function manualCheckOut() {
  return once(doManualCheckOut);
}

async function doManualCheckOut() {
  const at = await dialogs.askCheckOutTime(state.openVisit);
  if (at) await field.checkOut({ at, manual: true });
}

async function changeVillage() {
  const v = state.openVisit;
  if (!v) return;
  const village = await dialogs.pickVillage(villageChoices(), v.location, v.village_code);
  if (village) await field.changeVillage(village);
}

async function withdraw() {
  const v = state.openVisit;
  if (!v) return;
  const ok = await dialogs.confirm(t('withdraw_title'), t('withdraw_text', { village: v.village_name }),
    t('withdraw'), { danger: true });
  if (ok) await field.withdrawOpenVisit();
}

