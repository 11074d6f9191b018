import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliver, signature, WebhookForbidden, WebhookRefused } from './webhook';

/** A local HTTP server that answers every request with `answer`, and what it received. */
async function listen(answer: (res: import('node:http').ServerResponse) => void) {
  const received: Array<{ headers: Record<string, unknown>; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, close: () => new Promise((r) => server.close(r)) };
}

describe('webhook delivery', () => {
  it('POSTs the body signed, and a 2xx is delivered', async () => {
    const hook = await listen((res) => res.writeHead(204).end());
    try {
      await deliver(hook.url, 'a-secret-of-16-chars', 'span.complete', 'd-1', '{"é":1}');
      expect(hook.received).toEqual([
        {
          body: '{"é":1}',
          headers: expect.objectContaining({
            'content-type': 'application/json',
            'x-backflow-event': 'span.complete',
            'x-backflow-delivery': 'd-1',
            'x-backflow-signature': signature('a-secret-of-16-chars', '{"é":1}'),
          }),
        },
      ]);
    } finally {
      await hook.close();
    }
  });

  it('resolves a host name (the resolved address checked) and delivers', async () => {
    const hook = await listen((res) => res.writeHead(200).end());
    try {
      await deliver(hook.url.replace('127.0.0.1', 'localhost'), 'a-secret-of-16-chars', 'span.complete', 'd-4', '{}');
      expect(hook.received).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });

  it('does not follow a redirect: the answer is a refusal, and the redirect target gets nothing', async () => {
    const elsewhere = await listen((res) => res.writeHead(200).end());
    const hook = await listen((res) => res.writeHead(307, { location: elsewhere.url }).end());
    try {
      await expect(deliver(hook.url, 'a-secret-of-16-chars', 'alert.raised', 'd-2', '{}')).rejects.toEqual(new WebhookRefused(307));
      expect(hook.received).toHaveLength(1);
      expect(elsewhere.received).toHaveLength(0);
    } finally {
      await Promise.all([hook.close(), elsewhere.close()]);
    }
  });

  it.each(['http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/', 'http://[::ffff:169.254.169.254]/', 'http://0.0.0.0:9/', 'http://2852039166/'])(
    'never sends to a link-local or unspecified address: %s',
    async (url) => {
      await expect(deliver(url, 'a-secret-of-16-chars', 'span.complete', 'd-3', '{}')).rejects.toBeInstanceOf(WebhookForbidden);
    },
  );
});
