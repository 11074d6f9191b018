import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as argon2 from 'argon2';

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const SESSION_PREFIX = 'bfs_';
export const API_KEY_PREFIX = 'bfk_';

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A fixed hash to verify against when the email is unknown, so timing does not reveal which emails exist. */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return decoyHash;
}

/** Session tokens and API key secrets are 256-bit random: a SHA-256 digest is enough to store them. */
export function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function newSessionToken(): string {
  return SESSION_PREFIX + randomBytes(32).toString('base64url');
}

export function newApiKey(): { prefix: string; secret: string } {
  const prefix = randomBytes(6).toString('hex');
  return { prefix, secret: `${API_KEY_PREFIX}${prefix}_${randomBytes(32).toString('base64url')}` };
}

export function apiKeyPrefixOf(secret: string): string | undefined {
  const match = /^bfk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/.exec(secret);
  return match?.[1];
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
