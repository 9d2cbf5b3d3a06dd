// 请假: absences in scope for a year (leave, training, official duty), entered for a person and
// approved as entered (RULES.md §4), and withdrawn when entered by mistake. With one person
// chosen, their results are shown beside the list, so the effect of an absence is visible.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as fmt from '../js/format.js';
import { chip, quantity, ruleTitle, title } from '../js/views/common.js';
import { confirm } from '../js/views/dialogs.js';
import { bound, busy, day, load, notice, peopleInScope, personPicker, problem, send,
  yearPicker } from './work.js';

addWords({
  'zh-CN': {
    absences_title: '请假与公务',
    kind_leave: '请假',
    kind_training: '培训',
    kind_official_duty: '公务外出',
    absences_none: '这一年没有记录。',
    absences_span: '{start} 至 {end}',
    absences_counts: '视同在村',
    absences_withdraw: '撤回',
    absences_withdraw_title: '撤回这条记录？',
    absences_withdraw_text: '{name}：{kind}，{span}。撤回后这些工作日重新计入应在村天数。',
    absences_withdrawn: '已撤回。',
    absences_new: '登记请假、培训或公务',
    absences_kind: '类别',
    absences_start: '开始日期',
    absences_end: '结束日期',
    absences_counts_label: '公务视同在村（每个工作日计 1 个在村天）',
    absences_note: '备注（选填）',
    absences_submit: '登记',
    absences_saved: '已登记：{name} {span}',
    absences_need_person: '请选择人员。',
    absences_need_dates: '请填写开始和结束日期。',
    absences_person_results: '{name} 的进度',
    absences_result: '{actual} / {target}，截至统计日应完成 {expected}',
  },
  en: {
    absences_title: 'Absences',
    kind_leave: 'Leave',
    kind_training: 'Training',
    kind_official_duty: 'Official duty',
    absences_none: 'Nothing recorded this year.',
    absences_span: '{start} to {end}',
    absences_counts: 'counts as village work',
    absences_withdraw: 'Withdraw',
    absences_withdraw_title: 'Withdraw this absence?',
    absences_withdraw_text: '{name}: {kind}, {span}. Its working days count again.',
    absences_withdrawn: 'Withdrawn.',
    absences_new: 'Enter leave, training or official duty',
    absences_kind: 'Kind',
    absences_start: 'First day',
    absences_end: 'Last day',
    absences_counts_label: 'Counts as village work (1 village day per working day)',
    absences_note: 'Note (optional)',
    absences_submit: 'Enter',
    absences_saved: 'Entered: {name} {span}',
    absences_need_person: 'Choose the person.',
    absences_need_dates: 'Enter the first and the last day.',
    absences_person_results: 'Progress of {name}',
    absences_result: '{actual} / {target}; expected by the as-of date {expected}',
  },
});

const KINDS = ['leave', 'training', 'official_duty'];
const blank = (userId = '') => ({ user_id: userId, kind: 'leave', start: '', end: '',
  counts_as_village_work: false, note: '' });
let draft = blank();
const note = notice();
const formNote = notice();

const countable = (kind) => kind !== 'leave';
const span = (a) => t('absences_span', { start: day(a.start), end: day(a.end) });

export async function render(ctx) {
  if (ctx.fresh) { note.clear(); formNote.clear(); }
  const year = Number(ctx.query.get('year')) || fmt.cst().y;
  const userId = ctx.query.get('user_id') || '';
  if (userId && ctx.fresh) draft.user_id = userId;   // "enter leave for this person" means them
  const query = new URLSearchParams({ year });
  if (userId) query.set('user_id', userId);
  const [absences, people, results] = await Promise.all([
    load(`/absences?${query}`), peopleInScope(),
    userId ? load(`/compliance/users/${encodeURIComponent(userId)}?year=${year}`) : null]);
  return h('div', { class: 'work absences' },
    title(t('absences_title')),
    h('div', { class: 'work-filters' },
      yearPicker('absences-year', year, (y) => ctx.go({ year: y })),
      personPicker('absences-person', people, userId, (id) => ctx.go({ user_id: id }))),
    results ? personResults(results) : null,
    note.node(),
    absences.length
      ? h('ul', { class: 'absences-list' }, absences.map((a) => item(ctx, a)))
      : h('p', { class: 'muted' }, t('absences_none')),
    entryForm(ctx, people));
}

