// A visit's review history (its audit trail), shared by the person page and 待审核: read from
// /visits/<id>/events when opened, and kept open across a page's redraws.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as api from '../js/api.js';
import * as fmt from '../js/format.js';
import { chip } from '../js/views/common.js';

addWords({
  'zh-CN': {
    history_title: '审核记录',
    history_none: '没有记录。',
    history_failed: '没有取到审核记录，请稍后再试。',
    history_by_system: '系统',
    event_created: '签到',
    event_checked_out: '签退',
    event_explained: '本人说明',
    event_withdrawn: '撤回',
    event_village_changed: '更换村',
    event_reevaluated: '系统重新核查',
    event_approve: '通过',
    event_reject: '驳回',
    event_reopen: '重新审核',
  },
  en: {
    history_title: 'Review history',
    history_none: 'Nothing recorded.',
    history_failed: 'The review history did not come; try again later.',
    history_by_system: 'system',
    event_created: 'Checked in',
    event_checked_out: 'Checked out',
    event_explained: 'Explained',
    event_withdrawn: 'Withdrawn',
    event_village_changed: 'Village changed',
    event_reevaluated: 'Re-checked by the system',
    event_approve: 'Approved',
    event_reject: 'Rejected',
    event_reopen: 'Reopened',
  },
});

/** <details> with the visit's events; `opened` (a Set of visit ids) survives redraws. */
export function visitHistory(visitId, opened = new Set()) {
  const id = String(visitId);
  const body = h('div', { class: 'history-body' });
  let filling = false;
  const fill = async () => {
    if (filling) return;
    filling = true;
    body.replaceChildren(h('p', { class: 'muted' }, t('loading')));
    const res = await api.get(`/visits/${id}/events`).catch(() => null);
    if (!res || !res.ok) {
      filling = false;
      body.replaceChildren(h('p', { class: 'error' }, t('history_failed')));
      return;
    }
    body.replaceChildren(res.data.length ? h('ol', { class: 'events' }, res.data.map(eventItem))
      : h('p', { class: 'muted' }, t('history_none')));
  };
  const details = h('details', { class: 'history', 'data-history': id, open: opened.has(id),
    ontoggle: () => {
      if (details.open) { opened.add(id); fill(); } else { opened.delete(id); filling = false; }
    } }, h('summary', {}, t('history_title')), body);
  if (opened.has(id)) fill();
  return details;
}

function eventItem(e) {
  return h('li', { class: 'event', 'data-action': e.action },
    h('span', { class: 'nowrap muted' }, `${fmt.dayLabel(e.at)} ${fmt.clock(e.at)}`), ' · ',
    h('strong', {}, t(`event_${e.action}`)), ' · ', e.actor_name || t('history_by_system'),
    e.to_status && e.to_status !== e.from_status ? [' → ', chip(e.to_status)] : null,
    e.comment ? h('span', { class: 'quote-inline' }, ` “${e.comment}”`) : null);
}
