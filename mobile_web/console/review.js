// 待审核: the visits in the supervisor's scope that wait for a decision, with the reasons in plain
// words, the person's explanation, the distance and the times. 通过 / 驳回 one at a time or several
// at once; the other lists (已核实, 审核通过, 未通过) let a supervisor reject a verified visit or
// reopen a past decision. Every decision and its comment is in the visit's review history.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as fmt from '../js/format.js';
import { chip, flagWords, title } from '../js/views/common.js';
import { visitHistory } from './history.js';
import { busy, load, notice, problem, send, subnav, when } from './work.js';

addWords({
  'zh-CN': {
    review_lists: '审核列表',
    review_list_pending_review: '待审核',
    review_list_verified: '已核实',
    review_list_approved: '审核通过',
    review_list_rejected: '未通过',
    review_approve: '通过',
    review_reject: '驳回',
    review_reopen: '重新审核',
    review_comment_label: '审核意见',
    review_comment_hint: '驳回或重新审核须填写意见。',
    review_need_comment: '请填写意见：驳回或重新审核须说明理由。',
    review_select: '选择 {name} {when} 的走访',
    review_bulk: '批量审核',
    review_select_all: '全选本页',
    review_selected: '已选 {n} 条',
    review_bulk_comment: '批量审核意见',
    review_bulk_comment_hint: '驳回须填写',
    review_approve_selected: '通过所选',
    review_reject_selected: '驳回所选',
    review_pick_first: '请先勾选要审核的走访。',
    review_done_approve: '已通过 {n} 条走访。',
    review_done_reject: '已驳回 {n} 条走访。',
    review_done_reopen: '已重新审核 {n} 条走访，回到待审核。',
    review_empty_pending_review: '没有待审核的走访。',
    review_empty_other: '没有这类走访。',
    review_check_in: '签到 {when}',
    review_check_out: '签退 {when}',
    review_still_open: '尚未签退',
    review_stayed: '在村 {d}',
    review_distance: '距村部 {d}（签到 {a}，签退 {b}）',
    review_reasons: '原因：{list}',
    review_no_reasons: '没有标记',
    review_explanation: '本人说明：',
    review_no_explanation: '本人没有说明。',
    review_note: '备注：',
    review_past_comment: '审核意见：',
    review_for_person: '只看：{name}',
    review_everyone: '显示全部人员',
    review_page: '第 {page} / {pages} 页',
    review_prev: '上一页',
    review_next: '下一页',
  },
  en: {
    review_lists: 'Review lists',
    review_list_pending_review: 'Pending review',
    review_list_verified: 'Verified',
    review_list_approved: 'Approved',
    review_list_rejected: 'Rejected',
    review_approve: 'Approve',
    review_reject: 'Reject',
    review_reopen: 'Reopen',
    review_comment_label: 'Comment',
    review_comment_hint: 'Rejecting or reopening needs a comment.',
    review_need_comment: 'Write a comment: rejecting or reopening needs a reason.',
    review_select: 'Select the visit of {name} on {when}',
    review_bulk: 'Several at once',
    review_select_all: 'Select all on this page',
    review_selected: '{n} selected',
    review_bulk_comment: 'Comment for the selected',
    review_bulk_comment_hint: 'needed to reject',
    review_approve_selected: 'Approve selected',
    review_reject_selected: 'Reject selected',
    review_pick_first: 'Tick the visits to decide first.',
    review_done_approve: '{n} visit(s) approved.',
    review_done_reject: '{n} visit(s) rejected.',
    review_done_reopen: '{n} visit(s) reopened; they are pending review again.',
    review_empty_pending_review: 'No visit waits for review.',
    review_empty_other: 'No such visits.',
    review_check_in: 'In {when}',
    review_check_out: 'out {when}',
    review_still_open: 'not checked out yet',
    review_stayed: '{d} in the village',
    review_distance: '{d} from the village point (check-in {a}, check-out {b})',
    review_reasons: 'Why: {list}',
    review_no_reasons: 'no flags',
    review_explanation: 'Their explanation: ',
    review_no_explanation: 'No explanation given.',
    review_note: 'Note: ',
    review_past_comment: 'Review comment: ',
    review_for_person: 'Only: {name}',
    review_everyone: 'Show everyone',
    review_page: 'Page {page} of {pages}',
    review_prev: 'Previous',
    review_next: 'Next',
  },
});

const LISTS = ['pending_review', 'verified', 'approved', 'rejected'];
const ACTIONS = {   // what a supervisor may do to a visit in each list
  pending_review: ['approve', 'reject'], verified: ['reject'],
  approved: ['reopen'], rejected: ['reopen'],
};
const PAGE_SIZE = 50;

