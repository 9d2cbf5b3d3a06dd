// 述职评议: a township's evaluation pack for a year (RULES.md §10) — the secretary first, then
// the team in pinyin order; for each person the posts held, village days per month as small
// bars, the rule results, reports, coverage, visits, flagged visits and absences; then the
// rectification items (整改) of the year before. Facts only: no score, no rank. A supervisor
// records this year's critique points here and confirms or sends back items claimed done.
// 打印 prints it on A4 portrait, one township per printout, with a header on every page.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as fmt from '../js/format.js';
import { chip, title } from '../js/views/common.js';
import { svg } from './charts.js';
import { closedNotice, download, hash, load, refusedPage, stamped } from './controls.js';
import { bound, busy, day, notice, problem, send, yearPicker } from './work.js';

addWords({
  'zh-CN': {
    eval_title: '述职评议',
    eval_heading: '{unit} {year} 年述职评议考核材料',
    eval_township: '乡镇',
    eval_as_of: '统计截至 {date}',
    eval_print: '打印',
    eval_xlsx: '下载 Excel',
    eval_nobody: '这个乡镇今年没有适用考核的人员。',
    eval_posts: '任职',
    eval_months: '每月在村天数',
    eval_village_days: '在村天数 {actual} / {target}',
    eval_reports: '专题汇报 {actual} / {target}',
    eval_no_reports: '今年没有专题汇报',
    eval_coverage: '包联村走到 {visited} / {linked} 个',
    eval_visits: '走访 {n} 次，入户 {households} 户',
    eval_flagged: '带标记的走访：通过 {approved}，驳回 {rejected}，待审核 {pending}',
    eval_absences: '请假 {leave} 天，培训 {training} 天，公务 {official_duty} 天（工作日）',
    eval_post_ended: '任职已结束',
    eval_items: '对上年度点评问题整改情况（{year} 年）',
    eval_items_none: '上年度没有登记点评问题。',
    eval_due: '整改期限 {date}',
    eval_new_items: '登记 {year} 年点评问题',
    eval_item_title: '问题',
    eval_item_detail: '说明（选填）',
    eval_item_due: '整改期限（选填）',
    eval_item_add: '登记',
    eval_item_added: '已登记：{title}',
    eval_this_year: '{year} 年已登记的点评问题',
    eval_confirm: '确认完成',
    eval_send_back: '退回',
    eval_send_back_reason: '退回原因',
    eval_decided: '已处理：{title}',
    item_open: '未开始',
    item_in_progress: '整改中',
    item_done_claimed: '已报完成',
    item_done: '已完成',
    note_claim: '报完成',
    note_confirm: '确认完成',
    note_send_back: '退回',
    note_note: '进展',
    eval_closed_mark: '已封存（{when}）· 快照 SHA-256：',
  },
  en: {
    eval_title: 'Evaluation',
    eval_heading: '{unit}: evaluation pack for {year}',
    eval_township: 'Township',
    eval_as_of: 'As of {date}',
    eval_print: 'Print',
    eval_xlsx: 'Download Excel',
    eval_nobody: 'Nobody in this township has a rule that applies this year.',
    eval_posts: 'Posts',
    eval_months: 'Village days per month',
    eval_village_days: 'Village days {actual} / {target}',
    eval_reports: 'Thematic reports {actual} / {target}',
    eval_no_reports: 'No thematic reports this year',
    eval_coverage: 'Linked villages visited: {visited} of {linked}',
    eval_visits: '{n} visits, {households} households',
    eval_flagged: 'Flagged visits: {approved} approved, {rejected} rejected, {pending} pending',
    eval_absences: 'Leave {leave}, training {training}, official duty {official_duty} (working days)',
    eval_post_ended: 'post ended',
    eval_items: 'Rectification of last year\u2019s critique points ({year})',
    eval_items_none: 'No critique points were recorded last year.',
    eval_due: 'due {date}',
    eval_new_items: 'Record critique points of {year}',
    eval_item_title: 'Critique point',
    eval_item_detail: 'Detail (optional)',
    eval_item_due: 'Due (optional)',
    eval_item_add: 'Record',
    eval_item_added: 'Recorded: {title}',
    eval_this_year: 'Critique points recorded for {year}',
    eval_confirm: 'Confirm done',
    eval_send_back: 'Send back',
    eval_send_back_reason: 'Why it goes back',
    eval_decided: 'Done: {title}',
    item_open: 'open',
    item_in_progress: 'in progress',
    item_done_claimed: 'claimed done',
    item_done: 'done',
    note_claim: 'claimed done',
    note_confirm: 'confirmed',
    note_send_back: 'sent back',
    note_note: 'progress',
    eval_closed_mark: 'Closed ({when}) · snapshot SHA-256: ',
  },
});

const note = notice();
const draft = { title: '', detail: '', due: '' };
const reasons = {};   // send-back reasons by item id, kept across redraws

