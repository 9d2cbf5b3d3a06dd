// Thematic reports in scope for a year: acknowledge (确认) or reject with a reason (supervisors),
// and record a report a secretary gave in person (supervisors, for a secretary in scope).
// Listed as the server gives them: newest report date first.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as fmt from '../js/format.js';
import { chip, title } from '../js/views/common.js';
import { bound, busy, day, load, newClientId, notice, peopleInScope, personPicker, problem, send,
  yearPicker } from './work.js';

addWords({
  'zh-CN': {
    creports_title: '专题汇报',
    creports_acknowledge: '确认',
    creports_reject: '驳回',
    creports_comment: '意见（驳回须填写）',
    creports_need_comment: '请填写驳回理由。',
    creports_done_acknowledge: '已确认：{title}',
    creports_done_reject: '已驳回：{title}',
    creports_none: '这一年没有专题汇报。',
    creports_by: '{name} · {date}',
    creports_recorded_by_other: '由组织部代为登记',
    creports_record: '代书记登记汇报',
    creports_record_hint: '书记当面汇报、没有在手机上提交时，由组织部登记。',
    creports_secretary: '书记',
    creports_pick_secretary: '请选择书记。',
    creports_recorded: '已登记：{title}',
    creports_comment_shown: '审核意见：',
    creports_counts: '计入',
    creports_not_counted: '不计入',
  },
  en: {
    creports_title: 'Thematic reports',
    creports_acknowledge: 'Acknowledge',
    creports_reject: 'Reject',
    creports_comment: 'Comment (needed to reject)',
    creports_need_comment: 'Write why the report is rejected.',
    creports_done_acknowledge: 'Acknowledged: {title}',
    creports_done_reject: 'Rejected: {title}',
    creports_none: 'No thematic reports this year.',
    creports_by: '{name} · {date}',
    creports_recorded_by_other: 'recorded by the county',
    creports_record: 'Record a report given by a secretary',
    creports_record_hint: 'When a secretary reported in person and did not file it on the phone.',
    creports_secretary: 'Secretary',
    creports_pick_secretary: 'Choose the secretary.',
    creports_recorded: 'Recorded: {title}',
    creports_comment_shown: 'Review comment: ',
    creports_counts: 'counts',
    creports_not_counted: 'does not count',
  },
});

const CATEGORIES = ['rural', 'urban', 'other'];
const blank = () => ({ client_id: newClientId(), user_id: '', reported_on: fmt.dateKey(), title: '',
  category: '', summary: '' });
let draft = blank();
const comments = new Map();
const note = notice();
const formNote = notice();

export async function render(ctx) {
  if (ctx.fresh) { note.clear(); formNote.clear(); }
  const year = Number(ctx.query.get('year')) || fmt.cst().y;
  const userId = ctx.query.get('user_id') || '';
  const supervisor = ctx.user.role === 'supervisor';
  const query = new URLSearchParams({ year });
  if (userId) query.set('user_id', userId);
  const [reports, secretaries] = await Promise.all([
    load(`/reports?${query}`), peopleInScope(['secretary'])]);
  return h('div', { class: 'work creports' },
    title(t('creports_title')),
    h('div', { class: 'work-filters' },
      yearPicker('creports-year', year, (y) => ctx.go({ year: y })),
      personPicker('creports-person', secretaries, userId, (id) => ctx.go({ user_id: id }))),
    note.node(),
    reports.length
      ? h('ul', { class: 'creports-list' }, reports.map((r) => item(ctx, r, supervisor)))
      : h('p', { class: 'muted' }, t('creports_none')),
    supervisor ? recordForm(ctx, secretaries) : null);
}

function item(ctx, r, supervisor) {
  const id = String(r.id);
  const error = h('p', { class: 'error', role: 'alert' });
  const decide = (decision) => async (event) => {
    const comment = (comments.get(id) || '').trim();
    error.textContent = '';
    if (decision === 'reject' && !comment) { error.textContent = t('creports_need_comment'); return; }
    const res = await busy(event.currentTarget, () => send('POST', `/reports/${id}/review`,
      { decision, ...(comment ? { comment } : {}) }));
    if (!res.ok) { error.textContent = problem(res); return; }
    comments.delete(id);
    note.set('ok', t(`creports_done_${decision}`, { title: r.title }));
    ctx.refresh();
  };
  const open = supervisor && r.status === 'submitted';
  return h('li', { class: 'card creports-item', 'data-report-id': id },
    h('div', { class: 'review-head' }, h('strong', {}, r.title), chip(r.status)),
    h('p', { class: 'muted' },
      t('creports_by', { name: r.user_name, date: day(r.reported_on) }),
      r.category ? ` · ${t(`category_${r.category}`)}` : '',
      ` · ${t(r.counts ? 'creports_counts' : 'creports_not_counted')}`,
      r.created_by_id !== r.user_id ? ` · ${t('creports_recorded_by_other')}` : ''),
    r.summary ? h('p', { class: 'creports-summary' }, r.summary) : null,
    r.review_comment ? h('p', { class: 'quote' }, t('creports_comment_shown'), r.review_comment) : null,
    open ? h('div', { class: 'field' }, h('label', { for: `creports-comment-${id}` }, t('creports_comment')),
      h('textarea', { id: `creports-comment-${id}`, rows: 2, maxlength: 2000, value: comments.get(id) || '',
        oninput: (e) => comments.set(id, e.target.value) })) : null,
    open ? error : null,
    open ? h('div', { class: 'row' },
      h('button', { type: 'button', class: 'primary small', 'data-decision': 'acknowledge',
        onclick: decide('acknowledge') }, t('creports_acknowledge')),
      h('button', { type: 'button', class: 'danger small', 'data-decision': 'reject',
        onclick: decide('reject') }, t('creports_reject'))) : null);
}

function recordForm(ctx, secretaries) {
  const submit = async (event) => {
    event.preventDefault();
    if (!draft.user_id) { formNote.set('error', t('creports_pick_secretary')); return; }
    if (!draft.title.trim()) { formNote.set('error', t('report_need_title')); return; }
    const body = { client_id: draft.client_id, user_id: Number(draft.user_id),
      reported_on: draft.reported_on, title: draft.title.trim() };
    if (draft.category) body.category = draft.category;
    if (draft.summary.trim()) body.summary = draft.summary.trim();
    const res = await busy(event.submitter, () => send('POST', '/reports', body));
    if (!res.ok) { formNote.set('error', problem(res)); return; }
    draft = blank();
    formNote.set('ok', t('creports_recorded', { title: res.data.title }));
    ctx.refresh();
  };
  return h('form', { class: 'card creports-record', onsubmit: submit, novalidate: true },
    h('h3', {}, t('creports_record')),
    h('p', { class: 'hint' }, t('creports_record_hint')),
    personPicker('creports-record-person', secretaries, draft.user_id,
      (id) => { draft.user_id = id; }, { label: t('creports_secretary'), blank: '' }),
    bound(draft, 'reported_on', t('report_date'), { id: 'creports-date', type: 'date', max: fmt.dateKey() }),
    bound(draft, 'title', t('report_title_label'), { id: 'creports-title', maxlength: 200 }),
    bound(draft, 'category', t('report_category'), { id: 'creports-category', tag: 'select',
      options: [['', t('report_category_none')], ...CATEGORIES.map((c) => [c, t(`category_${c}`)])] }),
    bound(draft, 'summary', t('report_summary'), { id: 'creports-summary', tag: 'textarea', rows: 3,
      maxlength: 5000 }),
    formNote.node(),
    h('button', { type: 'submit', class: 'primary' }, t('report_submit')));
}
