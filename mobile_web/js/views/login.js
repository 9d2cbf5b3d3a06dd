// Logging in (or again, when the token ran out while writes wait), and the one-time password.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { state, login, logout, changePassword, unsyncedItems } from '../store.js';

const ERRORS = { offline: 'login_offline', other_user: 'login_other_user' };

/** The words for a refused login or password change (null when it went through). */
function refusal(result) {
  if (result.error) return t(ERRORS[result.error]);
  return 'message' in result ? result.message || t('login_failed') : null;
}

let error = null;
let pending = false;
// What is typed lives here, not only in the inputs: the screen may be redrawn meanwhile.
const typed = { username: '', password: '', old: '', new: '', again: '' };

/** The login form; after an expired session the username is fixed (the outbox is theirs). */
export function loginView() {
  const expired = Boolean(state.session && state.authLost);
  const again = expired && unsyncedItems().length > 0;   // then only the same person may go on
  if (expired && !typed.username) typed.username = state.session.user.username;
  const username = h('input', { id: 'username', name: 'username', type: 'text', required: true,
    autocomplete: 'username', autocapitalize: 'off', spellcheck: 'false',
    value: again ? state.session.user.username : typed.username, readonly: again,
    oninput: (e) => { typed.username = e.target.value; } });
  const password = h('input', { id: 'password', name: 'password', type: 'password', required: true,
    autocomplete: 'current-password', value: typed.password,
    oninput: (e) => { typed.password = e.target.value; } });
  const submit = async (event) => {
    event.preventDefault();
    if (pending) return;
    if (!username.value.trim() || !password.value) { error = t('login_need_both'); rerender(); return; }
    pending = true;
    rerender();
    const result = await login(username.value.trim(), password.value);
    pending = false;
    typed.password = '';
    error = refusal(result);
    if (!error) typed.username = '';
    rerender();
  };
  return h('div', { class: 'screen login' },
    h('div', { class: 'login-brand' },
      h('img', { src: 'icons/icon.svg', alt: '', width: 72, height: 72 }),
      h('h1', {}, t('app_name')),
      h('p', { class: 'muted' }, t('tagline'))),
    expired ? h('p', { class: 'notice warn', role: 'alert' }, again
      ? t('session_expired', { n: unsyncedItems().length }) : t('session_expired_empty')) : null,
    h('form', { class: 'card login-form', onsubmit: submit, novalidate: true },
      h('div', { class: 'field' }, h('label', { for: 'username' }, t('username')), username),
      h('div', { class: 'field' }, h('label', { for: 'password' }, t('password')), password),
      error ? h('p', { class: 'error', role: 'alert' }, error) : null,
      h('button', { type: 'submit', class: 'primary wide', disabled: pending },
        pending ? t('logging_in') : t('login'))));
}

/** After logging in with a one-time password: change it before anything else (nothing syncs). */
export function passwordView() {
  return h('div', { class: 'screen password' },
    h('h2', { class: 'screen-title' }, t('must_change_title')),
    h('p', {}, t('must_change_text')),
    h('section', { class: 'card' }, passwordForm({})),
    h('button', { type: 'button', class: 'secondary wide', onclick: () => logout() }, t('logout')));
}

let formError = null;

/** Old password, new twice; calls onDone() after the server accepted it. */
export function passwordForm({ onDone }) {
  const fields = [['old', 'current-password', 'password_old'], ['new', 'new-password', 'password_new'],
    ['again', 'new-password', 'password_again']].map(([name, autocomplete, label]) => ({
    name, label, input: h('input', { id: `password-${name}`, type: 'password', autocomplete,
      required: true, value: typed[name], oninput: (e) => { typed[name] = e.target.value; } }) }));
  const [old, fresh, again] = fields.map((f) => f.input);
  const submit = async (event) => {
    event.preventDefault();
    if (!old.value || !fresh.value) formError = t('password_need_all');
    else if (fresh.value !== again.value) formError = t('password_mismatch');
    else {
      const result = await changePassword(old.value, fresh.value);
      formError = refusal(result);
      if (!formError) Object.assign(typed, { old: '', new: '', again: '' });
      if (!formError && onDone) onDone();
    }
    rerender();
  };
  return h('form', { class: 'password-form', onsubmit: submit, novalidate: true },
    fields.map((f) => h('div', { class: 'field' }, h('label', { for: f.input.id }, t(f.label)), f.input)),
    formError ? h('p', { class: 'error', role: 'alert' }, formError) : null,
    h('button', { type: 'submit', class: 'primary wide' }, t('change_password')));
}

function rerender() {
  document.dispatchEvent(new CustomEvent('zaicun:render'));
}