export async function render(ctx) {
  if (ctx.fresh) note.clear();
  try {
    return await evaluation(ctx);
  } catch (err) {
    return refusedPage(err);
  }
}

async function evaluation(ctx) {
  const year = Number(ctx.query.get('year')) || fmt.cst().y;
  const townships = ctx.user.role === 'secretary' ? [] : await load('/units?level=township');
  const code = ctx.query.get('unit') || (ctx.user.role === 'secretary'
    ? ctx.user.unit_code : (townships[0] && townships[0].code));
  if (!code) return h('div', {}, title(t('eval_title')), h('p', { class: 'muted' }, t('eval_nobody')));
  const pack = await load(`/evaluations/${year}?unit_code=${encodeURIComponent(code)}`);
  const supervisor = ctx.user.role === 'supervisor';
  const current = supervisor ? await load(`/rectifications?unit_code=${encodeURIComponent(code)}&year=${year}`) : [];
  const heading = t('eval_heading', { unit: pack.unit.name, year });
  const stamp = `${pack.unit.county || ''} · ${pack.unit.name} · ${year} · ${t('eval_as_of', { date: day(pack.as_of) })}`;
  return h('div', { class: 'evaluation', 'data-unit': code, 'data-year': year },
    title(heading),
    h('div', { class: 'console-bar no-print' },
      townships.length ? h('div', { class: 'field' }, h('label', { for: 'eval-unit' }, t('eval_township')),
        h('select', { id: 'eval-unit', onchange: (e) => ctx.go({ unit: e.target.value }) },
          townships.map((u) => h('option', { value: u.code, selected: u.code === code }, u.name)))) : null,
      yearPicker('eval-year', year, (y) => ctx.go({ year: y })),
      h('button', { type: 'button', class: 'secondary', onclick: () => window.print() }, t('eval_print')),
      h('button', { type: 'button', class: 'secondary', onclick: (e) => workbook(e.target, year, code) },
        t('eval_xlsx')),
      closingsLink(ctx)),
    note.node(),
    closedNotice(pack, 'no-print'),
    // The printout: a table whose header row repeats on every printed page.
    h('table', { class: 'print-frame' },
      h('thead', {}, h('tr', {}, h('th', { class: 'print-head' }, stamp,
        pack.closed ? h('span', { class: 'print-closed', 'data-closed': '' }, h('br'),
          t('eval_closed_mark', { when: stamped(pack.closed.closed_at) }),
          hash(pack.closed.snapshot_sha256)) : null))),
      h('tbody', {}, h('tr', {}, h('td', {},
        h('p', { class: 'muted as-of-line no-print' }, t('eval_as_of', { date: day(pack.as_of) })),
        pack.people.length ? pack.people.map((p) => personCard(p, year))
          : h('p', { class: 'muted' }, t('eval_nobody')),
        itemsSection(ctx, pack.rectifications, year - 1, supervisor),
        supervisor ? recordSection(ctx, code, year, current) : null)))));
}

/** 封存 follows the meeting: where supervisors and admins close the year. */
function closingsLink(ctx) {
  if (!['supervisor', 'admin'].includes(ctx.user.role)) return null;
  return h('a', { class: 'button secondary closings-link', href: '#/console/closings' }, t('console_closings'));
}

async function workbook(button, year, code) {
  try {
    await busy(button, () => download(`/evaluations/${year}?unit_code=${encodeURIComponent(code)}&format=xlsx`,
      `evaluation-${code}-${year}.xlsx`));
  } catch (err) {
    note.set('error', err.message);
  }
}

function personCard(p, year) {
  const rules = Object.fromEntries(p.rules.map((r) => [r.rule_id, r]));
  const days = rules.village_time;
  const reports = rules.thematic_reports;
  return h('section', { class: 'card eval-person', 'data-person': p.user.id },
    h('div', { class: 'review-head' }, h('h3', {}, p.user.name),
      h('span', { class: 'muted' }, t(`role_${p.user.role}`)),
      p.post_ended ? h('span', { class: 'tag' }, t('eval_post_ended')) : null,
      days ? chip(days.status) : null),
    h('p', { class: 'eval-posts' }, h('strong', {}, t('eval_posts'), '：'), p.posts.map((post, i) => [
      i ? '；' : '', `${post.unit_name || '–'} ${t(`role_${post.role}`)} `,
      `${post.from ? day(post.from) : '…'} – ${post.until ? day(post.until) : '…'}`])),
    h('div', { class: 'eval-months' }, h('p', { class: 'hint' }, t('eval_months')),
      smallBars(year, p.village_days_by_month)),
    h('ul', { class: 'eval-facts' },
      days ? h('li', {}, t('eval_village_days', { actual: fmt.number(days.actual, 1), target: fmt.number(days.target, 2) })) : null,
      reports ? h('li', {}, t('eval_reports', { actual: fmt.number(reports.actual, 0), target: fmt.number(reports.target, 0) }),
        p.reports.length ? h('ul', {}, p.reports.map((r) => h('li', {}, `${day(r.reported_on)} ${r.title} `, chip(r.status))))
          : h('span', { class: 'muted' }, ` · ${t('eval_no_reports')}`)) : null,
      h('li', {}, t('eval_coverage', p.coverage)),
      h('li', {}, t('eval_visits', { n: p.visits, households: p.households })),
      h('li', {}, t('eval_flagged', p.flagged)),
      h('li', {}, t('eval_absences', p.absences))));
}

