// IndexedDB: the outbox (writes waiting for the server) and a key-value store of the last
// answers, so the app opens and shows something true without a network.

const NAME = 'zaicun';
const VERSION = 1;
let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = () => {
        req.result.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        req.result.createObjectStore('kv');
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return opening;
}

function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** A transaction's end: resolves when it is committed, rejects when it fails. */
function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

async function store(name, mode) {
  const db = await open();
  return db.transaction(name, mode).objectStore(name);
}

export async function kvGet(key) {
  return done((await store('kv', 'readonly')).get(key));
}

export async function kvSet(key, value) {
  return done((await store('kv', 'readwrite')).put(value, key));
}

/** Put several keys in one transaction: all of them or none. */
export async function kvSetMany(entries) {
  const db = await open();
  const tx = db.transaction('kv', 'readwrite');
  for (const [key, value] of entries) tx.objectStore('kv').put(value, key);
  return finished(tx);
}

/** Add an item; resolves its sequence number (the order it is sent in). */
export async function outboxAdd(item) {
  return done((await store('outbox', 'readwrite')).add(item));
}

/** Every item, oldest first. */
export async function outboxAll() {
  return done((await store('outbox', 'readonly')).getAll());
}

/**
 * Change the stored items in one transaction: `change(item)` returns the fields to update.
 * Items deleted meanwhile stay deleted (a late update never brings a synced item back).
 */
export async function outboxPatch(change, onlySeq = null) {
  const db = await open();
  const tx = db.transaction('outbox', 'readwrite');
  const request = tx.objectStore('outbox').openCursor(onlySeq === null ? null : onlySeq);
  request.onsuccess = () => {
    const cursor = request.result;
    if (!cursor) return;
    cursor.update({ ...cursor.value, ...change(cursor.value) });
    cursor.continue();
  };
  return finished(tx);
}

export async function outboxDelete(seq) {
  return done((await store('outbox', 'readwrite')).delete(seq));
}

/** Forget everything personal: the outbox and every cached answer. */
export async function clearAll() {
  const db = await open();
  const tx = db.transaction(['outbox', 'kv'], 'readwrite');
  tx.objectStore('outbox').clear();
  tx.objectStore('kv').clear();
  return finished(tx);
}
