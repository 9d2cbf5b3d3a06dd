// 专题汇报 (secretaries): file a thematic report, see this year's and the count against target.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { state } from '../store.js';
import * as field from '../field.js';
import { chip, ruleCard, title } from './common.js';

const CATEGORIES = ['rural', 'urban', 'other'];
const blank = () => ({ reported_on: fmt.dateKey(), title: '', category: '', summary: '' });
let draft = blank();
let message = null;

export function reportsView() {
  const results = ((state.compliance && state.compliance.rules) || [])
    .filter((r) => r.measure === 'reports');
  return h('div', { class: 'screen reports' },
    title(t('reports_title')),
    results.map(ruleCard),
    rectifications(),
    form(),
    list());
}

// 整改: the township's critique points, each with its notes and a note to add (kept on the
// phone and sent like every other write: the outbox, idempotent by client_id).
const notes = {};   // drafts by item id: {text, claim, error}

function rectifications() {
  const items = state.rectifications;
  if (!items) return null;
  const open = items.filter((i) => i.status !== 'done');
  return h('section', { class: 'card rectifications', 'aria-labelledby': 'rect-title' },
    h('h3', { id: 'rect-title' }, t('rect_title')),
    h('p', { class: 'hint' }, t('rect_hint')),
    open.length ? h('ol', { class: 'rect-list' }, open.map(rectification))
      : h('p', { class: 'muted' }, t('rect_none')));
}

function rectification(item) {
  const draft = notes[item.id] || (notes[item.id] = { text: '', claim: false, error: '' });
  const queued = state.outbox.filter((i) => i.kind === 'rect_note' && i.ref === `rectification-${item.id}`);
  const submit = async (event) => {
    event.preventDefault();
    if (!draft.text.trim()) { draft.error = t('rect_need_note'); rerender(); return; }
    const { text, claim } = draft;
    notes[item.id] = { text: '', claim: false, error: '' };
    await field.rectificationNote(item, text.trim(), claim);
    rerender();
  };
  const id = `rect-${item.id}`;
  return h('li', { class: 'rect-item', 'data-item': item.id, 'data-status': item.status },
    h('div', { class: 'visit-head' }, h('strong', {}, item.title),
      h('span', { class: 'tag' }, t(`rect_status_${item.status}`))),
    h('p', { class: 'muted' }, t('rect_year', { year: item.year }),
      item.due ? ` · ${t('rect_due', { date: fmt.dayLabel(`${item.due}T12:00:00+08:00`) })}` : ''),
    item.detail ? h('p', {}, item.detail) : null,
    item.notes.length ? h('ul', { class: 'rect-notes' }, item.notes.map((n) => h('li', {},
      `${fmt.dayLabel(n.at)} ${n.by}`, n.note ? `：${n.note}` : ''))) : null,
    queued.length ? h('ul', { class: 'rect-notes' }, queued.map((q) => h('li', { class: q.state === 'failed' ? 'error' : 'muted' },
      t(q.state === 'failed' ? 'rect_failed' : 'rect_waiting', { note: q.body.note })))) : null,
    h('form', { class: 'rect-form', onsubmit: submit, novalidate: true },
      h('div', { class: 'field' }, h('label', { for: `${id}-note` }, t('rect_note_label')),
        h('textarea', { id: `${id}-note`, rows: 2, maxlength: 2000, value: draft.text,
          oninput: (e) => { draft.text = e.target.value; } })),
      h('label', { class: 'check', for: `${id}-claim` },
        h('input', { type: 'checkbox', id: `${id}-claim`, checked: draft.claim,
          onchange: (e) => { draft.claim = e.target.checked; } }), ' ', t('rect_claim')),
      draft.error ? h('p', { class: 'error', role: 'alert' }, draft.error) : null,
      h('button', { type: 'submit', class: 'secondary' }, t('rect_submit'))));
}

function input(name, props) {
  return h(props.tag || 'input', { id: `report-${name}`, name, value: draft[name],
    oninput: (e) => { draft[name] = e.target.value; }, ...props, tag: null });
}

function form() {
  const submit = async (event) => {
    event.preventDefault();
    if (!draft.title.trim()) { message = { error: t('report_need_title') }; rerender(); return; }
    if (draft.reported_on > fmt.dateKey()) { message = { error: t('report_future') }; rerender(); return; }
    const filed = { ...draft, title: draft.title.trim(), summary: draft.summary.trim() };
    draft = blank();
    message = { ref: null };
    message.ref = await field.fileReport(filed);
    rerender();
  };
  return h('form', { class: 'card report-form', onsubmit: submit, novalidate: true },
    h('h3', {}, t('report_new')),
    h('div', { class: 'field' }, h('label', { for: 'report-reported_on' }, t('report_date')),
      input('reported_on', { type: 'date', max: fmt.dateKey(), required: true })),
    h('div', { class: 'field' }, h('label', { for: 'report-title' }, t('report_title_label')),
      input('title', { type: 'text', maxlength: 200, required: true })),
    h('div', { class: 'field' }, h('label', { for: 'report-category' }, t('report_category')),
      h('select', { id: 'report-category', onchange: (e) => { draft.category = e.target.value; } },
        h('option', { value: '' }, t('report_category_none')),
        CATEGORIES.map((c) => h('option', { value: c, selected: draft.category === c },
          t(`category_${c}`))))),
    h('div', { class: 'field' }, h('label', { for: 'report-summary' }, t('report_summary')),
      input('summary', { tag: 'textarea', rows: 4, maxlength: 5000 })),
    message ? filedNote() : null,
    h('button', { type: 'submit', class: 'primary wide' }, t('report_submit')));
}

const offline = () => !navigator.onLine || state.reachable === false;

/** After 提交汇报: sent, on its way, or kept on the phone until there is signal. */
function filedNote() {
  if (message.error) return h('p', { class: 'error', role: 'status' }, message.error);
  const item = message.ref ? state.outbox.find((i) => i.ref === message.ref) : null;
  if (item && item.state === 'failed') {
    return h('p', { class: 'error', role: 'status' }, t('report_failed'));
  }
  if (item || !message.ref) {
    return h('p', { class: offline() ? 'notice warn' : 'notice info', role: 'status' },
      t(offline() ? 'report_saved' : 'report_sending'));
  }
  return h('p', { class: 'notice good', role: 'status' }, t('report_sent'));
}

function list() {
  const local = state.outbox.filter((i) => i.kind === 'report');
  const filed = state.reports || [];
  return h('section', { 'aria-labelledby': 'reports-list' },
    h('h3', { class: 'section-title', id: 'reports-list' }, t('reports_this_year')),
    !local.length && !filed.length ? h('p', { class: 'muted' }, t('no_reports')) : null,
    h('ul', { class: 'report-list' },
      local.map((i) => (i.state === 'failed' ? item(i.body, 'failed', t('status_failed'))
        : item(i.body, offline() ? 'waiting' : 'sending', t(offline() ? 'waiting_word' : 'sending_word')))),
      filed.map((r) => item(r, r.status))));
}

function item(r, status, word) {
  return h('li', { class: 'report' },
    h('div', { class: 'visit-head' }, h('strong', {}, r.title), chip(status, word)),
    h('p', { class: 'muted' }, fmt.dayLabel(`${r.reported_on}T12:00:00+08:00`),
      r.category ? ` · ${t(`category_${r.category}`)}` : ''),
    r.review_comment ? h('p', { class: 'quote' }, t('review_comment'), r.review_comment) : null);
}

function rerender() {
  document.dispatchEvent(new CustomEvent('zaicun:render'));
}
