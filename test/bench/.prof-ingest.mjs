import autocannon from 'autocannon';
import { prediction, setUpProject, startDatabase, startServer } from './lib.mjs';
const database = await startDatabase();
const server = await startServer(database.url, {}, ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']);
const { slug, key } = await setUpProject(server.url);
const r = await autocannon({ url: `${server.url}/api/v1/projects/${slug}/predictions`, method: 'POST', connections: 16, duration: 10,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
  requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify(prediction()) }) }] });
console.log('2xx/s', r['2xx'] / 10, 'non2xx', r.non2xx);
await server.stop(); await database.stop?.();
process.exit(0);
