// 封存 (RULES.md §9): after the 述职评议考核 meeting a county closes the year, and its results are
// stored as a snapshot with a SHA-256. This page lists the closings in scope (reopened ones too,
// newest first, as the server orders them), closes a year for a county (a supervisor of the
// county or above, an admin in scope) and, for admins, reopens one with a reason. Nothing is
// shown as done before the server says so; the list is read again after every answer.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as fmt from '../js/format.js';
import { chip, title } from '../js/views/common.js';
import { confirm, modal } from '../js/views/dialogs.js';
import { download, hash, refusedPage, stamped } from './controls.js';
import { bound, busy, load, notice, problem, send } from './work.js';

addWords({
  'zh-CN': {
    closings_title: '封存',
    closings_intro: '述职评议考核会后，县里封存该年度：每个人截至 12 月 31 日（或封存当天）的结果存为快照，附 SHA-256 校验值。封存期间，凡会改变该年度结果的操作都会被拒绝。只有管理员可以重新开放，并须写明理由。',
    closings_form: '封存一个年度',
    closings_county: '县',
    closings_year: '年度',
    closings_note: '备注（选填）',
    closings_submit: '封存',
    closings_no_county: '您的范围内没有县，不能在这里封存。',
    closings_confirm_title: '封存 {unit} {year} 年度？',
    closings_confirm_text: '封存后，{unit} {year} 年度的走访、汇报、请假、任职、日历等凡会改变结果的操作都将被拒绝，结果一律按快照提供。只有管理员可以重新开放。',
    closings_done: '已封存 {unit} {year} 年度（{n} 人）。',
    closings_pending: '该年度还有 {n} 条待审核的记录，审核完毕后才能封存。',
    closings_to_review: '去“待审核”处理',
    closings_review_by_supervisor: '待审核的记录由督导人员在“待审核”页面处理。',
    closings_list: '已封存的年度',
    closings_none: '还没有封存过任何年度。',
    closings_heading: '{unit} {year} 年度',
    closings_state_closed: '已封存',
    closings_state_reopened: '已重新开放',
    closings_as_of: '统计截至',
    closings_closed_at: '封存时间',
    closings_closed_by: '封存人',
    closings_people: '快照人数',
    closings_note_label: '备注',
    closings_sha: '快照 SHA-256',
    closings_reopened: '重新开放',
    closings_reopened_line: '{who}，{when}',
    closings_reason: '理由',
    closings_download: '下载快照',
    closings_reopen: '重新开放…',
    closings_reopen_title: '重新开放 {unit} {year} 年度',
    closings_reopen_effect: '重新开放后，该年度的记录可以再修改，结果不再按快照提供；原快照保留。再次封存会生成新的快照。',
    closings_reopen_reason: '重新开放的理由',
    closings_reopen_yes: '重新开放',
    closings_reason_needed: '请写明重新开放的理由。',
    closings_reopened_ok: '已重新开放 {unit} {year} 年度。',
  },
  en: {
    closings_title: 'Year closing',
    closings_intro: 'After the year-end evaluation meeting a county closes the year: everyone’s results as of 31 December (or the closing day) are stored as a snapshot with its SHA-256. While the year is closed, anything that would change its results is refused. Only an admin reopens a year, and must give a reason.',
    closings_form: 'Close a year',
    closings_county: 'County',
    closings_year: 'Year',
    closings_note: 'Note (optional)',
    closings_submit: 'Close the year',
    closings_no_county: 'No county is within your scope: you cannot close a year here.',
    closings_confirm_title: 'Close {year} for {unit}?',
    closings_confirm_text: 'Once closed, visits, reports, absences, posts, the calendar and anything else that would change the results of {year} in {unit} are refused, and the results are served from the snapshot. Only an admin can reopen it.',
    closings_done: '{year} is closed for {unit} ({n} people).',
    closings_pending: '{n} records of this year still await review; review them before closing the year.',
    closings_to_review: 'Go to the review queue',
    closings_review_by_supervisor: 'Supervisors decide the waiting records in the review queue.',
    closings_list: 'Closed years',
    closings_none: 'No year has been closed yet.',
    closings_heading: '{unit}, {year}',
    closings_state_closed: 'closed',
    closings_state_reopened: 'reopened',
    closings_as_of: 'As of',
    closings_closed_at: 'Closed at',
    closings_closed_by: 'Closed by',
    closings_people: 'People in the snapshot',
    closings_note_label: 'Note',
    closings_sha: 'Snapshot SHA-256',
    closings_reopened: 'Reopened',
    closings_reopened_line: '{who}, {when}',
    closings_reason: 'Reason',
    closings_download: 'Download the snapshot',
    closings_reopen: 'Reopen…',
    closings_reopen_title: 'Reopen {year} for {unit}',
    closings_reopen_effect: 'Once reopened, the year’s records can be changed again and its results are no longer served from the snapshot; the snapshot is kept. Closing again stores a new one.',
    closings_reopen_reason: 'Why it is reopened',
    closings_reopen_yes: 'Reopen',
    closings_reason_needed: 'Give a reason for reopening.',
    closings_reopened_ok: '{year} is reopened for {unit}.',
  },
});

