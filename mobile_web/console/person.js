// A person: a calendar heat map of the year's village days, village days per month, the rule
// results, one month's visits with flags, distance and review history, the thematic reports and
// the absences. Raw coordinates are never shown (a secretary does not even receive colleagues').
import { h } from '../js/dom.js';
import { t, getLang, addWords } from '../js/i18n.js';
import * as fmt from '../js/format.js';
import { state } from '../js/store.js';
import { chip, flagWords, ruleCard, title, visitSummary } from '../js/views/common.js';
import { heatMap, monthBars, monthlyTotals } from './charts.js';
import { visitHistory } from './history.js';
import { closedNotice, load, loadAll, period, periodControls, periodQuery, refusedPage } from './controls.js';
import { timeline } from './posts.js';
import { send } from './work.js';

addWords({
  'zh-CN': {
    person_back: '返回{unit}',
    person_rules: '考核情况',
    person_heat: '全年在村日历',
    person_heat_total: '{year} 年截至统计日，走访共在村 {n} 天',
    person_bars: '每月在村天数',
    person_bars_hint: '点柱子查看那个月的走访。',
    person_visits: '{month}的走访',
    person_visits_none: '这个月没有走访记录。',
    person_month: '月份',
    person_distance: '距村部 {d}',
    person_households: '入户 {n} 户',
    person_explanation: '本人说明：',
    person_reports: '专题汇报',
    person_reports_none: '今年没有专题汇报。',
    person_absences: '请假、培训、公务',
    person_absences_none: '今年没有登记。',
    person_counts_as_village: '视同在村',
    person_to_review: '审核这个人的走访',
    person_to_absences: '为这个人登记请假',
    person_posts: '{year} 年的任职',
    person_post_ended: '任职已结束',
    absence_leave: '请假',
    absence_training: '培训',
    absence_official_duty: '公务',
  },
  en: {
    person_back: 'Back to {unit}',
    person_rules: 'Results',
    person_heat: 'Village days this year',
    person_heat_total: '{n} village days from visits in {year}, up to the as-of date',
    person_bars: 'Village days per month',
    person_bars_hint: 'Pick a bar to list that month’s visits.',
    person_visits: 'Visits in {month}',
    person_visits_none: 'No visits this month.',
    person_month: 'Month',
    person_distance: '{d} from the village office',
    person_households: '{n} households',
    person_explanation: 'Their explanation: ',
    person_reports: 'Thematic reports',
    person_reports_none: 'No thematic reports this year.',
    person_absences: 'Leave, training and official duty',
    person_absences_none: 'None this year.',
    person_counts_as_village: 'counts as village work',
    person_to_review: 'Review this person’s visits',
    person_to_absences: 'Enter leave for this person',
    person_posts: 'Posts held in {year}',
    person_post_ended: 'post ended',
    absence_leave: 'Leave',
    absence_training: 'Training',
    absence_official_duty: 'Official duty',
  },
});

export async function render(ctx) {
  try {
    return await person(ctx);
  } catch (err) {
    return refusedPage(err);
  }
}

const pad = (n) => String(n).padStart(2, '0');
const openHistories = new Set();   // the review histories opened, kept open across redraws

