import fastifyCookie from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_COOKIE = 'backflow_session';

export interface RequestCredential {
  value: string;
  /** a header credential cannot ride on a cross-site request; a cookie can */
  carrier: 'header' | 'cookie';
}

function fromHeaders(headers: IncomingHttpHeaders, cookies: Record<string, string | undefined> | undefined): RequestCredential | undefined {
  const header = headers.authorization;
  if (header) return { value: /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? header, carrier: 'header' };
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey) return { value: apiKey, carrier: 'header' };
  const cookie = cookies?.[SESSION_COOKIE];
  return cookie ? { value: cookie, carrier: 'cookie' } : undefined;
}

/** The caller's credential: a bearer token or API key header first, then the session cookie. */
export function credentialOf(request: FastifyRequest): RequestCredential | undefined {
  return fromHeaders(request.headers, request.cookies);
}

/**
 * A socket's credential: the token its client sent in `auth.token` (what the web client does),
 * else what an HTTP request would carry, parsed the same way (the cookie with HTTP's parser).
 */
export function handshakeCredentialOf(handshake: { auth: unknown; headers: IncomingHttpHeaders }): RequestCredential | undefined {
  const token = (handshake.auth as { token?: unknown } | undefined)?.token;
  if (typeof token === 'string' && token) return { value: token, carrier: 'header' };
  const cookieHeader = handshake.headers.cookie;
  return fromHeaders(handshake.headers, cookieHeader ? fastifyCookie.parse(cookieHeader) : undefined);
}