// Kept between redraws: what is ticked, the comments typed, the histories opened.
const selected = new Set();
const comments = new Map();
const opened = new Set();
let bulkComment = '';
const note = notice();
let shownList = null;
let updateCount = () => {};

export async function render(ctx) {
  if (ctx.fresh) note.clear();   // a message of an earlier visit to the queue is done with
  const list = LISTS.includes(ctx.query.get('status')) ? ctx.query.get('status') : 'pending_review';
  const userId = ctx.query.get('user_id') || '';
  const page = Math.max(1, Number(ctx.query.get('page')) || 1);
  if (shownList !== `${list}|${userId}`) { selected.clear(); shownList = `${list}|${userId}`; }
  const params = new URLSearchParams({ status: list, page, page_size: PAGE_SIZE });
  if (userId) params.set('user_id', userId);
  const res = await send('GET', `/visits?${params}`);
  if (!res.ok) throw new Error(problem(res));
  const visits = res.data;
  const paging = readPaging(res.headers);
  for (const id of [...selected]) if (!visits.some((v) => String(v.id) === id)) selected.delete(id);
  const person = userId ? await personName(userId, visits) : null;

  return h('div', { class: 'work review' },
    title(t(`review_list_${list}`)),   // the page is named after the list it shows
    subnav(t('review_lists'), LISTS.map((name) => ({
      href: listHref(name, userId), label: t(`review_list_${name}`), current: name === list }))),
    person ? h('p', { class: 'work-filter' }, t('review_for_person', { name: person }), ' ',
      h('a', { href: listHref(list, '') }, t('review_everyone'))) : null,
    note.node(),
    list === 'pending_review' && visits.length ? bulkBar(ctx, visits) : null,
    visits.length ? h('p', { class: 'muted work-count' }, t('work_count', { n: paging.total ?? visits.length })) : null,
    visits.length
      ? h('ul', { class: 'review-list' }, visits.map((v) => item(ctx, v, list)))
      : h('p', { class: 'muted review-empty' },
        t(list === 'pending_review' ? 'review_empty_pending_review' : 'review_empty_other')),
    pager(ctx, paging));
}

function listHref(status, userId) {
  const q = new URLSearchParams();
  if (status !== 'pending_review') q.set('status', status);
  if (userId) q.set('user_id', userId);
  const text = q.toString();
  return `#/console/review${text ? `?${text}` : ''}`;
}

function readPaging(headers) {
  try {
    return JSON.parse(headers.get('X-Pagination')) || {};
  } catch (err) {
    return {};
  }
}

async function personName(userId, visits) {
  if (visits.length) return visits[0].user_name;
  const res = await send('GET', `/users/${encodeURIComponent(userId)}`);
  return res.ok ? res.data.name : `#${userId}`;
}

function pager(ctx, paging) {
  const pages = paging.total_pages || 1;
  if (pages <= 1) return null;
  const page = paging.page || 1;
  return h('div', { class: 'row work-pager' },
    h('button', { type: 'button', class: 'secondary small', disabled: page <= 1,
      onclick: () => ctx.go({ page: page - 1 }) }, t('review_prev')),
    h('span', { class: 'muted' }, t('review_page', { page, pages })),
    h('button', { type: 'button', class: 'secondary small', disabled: page >= pages,
      onclick: () => ctx.go({ page: page + 1 }) }, t('review_next')));
}

// --- several at once ---------------------------------------------------------------------------

function bulkBar(ctx, visits) {
  const count = h('span', { class: 'review-selected', role: 'status' },
    t('review_selected', { n: selected.size }));
  const boxes = () => [...document.querySelectorAll('.review-item input.review-pick')];
  const all = h('input', { type: 'checkbox', id: 'review-all', class: 'review-pick-all',
    checked: visits.length > 0 && visits.every((v) => selected.has(String(v.id))),
    onchange: (e) => {
      for (const box of boxes()) {
        box.checked = e.target.checked;
        if (box.checked) selected.add(box.value); else selected.delete(box.value);
      }
      updateCount();
    } });
  const comment = h('input', { type: 'text', id: 'review-bulk-comment', maxlength: 2000,
    value: bulkComment, placeholder: t('review_bulk_comment_hint'), 'aria-describedby': 'review-bulk-hint',
    oninput: (e) => { bulkComment = e.target.value; } });
  const act = (decision) => async (event) => {
    if (!selected.size) { note.set('error', t('review_pick_first')); return; }
    await busy(event.currentTarget, () => decide(ctx, [...selected], decision, bulkComment, null));
  };
  updateCount = () => { count.textContent = t('review_selected', { n: selected.size }); };
  // One line in the page's flow (it wraps on a phone): it never sits over a card.
  return h('section', { class: 'card review-bulk', 'aria-label': t('review_bulk') },
    h('label', { class: 'work-check', for: 'review-all' }, all, h('span', {}, t('review_select_all'))),
    count,
    h('div', { class: 'field review-bulk-comment' },
      h('label', { for: 'review-bulk-comment' }, t('review_bulk_comment')), comment,
      h('span', { class: 'sr-only', id: 'review-bulk-hint' }, t('review_comment_hint'))),
    h('button', { type: 'button', class: 'primary small', id: 'review-approve-selected',
      onclick: act('approve') }, t('review_approve_selected')),
    h('button', { type: 'button', class: 'danger small', id: 'review-reject-selected',
      onclick: act('reject') }, t('review_reject_selected')));
}

