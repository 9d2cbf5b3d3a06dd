// Pieces several screens share: status chips, flags in plain words, progress cards.
import { h } from '../dom.js';
import { t, getLang } from '../i18n.js';
import * as fmt from '../format.js';
import { state } from '../store.js';
import { calendarDaysLeft, explainResult, isReachable } from '../explain.js';

// Every status has a word and a mark, never a colour alone.
const TONES = {
  met: ['good', '✓'], on_track: ['good', '✓'], at_risk: ['warn', '!'], behind: ['bad', '↓'],
  missed: ['bad', '✕'],
  open: ['info', '●'], verified: ['good', '✓'], approved: ['good', '✓'],
  pending_review: ['warn', '!'], rejected: ['bad', '✕'], withdrawn: ['muted', '–'],
  waiting: ['info', '↻'], failed: ['bad', '✕'],
  submitted: ['info', '●'], acknowledged: ['good', '✓'], outside: ['warn', '!'],
  sending: ['info', '↻'],
};

/** A status as a chip: mark + word, coloured by tone. */
export function chip(status, word) {
  const [tone, mark] = TONES[status] || ['muted', '•'];
  return h('span', { class: `chip chip-${tone}` },
    h('span', { class: 'chip-mark', 'aria-hidden': 'true' }, mark),
    word || t(`status_${status}`));
}

/** A visit's first lines: the village and its status, then the day, times and length. */
export function visitSummary(v) {
  const out = v.check_out ? v.check_out.at : null;
  const seconds = out ? (new Date(out) - new Date(v.check_in.at)) / 1000 : null;
  return [
    h('div', { class: 'visit-head' }, h('strong', {}, v.village_name), chip(v.status)),
    h('p', {}, fmt.dayLabel(v.check_in.at), ' ', fmt.clock(v.check_in.at), '–',
      out ? fmt.clock(out) : t('not_checked_out'),
      seconds != null ? [' · ', h('span', { class: 'muted nowrap' }, fmt.duration(seconds))] : null),
  ];
}

/** What the person entered about a visit: households and the note (none: nothing shown). */
export function entered(v) {
  const households = v.households === '' || v.households == null ? null : Number(v.households);
  const note = v.note && String(v.note).trim();
  if (!Number.isFinite(households) && !note) return null;
  return h('p', { class: 'visit-entered' },
    Number.isFinite(households) ? h('span', { class: 'households' }, t('entered_households', { n: households })) : null,
    Number.isFinite(households) && note ? ' · ' : null,
    note ? h('span', { class: 'visit-note' }, t('entered_note', { note })) : null);
}

/** A visit under 3 hours earns no village day by itself (RULES.md §2): say so. */
export function shortHint(seconds) {
  if (seconds == null || seconds >= 10800) return null;
  return h('p', { class: 'visit-short' }, t('short_visit_hint'));
}

/** A visit's flags in plain words (the distance spelled out for "outside the village"). */
export function flagWords(visit) {
  return (visit.flags || []).map((flag) => {
    if (flag === 'outside_geofence' && visit.distance_m != null) {
      return t('flag_outside_geofence_at', { d: fmt.distance(visit.distance_m) });
    }
    return t(`flag_${flag}`);
  });
}

const UNITS = { days: 'unit_days', hours: 'unit_hours', visits: 'unit_times',
  households: 'unit_households', reports: 'unit_times', share: 'unit_percent' };

/** A rule's number with its unit: "38.5 天", "60 %". */
export function quantity(value, measure, digits = 2) {
  const shown = measure === 'share' && value != null ? value * 100 : value;
  return t('quantity', { n: fmt.number(shown, measure === 'share' ? 0 : digits),
    unit: t(UNITS[measure] || 'unit_none') }).trim();
}

/** The rule's title in the UI's language (from /rules; the result's own title otherwise). */
export function ruleTitle(result) {
  const rule = state.rules && state.rules.rules.find((r) => r.id === result.rule_id);
  if (!rule) return result.title;
  return getLang() === 'en' ? rule.title_en || rule.title : rule.title_zh || rule.title;
}

/** The day a result is computed for: its own `as_of`, the phone's last answer's, else today. */
function asOfOf(r) {
  return r.as_of || (state.compliance && state.compliance.as_of) || fmt.dateKey();
}

