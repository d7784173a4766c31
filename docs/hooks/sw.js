/* tinycnn service worker: the course works offline, updates cleanly, and Stop keeps state.
 *
 * Template: docs/hooks/sw.js. The build (docs/hooks/offline.py) writes site/sw.js with the CONFIG
 * slot filled: {build, enabled, isolation, bytes, files: {path: [sha256 (32 hex), size]}}, where
 * path is relative to the site root and build is a hash over all of them. See docs/in-browser.md.
 *
 * - One cache per build ("tinycnn-build-<build>"). Only files of this build's manifest go into
 *   it, and only when their bytes match the manifest's hash: the cache never holds two builds.
 * - First view: it keeps what the page itself fetched (nothing extra is downloaded). On intent
 *   (the page sends "make-offline") it fetches the rest, reporting progress to the pages.
 * - Update: a new build installs into its own cache (files with an unchanged hash are copied from
 *   the old cache, not downloaded), waits, and takes over when the last page of the old build
 *   goes (a reload of the only tab hands over at once) or when a page asks ("activate-now").
 * - No page gets a mix of two builds: the worker notes which build served each page (and each
 *   worker a page starts). A page of an older build that is still open when a new one takes over
 *   (another tab) keeps reading its own build's cache until it is reloaded; a build's cache is
 *   deleted once no open page uses it.
 * - It adds Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy to the site's own responses:
 *   the page is then cross-origin isolated, and Stop can interrupt Python.
 * - Only the site's own origin is handled; it never sends anything anywhere.
 */
"use strict";

const CONFIG = /*CONFIG*/{"build":"template","enabled":false,"isolation":"off","bytes":0,"files":{}}/*END*/;
const PREFIX = "tinycnn-build-";
const CACHE = PREFIX + CONFIG.build;
const SETTINGS_CACHE = "tinycnn-settings";
const SETTINGS_KEY = "settings.json";
const HASH_HEADER = "X-Tinycnn-Hash";
const SCOPE = new URL(self.registration.scope);
const FILES = CONFIG.files;

// ---------------------------------------------------------------------------------------------
// Turned off by the build (extra.tinycnn.offline: false, or mkdocs serve): forget everything
// ---------------------------------------------------------------------------------------------
if (!CONFIG.enabled) {
  self.addEventListener("install", () => self.skipWaiting());
  self.addEventListener("activate", (event) => {
    event.waitUntil((async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) || name === SETTINGS_CACHE) await caches.delete(name);
      }
      await self.registration.unregister();
    })());
  });
}

// ---------------------------------------------------------------------------------------------
// Paths, hashes, the cache
// ---------------------------------------------------------------------------------------------
/** The manifest path of a URL of this site ("convolution/" -> "convolution/index.html"), or null. */
function fileOf(url) {
  const u = new URL(url);
  if (u.origin !== SCOPE.origin || !u.pathname.startsWith(SCOPE.pathname)) return null;
  let path;
  try { path = decodeURIComponent(u.pathname.slice(SCOPE.pathname.length)); } catch (e) { return null; }
  if (path === "" || path.endsWith("/")) path += "index.html";
  return Object.prototype.hasOwnProperty.call(FILES, path) ? path : null;
}

function keyOf(path) { return new URL(path, SCOPE).href; }

/** The address to download a file from: a page by its folder ("convolution/"), as it is linked and
 *  as the browser's HTTP cache knows it from the page's own visit. */
function urlOf(path) { return new URL(path.replace(/(^|\/)index\.html$/, "$1"), SCOPE).href; }

async function sha256(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("").slice(0, 32);
}

/** A response ready to keep: the bytes, the original content type, and the verified hash. */
function stored(buffer, contentType, hash) {
  const headers = { "Content-Type": contentType || "application/octet-stream" };
  headers[HASH_HEADER] = hash;
  return new Response(buffer, { status: 200, headers });
}

