import { randomUUID } from 'node:crypto';
import { createDatabase, withClient } from '../helpers/test-database';
import { loginAt, spawnServer, ServerProcess } from '../helpers/server-process';
import { predictionBody } from '../factories';

/** Sends batches until stopped; remembers the ids of every batch the server acknowledged. */
async function streamBatches(url: string, slug: string, key: string, batches: Array<Array<{ id: string }>>, acknowledged: Set<string>, stop: () => boolean) {
  for (const batch of batches) {
    if (stop()) return;
    try {
      const response = await fetch(`${url}/api/v1/projects/${slug}/predictions/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(batch),
      });
      if (response.status === 200) for (const p of batch) acknowledged.add(p.id);
    } catch {
      return; // the server died mid-request: this batch was not acknowledged
    }
  }
}

describe('capture survives kill -9 during a stream of batches', () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
  });

  it('keeps every acknowledged prediction, and a client that retries everything ends with no duplicates', async () => {
    const database = await createDatabase({ empty: true });
    try {
      server = await spawnServer({ DATABASE_URL: database.url });
      await server.waitReady();
      const token = await loginAt(server.url);
      const slug = `crash-${randomUUID().slice(0, 8)}`;
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      await fetch(`${server.url}/api/v1/projects`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ slug, name: slug, taskType: 'single_label', labels: [{ name: 'ham' }, { name: 'spam' }] }),
      });
      const key = (
        await (
          await fetch(`${server.url}/api/v1/projects/${slug}/api-keys`, { method: 'POST', headers, body: JSON.stringify({ name: 'k', scopes: ['ingest'] }) })
        ).json()
      ).secret as string;

      const batches = Array.from({ length: 200 }, () => Array.from({ length: 200 }, () => predictionBody()));
      const acknowledged = new Set<string>();
      let killed = false;
      const senders = [0, 1, 2].map((lane) =>
        streamBatches(
          server!.url,
          slug,
          key,
          batches.filter((_, i) => i % 3 === lane),
          acknowledged,
          () => killed,
        ),
      );
      // kill once some batches are in and others are in flight
      while (acknowledged.size < 4_000) await new Promise((r) => setTimeout(r, 20));
      await server.kill9();
      killed = true;
      await Promise.all(senders);

      const stored = await withClient(database.url, async (client) => (await client.query(`SELECT id FROM predictions`)).rows.map((r) => r.id as string));
      const storedIds = new Set(stored);
      const lost = [...acknowledged].filter((id) => !storedIds.has(id));
      expect(lost).toEqual([]);
      expect(acknowledged.size).toBeGreaterThan(0);
      expect(storedIds.size).toBeLessThan(batches.length * 200);

      // restart; the client retries every batch, acknowledged or not
      server = await spawnServer({ DATABASE_URL: database.url });
      await server.waitReady();
      const replies: Array<{ accepted: number; duplicates: number }> = [];
      for (const batch of batches) {
        const response = await fetch(`${server.url}/api/v1/projects/${slug}/predictions/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify(batch),
        });
        replies.push(await response.json());
      }
      const accepted = replies.reduce((n, r) => n + r.accepted, 0);
      const duplicates = replies.reduce((n, r) => n + r.duplicates, 0);
      expect(duplicates).toBe(storedIds.size);
      expect(accepted).toBe(batches.length * 200 - storedIds.size);
      await withClient(database.url, async (client) => {
        const { rows } = await client.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM predictions`);
        expect(rows[0]).toEqual({ n: batches.length * 200, distinct_ids: batches.length * 200 });
      });
    } finally {
      await server?.stop();
      await database.drop();
    }
  });
});
