import autocannon from 'autocannon';
const [oldRoot, newRoot] = process.argv.slice(2);
const libOld = await import(`${oldRoot}/test/bench/lib.mjs`);
const libNew = await import(`${newRoot}/test/bench/lib.mjs`);
const up = async (lib) => { const db = await lib.startDatabase(); const s = await lib.startServer(db.url, JSON.parse(process.env[lib === libNew ? 'AB_ENV_NEW' : 'AB_ENV_OLD'] ?? '{}')); const p = await lib.setUpProject(s.url); return { db, s, p, lib }; };
const a = await up(libOld); const b = await up(libNew);
const run = async (x) => { const r = await autocannon({ url: `${x.s.url}/api/v1/projects/${x.p.slug}/predictions`, method: 'POST', connections: 16, duration: 8,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${x.p.key}` },
  requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(x.lib.prediction()) }) }] }); return r['2xx'] / 8; };
const ra = [], rb = [];
for (let i = 0; i < 4; i++) { ra.push(await run(a)); rb.push(await run(b)); console.log('old', ra.at(-1), 'new', rb.at(-1)); }
const m = (xs) => xs.reduce((s, v) => s + v, 0) / xs.length;
console.log('mean old', m(ra).toFixed(0), 'new', m(rb).toFixed(0), 'ratio new/old', (m(rb) / m(ra)).toFixed(2));
await a.s.stop(); await b.s.stop(); process.exit(0);
