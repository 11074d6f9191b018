import type { FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'backflow_session';

export interface RequestCredential {
  value: string;
  /** a header credential cannot ride on a cross-site request; a cookie can */
  carrier: 'header' | 'cookie';
}

/** The caller's credential: a bearer token or API key header first, then the session cookie. */
export function credentialOf(request: FastifyRequest): RequestCredential | undefined {
  const header = request.headers.authorization;
  if (header) return { value: /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? header, carrier: 'header' };
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey) return { value: apiKey, carrier: 'header' };
  const cookie = request.cookies?.[SESSION_COOKIE];
  return cookie ? { value: cookie, carrier: 'cookie' } : undefined;
}
