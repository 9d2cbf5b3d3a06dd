// 专题汇报 (secretaries): file a thematic report, see this year's and the count against target.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { state } from '../store.js';
import * as field from '../field.js';
import { chip, later, ruleCard, title } from './common.js';

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
    rectificationCard(rerender),
    form(),
    list());
}

// 整改 (the township's critique points): a module of js/later/, drawn once it has loaded.
const rectificationCard = later('rectifications.js', 'rectifications');

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