/** Add the isolation headers to one of the site's own responses. */
function isolate(response) {
  if (CONFIG.isolation === "off" || response.type === "opaqueredirect" || response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.delete(HASH_HEADER);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", CONFIG.isolation);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

// Downloads in flight, by path: a page's request and the background caching share one download.
const inflight = new Map();

/** Download a file of this build, check it against the manifest and keep it in `cacheName`.
 *  Resolves with a response for the page (the bytes as downloaded, kept or not). */
function download(path, cacheMode, cacheName) {
  const id = path + "\0" + (cacheName || CACHE);
  if (!inflight.has(id)) {
    const job = (async () => {
      // A copy from the HTTP cache may be of another build: then once more from the server.
      const tries = cacheMode === "no-cache" ? ["no-cache"] : [cacheMode || "default", "no-cache"];
      let last = null;
      for (const mode of tries) {
        const response = await fetch(urlOf(path), { cache: mode, credentials: "same-origin" });
        if (!response.ok) return response;  // a 404 or 500: given to the page as is, never kept
        const buffer = await response.arrayBuffer();
        const hash = await sha256(buffer);
        last = { buffer, type: response.headers.get("Content-Type"), hash, status: response.status,
          statusText: response.statusText, headers: response.headers };
        if (hash === FILES[path][0]) {
          const cache = await caches.open(cacheName || CACHE);
          await cache.put(keyOf(path), stored(buffer, last.type, hash));
          return stored(buffer, last.type, hash);
        }
      }
      // The server sends other bytes than this build's: a newer build is deployed. Give the page
      // what the server sent, keep nothing, and look for the new worker.
      self.registration.update().catch(() => {});
      return new Response(last.buffer, { status: last.status, statusText: last.statusText, headers: last.headers });
    })();
    inflight.set(id, job);
    job.then(() => inflight.delete(id), () => inflight.delete(id));
  }
  return inflight.get(id).then((response) => response.clone());
}

async function readSettings() {
  try {
    const cache = await caches.open(SETTINGS_CACHE);
    const response = await cache.match(keyOf(SETTINGS_KEY));
    return response ? await response.json() : {};
  } catch (error) { return {}; }
}

async function writeSettings(changes) {
  const settings = Object.assign(await readSettings(), changes);
  const cache = await caches.open(SETTINGS_CACHE);
  await cache.put(keyOf(SETTINGS_KEY), new Response(JSON.stringify(settings),
    { headers: { "Content-Type": "application/json" } }));
  return settings;
}

/** What this build's cache holds: {files, bytes} (of this build's manifest). */
async function cached(cacheName) {
  const cache = await caches.open(cacheName || CACHE);
  let files = 0, bytes = 0;
  for (const request of await cache.keys()) {
    const path = fileOf(request.url);
    if (path) { files++; bytes += FILES[path][1]; }
  }
  return { files, bytes };
}

async function broadcast(message) {
  for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
    client.postMessage(Object.assign({ source: "tinycnn-sw", build: CONFIG.build }, message));
  }
}

// ---------------------------------------------------------------------------------------------
// The offline copy (on intent): every file of the manifest, a few at a time, with progress
// ---------------------------------------------------------------------------------------------
let saving = null;

async function status() {
  const have = await cached();
  const settings = await readSettings();
  return { type: "status", build: CONFIG.build, offline: !!settings.offline, saving: !!saving,
    files: Object.keys(FILES).length, bytes: CONFIG.bytes, cachedFiles: have.files, cachedBytes: have.bytes,
    isolation: CONFIG.isolation };
}

function saveEverything() {
  if (saving) return saving;
  saving = (async () => {
    await writeSettings({ offline: true });
    const cache = await caches.open(CACHE);
    const have = new Set((await cache.keys()).map((request) => fileOf(request.url)).filter(Boolean));
    const todo = Object.keys(FILES).filter((path) => !have.has(path));
    let doneBytes = Object.keys(FILES).filter((path) => have.has(path)).reduce((n, p) => n + FILES[p][1], 0);
    let doneFiles = have.size;
    let lastReport = 0;
    const report = async (force) => {
      if (!force && Date.now() - lastReport < 250) return;
      lastReport = Date.now();
      await broadcast({ type: "progress", files: Object.keys(FILES).length, bytes: CONFIG.bytes,
        cachedFiles: doneFiles, cachedBytes: doneBytes });
    };
    await report(true);
    // Largest first is the slowest to show progress; keep the manifest's order (pages, then assets),
    // three downloads at a time.
    let next = 0;
    const failures = [];
    const worker = async () => {
      while (next < todo.length) {
        const path = todo[next++];
        try {
          // force-cache: what the page already downloaded comes from the browser's HTTP cache
          // (checked against the hash, downloaded again if it differs)
          const response = await download(path, "force-cache");
          if (!response.ok || response.headers.get(HASH_HEADER) !== FILES[path][0]) failures.push(path);
          else { doneFiles++; doneBytes += FILES[path][1]; }
        } catch (error) {
          failures.push(path);
        }
        await report(false);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    await report(true);
    const result = await status();
    await broadcast(Object.assign(result, { type: failures.length ? "save-failed" : "saved",
      failed: failures.length }));
  })().finally(() => { saving = null; });
  return saving;
}

// ---------------------------------------------------------------------------------------------
// Lifecycle: install into this build's own cache, activate atomically, delete the old caches
// ---------------------------------------------------------------------------------------------
async function install() {
  const settings = await readSettings();
  const cache = await caches.open(CACHE);
  const wanted = new Set(settings.offline ? Object.keys(FILES) : []);
  const reusable = new Map();  // path -> an old cache's response with the same content hash
  for (const name of await caches.keys()) {
    if (!name.startsWith(PREFIX) || name === CACHE) continue;
    const old = await caches.open(name);
    for (const request of await old.keys()) {
      const path = fileOf(request.url);
      if (!path) continue;  // a file this build no longer has
      wanted.add(path);     // the reader had it: the new build's copy is kept too
      if (!reusable.has(path)) {
        const response = await old.match(request);
        if (response && response.headers.get(HASH_HEADER) === FILES[path][0]) reusable.set(path, response);
      }
    }
  }
  let copied = 0, downloaded = 0;
  for (const path of wanted) {
    if (await cache.match(keyOf(path))) continue;
    const old = reusable.get(path);
    if (old) {
      await cache.put(keyOf(path), old);  // unchanged: copied, not downloaded
      copied += FILES[path][1];
    } else {
      const response = await download(path, "no-cache");
      if (!response.ok || response.headers.get(HASH_HEADER) !== FILES[path][0]) {
        // The new build cannot be completed now (offline, or yet another deploy): this worker
        // fails to install and the old one keeps serving its complete copy.
        throw new Error(`could not fetch ${path} of build ${CONFIG.build}`);
      }
      downloaded += FILES[path][1];
    }
  }
  await writeSettings({ lastInstall: { build: CONFIG.build, copied, downloaded } });
}

if (CONFIG.enabled) {
  self.addEventListener("install", (event) => {
    event.waitUntil(install().then(async () => {
      // A first install has nothing to replace: take over at once.
      if (!self.registration.active) await self.skipWaiting();
    }));
  });

  self.addEventListener("activate", (event) => {
    event.waitUntil((async () => {
      await dropUnusedBuilds();  // pages of the old build still open keep its cache
      await self.clients.claim();
      scheduleCleanup();  // the page whose reload handed over is usually gone a moment later
      await broadcast({ type: "activated" });
    })());
  });

  self.addEventListener("message", (event) => {
    const message = event.data || {};
    const reply = (data) => {
      if (event.ports && event.ports[0]) event.ports[0].postMessage(data);
      else if (event.source) event.source.postMessage(Object.assign({ source: "tinycnn-sw", build: CONFIG.build }, data));
    };
    if (message.type === "status") {
      event.waitUntil(status().then(reply));
    } else if (message.type === "make-offline") {
      event.waitUntil(saveEverything());
    } else if (message.type === "keep") {
      // The page's own files, fetched before this worker controlled it: keep them (from the
      // browser's HTTP cache; nothing new is downloaded for them).
      event.waitUntil((async () => {
        const cache = await caches.open(CACHE);
        for (const url of message.urls || []) {
          const path = fileOf(url);
          if (path && !(await cache.match(keyOf(path)))) {
            try { await download(path, "force-cache"); } catch (error) { /* offline: kept later */ }
          }
        }
        reply({ type: "kept" });
      })());
    } else if (message.type === "hand-over") {
      // The active worker of the old build is about to serve its last page: it reads this
      // build's cache from now on, and this worker takes over.
      reply({ type: "hand-over", cache: CACHE });
      event.waitUntil(self.skipWaiting());
    } else if (message.type === "activate-now") {
      event.waitUntil(self.skipWaiting());
    }
  });

  self.addEventListener("fetch", (event) => {
    const request = event.request;
    if (request.method !== "GET") return;
    const url = new URL(request.url);
    // Other origins (a CDN runtime): not touched, not cached.
    if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return;
    if (url.pathname === SCOPE.pathname + "sw.js") return;
    event.respondWith(respond(request, event.clientId, event.resultingClientId));
  });
}

// ---------------------------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------------------------
// Set when this (old) worker handed over to the waiting one: its last pages read the new cache.
let handedOverTo = null;

function ask(worker, message, timeoutMs) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), timeoutMs);
    channel.port1.onmessage = (event) => { clearTimeout(timer); resolve(event.data); };
    worker.postMessage(message, [channel.port2]);
  });
}

