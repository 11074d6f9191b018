import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/postgres-adapter';
import { Pool } from 'pg';
import type { Server, ServerOptions } from 'socket.io';
import { Decoder, Encoder } from 'socket.io-parser';
import { isSameSite } from '../common/http/origin';
import { reviveLostNumbers } from '../common/validation/json-hazards';

export interface SocketOriginPolicy {
  allowedOrigins: ReadonlySet<string>;
  trustProxy: boolean;
}

/**
 * socket.io's own parser, except that a number a double would change (`1e-400`, which
 * `JSON.parse` reads as 0, or `9007199254740993`, read as …992) is kept as written, for the
 * gateway to refuse by its field.
 */
class ExactNumbersDecoder extends Decoder {
  constructor() {
    super(reviveLostNumbers);
  }
}
const parser = { Encoder, Decoder: ExactNumbersDecoder };

/**
 * socket.io over PostgreSQL's LISTEN/NOTIFY (@socket.io/postgres-adapter): server processes
 * on one database share rooms and server-side events, with no Redis.
 */
export class PostgresIoAdapter extends IoAdapter {
  private readonly pool: Pool;

  constructor(
    app: INestApplicationContext,
    databaseUrl: string,
    private readonly origins: SocketOriginPolicy,
  ) {
    super(app);
    this.pool = new Pool({ connectionString: databaseUrl, max: 2 });
    // the adapter holds one client for LISTEN and reconnects when it ends; an error on that
    // checked-out client (the database went away) must not become an uncaught 'error' event
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    this.pool.on('error', () => undefined);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server: Server = super.createIOServer(port, {
      ...options,
      serveClient: false,
      parser,
      // a browser on another site could open a socket with the rater's cookie: only the app's own origin may
      allowRequest: (request, answer) => {
        const allowed = isSameSite(request.headers, this.origins.allowedOrigins, this.origins.trustProxy);
        answer(allowed ? null : 'cross-site socket refused', allowed);
      },
    } as ServerOptions);
    server.adapter(createAdapter(this.pool, { tableName: 'socket_io_attachments', cleanupInterval: 60_000 }));
    return server;
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    await this.pool.end().catch(() => undefined);
  }
}