/**
 * Send one decision for `ids` (one visit, or several: all or none). A reject or reopen without
 * a comment is refused here as the server would; `itemError` shows a refusal beside one visit.
 */
async function decide(ctx, ids, decision, comment, itemError) {
  const text = (comment || '').trim();
  const say = (message) => {
    if (itemError) itemError.textContent = message;
    else note.set('error', message);
  };
  if (decision !== 'approve' && !text) { say(t('review_need_comment')); return; }
  const body = { decision, ...(text ? { comment: text } : {}) };
  const res = ids.length === 1 && itemError
    ? await send('POST', `/visits/${ids[0]}/review`, body)
    : await send('POST', '/visits/review', { ids: ids.map(Number), ...body });
  if (!res.ok) { say(problem(res)); return; }
  for (const id of ids) { selected.delete(String(id)); comments.delete(String(id)); }
  if (!itemError) bulkComment = '';
  note.set('ok', t(`review_done_${decision}`, { n: ids.length }));
  ctx.refresh();
}

// --- one visit ---------------------------------------------------------------------------------

function item(ctx, v, list) {
  const id = String(v.id);
  const error = h('p', { class: 'error review-error', role: 'alert' });
  const comment = h('textarea', { id: `review-comment-${id}`, rows: 2, maxlength: 2000,
    value: comments.get(id) || '', oninput: (e) => comments.set(id, e.target.value) });
  const button = (decision) => h('button', { type: 'button',
    class: decision === 'approve' ? 'primary small' : decision === 'reject' ? 'danger small' : 'secondary small',
    'data-decision': decision,
    onclick: (event) => {
      error.textContent = '';
      return busy(event.currentTarget, () => decide(ctx, [id], decision, comments.get(id), error));
    } }, t(`review_${decision}`));
  return h('li', { class: 'card review-item', 'data-visit-id': id },
    h('div', { class: 'review-head' },
      list === 'pending_review' ? h('input', { type: 'checkbox', class: 'review-pick', value: id,
        'aria-label': t('review_select', { name: v.user_name, when: when(v.check_in.at) }),
        checked: selected.has(id),
        onchange: (e) => {
          if (e.target.checked) selected.add(id); else selected.delete(id);
          updateCount();
        } }) : null,
      h('strong', { class: 'review-who' },
        h('a', { href: `#/console/person/${v.user_id}` }, v.user_name), ' · ', v.village_name),
      chip(v.status)),
    facts(v),
    h('div', { class: 'field review-comment' },
      h('label', { for: `review-comment-${id}` }, t('review_comment_label')), comment),
    error,
    h('div', { class: 'row review-actions' }, ACTIONS[list].map(button)),
    visitHistory(v.id, opened));
}

function facts(v) {
  const inAt = v.check_in.at;
  const outAt = v.check_out && v.check_out.at;
  const reasons = flagWords(v);
  const times = [t('review_check_in', { when: when(inAt) })];
  if (outAt) {
    times.push(' — ', t('review_check_out', { when: fmt.dateKey(outAt) === fmt.dateKey(inAt) ? fmt.clock(outAt) : when(outAt) }));
    times.push(' · ', t('review_stayed', { d: fmt.duration((new Date(outAt) - new Date(inAt)) / 1000) }));
  } else {
    times.push(' · ', t('review_still_open'));
  }
  return h('div', { class: 'review-facts' },
    h('p', { class: 'review-times' }, times),
    v.distance_m != null ? h('p', { class: 'review-distance' }, t('review_distance', {
      d: fmt.distance(v.distance_m), a: fmt.distance(v.check_in.distance_m),
      b: v.check_out ? fmt.distance(v.check_out.distance_m) : '–' })) : null,
    h('p', { class: 'flags review-reasons' },
      t('review_reasons', { list: reasons.length ? reasons.join('、') : t('review_no_reasons') })),
    v.explanation
      ? h('p', { class: 'quote review-explanation' }, t('review_explanation'), v.explanation)
      : h('p', { class: 'muted review-explanation' }, t('review_no_explanation')),
    v.note ? h('p', { class: 'review-note' }, t('review_note'), v.note) : null,
    v.review_comment ? h('p', { class: 'quote review-past' }, t('review_past_comment'), v.review_comment) : null);
}

