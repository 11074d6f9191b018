import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isForbiddenWebhookAddress } from '@backflow/contracts';

export const SIGNATURE_HEADER = 'x-backflow-signature';
const TIMEOUT_MS = 10_000;

/** The signature header's value for a body: HMAC-SHA256 with the project's secret, hex. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class WebhookRefused extends Error {
  constructor(readonly status: number) {
    super(`the webhook answered ${status}`);
    this.name = 'WebhookRefused';
  }
}

/** A webhook whose host is, or resolves to, an address no webhook may reach (a cloud's metadata service). */
export class WebhookForbidden extends Error {
  constructor(host: string, address: string) {
    super(`the webhook's host ${host} is ${address === host ? '' : `resolved to ${address}, `}a link-local, unspecified or multicast address: not sent`);
    this.name = 'WebhookForbidden';
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * `dns.lookup` that refuses an address no webhook may reach: a URL is checked when it is saved,
 * but its name may resolve there later (or only to this server).
 */
function guardedLookup(hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const forbidden = addresses.find((a) => isForbiddenWebhookAddress(a.address));
    if (forbidden) return callback(Object.assign(new WebhookForbidden(hostname, forbidden.address), { code: 'EFORBIDDEN' }), []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

/**
 * One delivery of an event (`span.complete`, `alert.raised`): the body signed; a non-2xx answer
 * (a redirect is not followed) or no answer within 10 s throws (the caller retries).
 */
export async function deliver(url: string, secret: string, event: string, delivery: string, body: string): Promise<void> {
  const target = new URL(url);
  // a literal address is never looked up
  if (isForbiddenWebhookAddress(target.hostname)) throw new WebhookForbidden(target.hostname, target.hostname);
  const status = await new Promise<number>((resolve, reject) => {
    const request = (target.protocol === 'https:' ? https : http).request(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-backflow-event': event,
          'x-backflow-delivery': delivery,
          [SIGNATURE_HEADER]: signature(secret, body),
        },
        lookup: guardedLookup,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      },
      (response) => {
        response.on('error', reject);
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.resume();
      },
    );
    request.on('error', reject);
    request.end(body);
  });
  if (status < 200 || status >= 300) throw new WebhookRefused(status);
}
