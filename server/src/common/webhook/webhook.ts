import { createHmac } from 'node:crypto';

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

/** One delivery of an event (`span.complete`, `alert.raised`): the body signed; a non-2xx answer or no answer within 10 s throws (the caller retries). */
export async function deliver(url: string, secret: string, event: string, delivery: string, body: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-backflow-event': event, 'x-backflow-delivery': delivery, [SIGNATURE_HEADER]: signature(secret, body) },
    body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new WebhookRefused(response.status);
}
