// 在村 zaicun — the phone app. Plain ES modules, no build step; everything it shows comes from
// the store, every write goes through the outbox, and every word through the i18n table.
import { h, replace, $ } from './js/dom.js';
import { t, getLang, setLang } from './js/i18n.js';
import * as fmt from './js/format.js';
import { icon } from './js/icons.js';
import * as store from './js/store.js';
import { state } from './js/store.js';
import { homeView } from './js/views/home.js';
import { visitsView, openMonth } from './js/views/visits.js';
import { reportsView } from './js/views/reports.js';
import { meView } from './js/views/me.js';
import { queueView } from './js/views/queue.js';
import { later } from './js/views/common.js';
import { loginView, passwordView } from './js/views/login.js';

// Secretaries' screens (js/later/), fetched after login.
const LATER = [later('team.js', 'teamView', () => h('div', { class: 'screen' },
  h('p', { class: 'muted', role: 'status' }, t('loading')))), later('rectifications.js', 'rectifications')];
const [teamView] = LATER;

// Cadres and secretaries get the phone screens; supervisors and admins the console (loaded
// only when one of them opens it, so a cadre's phone never downloads it). Secretaries also open
// the console's township and person pages from 班子.
const FIELD_ROLES = ['cadre', 'secretary'];
const TABS = [
  { route: '', label: 'tab_home', view: homeView, roles: FIELD_ROLES },
  { route: 'visits', label: 'tab_visits', view: visitsView, enter: () => openMonth(), roles: FIELD_ROLES },
  { route: 'reports', label: 'tab_reports', view: reportsView, roles: ['secretary'] },
  { route: 'team', label: 'tab_team', view: teamView, roles: ['secretary'], enter: () => store.refresh() },
  { route: 'console', label: 'tab_overview', icon: 'team', roles: ['supervisor', 'admin'] },
  { route: 'console/review', label: 'tab_review', icon: 'visits', roles: ['supervisor'] },
  { route: 'console/reports', label: 'tab_reports', icon: 'reports', roles: ['supervisor', 'admin'] },
  { route: 'console/absences', label: 'tab_absences', icon: 'visits', roles: ['supervisor', 'admin'] },
  { route: 'console/evaluation', label: 'tab_evaluation', icon: 'reports', roles: ['supervisor', 'admin'] },
  { route: 'console/admin', label: 'tab_admin', icon: 'admin', roles: ['admin'] },
  { route: 'me', label: 'tab_me', view: meView },
];
const HIDDEN_ROUTES = [{ route: 'outbox', view: queueView }];

function prefetchLater() {
  if (role() === 'secretary') for (const screen of LATER) screen.load();
}
const CONSOLE_ROLES = ['supervisor', 'admin', 'secretary'];

