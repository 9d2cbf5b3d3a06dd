// 待同步: what is still on the phone, in the order it will be sent (the items of one visit in
// turn; other records do not wait for them); failed items with the server's reason, to retry,
// copy out or discard.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { state } from '../store.js';
import * as outbox from '../outbox.js';
import * as dialogs from './dialogs.js';
import { chip, title } from './common.js';

export function queueView() {
  const items = state.outbox;
  return h('div', { class: 'screen queue' },
    title(t('outbox_title')),
    h('p', {}, t('outbox_explain')),
    items.length ? h('ol', { class: 'queue-list' }, items.map(entry))
      : h('p', { class: 'notice good' }, '✓ ', t('outbox_empty')),
    items.length ? h('div', { class: 'stack' },
      h('button', { type: 'button', class: 'primary', onclick: () => outbox.syncNow() }, t('sync_now')),
      h('button', { type: 'button', class: 'secondary',
        onclick: () => dialogs.copyOut(outbox.exportText()) }, t('copy_all'))) : null);
}

/** "签到 · 桃园村 · 3月2日 08:30" */
export function itemLabel(item) {
  const at = item.label && item.label.at;
  const when = at ? `${fmt.dayLabel(at)} ${at.length > 10 ? fmt.clock(at) : ''}`.trim() : '';
  return t(`item_${item.kind}`, { village: (item.label && item.label.village) || '',
    title: (item.label && item.label.title) || '', when });
}

function entry(item) {
  const failed = item.state === 'failed';
  const serverErrors = item.server_errors || 0;
  const held = !failed && outbox.heldByFailure(item, state.outbox);
  return h('li', { class: ['card', 'queue-item', failed && 'failed'], 'data-seq': item.seq },
    h('div', { class: 'visit-head' }, h('strong', {}, itemLabel(item)),
      chip(failed ? 'failed' : 'waiting', t(failed ? 'status_failed' : 'waiting_word'))),
    h('p', { class: 'muted' }, t('saved_at', { at: `${fmt.dayLabel(item.created_at)} ${fmt.clock(item.created_at)}` }),
      item.attempts && !failed ? ` · ${t('attempts', { n: item.attempts })}` : ''),
    !failed && serverErrors ? h('p', { class: 'muted' },
      t('server_error_retrying', { n: serverErrors, max: outbox.MAX_SERVER_ERRORS })) : null,
    held ? h('p', { class: 'muted' }, t('held_by_failure')) : null,
    failed ? h('p', { class: 'error' }, reason(item),
      (item.error && item.error.message) || t('failed_unknown', { status: item.error && item.error.status })) : null,
    failed ? h('p', { class: 'muted' }, t('failed_help')) : null,
    failed ? h('div', { class: 'row' },
      h('button', { type: 'button', class: 'primary', onclick: () => outbox.retry(item.seq) }, t('retry')),
      h('button', { type: 'button', class: 'secondary', onclick: () => dialogs.copyOut(outbox.exportText([item])) },
        t('copy')),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        const ok = await dialogs.confirm(t('discard_title'), t('discard_text', { what: itemLabel(item) }),
          t('discard'), { danger: true });
        if (ok) await outbox.discard(item.seq);
      } }, t('discard'))) : null);
}

/** Why it failed: refused for good (a 4xx), or the server kept failing on it (a 5xx). */
function reason(item) {
  const status = item.error && item.error.status;
  return status >= 500 ? t('failed_server_reason', { n: item.server_errors || 0 }) : t('failed_reason');
}
