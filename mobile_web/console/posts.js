// People over time (RULES.md §8) in 管理 → 人员: each person's posts as a timeline, 调动 / 任职 /
// 免职 from a date (each in a dialog that says what will change before it is sent), and the
// 换届 import: a CSV of new posts, previewed (who moves where) before anything is written.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as fmt from '../js/format.js';
import { modal } from '../js/views/dialogs.js';
import { bound, busy, day, problem, rowErrors, send, sendCsv } from './work.js';

addWords({
  'zh-CN': {
    posts_title: '{name} 的任职',
    posts_loading: '正在读取任职…',
    posts_none: '没有任职记录。',
    posts_open_start: '起始不限',
    posts_until_now: '至今',
    posts_span: '{from} 至 {until}',
    posts_current: '现任',
    posts_ended: '已结束',
    posts_ahead: '待生效',
    posts_move: '调动 / 任职…',
    posts_end: '免职…',
    posts_move_title: '{name} 调动或任职',
    posts_end_title: '{name} 免职',
    posts_unit: '新单位',
    posts_role: '新职务',
    posts_from: '起始日期',
    posts_until: '最后一天',
    posts_move_effect: '现任职（{current}）将于 {last} 结束；调到别的乡镇时，原乡镇的包联村同日结束。此日期之前的结果不变。',
    posts_end_effect: '现任职（{current}）将于所填日期结束，之后不再要求在村天数。此日期之前的结果不变。',
    posts_confirm: '确定',
    posts_moved: '{name} 自 {from} 起任 {unit} {role}。',
    posts_ended_ok: '{name} 的任职已于 {until} 结束。',
    posts_no_current: '没有可结束的现任职。',
    links_from: '生效日期',
    links_history: '以往包联村',
    links_span: '{name}：{from} 至 {until}',
    huanjie_title: '换届：批量调整任职',
    huanjie_hint: '每行一人：username,unit_code,role,from。先预览将发生的调动，确认后一次写入；任何一行有误则全部不写入。',
    huanjie_text: 'CSV 内容',
    huanjie_file: 'CSV 文件',
    huanjie_preview: '预览',
    huanjie_apply: '确认导入 {n} 人',
    huanjie_need: '请选择文件或粘贴内容。',
    huanjie_moves: '将调整 {n} 人（尚未写入）：',
    huanjie_done: '已导入 {n} 人的任职。',
    huanjie_col_name: '姓名',
    huanjie_col_before: '原任职',
    huanjie_col_after: '新任职',
    huanjie_col_from: '起始日期',
    huanjie_side: '{unit} {role}',
  },
  en: {
    posts_title: 'Posts of {name}',
    posts_loading: 'Reading the posts…',
    posts_none: 'No posts.',
    posts_open_start: 'always',
    posts_until_now: 'now',
    posts_span: '{from} to {until}',
    posts_current: 'current',
    posts_ended: 'ended',
    posts_ahead: 'ahead',
    posts_move: 'Transfer / new role…',
    posts_end: 'End post…',
    posts_move_title: 'Transfer or new role for {name}',
    posts_end_title: 'End the post of {name}',
    posts_unit: 'New unit',
    posts_role: 'New role',
    posts_from: 'Starts on',
    posts_until: 'Last day',
    posts_move_effect: 'The current post ({current}) ends on {last}; on a move to another township, the links to the old township\'s villages end then too. Results before that date stay as they are.',
    posts_end_effect: 'The current post ({current}) ends on the date given; no village days are asked after it. Results before that date stay as they are.',
    posts_confirm: 'Confirm',
    posts_moved: '{name} is {role} in {unit} from {from}.',
    posts_ended_ok: 'The post of {name} ended on {until}.',
    posts_no_current: 'There is no current post to end.',
    links_from: 'Takes effect on',
    links_history: 'Earlier linked villages',
    links_span: '{name}: {from} to {until}',
    huanjie_title: '换届: posts in bulk',
    huanjie_hint: 'One person a line: username,unit_code,role,from. Preview who moves where first, then write it all at once; any bad line writes nothing.',
    huanjie_text: 'CSV',
    huanjie_file: 'CSV file',
    huanjie_preview: 'Preview',
    huanjie_apply: 'Import {n} people',
    huanjie_need: 'Choose a file or paste the CSV.',
    huanjie_moves: '{n} people would change post (nothing written yet):',
    huanjie_done: 'Posts of {n} people imported.',
    huanjie_col_name: 'Name',
    huanjie_col_before: 'From post',
    huanjie_col_after: 'To post',
    huanjie_col_from: 'Starts on',
    huanjie_side: '{role}, {unit}',
  },
});

export const ROLES = ['cadre', 'secretary', 'supervisor', 'admin'];