/** A reload (or a new visit) with a new build waiting and no other page of this site open: the
 *  new build serves it, so a new deploy shows by the second reload at the latest. */
async function handOverIfAlone() {
  const waiting = self.registration.waiting;
  if (!waiting || handedOverTo) return;
  const pages = await self.clients.matchAll({ type: "window" });
  if (pages.length > 1) return;  // another tab still shows this build: the notice asks there
  const answer = await ask(waiting, { type: "hand-over" }, 1000);
  if (answer && answer.cache) handedOverTo = answer.cache;
}

// ---------------------------------------------------------------------------------------------
// Which build each open page (and each worker it started) was served from
// ---------------------------------------------------------------------------------------------
// {client id: [cache name, id of the page that started it (a worker) or null]}, in SETTINGS_CACHE
// (shared by the builds; a worker is not always listed among the clients, its page is)
const CLIENTS_KEY = "clients.json";
let builds = null;
let buildsWritten = Promise.resolve();

function pageBuilds() {
  if (!builds) {
    builds = (async () => {
      try {
        const response = await (await caches.open(SETTINGS_CACHE)).match(keyOf(CLIENTS_KEY));
        return response ? await response.json() : {};
      } catch (error) { return {}; }
    })();
  }
  return builds;
}

function saveBuilds(map) {
  buildsWritten = buildsWritten.then(async () => {
    const cache = await caches.open(SETTINGS_CACHE);
    await cache.put(keyOf(CLIENTS_KEY), new Response(JSON.stringify(map), { headers: { "Content-Type": "application/json" } }));
  }).catch(() => {});
  return buildsWritten;
}

