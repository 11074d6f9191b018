import autocannon from 'autocannon';
const [rootA, rootB] = process.argv.slice(2);
const libA = await import(`${rootA}/test/bench/lib.mjs`);
const libB = await import(`${rootB}/test/bench/lib.mjs`);
const up = async (lib, env) => { const db = await lib.startDatabase(); const s = await lib.startServer(db.url, env); const p = await lib.setUpProject(s.url); return { db, s, p, lib }; };
const a = await up(libA, JSON.parse(process.env.AB_ENV_A ?? '{}')); const b = await up(libB, JSON.parse(process.env.AB_ENV_B ?? '{}'));
const run = async (x) => {
  const before = x.lib.cpuSecondsOf(x.s.pid);
  const r = await autocannon({ url: `${x.s.url}/api/v1/projects/${x.p.slug}/predictions`, method: 'POST', connections: 16, amount: 4000,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${x.p.key}` },
  requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(x.lib.prediction()) }) }] });
  return ((x.lib.cpuSecondsOf(x.s.pid) - before) * 1000) / r['2xx'];
};
const ra = [], rb = [];
for (let i = 0; i < 4; i++) { ra.push(await run(a)); rb.push(await run(b)); console.log('A', ra.at(-1).toFixed(3), 'B', rb.at(-1).toFixed(3), 'ms CPU/request'); }
const m = (xs) => xs.slice(1).reduce((s, v) => s + v, 0) / (xs.length - 1);
console.log('mean (after warm-up) A', m(ra).toFixed(3), 'B', m(rb).toFixed(3), 'B/A', (m(rb) / m(ra)).toFixed(2));
await a.s.stop(); await b.s.stop(); process.exit(0);
