// A township: one row per person in the server's order (by name's pinyin — never ranked),
// each rule's actual / target / expected / status, and how many linked villages they visited.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as fmt from '../js/format.js';
import { chip, quantity, ruleTitle, title } from '../js/views/common.js';
import { asOfLine, closedNotice, exportControl, foldingTable, load, period, periodControls, periodQuery,
  refusedPage } from './controls.js';

addWords({
  'zh-CN': {
    township_person: '姓名',
    township_role: '职务',
    township_actual: '实际 / 目标',
    township_expected: '应达',
    township_status: '状态',
    township_coverage: '走到的包联村',
    township_coverage_none: '未设包联村',
    township_coverage_label: '包联 {linked} 个村，今年走到 {visited} 个',
    township_nobody: '这个乡镇还没有适用考核的人员。',
    township_back: '返回总览',
  },
  en: {
    township_person: 'Name',
    township_role: 'Role',
    township_actual: 'Actual / target',
    township_expected: 'Expected',
    township_status: 'Status',
    township_coverage: 'Linked villages visited',
    township_coverage_none: 'No linked villages',
    township_coverage_label: '{visited} of {linked} linked villages visited this year',
    township_nobody: 'Nobody in this township has a rule that applies yet.',
    township_back: 'Back to the overview',
  },
});

export async function render(ctx) {
  try {
    return await township(ctx);
  } catch (err) {
    return refusedPage(err);
  }
}

async function township(ctx) {
  const code = ctx.params.code;
  const chosen = period(ctx.query);
  const data = await load(`/compliance?unit_code=${encodeURIComponent(code)}&${periodQuery(chosen)}&include=coverage`);
  const rules = [];
  for (const row of data.rows) for (const r of row.rules) if (!rules.some((x) => x.rule_id === r.rule_id)) rules.push(r);
  const keep = `year=${data.year}${ctx.query.get('as_of') ? `&as_of=${data.as_of}` : ''}`;
  const back = ctx.user.role === 'secretary' ? '#/team' : `#/console?${keep}`;
  return h('div', { class: 'township' },
    h('p', { class: 'crumbs' }, h('a', { href: back },
      ctx.user.role === 'secretary' ? t('team_title') : t('township_back'))),
    title(data.unit_name || code),
    h('div', { class: 'console-bar' }, periodControls(ctx, data.as_of), exportControl(code, data)),
    asOfLine(data),
    closedNotice(data),
    data.rows.length ? foldingTable(columnsFor(rules), data.rows.map((row) => personRow(row, rules, keep)),
      { 'data-unit': code })
      : h('p', { class: 'muted' }, t('township_nobody')));
}

function columnsFor(rules) {
  const columns = [{ label: t('township_person') }, { label: t('township_role') }];
  for (const rule of rules) {
    const name = ruleTitle(rule);
    columns.push({ label: h('span', {}, name, h('br'), t('township_actual')),
      text: `${name} · ${t('township_actual')}`, className: 'num' },
    { label: t('township_expected'), text: `${name} · ${t('township_expected')}`, className: 'num' },
    { label: t('township_status'), text: `${name} · ${t('township_status')}` });
  }
  columns.push({ label: t('township_coverage'), className: 'num' });
  return columns;
}

function personRow(row, rules, keep) {
  const cells = [
    h('a', { href: `#/console/person/${row.user.id}?${keep}` }, row.user.name),
    t(`role_${row.user.role}`)];
  for (const rule of rules) {
    const r = row.rules.find((x) => x.rule_id === rule.rule_id);
    if (!r) {
      cells.push('–', '–', '–');
      continue;
    }
    cells.push(h('span', { class: 'figure', 'data-rule': r.rule_id, 'data-field': 'actual' },
      h('strong', {}, fmt.number(r.actual, 2)), ' / ', quantity(r.target, r.measure)),
    h('span', { 'data-rule': r.rule_id, 'data-field': 'expected' }, quantity(r.expected_to_date, r.measure)),
    h('span', { 'data-rule': r.rule_id, 'data-field': 'status' }, chip(r.status)));
  }
  cells.push(coverage(row.coverage));
  return { attrs: { 'data-person': row.user.id }, cells };
}

function coverage(c) {
  if (!c || !c.linked) return h('span', { class: 'muted', 'data-field': 'coverage' }, t('township_coverage_none'));
  return h('span', { 'data-field': 'coverage', title: t('township_coverage_label', c) },
    `${c.visited}/${c.linked}`);
}