function personResults(results) {
  return h('section', { class: 'card absences-results', 'data-user-id': results.user.id },
    h('h3', {}, t('absences_person_results', { name: results.user.name })),
    h('dl', { class: 'work-results' }, results.rules.map((r) => [
      h('dt', {}, ruleTitle(r), ' ', chip(r.status)),
      h('dd', { 'data-rule': r.rule_id }, t('absences_result', {
        actual: quantity(r.actual, r.measure), target: quantity(r.target, r.measure),
        expected: quantity(r.expected_to_date, r.measure) }))])));
}

function item(ctx, a) {
  const withdraw = async (event) => {
    const sure = await confirm(t('absences_withdraw_title'), t('absences_withdraw_text',
      { name: a.user_name, kind: t(`kind_${a.kind}`), span: span(a) }), t('absences_withdraw'),
    { danger: true });
    if (!sure) return;
    const res = await busy(event.target, () => send('POST', `/absences/${a.id}/withdraw`));
    if (!res.ok) { note.set('error', problem(res)); return; }
    note.set('ok', t('absences_withdrawn'));
    ctx.refresh();
  };
  return h('li', { class: 'card absences-item', 'data-absence-id': a.id },
    h('div', { class: 'review-head' },
      h('strong', {}, a.user_name, ' · ', t(`kind_${a.kind}`)),
      // entered is approved (RULES.md §4): 已登记, not a review's 审核通过
      chip(a.status === 'approved' ? 'approved' : 'withdrawn',
        t(a.status === 'approved' ? 'absence_recorded' : 'status_withdrawn'))),
    h('p', {}, span(a), a.counts_as_village_work ? [' · ', h('span', { class: 'tag' }, t('absences_counts'))] : null),
    a.note ? h('p', { class: 'muted' }, a.note) : null,
    a.status === 'approved'
      ? h('button', { type: 'button', class: 'secondary small', onclick: withdraw }, t('absences_withdraw'))
      : null);
}

function entryForm(ctx, people) {
  // 公务视同在村 is offered for training and official duty, never for leave.
  const counts = bound(draft, 'counts_as_village_work', t('absences_counts_label'),
    { id: 'absences-counts', type: 'checkbox' });
  counts.hidden = !countable(draft.kind);
  const kindField = bound(draft, 'kind', t('absences_kind'), { id: 'absences-kind', tag: 'select',
    options: KINDS.map((k) => [k, t(`kind_${k}`)]) });
  kindField.querySelector('select').addEventListener('change', () => { counts.hidden = !countable(draft.kind); });
  const submit = async (event) => {
    event.preventDefault();
    if (!draft.user_id) { formNote.set('error', t('absences_need_person')); return; }
    if (!draft.start || !draft.end) { formNote.set('error', t('absences_need_dates')); return; }
    const body = { user_id: Number(draft.user_id), start: draft.start, end: draft.end,
      kind: draft.kind, counts_as_village_work: countable(draft.kind) && Boolean(draft.counts_as_village_work) };
    if (draft.note.trim()) body.note = draft.note.trim();
    const res = await busy(event.submitter, () => send('POST', '/absences', body));
    if (!res.ok) { formNote.set('error', problem(res)); return; }
    formNote.set('ok', t('absences_saved', { name: res.data.user_name, span: span(res.data) }));
    draft = blank(draft.user_id);
    ctx.refresh();
  };
  return h('form', { class: 'card absences-form', onsubmit: submit, novalidate: true },
    h('h3', {}, t('absences_new')),
    personPicker('absences-form-person', people, draft.user_id, (id) => { draft.user_id = id; },
      { blank: '' }),
    kindField,
    h('div', { class: 'work-pair' },
      bound(draft, 'start', t('absences_start'), { id: 'absences-start', type: 'date' }),
      bound(draft, 'end', t('absences_end'), { id: 'absences-end', type: 'date' })),
    counts,
    bound(draft, 'note', t('absences_note'), { id: 'absences-note', tag: 'textarea', rows: 2,
      maxlength: 2000 }),
    formNote.node(),
    h('button', { type: 'submit', class: 'primary' }, t('absences_submit')));
}
