import * as path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { createApp } from '../../server/src/app.factory';
import { prepareContext } from '../../server/src/bootstrap';
import { UsersService } from '../../server/src/auth/users.service';
import { loadConfig } from '../../server/src/config/app-config';
import { createDatabase, withClient } from './test-database';

export const ADMIN = { email: 'admin@example.com', password: 'Admin-pass-123!' };

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestApp {
  url: string;
  app: NestFastifyApplication;
  databaseUrl: string;
  request<T = any>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string },
  ): Promise<ApiResponse<T>>;
  login(email?: string, password?: string): Promise<string>;
  sql<T = any>(query: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * The real application on its own cloned database, listening on a free port; or, given
 * `databaseUrl`, a second node on another app's database (close it first: the owner drops it).
 */
export async function startTestApp(env: Record<string, string> = {}, options: { jobs?: boolean; databaseUrl?: string; port?: number } = {}): Promise<TestApp> {
  const database = options.databaseUrl ? { url: options.databaseUrl, drop: () => Promise.resolve() } : await createDatabase();
  const config = loadConfig(
    {
      DATABASE_URL: database.url,
      BACKFLOW_ADMIN_EMAIL: ADMIN.email,
      BACKFLOW_ADMIN_PASSWORD: ADMIN.password,
      BACKFLOW_CLIENT_DIR: path.join(__dirname, '..', '..', 'client', 'dist'),
      LOG_LEVEL: 'silent',
      PORT: '0',
      ...env,
    },
    path.join(__dirname, '..', '..'),
  );
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // scheduled jobs stay off unless a test asks: tests call the job's work directly, deterministically
  const context = await prepareContext(config, logger, database.url, { jobs: options.jobs ?? false });
  const app = await createApp(context);
  await app.get(UsersService).ensureFirstAdmin();
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;

  const request: TestApp['request'] = async (method, route, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined || options.raw !== undefined) headers['content-type'] ??= 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(url + route, {
      method,
      headers,
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: body as never, headers: response.headers };
  };

  return {
    url,
    app,
    databaseUrl: database.url,
    request,
    async login(email = ADMIN.email, password = ADMIN.password) {
      const response = await request('POST', '/api/v1/auth/login', { body: { email, password } });
      if (response.status !== 200) throw new Error(`login ${email} -> ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.token as string;
    },
    sql: (query, params) => withClient(database.url, async (client) => (await client.query(query, params as unknown[])).rows),
    async close() {
      await app.close();
      await database.drop();
    },
  };
}
