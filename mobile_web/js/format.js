// Times are stored in UTC and shown in China Standard Time (UTC+8, no daylight saving),
// whatever zone the phone is set to.
import { t, getLang } from './i18n.js';

const CST_MS = 8 * 3600 * 1000;
const pad = (n) => String(n).padStart(2, '0');

/** The wall-clock fields in Asia/Shanghai of an instant. */
export function cst(when = new Date()) {
  const d = new Date(new Date(when).getTime() + CST_MS);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(),
    hh: d.getUTCHours(), mm: d.getUTCMinutes(), ss: d.getUTCSeconds(),
    wd: (d.getUTCDay() + 6) % 7 };
}

/** ISO 8601 with the +08:00 offset, to the second. */
export function isoAt(when) {
  const p = cst(when);
  return `${p.y}-${pad(p.m)}-${pad(p.d)}T${pad(p.hh)}:${pad(p.mm)}:${pad(p.ss)}+08:00`;
}

export const isoNow = () => isoAt(new Date());

/** YYYY-MM-DD of an instant in Asia/Shanghai. */
export function dateKey(when = new Date()) {
  const p = cst(when);
  return `${p.y}-${pad(p.m)}-${pad(p.d)}`;
}

/** The value of a datetime-local input, read as Asia/Shanghai wall time. */
export function fromLocalInput(value) {
  return value ? new Date(`${value}:00+08:00`) : null;
}

export function toLocalInput(when) {
  return isoAt(when).slice(0, 16);
}

export function clock(when) {
  const p = cst(when);
  return `${pad(p.hh)}:${pad(p.mm)}`;
}

export function dayLabel(when) {
  const p = cst(when);
  return t('day_label', { m: p.m, d: p.d, wd: t('weekdays').split(',')[p.wd] });
}

export function monthLabel(y, m) {
  return t('month_label', { y, m, mon: t('months').split(',')[m - 1] });
}

/** "2 小时 05 分" from seconds. */
export function duration(seconds) {
  const mins = Math.max(0, Math.floor(seconds / 60));
  return t('duration', { h: Math.floor(mins / 60), m: pad(mins % 60) });
}

/** "02:05:09", for a running timer. */
export function timer(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** "230 米" or "3.2 公里". */
export function distance(metres) {
  if (metres == null) return t('unknown');
  if (metres < 1000) return t('metres', { n: Math.round(metres) });
  return t('km', { n: number(metres / 1000, 1) });
}

/** A number with at most `digits` decimals and no trailing zeros, in the UI's locale. */
export function number(value, digits = 2) {
  if (value == null) return '–';
  const locale = getLang() === 'en' ? 'en-GB' : 'zh-CN';
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}
