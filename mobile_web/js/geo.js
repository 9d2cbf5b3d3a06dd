// Location: read once at check-in or check-out (never tracked), distances, nearest village.

const EARTH_RADIUS_M = 6371008.8;
const GOOD_ENOUGH_M = 50;      // stop waiting once a fix is this precise
const SETTLE_MS = 10000;       // then take the best fix seen after this long
const TIMEOUT_MS = 20000;      // and give up without one after this long

/** Great-circle distance in metres (the server uses the WGS-84 geodesic; this is within 0.5 %). */
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(s)));
}

/** Villages with their distance from `point`, nearest first (no point: as given). */
export function byDistance(villages, point) {
  const rows = villages.map((v) => ({ village: v, distance: point ? distanceM(point, v) : null }));
  if (point) rows.sort((x, y) => x.distance - y.distance);
  return rows;
}

/**
 * The village to check in at: the nearest linked village when the point is inside its radius,
 * else a township village whose radius holds the point, else the nearest linked village.
 */
export function pickVillage(point, linked, township) {
  const near = byDistance(linked, point);
  if (!point) return linked.length === 1 ? linked[0] : null;
  if (near.length && near[0].distance <= near[0].village.radius_m) return near[0].village;
  const inside = byDistance(township, point).find((r) => r.distance <= r.village.radius_m);
  if (inside) return inside.village;
  return near.length ? near[0].village : (byDistance(township, point)[0] || {}).village || null;
}

/**
 * Read the position with high accuracy: resolves {lat, lon, accuracy_m} or rejects with
 * {reason: 'denied'|'timeout'|'unavailable'|'cancelled'}. `onProgress(fix)` sees each
 * improving fix; the returned `stop()` settles on the best fix so far (or cancels).
 */
export function readPosition(onProgress) {
  let watch = null;
  let best = null;
  let settle = null;
  let timeout = null;
  let done;
  const result = new Promise((resolve, reject) => {
    done = (fix, reason) => {
      if (watch !== null && navigator.geolocation) navigator.geolocation.clearWatch(watch);
      clearTimeout(settle);
      clearTimeout(timeout);
      watch = null;
      done = () => {};
      if (fix) resolve(fix); else reject({ reason });
    };
  });
  if (!navigator.geolocation) {
    done(null, 'unavailable');
    return { result, stop: () => {} };
  }
  const onFix = (pos) => {
    const fix = { lat: pos.coords.latitude, lon: pos.coords.longitude,
      accuracy_m: Math.round(pos.coords.accuracy * 10) / 10 };
    if (!best || fix.accuracy_m <= best.accuracy_m) best = fix;
    if (onProgress) onProgress(best);
    if (best.accuracy_m <= GOOD_ENOUGH_M) done(best);
  };
  const onError = (err) => {
    if (err.code === 1) done(null, 'denied');
    else if (!best && err.code === 3) done(null, 'timeout');
  };
  watch = navigator.geolocation.watchPosition(onFix, onError,
    { enableHighAccuracy: true, maximumAge: 0, timeout: TIMEOUT_MS });
  settle = setTimeout(() => { if (best) done(best); }, SETTLE_MS);
  timeout = setTimeout(() => done(best, 'timeout'), TIMEOUT_MS);
  return { result, stop: (useBest = true) => done(useBest ? best : null, 'cancelled') };
}