const dateKey = () => fmt.dateKey();
const dayBefore = (value) => {
  const [y, m, d] = value.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d - 1));
  return date.toISOString().slice(0, 10);
};
const side = (unitName, role) => t('huanjie_side', { unit: unitName || '–', role: role ? t(`role_${role}`) : '–' });

/** Whether a post is held on `key` (YYYY-MM-DD), has ended, or is yet to start. */
function stateOf(post, key) {
  if (post.until && post.until < key) return 'ended';
  if (post.from && post.from > key) return 'ahead';
  return 'current';
}

/** The posts, oldest first, as a timeline: unit, role, dates and where each stands today. */
export function timeline(posts) {
  if (!posts.length) return h('p', { class: 'muted' }, t('posts_none'));
  const today = dateKey();
  return h('ol', { class: 'posts-timeline' }, posts.map((p) => {
    const state = stateOf(p, today);
    return h('li', { class: `post post-${state}`, 'data-post-id': p.id, 'data-state': state },
      h('strong', {}, side(p.unit_name, p.role)),
      h('span', { class: 'muted' }, ' ', t('posts_span', {
        from: p.from ? day(p.from) : t('posts_open_start'),
        until: p.until ? day(p.until) : t('posts_until_now') })),
      ' ', h('span', { class: 'tag' }, t(`posts_${state}`)));
  }));
}

/**
 * A person's posts in a <details> of their row: the timeline, and the 调动 / 任职 and 免职
 * dialogs. `units` are the units in scope; `onChange()` redraws the list afterwards.
 */
export function postsEditor(u, units, note, onChange) {
  const body = h('div', { class: 'admin-posts-body' });
  const fill = async () => {
    body.replaceChildren(h('p', { class: 'muted' }, t('posts_loading')));
    const res = await send('GET', `/users/${u.id}/posts`);
    if (!res.ok) { body.replaceChildren(h('p', { class: 'error' }, problem(res))); return; }
    const posts = res.data;
    const current = posts.find((p) => stateOf(p, dateKey()) === 'current');
    const after = async (message) => { note.set('ok', message); await fill(); onChange(); };
    body.replaceChildren(timeline(posts),
      h('div', { class: 'row admin-user-actions' },
        h('button', { type: 'button', class: 'secondary small', 'data-action': 'move',
          onclick: () => moveDialog(u, units, current, after) }, t('posts_move')),
        h('button', { type: 'button', class: 'secondary small', 'data-action': 'end-post',
          disabled: !current, title: current ? null : t('posts_no_current'),
          onclick: () => endDialog(u, current, after) }, t('posts_end'))));
  };
  // Open stays open when the list is redrawn (after a move, say): the new post shows at once.
  const ontoggle = (e) => {
    if (e.target.open) { openEditors.add(u.id); fill(); } else openEditors.delete(u.id);
  };
  return h('details', { class: 'admin-posts-editor', open: openEditors.has(u.id), ontoggle },
    h('summary', {}, t('posts_title', { name: u.name })), body);
}

/** The people whose posts editor is open, so that a redraw of the list keeps it open. */
const openEditors = new Set();

/** 调动 / 任职: a unit, a role and a start date; says what ends, then POSTs the new post. */
function moveDialog(u, units, current, after) {
  const draft = { unit_code: current ? current.unit_code || '' : '', role: current ? current.role : 'cadre',
    from: dateKey() };
  const error = h('p', { class: 'error', role: 'alert' });
  const effect = h('p', { class: 'hint', 'data-effect': '' });
  const explain = () => {
    effect.textContent = current && draft.from ? t('posts_move_effect', {
      current: side(current.unit_name, current.role), last: day(dayBefore(draft.from)) }) : '';
  };
  explain();
  return modal(t('posts_move_title', { name: u.name }), (finish) => {
    const submit = async (event) => {
      event.preventDefault();
      const res = await busy(event.submitter, () => send('POST', `/users/${u.id}/posts`,
        { unit_code: draft.unit_code || null, role: draft.role, from: draft.from }));
      if (!res.ok) { error.textContent = problem(res); return; }
      finish(true);
      await after(t('posts_moved', { name: u.name, from: day(res.data.from),
        unit: res.data.unit_name || '–', role: t(`role_${res.data.role}`) }));
    };
    const date = bound(draft, 'from', t('posts_from'), { id: 'post-from', type: 'date', required: true });
    date.querySelector('input').addEventListener('input', explain);
    return h('form', { class: 'posts-move', onsubmit: submit, novalidate: true },
      bound(draft, 'unit_code', t('posts_unit'), { id: 'post-unit', tag: 'select',
        options: units.map((x) => [x.code, `${x.name}（${x.code}）`]) }),
      bound(draft, 'role', t('posts_role'), { id: 'post-role', tag: 'select',
        options: ROLES.map((r) => [r, t(`role_${r}`)]) }),
      date, effect, error,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'submit', class: 'primary' }, t('posts_confirm')),
        h('button', { type: 'button', class: 'secondary', onclick: () => finish(null) }, t('cancel'))));
  });
}