async function person(ctx) {
  const id = encodeURIComponent(ctx.params.id);
  const chosen = period(ctx.query);
  const results = await load(`/compliance/users/${id}?${periodQuery(chosen)}`);
  const year = results.year;
  const month = Number(ctx.query.get('month')) || Number(results.as_of.slice(5, 7));
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const [days, visits, reports, absences, posts] = await Promise.all([
    load(`/compliance/users/${id}/days?year=${year}`),
    loadAll(`/visits?user_id=${id}&from=${year}-${pad(month)}-01&to=${year}-${pad(month)}-${pad(last)}`),
    load(`/reports?user_id=${id}&year=${year}`),
    load(`/absences?user_id=${id}&year=${year}`),
    // Posts are read by supervisors and admins (a secretary's console goes without them).
    ['supervisor', 'admin'].includes(ctx.user.role) ? send('GET', `/users/${id}/posts`) : null]);
  const user = results.user;
  // Village days from visits up to the as-of date (the rule card beside also counts an
  // opening balance, and absences counted as village work, as RULES.md §4 says).
  const shown = days.days.filter((d) => d.date <= results.as_of);
  const totals = monthlyTotals(shown);
  return h('div', { class: 'person' },
    h('p', { class: 'crumbs' }, h('a', { href: `#/console/township/${encodeURIComponent(user.unit_code)}?year=${year}` },
      t('person_back', { unit: user.unit_name }))),
    title(user.name, h('span', { class: 'muted' }, ` · ${t(`role_${user.role}`)} · ${user.unit_name}`),
      results.post_ended ? h('span', { class: 'tag', 'data-post-ended': '' }, t('person_post_ended')) : null),
    h('div', { class: 'console-bar' }, periodControls(ctx, results.as_of), actions(ctx, user)),
    closedNotice(results),
    h('section', { class: 'person-rules' }, h('h3', { class: 'section-title' }, t('person_rules')),
      h('div', { class: 'rule-cards' }, results.rules.map(ruleCard))),
    h('section', { class: 'card heat' },
      h('div', { class: 'rule-head' }, h('h3', {}, t('person_heat')),
        h('span', { class: 'muted heat-total' }, t('person_heat_total', { year, n: fmt.number(totals.reduce((a, b) => a + b, 0), 1) }))),
      scrolledTo(h('div', { class: 'chart-wrap' }, heatMap(year, shown)), Number(results.as_of.slice(5, 7))),
      legend()),
    h('section', { class: 'card bars' },
      h('div', { class: 'rule-head' }, h('h3', {}, t('person_bars')),
        h('span', { class: 'hint' }, t('person_bars_hint'))),
      scrolledTo(h('div', { class: 'chart-wrap' }, monthBars(year, totals, { selected: month,
        onPick: (m) => ctx.go({ month: m }) })), month)),
    postsSection(posts, year),
    visitsSection(ctx, year, month, visits),
    reportsSection(reports),
    absencesSection(absences));
}

/** A chart wider than a phone opens scrolled so that `month` is in view (not on January). */
function scrolledTo(wrap, month, tries = 20) {
  requestAnimationFrame(() => {
    if (!wrap.isConnected || !wrap.clientWidth) {
      if (tries > 0) scrolledTo(wrap, month, tries - 1);
      return;
    }
    const right = wrap.scrollWidth * Math.min(1, month / 12 + 0.03);
    wrap.scrollLeft = Math.max(0, right - wrap.clientWidth);
  });
  return wrap;
}

/** Where the work pages take over: the review queue and absences, for those who use them. */
function actions(ctx, user) {
  const links = [];
  if (ctx.user.role === 'supervisor') {
    links.push(h('a', { class: 'button secondary small', href: `#/console/review?user_id=${user.id}` }, t('person_to_review')));
  }
  if (['supervisor', 'admin'].includes(ctx.user.role)) {
    links.push(h('a', { class: 'button secondary small', href: `#/console/absences?user_id=${user.id}` }, t('person_to_absences')));
  }
  return links.length ? h('div', { class: 'row person-actions' }, links) : null;
}

function legend() {
  const key = (kind, word) => [h('span', { class: `heat-key ${kind}`, 'aria-hidden': 'true' }), t(word)];
  return h('p', { class: 'cal-legend heat-legend' },
    key('full', 'legend_full'), key('half', 'legend_half'), key('some', 'legend_some'));
}