const route = () => location.hash.replace(/^#\/?/, '').split('?')[0];
const role = () => (store.user() ? store.user().role : null);

function tabsFor() {
  return TABS.filter((tab) => !tab.roles || tab.roles.includes(role()));
}

function currentScreen() {
  if (!state.session || state.authLost) return { key: 'login', view: loginView };
  if (store.mustChangePassword()) return { key: 'password', view: passwordView };
  const name = route();
  const isConsole = name === 'console' || name.startsWith('console/');
  if (isConsole && CONSOLE_ROLES.includes(role())) return { key: name, console: true };
  const found = [...tabsFor(), ...HIDDEN_ROUTES].find((tab) => tab.route === name && tab.view);
  if (found) return { key: name, ...found };
  if (!FIELD_ROLES.includes(role())) return { key: 'console', console: true };   // supervisors' home
  return { key: '', ...TABS[0] };
}

// The console draws its own pages (they fetch as they go): it is told where we are, and redraws
// only when the address or the language changed, so its forms keep what was typed.
// Its pages keep drafts and messages in their modules; those belong to the user who typed
// them, so when that user logs out (or another logs in) the page is reloaded, which forgets them.
let consoleModule = null;
let consoleUser = null;
async function showConsole(view) {
  if (!consoleModule) {
    try {
      consoleModule = await import('./console/console.js');
    } catch (err) {   // not kept on the phone: the console needs the network
      delete view.dataset.mounted;
      replace(view, h('div', { class: 'screen' },
        h('h1', { class: 'screen-title', tabindex: '-1' }, t('console_needs_network')),
        h('p', { class: 'muted' }, t('offline_banner'))));
      return;
    }
    consoleUser = store.user().id;
  }
  const screen = currentScreen();
  if (screen.console) consoleModule.show(view, screen.key, { user: store.user() });
}

// --- rendering -------------------------------------------------------------------------------

let shownKey = null;
let pointerDown = false;
let pending = false;

/** Draw the whole app from the state, keeping the focused field and never mid-tap. */
function render() {
  if (pointerDown) { pending = true; return; }
  pending = false;
  document.documentElement.lang = getLang();
  document.title = t('app_name');
  renderHeader();
  if (!state.ready) return;
  if (state.session) prefetchLater();
  const screen = currentScreen();
  const view = $('#view');
  if (screen.console) {
    renderTabs(tabKey(screen.key));
    if (screen.key !== shownKey) { shownKey = screen.key; window.scrollTo(0, 0); }
    showConsole(view);
    return;
  }
  delete view.dataset.mounted;
  const focused = document.activeElement && view.contains(document.activeElement)
    ? document.activeElement.id : null;
  const opened = new Set([...view.querySelectorAll('details[id]')].filter((d) => d.open).map((d) => d.id));
  replace(view, screen.view({ setLanguage }));
  for (const id of opened) {
    const details = document.getElementById(id);
    if (details) details.open = true;
  }
  renderTabs(screen.key);
  if (screen.key !== shownKey) {
    shownKey = screen.key;
    window.scrollTo(0, 0);
    const heading = view.querySelector('.screen-title');
    if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
  } else if (focused && document.getElementById(focused)) {
    document.getElementById(focused).focus({ preventScroll: true });
  }
}

function renderHeader() {
  const waiting = state.outbox.filter((i) => i.state === 'waiting').length;
  const failed = state.outbox.filter((i) => i.state === 'failed').length;
  replace($('#brand-name'), t('app_name'));
  const badge = $('#sync-badge');
  badge.hidden = !state.session || (!FIELD_ROLES.includes(role()) && !state.outbox.length);
  badge.className = `sync-badge ${failed ? 'bad' : waiting ? 'busy' : 'ok'}`;
  badge.setAttribute('aria-label', t('sync_badge_label'));
  replace(badge,
    h('span', { class: 'sync-mark', 'aria-hidden': 'true' }, failed ? '✕' : waiting ? '↻' : '✓'),
    h('span', { class: 'sync-lines' },
      h('span', { class: 'sync-count' }, t('waiting_count', { n: waiting })),
      failed ? h('span', { class: 'sync-failed' }, t('failed_count', { n: failed })) : null));
  const lang = $('#lang-switch');
  replace(lang, t('switch_language_short'));
  lang.setAttribute('aria-label', t('switch_language'));
  const banner = $('#net-banner');
  banner.hidden = !(state.session && state.reachable === false);
  replace(banner, t('offline_banner'));
}

function renderTabs(active) {
  const nav = $('#tabs');
  const shown = Boolean(state.session && !state.authLost && !store.mustChangePassword());
  nav.hidden = !shown;
  if (!shown) return;
  nav.setAttribute('aria-label', t('tabs_label'));
  replace(nav, tabsFor().map((tab) => h('a', { href: `#/${tab.route}`, class: 'tab',
    'aria-current': active === tab.route ? 'page' : null },
  icon(tab.icon || tab.route || 'home', 'tab-icon'),
  h('span', {}, t(tab.label)))));
}

/** The tab a console page belongs to: its first two path parts ('console/review/…'). */
function tabKey(key) {
  const parts = key.split('/');
  const owner = tabsFor().find((tab) => tab.route === parts.slice(0, 2).join('/'));
  if (owner) return owner.route;
  return role() === 'secretary' ? 'team' : 'console';
}

function setLanguage(lang) {
  setLang(lang);
  store.languageChanged();
}

/** Tick the open visit's timer without redrawing the screen. */
function tick() {
  for (const el of document.querySelectorAll('[data-timer-since]')) {
    el.textContent = fmt.timer((Date.now() - new Date(el.dataset.timerSince).getTime()) / 1000);
  }
}

// --- start -----------------------------------------------------------------------------------

function onRoute() {
  const screen = currentScreen();
  if (screen.enter) screen.enter();
  render();
}

function listen() {
  store.subscribe(render);
  store.onSessionChange((session) => {
    if (consoleModule && (!session || session.user.id !== consoleUser)) location.reload();
  });
  document.addEventListener('zaicun:render', render);
  window.addEventListener('hashchange', onRoute);
  document.addEventListener('pointerdown', () => { pointerDown = true; }, true);
  const release = () => {
    pointerDown = false;
    if (pending) setTimeout(render, 50);
  };
  document.addEventListener('pointerup', release, true);
  document.addEventListener('pointercancel', release, true);
  $('#lang-switch').addEventListener('click', () => setLanguage(getLang() === 'en' ? 'zh-CN' : 'en'));
  $('#sync-badge').addEventListener('click', () => { location.hash = '#/outbox'; });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') store.refresh();
  });
  setInterval(tick, 1000);
}

function registerServiceWorker() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => {});
  }
}

listen();
render();
registerServiceWorker();
store.start().then(onRoute);