/** 免职: the current post's last day (a correction of its `until`). */
function endDialog(u, current, after) {
  const draft = { until: dateKey() };
  const error = h('p', { class: 'error', role: 'alert' });
  return modal(t('posts_end_title', { name: u.name }), (finish) => {
    const submit = async (event) => {
      event.preventDefault();
      const res = await busy(event.submitter, () => send('PATCH', `/users/${u.id}/posts/${current.id}`,
        { until: draft.until }));
      if (!res.ok) { error.textContent = problem(res); return; }
      finish(true);
      await after(t('posts_ended_ok', { name: u.name, until: day(res.data.until) }));
    };
    return h('form', { class: 'posts-end', onsubmit: submit, novalidate: true },
      h('p', { class: 'hint' }, t('posts_end_effect', { current: side(current.unit_name, current.role) })),
      bound(draft, 'until', t('posts_until'), { id: 'post-until', type: 'date', required: true }),
      error,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'submit', class: 'danger' }, t('posts_confirm')),
        h('button', { type: 'button', class: 'secondary', onclick: () => finish(null) }, t('cancel'))));
  });
}

/** The links that ended (or begin later), for the links editor: village and dates. */
export function pastLinks(links) {
  const today = dateKey();
  const past = links.filter((k) => (k.until && k.until < today) || (k.from && k.from > today));
  if (!past.length) return null;
  return h('div', { class: 'links-history' }, h('h4', {}, t('links_history')),
    h('ul', {}, past.map((k) => h('li', { 'data-village': k.village_code },
      t('links_span', { name: k.village_name, from: k.from ? day(k.from) : t('posts_open_start'),
        until: k.until ? day(k.until) : t('posts_until_now') })))));
}

// --- 换届 ----------------------------------------------------------------------------------------

const huanjie = { text: '', preview: null };

/** The 换届 page: a CSV, its preview (a dry run: who moves where), then the import itself. */
export function huanjiePage(note, refresh) {
  const file = h('input', { type: 'file', id: 'huanjie-file', accept: '.csv,text/csv' });
  const body = () => (file.files && file.files[0]) || huanjie.text;
  const run = async (button, dryRun) => {
    if (!(file.files && file.files[0]) && !huanjie.text.trim()) { note.set('error', t('huanjie_need')); return; }
    const res = await busy(button, () => sendCsv('POST', `/imports/posts${dryRun ? '?dry_run=true' : ''}`, body()));
    if (!res.ok) { huanjie.preview = null; note.set('error', problem(res), rowErrors(res)); refresh(); return; }
    if (dryRun) {
      huanjie.preview = res.data.moves;
      note.clear();
    } else {
      huanjie.preview = null;
      huanjie.text = '';
      note.set('ok', t('huanjie_done', { n: res.data.imported }));
    }
    refresh();
  };
  const preview = huanjie.preview;
  return h('div', {},
    h('form', { class: 'card admin-huanjie', novalidate: true,
      onsubmit: (e) => { e.preventDefault(); run(e.submitter, true); } },
    h('h3', {}, t('huanjie_title')),
    h('p', { class: 'hint' }, t('huanjie_hint')),
    h('div', { class: 'field' }, h('label', { for: 'huanjie-file' }, t('huanjie_file')), file),
    bound(huanjie, 'text', t('huanjie_text'), { id: 'huanjie-text', tag: 'textarea', rows: 6,
      spellcheck: 'false', placeholder: 'username,unit_code,role,from\n' }),
    h('button', { type: 'submit', class: 'secondary' }, t('huanjie_preview'))),
    preview ? h('div', { class: 'card huanjie-preview' },
      h('p', {}, t('huanjie_moves', { n: preview.length })),
      h('table', { class: 'work-table' },
        h('thead', {}, h('tr', {}, ['name', 'before', 'after', 'from'].map((c) =>
          h('th', { scope: 'col' }, t(`huanjie_col_${c}`))))),
        h('tbody', {}, preview.map((m) => h('tr', { 'data-username': m.username },
          h('td', {}, m.name), h('td', {}, side(m.from_post.unit_name, m.from_post.role)),
          h('td', {}, side(m.to_post.unit_name, m.to_post.role)), h('td', {}, day(m.from)))))),
      h('button', { type: 'button', class: 'primary', 'data-action': 'apply',
        onclick: (e) => run(e.target, false) }, t('huanjie_apply', { n: preview.length })))
      : null);
}
