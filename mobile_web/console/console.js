// 在村 console: the pages county staff use to see who is on track and to review (overview,
// township, person, 待审核, reports, absences, 述职评议, 封存, admin). The app loads this module
// only when a supervisor, admin or secretary opens a console address, and draws the console
// into its <main>.
// Every page fetches what it shows from the API as it opens; nothing here is kept offline.
import { h, replace } from '../js/dom.js';
import { t, getLang, addWords } from '../js/i18n.js';
import { WORDS } from './words.js';

addWords(WORDS);
addStyles();

// Each page: an address pattern under #/console/, who may open it, and the module drawing it.
// A page module exports `render(ctx)` → a Node (or a promise of one); see `context()`.
const PAGES = [
  { pattern: '', module: './overview.js', roles: ['supervisor', 'admin'] },
  { pattern: 'township/:code', module: './township.js', roles: ['supervisor', 'admin', 'secretary'] },
  { pattern: 'person/:id', module: './person.js', roles: ['supervisor', 'admin', 'secretary'] },
  { pattern: 'review', module: './review.js', roles: ['supervisor'] },
  { pattern: 'reports', module: './reports.js', roles: ['supervisor', 'admin'] },
  { pattern: 'absences', module: './absences.js', roles: ['supervisor', 'admin'] },
  { pattern: 'evaluation', module: './evaluation.js', roles: ['supervisor', 'admin', 'secretary'] },
  { pattern: 'closings', module: './closings.js', roles: ['supervisor', 'admin'] },
  { pattern: 'admin', module: './admin.js', roles: ['admin'] },
  { pattern: 'admin/:section', module: './admin.js', roles: ['admin'] },
];

let drawing = 0;   // bumped on every draw, so a slow older page never replaces a newer one

/**
 * Show the console page for `key` ('console/…') in `el`. Redraws only when the address, the
 * language or the user changed, or when `force` is set (a page asking to be redrawn).
 */
export async function show(el, key, { force = false, user }) {
  const path = key.replace(/^console\/?/, '');
  const query = location.hash.split('?')[1] || '';
  const stamp = `${path}?${query}|${getLang()}|${user.id}`;
  if (!force && el.dataset.mounted === stamp) return;
  const same = el.dataset.mounted === stamp;
  el.dataset.mounted = stamp;
  const mine = ++drawing;
  const found = match(path);
  if (!found || !found.page.roles.includes(user.role)) {
    replace(el, page(h('h1', { class: 'screen-title', tabindex: '-1' }, t('console_not_here')),
      h('p', {}, h('a', { href: '#/' }, t('console_back_home')))));
    return;
  }
  if (!same) replace(el, page(h('p', { class: 'muted', role: 'status' }, t('loading'))));
  const ctx = context(el, key, stamp, found.params, new URLSearchParams(query), user, !same);
  let node;
  try {
    const module = await import(found.page.module);
    node = await module.render(ctx);
  } catch (err) {
    node = h('div', {}, h('h1', { class: 'screen-title', tabindex: '-1' }, t('console_failed')),
      h('p', { class: 'error', role: 'alert' }, err && err.message ? err.message : String(err)));
  }
  if (mine !== drawing || el.dataset.mounted !== stamp) return;   // the user moved on
  const focused = document.activeElement && el.contains(document.activeElement)
    ? document.activeElement.id : null;
  replace(el, page(node));
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  else if (!same) {
    const heading = el.querySelector('.screen-title');
    if (heading) heading.focus({ preventScroll: true });
  }
}

/**
 * What a page gets: `params` from the address ({code}, {id}, {section}), `query` (the part after
 * '?', e.g. year and as_of), the signed-in `user`, `fresh` (true when the page is opened, false
 * when it is redrawn: messages of an earlier visit are dropped on a fresh one), `refresh()` to
 * draw the page again with fresh data (nothing when the user has moved on meanwhile), and
 * `go(query)` to change the query (which redraws).
 */
function context(el, key, stamp, params, query, user, fresh) {
  return {
    params,
    query,
    user,
    fresh,
    refresh: () => {
      if (el.dataset.mounted === stamp) show(el, key, { force: true, user });
    },
    go: (changes) => {
      const next = new URLSearchParams(query);
      for (const [name, value] of Object.entries(changes)) {
        if (value == null || value === '') next.delete(name);
        else next.set(name, value);
      }
      const text = next.toString();
      location.hash = `#/${key}${text ? `?${text}` : ''}`;
    },
  };
}

function match(path) {
  const parts = path ? path.split('/') : [];
  for (const candidate of PAGES) {
    const want = candidate.pattern ? candidate.pattern.split('/') : [];
    if (want.length !== parts.length) continue;
    const params = {};
    const fits = want.every((part, i) => {
      if (part.startsWith(':')) {
        params[part.slice(1)] = decodeURIComponent(parts[i]);
        return parts[i] !== '';
      }
      return part === parts[i];
    });
    if (fits) return { page: candidate, params };
  }
  return null;
}

const page = (...children) => h('div', { class: 'screen console' }, children);

/** The console's own stylesheet, added once beside the app's. */
function addStyles() {
  if (document.querySelector('link[data-console]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: 'console/console.css', 'data-console': '' }));
}
