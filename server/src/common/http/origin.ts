import type { IncomingHttpHeaders } from 'node:http';

/** `scheme://host[:port]` of a URL, lower-cased, or undefined when it is not one ("null" from a sandboxed frame included). */
export function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a browser says a request comes from: Origin, or Referer's origin when Origin is absent.
 * Undefined when neither is sent (a non-browser client); 'opaque' when one is sent but names no
 * web origin (`Origin: null` from a sandboxed frame or a redirect), which is never ours.
 */
export function requestOrigin(headers: IncomingHttpHeaders): string | undefined {
  const origin = headers.origin;
  if (typeof origin === 'string' && origin) return originOf(origin) ?? 'opaque';
  const referer = headers.referer;
  if (typeof referer === 'string' && referer) return originOf(referer) ?? 'opaque';
  return undefined;
}

/**
 * Whether a browser request comes from the app itself: its origin names the host the request was
 * sent to (the Host header, or X-Forwarded-Host behind a trusted proxy), or one of ALLOWED_ORIGINS.
 * A request with neither Origin nor Referer is not a browser's cross-site request unless
 * Sec-Fetch-Site says so.
 */
export function isSameSite(headers: IncomingHttpHeaders, allowed: ReadonlySet<string>, trustProxy: boolean): boolean {
  const origin = requestOrigin(headers);
  if (origin === undefined) return headers['sec-fetch-site'] !== 'cross-site' && headers['sec-fetch-site'] !== 'same-site';
  if (origin === 'opaque') return false;
  if (allowed.has(origin)) return true;
  const forwarded = trustProxy ? headers['x-forwarded-host'] : undefined;
  const host = (typeof forwarded === 'string' && forwarded ? forwarded.split(',')[0].trim() : headers.host)?.toLowerCase();
  return host !== undefined && new URL(origin).host === host;
}
