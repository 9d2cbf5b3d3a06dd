// 整改 on the phone (secretaries, 汇报 tab): the township's critique points, each with its
// notes, and a progress note or a claim of done to add — kept in the outbox and sent once by
// its client_id, like every write from the phone. Loaded the first time the tab is drawn and
// kept by the service worker from then on (not part of the first download of the app).
import { h } from '../dom.js';
import { t, addWords } from '../i18n.js';
import * as fmt from '../format.js';
import { state } from '../store.js';
import * as outbox from '../outbox.js';
import { uuid } from '../field.js';

addWords({
  'zh-CN': {
    rect_title: '整改',
    rect_hint: '县委点评的问题，逐条写进展；整改完成后勾选“已完成整改”，由组织部确认。',
    rect_none: '本乡镇没有待整改的点评问题。',
    rect_year: '{year} 年点评',
    rect_due: '期限 {date}',
    rect_status_open: '未开始',
    rect_status_in_progress: '整改中',
    rect_status_done_claimed: '已报完成',
    rect_status_done: '已完成',
    rect_note_label: '整改进展',
    rect_claim: '已完成整改（报组织部确认）',
    rect_submit: '提交进展',
    rect_need_note: '请写上进展。',
    rect_waiting: '待同步：{note}',
    rect_failed: '未能提交：{note}',
  },
  en: {
    rect_title: 'Rectification (整改)',
    rect_hint: 'The points the county raised: note your progress on each; tick "Rectified" when done, for the organisation department to confirm.',
    rect_none: 'The township has no critique points to rectify.',
    rect_year: 'Raised in {year}',
    rect_due: 'due {date}',
    rect_status_open: 'open',
    rect_status_in_progress: 'in progress',
    rect_status_done_claimed: 'claimed done',
    rect_status_done: 'done',
    rect_note_label: 'Progress',
    rect_claim: 'Rectified (for the department to confirm)',
    rect_submit: 'Add progress',
    rect_need_note: 'Write what was done.',
    rect_waiting: 'Waiting to sync: {note}',
    rect_failed: 'Not sent: {note}',
  },
});

const notes = {};   // drafts by item id: {text, claim, error}

/** A progress note, claiming the item done with `claim`: into the outbox, idempotent by its
 * client_id like every write from the phone. */
async function note(item, text, claim) {
  const body = { client_id: uuid(), note: text, claim_done: Boolean(claim) };
  await outbox.enqueue({ kind: 'rect_note', path: `/rectifications/${item.id}/notes`, body,
    ref: `rectification-${item.id}`, label: { title: item.title, at: fmt.isoNow() } });
}

/** The card, or nothing before the township's items are known; `rerender` draws the tab again. */
export function rectifications(rerender) {
  const items = state.rectifications;
  if (!items) return null;
  const open = items.filter((i) => i.status !== 'done');
  return h('section', { class: 'card rectifications', 'aria-labelledby': 'rect-title' },
    h('h3', { id: 'rect-title' }, t('rect_title')),
    h('p', { class: 'hint' }, t('rect_hint')),
    open.length ? h('ol', { class: 'rect-list' }, open.map((item) => rectification(item, rerender)))
      : h('p', { class: 'muted' }, t('rect_none')));
}

function rectification(item, rerender) {
  const draft = notes[item.id] || (notes[item.id] = { text: '', claim: false, error: '' });
  const queued = state.outbox.filter((i) => i.kind === 'rect_note' && i.ref === `rectification-${item.id}`);
  const submit = async (event) => {
    event.preventDefault();
    if (!draft.text.trim()) { draft.error = t('rect_need_note'); rerender(); return; }
    const { text, claim } = draft;
    notes[item.id] = { text: '', claim: false, error: '' };
    await note(item, text.trim(), claim);
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
