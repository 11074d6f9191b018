import { Global, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { EntityManager } from 'typeorm';
import { LOGGER } from '../logging/logger';

const CHANNEL = 'backflow_invalidate';
export const INVALIDATION_DATABASE_URL = Symbol('INVALIDATION_DATABASE_URL');

// 'access': a session, user or membership lost access (see AccessRevocations)
export type CacheTopic = 'api_key' | 'project' | 'access';

/**
 * Tells every server process on this database to drop a cached entry, through Postgres
 * LISTEN/NOTIFY. A notification is sent when the changing transaction commits. While this
 * process is not listening, `live` is false and callers must not trust their caches; when it
 * listens again, every handler hears `undefined` once more (what changed meanwhile is unknown).
 */
@Injectable()
export class CacheInvalidation implements OnModuleInit, OnApplicationShutdown {
  private client?: Client;
  private listening = false;
  private stopped = false;
  /** clients already given up on (a WeakSet: they are forgotten with the client) */
  private readonly given = new WeakSet<Client>();
  private retry?: NodeJS.Timeout;
  /** a listener was lost: the next one to connect tells every handler to start afresh */
  private missed = false;
  private readonly handlers = new Map<CacheTopic, Array<(key: string | undefined) => void>>();

  constructor(
    @Inject(INVALIDATION_DATABASE_URL) private readonly databaseUrl: string,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get live(): boolean {
    return this.listening;
  }

  /** `key` undefined means: drop everything of this topic (the listener was cut off for a while). */
  subscribe(topic: CacheTopic, handler: (key: string | undefined) => void): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
  }

  /** Queues the invalidation in the caller's transaction: delivered to all processes on commit. */
  async publish(manager: EntityManager, topic: CacheTopic, key: string): Promise<void> {
    await manager.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ topic, key })]);
  }

  async onModuleInit(): Promise<void> {
    await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.listening = false;
    await this.client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'backflow-invalidation' });
    client.on('notification', (message) => this.dispatch(message.payload));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.stopped) {
        // shut down while connecting
        await client.end();
        return;
      }
      this.client = client;
      this.listening = true;
      if (this.missed) {
        this.missed = false;
        this.dropAll();
      }
    } catch (error) {
      this.lost(client, error as Error);
    }
  }

  private lost(client: Client, error?: Error): void {
    // a failed client reports itself up to three times (the failed connect, 'error', 'end'):
    // only the first may schedule a reconnect, or the attempts multiply while the database is away
    if (this.given.has(client)) return;
    this.given.add(client);
    if (this.client !== undefined && this.client !== client) return;
    const wasListening = this.listening;
    this.listening = false;
    this.client = undefined;
    this.missed = true;
    client.end().catch(() => undefined);
    // what changed while we were deaf is unknown: drop every cached entry
    this.dropAll();
    if (this.stopped) return;
    if (wasListening) this.logger.warn({ err: error }, 'cache invalidation listener lost; caches are bypassed until it is back');
    this.retry = setTimeout(() => void this.listen(), 1_000);
    this.retry.unref();
  }

  private dropAll(): void {
    for (const [, handlers] of this.handlers) for (const handler of handlers) handler(undefined);
  }

  private dispatch(payload: string | undefined): void {
    try {
      const { topic, key } = JSON.parse(payload ?? '{}') as { topic: CacheTopic; key: string };
      for (const handler of this.handlers.get(topic) ?? []) handler(key);
    } catch {
      // not ours
    }
  }
}

@Global()
@Module({})
export class CacheInvalidationModule {
  static forRoot(databaseUrl: string) {
    return {
      module: CacheInvalidationModule,
      providers: [{ provide: INVALIDATION_DATABASE_URL, useValue: databaseUrl }, CacheInvalidation],
      exports: [CacheInvalidation],
    };
  }
}
