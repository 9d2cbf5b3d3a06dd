// Pieces the console's work pages share (待审核, reports, absences, admin): the server's refusal
// in words, pickers for a person and a year, a message line that survives a redraw, and sending
// a CSV file. Lists come in the server's order; nothing here ranks anyone.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as api from '../js/api.js';
import * as fmt from '../js/format.js';
import { load } from './controls.js';

addWords({
  'zh-CN': {
    work_all_people: '全部人员',
    work_person: '人员',
    work_year: '年份',
    work_network: '连不上服务器，请稍后再试。已填写的内容仍在。',
    work_refused: '操作未成功。',
    work_field_error: '{field}：{problem}',
    work_row_error: '第 {row} 行 {column}：{message}',
    work_count: '共 {n} 条',
    work_person_option: '{name}（{unit}）',
  },
  en: {
    work_all_people: 'Everyone',
    work_person: 'Person',
    work_year: 'Year',
    work_network: 'The server did not answer; try again later. What you typed is kept.',
    work_refused: 'That did not work.',
    work_field_error: '{field}: {problem}',
    work_row_error: 'Row {row}, {column}: {message}',
    work_count: '{n} in all',
    work_person_option: '{name} ({unit})',
  },
});

/** Send a request; a network failure comes back as {ok: false, status: 0} instead of throwing. */
export async function send(method, path, body, options = {}) {
  try {
    return await api.request(method, path, body === undefined ? options : { ...options, body });
  } catch (err) {
    if (err instanceof api.NetworkError) return { ok: false, status: 0, data: null };
    throw err;
  }
}

/** GET that must succeed for the page to draw (a refusal is shown as the page). */
export { load };

/** The server's refusal in words: its message, then each field it named. */
export function problem(res) {
  if (!res || res.status === 0) return t('work_network');
  const data = res.data || {};
  const lines = [data.message || `${t('work_refused')} (${res.status})`];
  for (const [name, problems] of Object.entries(data.errors || {})) {
    if (name === 'rows') continue;   // row-level CSV errors are listed by rowErrors()
    const text = Array.isArray(problems) ? problems.join('; ') : String(problems);
    lines.push(t('work_field_error', { field: name, problem: text }));
  }
  return lines.join(' ');
}

/** A CSV import's row-level errors as a list (row 1 is the header). */
export function rowErrors(res) {
  const rows = (res && res.data && res.data.errors && res.data.errors.rows) || [];
  if (!rows.length) return null;
  return h('ul', { class: 'row-errors' }, rows.map((e) => h('li', {},
    t('work_row_error', { row: e.row, column: e.column || '–', message: e.message }))));
}

/** Send a CSV text (or file) as the request body; no answer is status 0. A large file may
 * take the server a while to check before it answers, hence the longer wait. */
export function sendCsv(method, path, text) {
  return send(method, path, undefined, { text, contentType: 'text/csv', timeoutMs: 120000 });
}

/**
 * A message line kept in a module variable, so it survives the page's redraw:
 * `const note = notice();  note.set('ok', text)  …  note.node()`.
 */
export function notice() {
  let current = null;
  let shown = null;
  return {
    set(kind, text, extra = null) {
      current = kind ? { kind, text, extra } : null;
      if (shown && shown.isConnected) shown.replaceWith(this.node());
    },
    clear() { this.set(null); },
    node() {
      shown = current
        ? h('div', { class: current.kind === 'ok' ? 'notice good' : 'notice warn work-error',
          role: current.kind === 'ok' ? 'status' : 'alert' },
        h('p', {}, current.text), current.extra)
        : h('div', { class: 'work-notice-empty', hidden: true });
      return shown;
    },
  };
}

/** A year picker: this year and the four before it, and the year shown if outside those. */
export function yearPicker(id, year, onchange) {
  const now = fmt.cst().y;
  const years = [...new Set([now, now - 1, now - 2, now - 3, now - 4, Number(year)])].sort((a, b) => b - a);
  return h('div', { class: 'field' }, h('label', { for: id }, t('work_year')),
    h('select', { id, onchange: (e) => onchange(e.target.value) },
      years.map((y) => h('option', { value: y, selected: y === Number(year) }, String(y)))));
}

/** A person picker over `people` (as /users returns them), in the server's order: by unit code,
 * then the name's pinyin (RULES.md §6; sorted by the server, never by the browser's collation). */
export function personPicker(id, people, value, onchange, { label = t('work_person'), blank = t('work_all_people') } = {}) {
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, onchange: (e) => onchange(e.target.value) },
      blank != null ? h('option', { value: '' }, blank) : null,
      people.map((p) => h('option', { value: p.id, selected: String(p.id) === String(value || '') },
        t('work_person_option', { name: p.name, unit: p.unit_name || p.username })))));
}

/** The people in scope (supervisors and admins may list users), optionally of some roles. */
export async function peopleInScope(roles = ['cadre', 'secretary']) {
  const users = await load('/users');
  return users.filter((u) => roles.includes(u.role));
}

/** "3月2日 周一 08:30" in Asia/Shanghai. */
export const when = (at) => (at ? `${fmt.dayLabel(at)} ${fmt.clock(at)}` : '–');

/** A date as "2026年3月2日 周一" from YYYY-MM-DD. */
export const day = (value) => (value ? fmt.dayLabel(`${value}T12:00:00+08:00`) : '–');

/** A fresh client_id for an idempotent create (the phone app's own). */
export { uuid as newClientId } from '../js/field.js';

/** Sub-navigation links (filters, sections) with the current one marked. */
export function subnav(label, items) {
  return h('nav', { class: 'work-subnav', 'aria-label': label },
    items.map((item) => h('a', { href: item.href, class: 'work-subnav-link',
      'aria-current': item.current ? 'page' : null }, item.label)));
}

/** A labelled input bound to `draft[name]`, so what is typed survives a redraw. */
export function bound(draft, name, label, { tag = 'input', options = [], id = `w-${name}`, ...props } = {}) {
  const checkbox = props.type === 'checkbox';
  const keep = (e) => { draft[name] = checkbox ? e.target.checked : e.target.value; };
  const control = h(tag, { ...props, id, name, oninput: keep, onchange: keep,
    value: checkbox || tag === 'select' ? null : draft[name] ?? '',
    checked: checkbox ? Boolean(draft[name]) : null },
  tag === 'select' ? options.map(([value, text]) =>
    h('option', { value, selected: String(draft[name] ?? '') === String(value) }, text)) : null);
  if (checkbox) return h('label', { class: 'work-check', for: id }, control, h('span', {}, label));
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

/** Busy while `action` runs: the button is disabled so a double click sends nothing twice. */
export async function busy(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}