const note = notice();
const draft = { unit_code: '', year: '', note: '' };   // kept across redraws

export async function render(ctx) {
  if (ctx.fresh) note.clear();
  try {
    return await closings(ctx);
  } catch (err) {
    return refusedPage(err);
  }
}

async function closings(ctx) {
  const [list, counties] = await Promise.all([load('/closings'), load('/units?level=county')]);
  const admin = ctx.user.role === 'admin';
  return h('div', { class: 'closings' },
    title(t('closings_title')),
    h('p', { class: 'hint' }, t('closings_intro')),
    note.node(),
    closeForm(ctx, counties),
    h('section', { class: 'closings-section' }, h('h3', {}, t('closings_list')),
      list.length ? h('ul', { class: 'closings-list' }, list.map((c) => entry(ctx, c, admin)))
        : h('p', { class: 'muted' }, t('closings_none'))));
}

/** County, year (last year unless chosen), note; a confirmation, then POST /closings. */
function closeForm(ctx, counties) {
  if (!counties.length) return h('p', { class: 'muted' }, t('closings_no_county'));
  if (!counties.some((u) => u.code === draft.unit_code)) draft.unit_code = counties[0].code;
  const now = fmt.cst().y;
  if (!draft.year) draft.year = String(now - 1);
  const years = [now, now - 1, now - 2, now - 3, now - 4];
  const submit = async (event) => {
    event.preventDefault();
    const button = event.submitter;
    const unit = (counties.find((u) => u.code === draft.unit_code) || {}).name || draft.unit_code;
    const words = { unit, year: draft.year };
    if (!await confirm(t('closings_confirm_title', words), t('closings_confirm_text', words),
      t('closings_submit'), { danger: true })) return;
    const body = { year: Number(draft.year), unit_code: draft.unit_code };
    if (draft.note.trim()) body.note = draft.note.trim();
    const res = await busy(button, () => send('POST', '/closings', body));
    if (res.ok) {
      draft.note = '';
      note.set('ok', t('closings_done', { unit: res.data.unit_name, year: res.data.year, n: res.data.people }));
    } else {
      refused(ctx, res);
    }
    ctx.refresh();
  };
  return h('form', { class: 'card closing-form', onsubmit: submit, novalidate: true },
    h('h3', {}, t('closings_form')),
    h('div', { class: 'work-pair' },
      bound(draft, 'unit_code', t('closings_county'), { id: 'closing-county', tag: 'select',
        options: counties.map((u) => [u.code, `${u.name}（${u.code}）`]) }),
      bound(draft, 'year', t('closings_year'), { id: 'closing-year', tag: 'select',
        options: years.map((y) => [String(y), String(y)]) })),
    bound(draft, 'note', t('closings_note'), { id: 'closing-note', tag: 'textarea', rows: 2, maxlength: 2000 }),
    h('button', { type: 'submit', class: 'primary' }, t('closings_submit')));
}

