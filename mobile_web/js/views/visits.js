// 我的走访: a calendar of village days and the month's visits, with status and flags in words.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { state, months, monthKey, loadMonth } from '../store.js';
import * as field from '../field.js';
import { chip, entered, flagWords, shortHint, title, visitSummary } from './common.js';

let shown = null;            // {y, m}
const explaining = new Map(); // visit id -> draft explanation

/** Enter the screen (or move to another month): load what it shows. */
export function openMonth(y, m) {
  const now = fmt.cst();
  shown = { y: y || now.y, m: m || now.m };
  loadMonth(shown.y, shown.m);
}

export function visitsView() {
  if (!shown) openMonth();
  const { y, m } = shown;
  const visits = months.get(monthKey(y, m));
  const days = months.get(`days:${y}`) || [];
  return h('div', { class: 'screen visits' },
    title(t('my_visits')),
    monthSwitcher(y, m),
    calendar(y, m, days),
    waitingVisits(),
    visits === undefined ? h('p', { class: 'muted' }, t('loading'))
      : visits.length ? h('ul', { class: 'visit-list' }, visits.map(visitItem))
        : h('p', { class: 'muted' }, t('no_visits_month')));
}

function monthSwitcher(y, m) {
  const now = fmt.cst();
  const isCurrent = y === now.y && m === now.m;
  const step = (delta) => () => {
    const index = y * 12 + (m - 1) + delta;
    openMonth(Math.floor(index / 12), (index % 12) + 1);
  };
  return h('div', { class: 'month-switch' },
    h('button', { type: 'button', class: 'icon-button', 'aria-label': t('prev_month'),
      onclick: step(-1) }, '‹'),
    h('h3', { 'aria-live': 'polite' }, fmt.monthLabel(y, m)),
    h('button', { type: 'button', class: 'icon-button', 'aria-label': t('next_month'),
      disabled: isCurrent, onclick: step(1) }, '›'));
}

/** A month grid, Monday first: 1 day filled, half a day half-filled, each with its mark. */
function calendar(y, m, days) {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const first = new Date(Date.UTC(y, m - 1, 1));
  const lead = (first.getUTCDay() + 6) % 7;
  const count = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const today = fmt.dateKey();
  let total = 0;
  const cells = [];
  for (let i = 0; i < lead; i += 1) cells.push(h('li', { class: 'cal-cell empty', 'aria-hidden': 'true' }));
  for (let d = 1; d <= count; d += 1) {
    const key = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    const entry = byDate.get(key);
    const credit = entry ? entry.credit : 0;
    total += credit;
    const kind = credit >= 1 ? 'full' : credit > 0 ? 'half' : entry && entry.visits.length ? 'some' : 'none';
    const weekend = (lead + d - 1) % 7 >= 5;
    cells.push(h('li', { class: ['cal-cell', kind, weekend && 'weekend', key === today && 'today'] },
      h('span', { class: 'cal-day', 'aria-hidden': 'true' }, d),
      h('span', { class: 'cal-mark', 'aria-hidden': 'true' }, { full: '1', half: '½', some: '·' }[kind] || ''),
      h('span', { class: 'sr-only' }, t(`cal_${kind}`, { date: fmt.dayLabel(`${key}T12:00:00+08:00`) }))));
  }
  const weekdays = t('weekdays').split(',');
  return h('section', { class: 'card calendar', 'aria-labelledby': 'calendar-title' },
    h('div', { class: 'cal-head' }, h('h3', { id: 'calendar-title' }, t('calendar_title')),
      h('p', { class: 'cal-total' }, t('month_total', { n: fmt.number(total, 1) }))),
    h('div', { class: 'cal-wds', 'aria-hidden': 'true' }, weekdays.map((w) => h('span', {}, w))),
    h('ol', { class: 'cal-days' }, cells),
    h('p', { class: 'cal-legend' },
      h('span', { class: 'cal-key full', 'aria-hidden': 'true' }, '1'), t('legend_full'),
      h('span', { class: 'cal-key half', 'aria-hidden': 'true' }, '½'), t('legend_half'),
      h('span', { class: 'cal-key some', 'aria-hidden': 'true' }, '·'), t('legend_some')));
}

/** Check-ins still on the phone. */
function waitingVisits() {
  const items = state.outbox.filter((i) => i.kind === 'check_in');
  if (!items.length) return null;
  return h('ul', { class: 'visit-list' }, items.map((i) => h('li', { class: 'visit local' },
    h('div', { class: 'visit-head' }, h('strong', {}, i.label.village),
      chip(i.state === 'failed' ? 'failed' : 'waiting', t(i.state === 'failed' ? 'status_failed' : 'waiting_word'))),
    h('p', {}, `${fmt.dayLabel(i.label.at)} ${fmt.clock(i.label.at)}`))));
}

function visitItem(v) {
  const words = flagWords(v);
  return h('li', { class: 'visit', 'data-visit': v.id },
    visitSummary(v),
    words.length ? h('p', { class: 'flags' }, h('span', { 'aria-hidden': 'true' }, '⚑ '),
      words.join(' · ')) : null,
    v.explanation ? h('p', { class: 'quote' }, t('my_explanation'), v.explanation) : null,
    v.review_comment ? h('p', { class: 'quote' }, t('review_comment'), v.review_comment) : null,
    entered(v),
    v.check_out && v.status !== 'withdrawn' ? shortHint(visitSeconds(v)) : null,
    v.flags && v.flags.length && EXPLAINABLE.has(v.status) ? explainBox(v) : null);
}

// An explanation is for a visit still to be decided, or one turned down; not once it is approved.
const EXPLAINABLE = new Set(['open', 'pending_review', 'rejected']);

function visitSeconds(v) {
  return (new Date(v.check_out.at) - new Date(v.check_in.at)) / 1000;
}

function explainBox(v) {
  const queued = state.outbox.some((i) => i.kind === 'explain' && i.path === `/visits/${v.id}/explain`);
  if (queued) return h('p', { class: 'note' }, t('explain_waiting'));
  if (!explaining.has(v.id)) {
    return h('button', { type: 'button', class: 'secondary small',
      onclick: () => { explaining.set(v.id, v.explanation || ''); rerender(); } },
    v.explanation ? t('explain_edit') : t('explain'));
  }
  const id = `explain-${v.id}`;
  const area = h('textarea', { id, rows: 3, maxlength: 2000, value: explaining.get(v.id),
    oninput: (e) => explaining.set(v.id, e.target.value) });
  const send = async () => {
    const note = explaining.get(v.id).trim();
    if (!note) { area.focus(); return; }
    explaining.delete(v.id);
    await field.explain(v, note);
  };
  return h('div', { class: 'explain' },
    h('div', { class: 'field' }, h('label', { for: id }, t('explain_label')), area),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'primary', onclick: send }, t('explain_send')),
      h('button', { type: 'button', class: 'secondary',
        onclick: () => { explaining.delete(v.id); rerender(); } }, t('cancel'))));
}

function rerender() {
  document.dispatchEvent(new CustomEvent('zaicun:render'));
}
