import * as net from 'node:net';
import pino from 'pino';
import { CacheInvalidation } from './cache-invalidation';

describe('CacheInvalidation while the database is away', () => {
  it('retries about once a second, not once per failure report', async () => {
    // a "database" that hangs up on every connection, and counts them
    let attempts = 0;
    const server = net.createServer((socket) => {
      attempts++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const invalidation = new CacheInvalidation(`postgres://u:p@127.0.0.1:${port}/db`, pino({ level: 'silent' }));
    let drops = 0;
    invalidation.subscribe('project', () => drops++);
    try {
      await invalidation.onModuleInit();
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      expect(invalidation.live).toBe(false);
      // one attempt at start, then one a second: five or six, where a retry per report would be dozens
      expect(attempts).toBeGreaterThanOrEqual(4);
      expect(attempts).toBeLessThanOrEqual(7);
      expect(drops).toBe(attempts);
    } finally {
      await invalidation.onApplicationShutdown();
      server.close();
    }
  });
});