function visitsSection(ctx, year, month, visits) {
  const monthId = 'person-month';
  return h('section', { class: 'card person-visits' },
    h('div', { class: 'rule-head' },
      h('h3', {}, t('person_visits', { month: fmt.monthLabel(year, month) })),
      h('div', { class: 'field inline' }, h('label', { for: monthId }, t('person_month')),
        h('select', { id: monthId, onchange: (e) => ctx.go({ month: e.target.value }) },
          Array.from({ length: 12 }, (_, i) => h('option', { value: i + 1, selected: i + 1 === month },
            fmt.monthLabel(year, i + 1)))))),
    visits.length ? h('ul', { class: 'visit-list' }, visits.map(visitItem))
      : h('p', { class: 'muted' }, t('person_visits_none')));
}

function activityName(id) {
  const found = state.rules && state.rules.activities.find((a) => a.id === id);
  if (!found) return id;
  return getLang() === 'en' ? found.en : found.zh;
}

function visitItem(v) {
  const words = flagWords(v);
  return h('li', { class: 'visit', 'data-visit': v.id },
    visitSummary(v),
    h('p', { class: 'muted meta' },
      v.distance_m != null ? h('span', { class: 'distance' }, t('person_distance', { d: fmt.distance(v.distance_m) })) : null,
      v.activity ? h('span', {}, ` · ${activityName(v.activity)}`) : null,
      v.households ? h('span', {}, ` · ${t('person_households', { n: v.households })}`) : null),
    words.length ? h('p', { class: 'flags' }, h('span', { 'aria-hidden': 'true' }, '⚑ '), words.join(' · ')) : null,
    v.note ? h('p', { class: 'quote' }, t('note'), '：', v.note) : null,
    v.explanation ? h('p', { class: 'quote' }, t('person_explanation'), v.explanation) : null,
    v.review_comment ? h('p', { class: 'quote' }, t('review_comment'), v.review_comment) : null,
    visitHistory(v.id, openHistories));
}

/** The posts held at some time in the year, oldest first (RULES.md §8). */
function postsSection(posts, year) {
  if (!posts || !posts.ok) return null;
  const held = posts.data.filter((p) => (!p.from || p.from <= `${year}-12-31`)
    && (!p.until || p.until >= `${year}-01-01`));
  return h('section', { class: 'card person-posts' },
    h('h3', {}, t('person_posts', { year })), timeline(held));
}

function reportsSection(reports) {
  return h('section', { class: 'card person-reports' },
    h('h3', {}, t('person_reports')),
    reports.length ? h('ul', { class: 'report-list' }, reports.map((r) => h('li', { class: 'report', 'data-report': r.id },
      h('div', { class: 'visit-head' }, h('strong', {}, r.title), chip(r.status)),
      h('p', { class: 'muted' }, fmt.dayLabel(`${r.reported_on}T12:00:00+08:00`),
        r.category ? ` · ${t(`category_${r.category}`)}` : ''),
      r.review_comment ? h('p', { class: 'quote' }, t('review_comment'), r.review_comment) : null)))
      : h('p', { class: 'muted' }, t('person_reports_none')));
}

function absencesSection(absences) {
  return h('section', { class: 'card person-absences' },
    h('h3', {}, t('person_absences')),
    absences.length ? h('ul', { class: 'report-list' }, absences.map((a) => h('li', { class: 'report', 'data-absence': a.id },
      h('div', { class: 'visit-head' }, h('strong', {}, t(`absence_${a.kind}`)),
        chip(a.status === 'approved' ? 'approved' : 'withdrawn', t(a.status === 'approved' ? 'absence_recorded' : 'status_withdrawn'))),
      h('p', {}, fmt.dayLabel(`${a.start}T12:00:00+08:00`), ' – ', fmt.dayLabel(`${a.end}T12:00:00+08:00`),
        a.counts_as_village_work ? h('span', { class: 'muted' }, ` · ${t('person_counts_as_village')}`) : null),
      a.note ? h('p', { class: 'quote' }, a.note) : null)))
      : h('p', { class: 'muted' }, t('person_absences_none')));
}
