import { z } from 'zod';

export const ErrorBody = z
  .object({
    code: z.string().describe('stable, namespaced: e.g. validation/invalid, auth/forbidden'),
    message: z.string(),
    field: z.string().optional().describe('the request field at fault, dotted: labels.0.name'),
    requestId: z.string(),
    details: z.record(z.string(), z.unknown()).optional().describe('what the code needs said more precisely: e.g. the largest batch taken, as limit'),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, starting with a letter or digit, at most 63');
export const Uuid = z.uuid();
export const Email = z
  .email()
  .max(320)
  .transform((email) => email.toLowerCase());

/** The deepest nesting a free-form JSON value (metadata, a body) may have: readers that recurse stay far from their stack's end. */
export const MAX_JSON_DEPTH = 32;

/** Whether a JSON value nests deeper than `maxDepth` (the value itself is depth 0), found without recursion. */
export function exceedsJsonDepth(value: unknown, maxDepth = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return true;
    for (const item of Array.isArray(current) ? current : Object.values(current)) if (typeof item === 'object' && item !== null) stack.push([item, depth + 1]);
  }
  return false;
}

/** Whether an ISO timestamp names an instant within the years 1 to 9999 (UTC): what PostgreSQL and JavaScript both hold exactly. */
export function isStorableInstant(iso: string): boolean {
  // (years 0002 to 9998 stay in range whatever the offset: only the edges need the instant)
  const written = iso.slice(0, 4);
  if (written > '0001' && written < '9999' && iso[4] === '-') return true;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return false;
  const year = new Date(ms).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

export const DATE_OUT_OF_RANGE = 'validation/date_out_of_range';

/** An ISO 8601 timestamp with its offset, within the years 1 to 9999 once in UTC. */
export const Timestamp = z.iso
  .datetime({ offset: true })
  .refine(isStorableInstant, { message: 'a date between the years 0001 and 9999 (UTC)', params: { code: DATE_OUT_OF_RANGE } });

/**
 * A `superRefine` that refuses a list item whose key an earlier item has, at the later one
 * (`at`: where in the item its key sits, for the issue's path).
 */
export const eachOnce =
  <T>(keyOf: (item: T) => string, message: (key: string) => string, at: ReadonlyArray<string | number> = []) =>
  (items: readonly T[], ctx: z.RefinementCtx): void => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const key = keyOf(item);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', message: message(key), path: [index, ...at] });
      seen.add(key);
    });
  };

/** The eight 16-bit groups of an IPv6 address as a URL prints it (hex, `::` for a run of zeros); undefined when it is not one. */
function ipv6Groups(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN))));
  if (groups.flat().some(Number.isNaN)) return undefined;
  const missing = 8 - groups.flat().length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return halves.length === 1 ? groups[0] : [...groups[0], ...new Array<number>(missing).fill(0), ...groups[1]];
}

function unreachableIpv4(octets: readonly number[]): boolean {
  const [a, b] = octets;
  // 0.0.0.0/8 (this host), 169.254.0.0/16 (link-local: a cloud's metadata service), multicast and broadcast
  return a === 0 || (a === 169 && b === 254) || a >= 224;
}

/**
 * Whether an IP address (as a URL or a resolver prints it) may not receive a webhook: link-local
 * (169.254.0.0/16 and fe80::/10, where clouds serve an instance's metadata and credentials),
 * unspecified, multicast or broadcast. Loopback and private networks stay allowed: a pipeline's
 * orchestrator often listens on one. Not an address (a host name): false.
 */
export function isForbiddenWebhookAddress(address: string): boolean {
  // brackets of a URL's IPv6 host, and a zone (fe80::1%eth0) a resolver may add
  const host = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) return unreachableIpv4(v4.slice(1).map(Number));
  if (!host.includes(':')) return false;
  const mappedV4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  const groups = mappedV4
    ? ipv6Groups(`${mappedV4[1]}${((+mappedV4[2] << 8) | +mappedV4[3]).toString(16)}:${((+mappedV4[4] << 8) | +mappedV4[5]).toString(16)}`)
    : ipv6Groups(host);
  if (!groups) return false;
  if (groups.every((g) => g === 0)) return true;
  if ((groups[0] & 0xffc0) === 0xfe80 || groups[0] >= 0xff00) return true;
  // an IPv4 address mapped into IPv6 (::ffff:a.b.c.d)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return unreachableIpv4([groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff]);
  return false;
}

/** A webhook's URL: http or https, and not to an address no webhook may reach (`isForbiddenWebhookAddress`). */
export const WebhookUrl = z
  .url({ protocol: /^https?$/ })
  .max(2_000)
  .refine(
    (url) => !isForbiddenWebhookAddress(new URL(url).hostname),
    'a link-local, unspecified or multicast address (169.254.0.0/16 and fe80::/10 serve a cloud machine its credentials) cannot receive webhooks',
  );
