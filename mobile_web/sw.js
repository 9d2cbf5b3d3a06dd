// The service worker keeps the app shell so the app opens with no signal (API requests are not
// touched). VERSION, a digest of the files (scripts/stamp_shell.py), names the cache.
const VERSION = '240eac6e1a9d';
const CACHE = `zaicun-shell-${VERSION}`;
const SHELL = [
  './',
  'index.html',
  'app.js',
  'style.css',
  'manifest.webmanifest',
  'favicon.ico',
  'icons/icon.svg',
  'icons/icon-192.png',
  'icons/icon-512.png',
  'js/api.js',
  'js/db.js',
  'js/dom.js',
  'js/explain.js',
  'js/field.js',
  'js/format.js',
  'js/geo.js',
  'js/i18n.js',
  'js/icons.js',
  'js/outbox.js',
  'js/store.js',
  'js/views/common.js',
  'js/views/dialogs.js',
  'js/views/home.js',
  'js/views/login.js',
  'js/views/me.js',
  'js/views/queue.js',
  'js/views/reports.js',
  'js/views/visits.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' })));
    // js/later/ modules an earlier version kept: fetched anew.
    for (const name of await caches.keys()) {
      for (const kept of name === CACHE ? [] : await (await caches.open(name)).keys()) {
        const path = new URL(kept.url).pathname;
        if (path.includes('/js/later/')) await cache.add(new Request(path, { cache: 'reload' })).catch(() => {});
      }
    }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

const scopePath = new URL(self.registration.scope).pathname;

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(`${scopePath}api/`)) return;   // straight to the network
  if (request.mode === 'navigate') {
    if (url.pathname !== scopePath && url.pathname !== `${scopePath}index.html`) return;
    event.respondWith(fromShell('./', request));
    return;
  }
  event.respondWith(fromShell(request, request, url.pathname.startsWith(`${scopePath}js/later/`)));
});

// The cached copy, else the network; a js/later/ module is kept once fetched.
async function fromShell(key, request, keep = false) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key, { ignoreSearch: true });
  if (hit) return hit;
  const answer = await fetch(request);
  if (keep && answer.ok && !answer.redirected && /javascript/.test(answer.headers.get('Content-Type'))) {
    await cache.put(key, answer.clone()).catch(() => {});
  }
  return answer;
}
