// agtrace service worker (served at /sw.js so it may keep the whole site's
// operator pages): the operator's pages open without a network — the last
// copy seen online — and their files come from the cache. Writes are not
// its business: offline.js queues them and sends them when the network is
// back. Logging out (any visit to /login) empties the cache: pages carry
// the account's data.
const CACHE = 'agtrace-v1';
const FILES = ['/static/app.css', '/static/trace.css', '/static/app.js', '/static/trace.js', '/static/offline.js', '/static/favicon.svg'];
const PAGES = [/^\/$/, /^\/batches(\/new)?$/, /^\/sell$/, /^\/transfers$/];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === '/login') {
    e.waitUntil(caches.delete(CACHE));
    return;
  }
  if (url.pathname.startsWith('/static/')) {
    e.respondWith(caches.match(req).then((hit) => hit || fetch(req).then((res) => {
      if (res.ok) { const copy = res.clone(); caches.open(CACHE).then((c) => c.put(req, copy)); }
      return res;
    })));
    return;
  }
  if (req.mode === 'navigate' && PAGES.some((p) => p.test(url.pathname))) {
    e.respondWith(fetch(req).then((res) => {
      if (res.ok && !res.redirected) { const copy = res.clone(); caches.open(CACHE).then((c) => c.put(url.pathname, copy)); }
      return res;
    }).catch(() => caches.match(url.pathname).then((hit) => hit || caches.match('/batches/new')).then((hit) => hit ||
      new Response('<!doctype html><meta charset="utf-8"><p>离线中，这个页面还没有保存在本机。Offline: this page was not saved on this phone yet.</p>',
        { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } }))));
  }
});
