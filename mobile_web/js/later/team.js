// Loaded when first opened (js/later/: kept by the service worker from then on).
// 班子 (secretaries): each member's status for each rule, in the order the server gives (by
// unit and name, never ranked); names open the console's person page, the township its page.
import { h } from '../dom.js';
import { t, addWords } from '../i18n.js';
import * as fmt from '../format.js';
import { state } from '../store.js';
import { chip, quantity, ruleTitle, title, updatedNote } from '../views/common.js';

addWords({
  'zh-CN': {
    team_evaluation: '述职评议材料',
  },
  en: {
    team_evaluation: 'Evaluation pack',
  },
});

export function teamView() {
  const team = state.team;
  return h('div', { class: 'screen team' },
    title(t('team_title'), team && team.unit_name ? [' · ', h('a', { class: 'team-unit',
      href: `#/console/township/${encodeURIComponent(team.unit_code)}` }, team.unit_name)] : null),
    team ? h('p', { class: 'muted' }, t('as_of', { date: fmt.dayLabel(`${team.as_of}T12:00:00+08:00`) })) : null,
    team ? h('p', {}, h('a', { class: 'button secondary small',
      href: `#/console/evaluation?unit=${encodeURIComponent(team.unit_code)}` }, t('team_evaluation'))) : null,
    !team ? h('p', { class: 'muted' }, t(state.loading ? 'loading' : 'progress_unknown'))
      : h('ul', { class: 'team-list' }, team.rows.map(member)),
    updatedNote());
}

function member(row) {
  return h('li', { class: 'card member' },
    h('h3', {}, h('a', { href: `#/console/person/${row.user.id}` }, row.user.name),
      h('span', { class: 'muted' }, ` · ${t(`role_${row.user.role}`)}`)),
    h('dl', { class: 'member-rules' }, row.rules.map((r) => h('div', { class: 'member-rule' },
      h('dt', {}, ruleTitle(r)),
      h('dd', {}, h('span', { class: 'figure' }, fmt.number(r.actual, 2), ' / ', quantity(r.target, r.measure)),
        // 应达 by now: why one figure is 进度正常 and a lower one 稍有落后
        h('span', { class: 'muted member-expected' }, t('team_expected', { n: quantity(r.expected_to_date, r.measure) })),
        chip(r.status))))));
}
