// Pieces the overview and the drill-down pages share: reading the API (a refusal becomes a
// page that says so), the year and as-of controls, 导出, and tables that fold into cards on a
// phone.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as api from '../js/api.js';
import * as fmt from '../js/format.js';
import { title } from '../js/views/common.js';

addWords({
  'zh-CN': {
    console_year: '年度',
    console_as_of: '统计截至',
    console_as_of_line: '统计截至 {date}',
    console_export: '导出',
    console_export_format: '导出格式',
    console_exporting: '正在导出…',
    console_export_failed: '导出失败：{reason}',
    console_refused: '无权查看',
    console_refused_text: '这个页面的内容不在您的查看范围内。',
    console_not_found: '没有找到',
    console_not_found_text: '没有这个人或单位，或不在您的查看范围内。',
    console_load_failed: '没有取到数据（{status}）。',
    console_offline: '连不上服务器。请联网后再试。',
    console_calendar_estimated: '本年度尚未载入官方日历，按周一至周五估算。',
    console_closed: '该年度已封存（{when}），结果取自封存快照。快照 SHA-256：',
  },
  en: {
    console_year: 'Year',
    console_as_of: 'As of',
    console_as_of_line: 'As of {date}',
    console_export: 'Export',
    console_export_format: 'Export format',
    console_exporting: 'Exporting…',
    console_export_failed: 'Export failed: {reason}',
    console_refused: 'Not yours to see',
    console_refused_text: 'What this page shows is outside what you may read.',
    console_not_found: 'Not found',
    console_not_found_text: 'No such person or unit, or not within what you may read.',
    console_load_failed: 'The data did not come ({status}).',
    console_offline: 'Cannot reach the server. Try again when online.',
    console_calendar_estimated: 'No official calendar is loaded for this year: Monday to Friday are counted.',
    console_closed: 'This year is closed ({when}): the results are its stored snapshot. Snapshot SHA-256: ',
  },
});

/** A refusal or failure of the API, shown as the page itself. */
export class PageRefused extends Error {
  constructor(status, message) {
    super(message || String(status));
    this.status = status;
  }
}

/** GET `path` and return its data; a 403/404/other answer throws PageRefused. */
export async function load(path) {
  let res;
  try {
    res = await api.get(path);
  } catch (err) {
    throw new PageRefused(0, t('console_offline'));
  }
  if (!res.ok) throw new PageRefused(res.status, api.messageOf(res, null));
  return res.data;
}

/** Every page of a paginated list (X-Pagination), `size` at a time. */
export async function loadAll(path, size = 100) {
  const rows = [];
  for (let page = 1; page <= 50; page += 1) {
    const sep = path.includes('?') ? '&' : '?';
    let res;
    try {
      res = await api.get(`${path}${sep}page=${page}&page_size=${size}`);
    } catch (err) {
      throw new PageRefused(0, t('console_offline'));
    }
    if (!res.ok) throw new PageRefused(res.status, api.messageOf(res, null));
    rows.push(...res.data);
    const info = JSON.parse(res.headers.get('X-Pagination') || '{}');
    if (!info.total_pages || page >= info.total_pages) break;
  }
  return rows;
}

/** The page for a refusal: 403 and 404 in words, anything else with its status. */
export function refusedPage(err) {
  if (!(err instanceof PageRefused)) throw err;
  const [heading, text] = err.status === 403 ? ['console_refused', 'console_refused_text']
    : err.status === 404 ? ['console_not_found', 'console_not_found_text']
      : ['console_failed', null];
  return h('div', { class: 'console-refused' }, title(t(heading)),
    h('p', { class: 'error', role: 'alert' }, text ? t(text)
      : err.status ? t('console_load_failed', { status: err.status }) : err.message),
    h('p', {}, h('a', { href: '#/' }, t('console_back_home'))));
}

/** The year and as-of date of a page, from its query (the server decides the default). */
export function period(query) {
  const now = fmt.cst();
  const year = Number(query.get('year')) || now.y;
  const asOf = query.get('as_of') || null;
  return { year, asOf };
}

/** `year=&as_of=` for an API path (only what was chosen). */
export function periodQuery({ year, asOf }) {
  const parts = [`year=${year}`];
  if (asOf) parts.push(`as_of=${asOf}`);
  return parts.join('&');
}

