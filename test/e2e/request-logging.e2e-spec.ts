import * as http from 'node:http';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { createApp } from '../../server/src/app.factory';
import { prepareContext } from '../../server/src/bootstrap';
import { loadConfig } from '../../server/src/config/app-config';
import { createDatabase } from '../helpers/test-database';

type Line = { level: number; msg: string; statusCode?: number; url?: string; responseTime?: number };
const DEBUG = 20;
const INFO = 30;
const WARN = 40;

/** A body sent in two halves `pauseMs` apart: a request that takes at least that long, whatever the machine. */
function slowPost(url: string, route: string, body: string, pauseMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}${route}`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.write(body.slice(0, 5));
    setTimeout(() => request.end(body.slice(5)), pauseMs);
  });
}

describe('request logs: a line for what needs a look, not for every request', () => {
  const lines: Line[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(text) as Line);
        done();
      },
    }),
  );
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let app: NestFastifyApplication;
  let url: string;
  const requestLines = () => lines.filter((line) => line.msg === 'request completed' || line.msg === 'slow request');

  beforeAll(async () => {
    database = await createDatabase();
    const config = loadConfig(
      {
        DATABASE_URL: database.url,
        LOG_LEVEL: 'info',
        LOG_SLOW_REQUEST_MS: '300',
        PORT: '0',
        BACKFLOW_CLIENT_DIR: path.join(__dirname, '..', '..', 'client', 'dist'),
      },
      path.join(__dirname, '..', '..'),
    );
    app = await createApp(await prepareContext(config, logger, database.url, { jobs: false }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app.close();
    await database.drop();
  });
  beforeEach(() => {
    lines.length = 0;
    logger.level = 'info';
  });

  it('logs nothing at info for requests that went well', async () => {
    for (let i = 0; i < 20; i++) expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(requestLines()).toEqual([]);
    expect(lines.filter((line) => line.level === INFO)).toEqual([]);
  });

  it('logs a refused request at info, with its status and time', async () => {
    expect((await fetch(`${url}/api/v1/projects/nope/spans`)).status).toBe(401);
    expect(requestLines()).toEqual([
      expect.objectContaining({ level: INFO, msg: 'request completed', statusCode: 401, url: '/api/v1/projects/nope/spans', responseTime: expect.any(Number) }),
    ]);
  });

  it('logs a request slower than LOG_SLOW_REQUEST_MS at warn', async () => {
    await slowPost(url, '/api/v1/auth/login', JSON.stringify({ email: 'nobody@example.com', password: 'not the password' }), 400);
    const [line] = requestLines();
    expect(line).toMatchObject({ level: WARN, msg: 'slow request', url: '/api/v1/auth/login' });
    expect(line.responseTime).toBeGreaterThanOrEqual(300);
  });

  it('logs every request at debug when LOG_LEVEL says debug', async () => {
    logger.level = 'debug';
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(requestLines()).toEqual([expect.objectContaining({ level: DEBUG, msg: 'request completed', statusCode: 200, url: '/healthz' })]);
  });
});