/** A refusal in words: visits still to review with their count (and where to review them);
 * anything else as the server says it. */
function refused(ctx, res) {
  const data = res.data || {};
  if (res.status === 409 && data.code === 'pending_reviews') {
    note.set('error', t('closings_pending', { n: data.count }), ctx.user.role === 'supervisor'
      ? h('p', {}, h('a', { href: '#/console/review', 'data-to-review': '' }, t('closings_to_review')))
      : h('p', { class: 'hint' }, t('closings_review_by_supervisor')));
  } else {
    note.set('error', problem(res));
  }
}

const fact = (label, value) => [h('dt', {}, t(label)), h('dd', {}, value)];

function entry(ctx, c, admin) {
  const open = !c.reopened_at;
  const words = { unit: c.unit_name, year: c.year };
  return h('li', { class: 'card closing', 'data-closing': c.id, 'data-year': c.year,
    'data-unit': c.unit_code, 'data-state': open ? 'closed' : 'reopened' },
  h('div', { class: 'review-head' }, h('h4', {}, t('closings_heading', words)),
    open ? chip('approved', t('closings_state_closed')) : chip('open', t('closings_state_reopened'))),
  h('dl', { class: 'work-results' },
    fact('closings_as_of', c.as_of),
    fact('closings_closed_at', stamped(c.closed_at)),
    fact('closings_closed_by', c.closed_by ? c.closed_by.name : '–'),
    fact('closings_people', String(c.people)),
    c.note ? fact('closings_note_label', c.note) : null,
    fact('closings_sha', hash(c.snapshot_sha256)),
    open ? null : [
      fact('closings_reopened', t('closings_reopened_line', {
        who: c.reopened_by ? c.reopened_by.name : '–', when: stamped(c.reopened_at) })),
      fact('closings_reason', c.reopen_reason || '–')]),
  h('div', { class: 'row closing-actions' },
    h('button', { type: 'button', class: 'secondary small', 'data-action': 'snapshot',
      onclick: (e) => snapshot(e.target, c) }, t('closings_download')),
    admin && open ? h('button', { type: 'button', class: 'danger small', 'data-action': 'reopen',
      onclick: () => reopenDialog(ctx, c, words) }, t('closings_reopen')) : null));
}

/** The stored canonical JSON, byte for byte, so `sha256sum` can be run on it. */
async function snapshot(button, c) {
  try {
    await busy(button, () => download(`/closings/${c.id}/snapshot`,
      `closing-${c.unit_code}-${c.year}-${c.snapshot_sha256.slice(0, 12)}.json`));
  } catch (err) {
    note.set('error', err.message);
  }
}

/** 重新开放 (admins): a reason is required; the list is read again whatever the answer. */
function reopenDialog(ctx, c, words) {
  const reason = { text: '' };
  const error = h('p', { class: 'error', role: 'alert' });
  return modal(t('closings_reopen_title', words), (finish) => {
    const submit = async (event) => {
      event.preventDefault();
      if (!reason.text.trim()) { error.textContent = t('closings_reason_needed'); return; }
      const res = await busy(event.submitter, () => send('POST',
        `/closings/${c.year}/${encodeURIComponent(c.unit_code)}/reopen`, { reason: reason.text.trim() }));
      if (res.ok) {
        finish(true);
        note.set('ok', t('closings_reopened_ok', { unit: res.data.unit_name, year: res.data.year }));
      } else {
        error.textContent = problem(res);
      }
      ctx.refresh();
    };
    return h('form', { class: 'closing-reopen', onsubmit: submit, novalidate: true },
      h('p', { class: 'hint' }, t('closings_reopen_effect')),
      bound(reason, 'text', t('closings_reopen_reason'), { id: 'closing-reason', tag: 'textarea',
        rows: 3, required: true, maxlength: 2000 }),
      error,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'submit', class: 'danger' }, t('closings_reopen_yes')),
        h('button', { type: 'button', class: 'secondary', onclick: () => finish(null) }, t('cancel'))));
  });
}