/** What is still needed, in words: "还需 44.17 天，约每周 1.2 天"; or that it can no longer be met. */
export function paceLine(r) {
  if (r.status === 'met') return t('pace_met');
  if (r.status === 'missed') return t('pace_missed');
  if (r.remaining == null || r.remaining <= 0) return null;
  const remaining = quantity(r.remaining, r.measure);
  if (!isReachable(r, asOfOf(r))) {
    return t('pace_unreachable', { remaining, days: calendarDaysLeft(r, asOfOf(r)) ?? '–' });
  }
  if (r.pace_per_working_day == null) return t('pace_remaining', { remaining });
  if (r.measure === 'days' || r.measure === 'hours') {
    const weekly = r.pace_per_working_day * 5;
    return t(r.measure === 'days' && weekly > 5 ? 'pace_weekends' : 'pace_weekly',
      { remaining, weekly: quantity(weekly, r.measure, 1) });
  }
  return t('pace_working_days', { remaining, days: r.remaining_working_days });
}

/** The tone of a status ('good', 'warn', 'bad', …), for what is coloured by it. */
export const tone = (status) => (TONES[status] || ['muted'])[0];

/** 怎么算的: the lines of explainResult, behind a tap. */
export function explanation(r) {
  const lines = explainResult(r, t, asOfOf(r));
  if (!lines.length) return null;
  return h('details', { class: 'explain-result' },
    h('summary', {}, t('explain_show')),
    h('ul', { class: 'explain-lines' }, lines.map((line) => h('li', {}, line))));
}

/** A progress card for one rule result. */
export function ruleCard(r) {
  const target = r.target || 0;
  const pct = (v) => `${Math.max(0, Math.min(100, target ? (v / target) * 100 : 0)).toFixed(1)}%`;
  const bar = h('div', { class: `bar bar-${tone(r.status)}`, role: 'img', 'aria-label': t('bar_label', {
    actual: quantity(r.actual, r.measure), target: quantity(r.target, r.measure),
    expected: quantity(r.expected_to_date, r.measure) }) },
  h('span', { class: 'bar-fill' }), h('span', { class: 'bar-expected' }));
  bar.style.setProperty('--done', pct(r.actual));
  bar.style.setProperty('--expected', pct(r.expected_to_date));
  const pace = paceLine(r);
  const unreachable = r.status !== 'met' && r.status !== 'missed' && !isReachable(r, asOfOf(r));
  return h('section', { class: 'card rule', 'data-rule': r.rule_id },
    h('div', { class: 'rule-head' }, h('h3', {}, ruleTitle(r)), chip(r.status)),
    h('p', { class: 'rule-figure' },
      h('strong', {}, fmt.number(r.actual, 2)), ' / ', quantity(r.target, r.measure)),
    bar,
    h('p', { class: 'rule-expected' },
      t('expected_by_today', { n: quantity(r.expected_to_date, r.measure) }),
      r.calendar === 'estimated' ? h('span', { class: 'hint' }, ' ', t('calendar_estimated')) : null),
    pace ? h('p', { class: unreachable ? 'rule-pace unreachable' : 'rule-pace',
      role: unreachable ? 'alert' : null }, pace) : null,
    explanation(r));
}

/** "更新于 3月2日 08:30" when the numbers may be old. */
export function updatedNote() {
  if (!state.updatedAt) return null;
  const stale = state.reachable === false;
  return h('p', { class: stale ? 'note stale' : 'note' },
    t(stale ? 'updated_offline' : 'updated_at',
      { when: `${fmt.dayLabel(state.updatedAt)} ${fmt.clock(state.updatedAt)}` }));
}

/** The page title of a screen, focusable so screen readers land on it. */
export const title = (text, ...more) => h('h2', { class: 'screen-title', tabindex: '-1' }, text, ...more);

// A js/later/ module, imported when needed; a retry asks a fresh address (failures stick).
export function later(file, name, waiting = () => null) {
  let got = null;
  let pending = null;
  let tries = 0;
  let wanted = false;   // drawn before it came (a prefetch redraws nothing)
  const load = () => {
    pending = pending || import(new URL(`../later/${file}${tries ? `?try=${tries}` : ''}`, import.meta.url))
      .then((module) => {
        got = module[name];
        if (wanted) document.dispatchEvent(new CustomEvent('zaicun:render'));
      }, () => { tries += 1; pending = null; });
    return pending;
  };
  const draw = (...args) => (got ? got(...args) : (wanted = true, load(), waiting()));
  draw.load = load;
  return draw;
}