/** Twelve small bars with their numbers, legible in black and white. */
function smallBars(year, months) {
  const width = 12 * 30 + 4;
  const height = 64;
  const base = height - 14;
  const most = Math.max(1, ...months);
  return svg('svg', { class: 'eval-bars', viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `${t('chart_bars_label', { year })}: ${months.map((v) => fmt.number(v, 1)).join(', ')}` },
  months.map((value, i) => {
    const x = 4 + i * 30;
    const barHeight = ((base - 12) * value) / most;
    return svg('g', { 'data-month': i + 1 },
      svg('rect', { x, y: base - barHeight, width: 22, height: barHeight, class: 'eval-bar' }),
      svg('text', { x: x + 11, y: base - barHeight - 2, class: 'eval-bar-number' }, fmt.number(value, 1)),
      svg('text', { x: x + 11, y: height - 2, class: 'eval-bar-month' }, String(i + 1)));
  }));
}

function itemsSection(ctx, items, year, supervisor) {
  return h('section', { class: 'card eval-items' },
    h('h3', {}, t('eval_items', { year })),
    items.length ? h('ol', {}, items.map((item) => itemEntry(ctx, item, supervisor)))
      : h('p', { class: 'muted' }, t('eval_items_none')));
}

function itemEntry(ctx, item, supervisor) {
  const decide = async (event, decision) => {
    const body = { decision };
    if (decision === 'send_back') body.comment = reasons[item.id] || '';
    const res = await busy(event.target, () => send('POST', `/rectifications/${item.id}/review`, body));
    if (!res.ok) { note.set('error', problem(res)); return; }
    delete reasons[item.id];
    note.set('ok', t('eval_decided', { title: item.title }));
    ctx.refresh();
  };
  return h('li', { class: 'eval-item', 'data-item': item.id, 'data-status': item.status },
    h('div', { class: 'review-head' }, h('strong', {}, item.title), h('span', { class: 'tag' }, t(`item_${item.status}`)),
      item.due ? h('span', { class: 'muted' }, t('eval_due', { date: day(item.due) })) : null),
    item.detail ? h('p', {}, item.detail) : null,
    item.notes.length ? h('ul', { class: 'eval-notes' }, item.notes.map((n) => h('li', {},
      `${day(n.at.slice(0, 10))} ${n.by}（${t(`note_${n.kind}`)}）`, n.note ? `：${n.note}` : ''))) : null,
    supervisor && item.status === 'done_claimed' ? h('div', { class: 'row no-print' },
      h('button', { type: 'button', class: 'primary small', onclick: (e) => decide(e, 'confirm') }, t('eval_confirm')),
      bound(reasons, String(item.id), t('eval_send_back_reason'), { id: `reason-${item.id}`, maxlength: 2000 }),
      h('button', { type: 'button', class: 'secondary small', onclick: (e) => decide(e, 'send_back') }, t('eval_send_back')))
      : null);
}

/** This year's critique points: recorded after the meeting, answered next year. */
function recordSection(ctx, code, year, current) {
  const submit = async (event) => {
    event.preventDefault();
    const body = { unit_code: code, year, title: draft.title };
    if (draft.detail.trim()) body.detail = draft.detail;
    if (draft.due) body.due = draft.due;
    const res = await busy(event.submitter, () => send('POST', '/rectifications', body));
    if (!res.ok) { note.set('error', problem(res)); return; }
    note.set('ok', t('eval_item_added', { title: res.data.title }));
    Object.assign(draft, { title: '', detail: '', due: '' });
    ctx.refresh();
  };
  return h('section', { class: 'card eval-record no-print' },
    h('h3', {}, t('eval_new_items', { year })),
    current.length ? h('div', {}, h('p', { class: 'hint' }, t('eval_this_year', { year })),
      h('ol', {}, current.map((item) => itemEntry(ctx, item, true)))) : null,
    h('form', { onsubmit: submit, novalidate: true },
      bound(draft, 'title', t('eval_item_title'), { id: 'eval-item-title', maxlength: 200 }),
      bound(draft, 'detail', t('eval_item_detail'), { id: 'eval-item-detail', tag: 'textarea', rows: 3 }),
      bound(draft, 'due', t('eval_item_due'), { id: 'eval-item-due', type: 'date' }),
      h('button', { type: 'submit', class: 'primary' }, t('eval_item_add'))));
}