/** The year switch and the as-of date picker; a change goes into the address. */
export function periodControls(ctx, shownAsOf) {
  const { year } = period(ctx.query);
  const now = fmt.cst();
  const years = [];
  for (let y = now.y; y >= Math.min(now.y - 2, year); y -= 1) years.push(y);
  const yearId = 'console-year';
  const dateId = 'console-as-of';
  const last = year === now.y ? fmt.dateKey() : `${year}-12-31`;
  return h('div', { class: 'console-controls' },
    h('div', { class: 'field inline' }, h('label', { for: yearId }, t('console_year')),
      h('select', { id: yearId, 'data-control': 'year',
        onchange: (e) => ctx.go({ year: e.target.value, as_of: null }) },
      years.map((y) => h('option', { value: y, selected: y === year }, y)))),
    h('div', { class: 'field inline' }, h('label', { for: dateId }, t('console_as_of')),
      h('input', { id: dateId, type: 'date', 'data-control': 'as_of', value: shownAsOf || '',
        min: `${year}-01-01`, max: last,
        onchange: (e) => { if (e.target.value) ctx.go({ as_of: e.target.value }); } })));
}

/** "统计截至 3月2日 周一", and a word when the calendar is an estimate. */
export function asOfLine(data) {
  return h('p', { class: 'muted as-of' },
    t('console_as_of_line', { date: fmt.dayLabel(`${data.as_of}T12:00:00+08:00`) }),
    data.calendar === 'estimated' ? h('span', { class: 'hint' }, ' ', t('console_calendar_estimated')) : null);
}

/** "2026-01-20 09:30" in Asia/Shanghai, the year included (closings are of past years). */
export const stamped = (at) => (at ? `${fmt.dateKey(at)} ${fmt.clock(at)}` : '–');

/** A hash in full: monospace, wrapping anywhere, selectable as one word. */
export const hash = (sha) => h('code', { class: 'sha256', 'data-sha256': sha }, sha);

/**
 * 该年度已封存: a closed year's answer (`closed`: {closed_at, snapshot_sha256}) says so, with the
 * snapshot's hash (RULES.md §9); nothing for an open year.
 */
export function closedNotice(data, extra = '') {
  if (!data || !data.closed) return null;
  return h('div', { class: `notice info closed-notice ${extra}`.trim(), 'data-closed': '' },
    h('p', {}, t('console_closed', { when: stamped(data.closed.closed_at) }),
      hash(data.closed.snapshot_sha256)));
}

/** 导出: the current view (unit, year, as-of) as xlsx or csv, downloaded by the browser. */
export function exportControl(unitCode, data) {
  const formatId = 'console-format';
  const format = h('select', { id: formatId, 'data-control': 'format' },
    h('option', { value: 'xlsx' }, 'xlsx'), h('option', { value: 'csv' }, 'csv'));
  const status = h('p', { class: 'hint export-status', role: 'status' });
  const button = h('button', { type: 'button', class: 'secondary export-button',
    onclick: async () => {
      button.disabled = true;
      status.textContent = t('console_exporting');
      const params = new URLSearchParams({ year: data.year, as_of: data.as_of, format: format.value });
      if (unitCode) params.set('unit_code', unitCode);
      try {
        await download(`/compliance/export?${params}`, `zaicun-${unitCode || 'all'}-${data.as_of}.${format.value}`);
        status.textContent = '';
      } catch (err) {
        status.textContent = t('console_export_failed', { reason: err.message });
      } finally {
        button.disabled = false;
      }
    } }, t('console_export'));
  return h('div', { class: 'console-export' },
    h('div', { class: 'field inline' }, h('label', { for: formatId }, t('console_export_format')), format),
    button, status);
}

/** Fetch a file with the login's headers and hand it to the browser as a download. */
export async function download(path, fallbackName) {
  let res;
  try {
    res = await api.request('GET', path, { file: true, timeoutMs: 120000 });
  } catch (err) {
    throw new Error(t('console_offline'));
  }
  if (!res.ok) throw new Error(api.messageOf(res, String(res.status)));
  const blob = res.data;
  const named = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(res.headers.get('Content-Disposition') || '');
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: named ? decodeURIComponent(named[1]) : fallbackName,
    hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/**
 * A table that reads as a table on a desk and as one card per row on a phone: each cell
 * carries its column's name (`data-label`), which the narrow layout shows beside the value.
 * `columns`: [{label, className?}], `rows`: [{attrs, cells: [Node|string]}].
 */
export function foldingTable(columns, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'console-table', ...attrs },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.className }, c.label)))),
    h('tbody', {}, rows.map((row) => h('tr', row.attrs || {}, row.cells.map((cell, i) => h(i === 0 ? 'th' : 'td', {
      scope: i === 0 ? 'row' : null, class: columns[i].className,
      'data-label': columns[i].text || (typeof columns[i].label === 'string' ? columns[i].label : null) },
    cell)))))));
}
