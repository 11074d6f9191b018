// The baselines for ingest: bare Fastify and one pg INSERT per request into the same table (single
// predictions), or one COPY per request in a transaction (batches), with no auth, no validation
// beyond JSON parsing, no routing or feedback join.
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { copyRow } from './lib.mjs';
const require = createRequire(import.meta.url);
const Fastify = require('fastify');
const { Pool } = require('pg');
const { from: copyFrom } = require('pg-copy-streams');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
pool.on('error', () => undefined);
const projectId = process.env.PROJECT_ID;
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });

app.post('/predictions', async (request, reply) => {
  const p = request.body;
  const scores = p.scores;
  const predicted = Object.keys(scores).reduce((a, b) => (scores[a] >= scores[b] ? a : b));
  const at = p.timestamp ?? new Date().toISOString();
  const result = await pool.query(
    `INSERT INTO predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, occurred_at, occurred_on)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ($10::timestamptz AT TIME ZONE 'UTC')::date) ON CONFLICT DO NOTHING`,
    [
      projectId,
      p.id,
      p.model.name,
      p.model.version,
      JSON.stringify(p.input),
      JSON.stringify(scores),
      predicted,
      scores[predicted],
      JSON.stringify(p.slice ?? {}),
      at,
    ],
  );
  reply.status(result.rowCount ? 201 : 200);
  return { id: p.id, accepted: result.rowCount, duplicates: 1 - result.rowCount };
});

app.post('/predictions/batch', async (request) => {
  const items = request.body;
  const text = items.map((p) => copyRow(projectId, p)).join('');
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await pipeline(
      Readable.from([text]),
      client.query(
        copyFrom(
          'COPY predictions (project_id, id, model_name, model_version, input, scores, predicted_label, confidence, slice, metadata, occurred_at, occurred_on) FROM STDIN',
        ),
      ),
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
  return { accepted: items.length, duplicates: 0 };
});

// the partitions the server makes as it goes (today's, and tomorrow's for a run across midnight)
await pool.query(`SELECT backflow_prediction_partitions($1, ARRAY[(now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date + 1], false)`, [
  projectId,
]);
app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then(() => process.send?.('ready'));
process.on('SIGTERM', async () => {
  await app.close();
  await pool.end();
  process.exit(0);
});
