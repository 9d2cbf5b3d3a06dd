// Two small SVG charts drawn by our own code: a year's calendar heat map of village days and a
// bar chart of village days per month. Shapes differ as well as shades (a full day is a full
// square, half a day half of one), and every cell and bar carries its number in words.
import { t, addWords } from '../js/i18n.js';
import * as fmt from '../js/format.js';

addWords({
  'zh-CN': {
    chart_heat_label: '{year} 年在村天数日历，共 {n} 天',
    chart_bars_label: '{year} 年每月在村天数',
    chart_bar_title: '{month}：在村 {n} 天',
    chart_absence: '（公务视同在村）',
    chart_month_short: '{m}月',
  },
  en: {
    chart_heat_label: 'Village days in {year}, a calendar: {n} days in all',
    chart_bars_label: 'Village days per month in {year}',
    chart_bar_title: '{month}: {n} village days',
    chart_absence: ' (official duty counted as village work)',
    chart_month_short: '{mon}',
  },
});

const NS = 'http://www.w3.org/2000/svg';
const CELL = 13;     // a day's square with its gap
const LEFT = 22;     // room for weekday names
const TOP = 16;      // room for month names

/** An SVG element: svg('rect', {x: 1}, child, …); text children become text nodes. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value != null && value !== false) el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const pad = (n) => String(n).padStart(2, '0');
const keyOf = (date) => `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;

/** What a day's credit looks like: 1 → full, ½ → half, visits short of ½ → some, else none. */
export function dayKind(entry) {
  if (!entry) return 'none';
  if (entry.credit >= 1) return 'full';
  if (entry.credit > 0) return 'half';
  return entry.visits && entry.visits.length ? 'some' : 'none';
}

const KIND_WORD = { full: 'cal_full', half: 'cal_half', some: 'cal_some', none: 'cal_none' };

/** The year as weeks (columns, Monday first) of days (rows), each day a shaped square. */
export function heatMap(year, days) {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const first = new Date(Date.UTC(year, 0, 1));
  const lead = (first.getUTCDay() + 6) % 7;
  const count = (Date.UTC(year + 1, 0, 1) - first.getTime()) / 86400000;
  const weeks = Math.ceil((lead + count) / 7);
  const total = days.reduce((sum, d) => sum + d.credit, 0);
  const cells = [];
  const monthNames = [];
  for (let i = 0; i < count; i += 1) {
    const date = new Date(first.getTime() + i * 86400000);
    const key = keyOf(date);
    const slot = lead + i;
    const x = LEFT + Math.floor(slot / 7) * CELL;
    const y = TOP + (slot % 7) * CELL;
    if (date.getUTCDate() === 1) {
      monthNames.push(svg('text', { x, y: TOP - 5, class: 'heat-month' },
        t('chart_month_short', { m: date.getUTCMonth() + 1,
          mon: t('months').split(',')[date.getUTCMonth()].slice(0, 3) })));
    }
    cells.push(dayCell(key, x, y, byDate.get(key)));
  }
  const weekdays = t('weekdays').split(',');
  const names = [0, 2, 4].map((row) => svg('text', { x: 0, y: TOP + row * CELL + 9, class: 'heat-wd' },
    weekdays[row]));
  return svg('svg', { class: 'heat-map', viewBox: `0 0 ${LEFT + weeks * CELL} ${TOP + 7 * CELL}`,
    role: 'img', 'aria-label': t('chart_heat_label', { year, n: fmt.number(total, 1) }) },
  monthNames, names, cells);
}

function dayCell(key, x, y, entry) {
  const kind = dayKind(entry);
  const size = CELL - 2;
  const absence = entry && entry.absences && entry.absences.some((a) => a.counts_as_village_work);
  const words = t(KIND_WORD[kind], { date: fmt.dayLabel(`${key}T12:00:00+08:00`) })
    + (absence ? t('chart_absence') : '');
  const parts = [svg('title', {}, words), svg('rect', { x, y, width: size, height: size, rx: 2,
    class: 'heat-day' })];
  if (kind === 'full') parts.push(svg('rect', { x, y, width: size, height: size, rx: 2, class: 'heat-fill' }));
  if (kind === 'half') {
    parts.push(svg('rect', { x, y: y + size / 2, width: size, height: size / 2, class: 'heat-fill half' }));
  }
  if (kind === 'some') parts.push(svg('circle', { cx: x + size / 2, cy: y + size / 2, r: 2, class: 'heat-dot' }));
  return svg('g', { class: `heat-cell ${kind}`, 'data-date': key, 'data-credit': entry ? entry.credit : 0 },
    parts);
}

/** Village days per month (1…12) from the per-day breakdown. */
export function monthlyTotals(days) {
  const totals = Array(12).fill(0);
  for (const d of days) totals[Number(d.date.slice(5, 7)) - 1] += d.credit;
  return totals;
}

/**
 * Bars for the twelve months, each labelled with its number; `onPick(month)` when one is
 * clicked (the month's visits are listed below the chart).
 */
export function monthBars(year, totals, { selected, onPick } = {}) {
  const width = 12 * 44 + 30;
  const height = 180;
  const base = height - 22;
  const top = 18;
  const most = Math.max(1, ...totals);
  const scale = [1, 2, 4, 5, 10, 15, 20, 25, 30].find((step) => step >= most) || Math.ceil(most / 5) * 5;
  const grid = [0, 0.5, 1].map((share) => {
    const y = base - (base - top) * share;
    return svg('g', { class: 'bar-grid' }, svg('line', { x1: 26, x2: width, y1: y, y2: y }),
      svg('text', { x: 22, y: y + 4, class: 'bar-axis' }, fmt.number(scale * share, 1)));
  });
  const bars = totals.map((value, i) => {
    const x = 32 + i * 44;
    const barHeight = ((base - top) * value) / scale;
    const month = fmt.monthLabel(year, i + 1);
    const group = svg('g', { class: ['month-bar', selected === i + 1 ? 'selected' : ''].join(' ').trim(),
      'data-month': i + 1, 'data-total': value },
    svg('title', {}, t('chart_bar_title', { month, n: fmt.number(value, 1) })),
    svg('rect', { x: x - 4, y: top, width: 40, height: base - top, class: 'bar-hit' }),
    svg('rect', { x, y: base - barHeight, width: 32, height: Math.max(barHeight, 0), class: 'bar-value' }),
    svg('text', { x: x + 16, y: base - barHeight - 4, class: 'bar-number' }, fmt.number(value, 1)),
    svg('text', { x: x + 16, y: height - 6, class: 'bar-month' },
      t('chart_month_short', { m: i + 1, mon: t('months').split(',')[i].slice(0, 3) })));
    if (onPick) group.addEventListener('click', () => onPick(i + 1));
    return group;
  });
  return svg('svg', { class: 'month-bars', viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': t('chart_bars_label', { year }) }, grid, bars);
}
