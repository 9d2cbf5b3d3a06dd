// How a rule result's numbers come about, in words (RULES.md §2, §4, §5), from the result's own
// fields. Pure: no DOM, no state; the words come from the `t` it is given, so the phone app and
// the console share it. Fields a server may not send yet (`reachable`, `working_days`,
// `working_days_to_date`, absences, opening balance) are optional: a missing one drops its line.

const DAY_MS = 86400000;
const CST_MS = 8 * 3600 * 1000;
const GLYPHS = { '1/2': '½', '1/3': '⅓', '2/3': '⅔', '1/4': '¼', '3/4': '¾', '1/5': '⅕', '2/5': '⅖',
  '3/5': '⅗', '4/5': '⅘', '1/6': '⅙', '5/6': '⅚', '1/8': '⅛' };
const UNITS = { days: 'unit_days', hours: 'unit_hours', visits: 'unit_times',
  households: 'unit_households', reports: 'unit_times', share: 'unit_percent' };
const VILLAGE_DAYS = new Set(['days']);

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

/** 82.67, 40, 2.9: at most two decimals, no trailing zeros. */
export function plain(value) {
  return isNum(value) ? String(Number(value.toFixed(2))) : '–';
}

/** YYYY-MM-DD of `when`: a date string as is, a Date or timestamp read in China Standard Time. */
export function dayKey(when) {
  if (when == null) return null;
  if (typeof when === 'string') return when.slice(0, 10);
  return new Date(new Date(when).getTime() + CST_MS).toISOString().slice(0, 10);
}

const dayNumber = (key) => Math.round(Date.parse(`${key}T00:00:00Z`) / DAY_MS);

/** Calendar days after `today` up to and including the active part's last day (null if unknown). */
export function calendarDaysLeft(result, today) {
  const end = dayKey(result.active_end || result.period_end);
  const now = dayKey(today);
  if (!end || !now) return null;
  return Math.max(0, dayNumber(end) - dayNumber(now));
}

/** Whether the target can still be met: the server's `reachable`, else worked out for village
 * days (a village day can be earned on any date, at most one a date). */
export function isReachable(result, today) {
  if (typeof result.reachable === 'boolean') return result.reachable;
  if (!VILLAGE_DAYS.has(result.measure) || !isNum(result.remaining)) return true;
  const left = calendarDaysLeft(result, today);
  return left == null || result.remaining <= left;
}

/** "⅓" when target ÷ working days is a simple fraction (the target is rounded to 2 decimals). */
export function fraction(target, workingDays) {
  if (!isNum(target) || !isNum(workingDays) || workingDays <= 0) return null;
  for (let d = 1; d <= 12; d += 1) {
    const n = Math.round((target / workingDays) * d);
    if (n > 0 && Math.abs((n / d) * workingDays - target) <= 0.0051) {
      if (d === 1) return String(n);
      return GLYPHS[`${n}/${d}`] || `${n}/${d}`;
    }
  }
  return null;
}

/** The working days approved absences took out: a number, or summed from a list. */
function absenceDays(result) {
  for (const key of ['absence_working_days', 'absent_working_days']) {
    if (isNum(result[key])) return result[key];
  }
  const official = result.official_working_days;
  if (isNum(official) && isNum(result.working_days) && official > result.working_days) {
    return official - result.working_days;
  }
  const list = Array.isArray(result.absences) ? result.absences : null;
  if (!list) return null;
  const sum = list.reduce((acc, a) => acc + (isNum(a.working_days) && !a.counts_as_village_work
    ? a.working_days : 0), 0);
  return sum || null;
}

/** Village days credited by absences that count as village work (公务视同在村). */
function absenceCredit(result) {
  for (const key of ['absence_credit', 'credited_absence_days', 'absence_village_days']) {
    if (isNum(result[key])) return result[key];
  }
  return null;
}

