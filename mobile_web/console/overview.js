// 总览: for the supervisor's county (or whatever unit they hold), per township, how many people
// are in each status for each rule. Counts only — people are never ranked.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import { chip, ruleTitle, title } from '../js/views/common.js';
import { asOfLine, closedNotice, exportControl, foldingTable, load, period, periodControls, periodQuery,
  refusedPage } from './controls.js';

addWords({
  'zh-CN': {
    overview_title: '总览',
    overview_township: '乡镇',
    overview_total: '合计',
    overview_all: '全部',
    overview_people: '{n} 人',
    overview_nobody: '这里还没有适用考核的人员。',
    overview_how: '每格是处于该状态的人数；点乡镇名看每个人。',
  },
  en: {
    overview_title: 'Overview',
    overview_township: 'Township',
    overview_total: 'Total',
    overview_all: 'All',
    overview_people: '{n} people',
    overview_nobody: 'Nobody here has a rule that applies yet.',
    overview_how: 'Each cell counts the people in that status; open a township to see each person.',
  },
});

export const STATUSES = ['met', 'on_track', 'at_risk', 'behind', 'missed'];

export async function render(ctx) {
  try {
    return await overview(ctx);
  } catch (err) {
    return refusedPage(err);
  }
}

async function overview(ctx) {
  const chosen = period(ctx.query);
  const me = await load('/me');
  const unitCode = ctx.query.get('unit') || (me.unit ? me.unit.code : null);
  const unitPart = unitCode ? `unit_code=${encodeURIComponent(unitCode)}&` : '';
  const [data, units] = await Promise.all([
    load(`/compliance?${unitPart}${periodQuery(chosen)}`), load('/units')]);
  const townships = townshipsUnder(units, unitCode);
  const rules = rulesOf(data.rows);
  const keep = `year=${data.year}${ctx.query.get('as_of') ? `&as_of=${data.as_of}` : ''}`;
  return h('div', { class: 'overview' },
    title(t('overview_title'), data.unit_name ? h('span', { class: 'muted' }, ` · ${data.unit_name}`) : null),
    h('div', { class: 'console-bar' }, periodControls(ctx, data.as_of),
      h('div', { class: 'console-controls' }, exportControl(unitCode, data),
        h('a', { class: 'button secondary closings-link', href: '#/console/closings' }, t('console_closings')))),
    asOfLine(data),
    closedNotice(data),
    rules.length ? h('p', { class: 'hint' }, t('overview_how')) : h('p', { class: 'muted' }, t('overview_nobody')),
    rules.map((rule) => ruleSection(rule, townships, data.rows, keep)));
}

/** Townships at or below the unit, in code order (the unit's own people come first). */
function townshipsUnder(units, unitCode) {
  const parent = new Map(units.map((u) => [u.code, u.parent_code]));
  const under = (code) => {
    for (let at = code; at; at = parent.get(at)) if (at === unitCode) return true;
    return !unitCode;
  };
  return units.filter((u) => u.level === 'township' && under(u.code))
    .sort((a, b) => (a.code < b.code ? -1 : 1));
}

/** The rules present in the roll-up, first seen first: [{rule_id, sample}]. */
function rulesOf(rows) {
  const seen = new Map();
  for (const row of rows) for (const r of row.rules) if (!seen.has(r.rule_id)) seen.set(r.rule_id, r);
  return [...seen.values()];
}

function ruleSection(rule, townships, rows, keep) {
  const counts = new Map();      // unit code -> {status: n}
  const names = new Map(townships.map((u) => [u.code, u.name]));
  for (const row of rows) {
    const result = row.rules.find((r) => r.rule_id === rule.rule_id);
    if (!result) continue;
    const code = row.user.unit_code;
    if (!names.has(code)) names.set(code, row.user.unit_name);
    const tally = counts.get(code) || {};
    tally[result.status] = (tally[result.status] || 0) + 1;
    counts.set(code, tally);
  }
  const codes = [...names.keys()].sort();
  const columns = [{ label: t('overview_township'), text: t('overview_township') },
    ...STATUSES.map((s) => ({ label: chip(s), text: t(`status_${s}`), className: 'num' })),
    { label: t('overview_total'), text: t('overview_total'), className: 'num' }];
  const line = (label, tally, attrs) => ({ attrs, cells: [label,
    ...STATUSES.map((s) => cell(tally[s] || 0, s)),
    h('span', { 'data-total': '' }, sum(tally))] });
  const total = {};
  for (const tally of counts.values()) for (const [s, n] of Object.entries(tally)) total[s] = (total[s] || 0) + n;
  const body = codes.map((code) => line(
    h('a', { href: `#/console/township/${encodeURIComponent(code)}?${keep}` }, names.get(code)),
    counts.get(code) || {}, { 'data-township': code }));
  body.push(line(h('strong', {}, t('overview_total')), total, { class: 'total', 'data-township': 'total' }));
  return h('section', { class: 'card rule-overview', 'data-rule': rule.rule_id },
    h('div', { class: 'rule-head' }, h('h3', {}, ruleTitle(rule)),
      h('span', { class: 'muted' }, t('overview_people', { n: sum(total) }))),
    foldingTable(columns, body, { class: 'console-table compact' }));
}

function cell(n, status) {
  return h('span', { class: n ? 'count' : 'count zero', 'data-status': status }, n);
}

const sum = (tally) => Object.values(tally).reduce((a, b) => a + b, 0);
