// 我的: who I am, the language, the password, and logging out (refused while writes wait).
import { h } from '../dom.js';
import { t, getLang } from '../i18n.js';
import { state, logout, unsyncedItems } from '../store.js';
import * as outbox from '../outbox.js';
import * as dialogs from './dialogs.js';
import { title } from './common.js';
import { passwordForm } from './login.js';

let refused = false;
let changing = false;

export function meView({ setLanguage }) {
  const user = state.session.user;
  const me = state.me || {};
  return h('div', { class: 'screen me' },
    title(t('me_title')),
    h('section', { class: 'card' },
      h('p', { class: 'me-name' }, user.name),
      h('p', { class: 'muted' }, `${t(`role_${user.role}`)} · ${user.username}`),
      me.unit ? h('p', { class: 'muted' }, me.unit.name) : null,
      me.linked_villages && me.linked_villages.length
        ? h('p', {}, t('linked_villages'), me.linked_villages.map((v) => v.name).join('、')) : null),
    h('fieldset', { class: 'card language' },
      h('legend', {}, t('language')),
      [['zh-CN', 'lang_zh'], ['en', 'lang_en']].map(([code, label]) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'lang', value: code, checked: getLang() === code,
          onchange: () => setLanguage(code) }), t(label)))),
    h('section', { class: 'card' },
      h('a', { href: '#/outbox', class: 'button secondary wide' }, t('outbox_title')),
      changing ? passwordForm({ onDone: () => { changing = false; rerender(); } })
        : h('button', { type: 'button', class: 'secondary wide',
          onclick: () => { changing = true; rerender(); } }, t('change_password'))),
    refused && unsyncedItems().length ? refusal() : null,
    h('button', { type: 'button', class: 'danger wide', id: 'logout', onclick: tryLogout }, t('logout')));
}

async function tryLogout() {
  const result = await logout();
  refused = Boolean(result.refused);
  if (refused) rerender();
  else location.hash = '#/';
}

/** Logout is refused while writes wait: sync them, copy them out, or discard them on purpose. */
function refusal() {
  const n = unsyncedItems().length;
  return h('section', { class: 'card notice warn', role: 'alert' },
    h('p', {}, h('strong', {}, t('logout_refused', { n }))),
    h('p', {}, t('logout_refused_help')),
    h('div', { class: 'stack' },
      h('button', { type: 'button', class: 'primary', onclick: () => outbox.syncSoon() }, t('sync_now')),
      h('button', { type: 'button', class: 'secondary', onclick: async () => {
        await dialogs.copyOut(outbox.exportText());
        await outbox.markExported();
      } }, t('copy_all')),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        const ok = await dialogs.confirm(t('discard_all_title'), t('discard_all_text', { n }),
          t('discard_all'), { danger: true });
        if (ok) { await outbox.discardAll(); await tryLogout(); }
      } }, t('discard_all'))));
}

function rerender() {
  document.dispatchEvent(new CustomEvent('zaicun:render'));
}