async function recordBuild(clientId, cacheName, parentId) {
  if (!clientId) return;
  const map = await pageBuilds();
  if (map[clientId] && map[clientId][0] === cacheName) return;
  map[clientId] = [cacheName, parentId || null];
  await saveBuilds(map);
}

/** The cache of the build that served this client (a page or a worker it started), or undefined. */
async function buildOf(clientId) {
  const entry = (await pageBuilds())[clientId];
  return entry ? entry[0] : undefined;
}

/** Forgets closed pages and deletes the caches of older builds that no open page uses. Only the
 *  newest worker does it (never one with a build waiting or installing after it). */
async function dropUnusedBuilds() {
  if (handedOverTo || self.registration.waiting || self.registration.installing) return;
  const map = await pageBuilds();
  const open = new Set((await self.clients.matchAll({ type: "all", includeUncontrolled: true })).map((c) => c.id));
  for (const [id, [, parent]] of Object.entries(map)) {
    if (!open.has(id) && !(parent && open.has(parent))) delete map[id];
  }
  const used = new Set(Object.values(map).map(([cacheName]) => cacheName));
  for (const name of await caches.keys()) {
    if (name.startsWith(PREFIX) && name !== CACHE && !used.has(name)) await caches.delete(name);
  }
  await saveBuilds(map);
}

let cleanupTimer = null;
function scheduleCleanup() {  // 2 s after a navigation or an activation, at most one at a time
  if (cleanupTimer) return;
  cleanupTimer = setTimeout(() => { cleanupTimer = null; dropUnusedBuilds().catch(() => {}); }, 2000);
}

const OFFLINE_PAGE = `<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Offline</title>
<body style="font-family:sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5">
<h1>You are offline</h1><p>This page is not saved on this device yet. Pages you opened before,
and the whole course once you chose "Make available offline" (at the bottom of every page), open
without a network.</p><p><a href="${SCOPE.pathname}">Go to the start page</a></p></body></html>`;

async function respond(request, clientId, resultingClientId) {
  if (request.mode === "navigate") await handOverIfAlone();
  const path = fileOf(request.url);
  const cacheName = handedOverTo || CACHE;
  if (request.mode === "navigate") {
    recordBuild(resultingClientId, cacheName);  // the new page is served by this build
    scheduleCleanup();  // the page it replaces (a reload) may have been the last of an old build
  } else {
    // A page opened with an older build (another tab was updated): it keeps its own build.
    const own = await buildOf(clientId);
    if (resultingClientId) recordBuild(resultingClientId, own || cacheName, clientId);  // a worker the page starts
    if (own && own !== cacheName && path && await caches.has(own)) {
      const hit = await (await caches.open(own)).match(keyOf(path));
      if (hit) return isolate(hit);
    }
  }
  if (path) {
    const hit = await (await caches.open(cacheName)).match(keyOf(path));
    if (hit) return isolate(hit);
    if (handedOverTo) return isolate(await fetch(request));
    try {
      return isolate(await download(path));
    } catch (error) {
      if (request.mode === "navigate") return offlinePage();
      throw error;
    }
  }
  if (request.mode === "navigate") {
    const url = new URL(request.url);
    if (!url.pathname.endsWith("/") && fileOf(url.origin + url.pathname + "/")) {
      return Response.redirect(url.origin + url.pathname + "/" + url.search, 301);
    }
    try {
      return isolate(await fetch(request));
    } catch (error) {
      return offlinePage();
    }
  }
  return isolate(await fetch(request));
}

function offlinePage() {
  return isolate(new Response(OFFLINE_PAGE, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }));
}