/** The opening balance added to `actual`: a number, or {village_days, reports, value}. */
function openingBalance(result) {
  const ob = result.opening_balance ?? result.opening;
  if (isNum(ob)) return ob;
  if (ob && typeof ob === 'object') {
    const value = result.measure === 'reports' ? ob.reports : (ob.village_days ?? ob.value);
    if (isNum(value)) return value;
  }
  return null;
}

/**
 * The lines that explain one rule result, e.g. for 村里时间 in 2026:
 *   目标 = 全年工作日 248 天 × ⅓ = 82.67 天
 *   按进度应达 = 目标 × 已过工作日 ÷ 全年工作日 = 82.67 × 120 ÷ 248 = 40 天
 * `t(key, params)` gives the words; `today` (a Date or YYYY-MM-DD) is the result's as-of date.
 */
export function explainResult(result, t, today) {
  if (!result) return [];
  const unit = t(UNITS[result.measure] || 'unit_none');
  const q = (v) => t('quantity', { n: plain(v), unit }).trim();
  const lines = [];
  const days = VILLAGE_DAYS.has(result.measure);
  const wd = isNum(result.working_days) ? result.working_days : null;
  const wdDone = isNum(result.working_days_to_date) ? result.working_days_to_date : null;
  const whole = (!result.active_start || result.active_start === result.period_start)
    && (!result.active_end || result.active_end === result.period_end);
  const scope = t(whole ? 'ex_scope_year' : 'ex_scope_active');

  if (days) lines.push(t('ex_village_day'));

  const frac = days ? fraction(result.target, wd) : null;
  if (frac && wd != null) {
    lines.push(t('ex_target_fraction', { scope, wd, frac, target: q(result.target) }));
  } else if (isNum(result.target)) {
    lines.push(wd != null && !whole ? t('ex_target_count', { target: q(result.target), scope, wd })
      : t('ex_target_plain', { target: q(result.target) }));
  }
  const absent = absenceDays(result);
  if (absent) lines.push(t('ex_absences', { n: plain(absent) }));

  if (isNum(result.expected_to_date)) {
    if (wd != null && wdDone != null && isNum(result.target)) {
      lines.push(t('ex_expected', { scope, target: plain(result.target), done: wdDone, wd,
        expected: q(result.expected_to_date) }));
    } else {
      lines.push(t('ex_expected_plain', { expected: q(result.expected_to_date) }));
    }
  }

  if (isNum(result.actual)) {
    lines.push(t('ex_actual', { actual: q(result.actual) }));
    const opening = openingBalance(result);
    if (opening) lines.push(t('ex_opening', { n: q(opening) }));
    const credit = absenceCredit(result);
    if (credit) lines.push(t('ex_absence_credit', { n: q(credit) }));
  }

  if (result.status === 'at_risk' || result.status === 'behind') {
    lines.push(t(`ex_status_${result.status}`, { floor: q((result.expected_to_date || 0) * 0.8) }));
  } else if (result.status) {
    lines.push(t(`ex_status_${result.status}`));
  }

  if (result.status !== 'met' && result.status !== 'missed' && isNum(result.remaining)
      && result.remaining > 0) {
    if (!isReachable(result, today)) {
      lines.push(t('ex_unreachable', { remaining: q(result.remaining),
        days: calendarDaysLeft(result, today) ?? '–' }));
    } else if (isNum(result.pace_per_working_day)) {
      const weekly = result.pace_per_working_day * 5;
      lines.push(t(days ? 'ex_pace' : 'ex_pace_count', { remaining: q(result.remaining),
        days: result.remaining_working_days, per_day: plain(result.pace_per_working_day),
        weekly: t('quantity', { n: String(Number(weekly.toFixed(1))), unit }).trim() }));
      if (days && weekly > 5) lines.push(t('ex_weekends'));
    }
  }

  if (result.calendar === 'estimated') lines.push(t('ex_estimated'));
  return lines;
}
