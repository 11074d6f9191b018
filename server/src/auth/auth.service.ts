import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { LoginRequest, LoginResponse, SessionEndReason } from '@backflow/contracts';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AccessRevocations } from '../common/cache/access-revocations';
import { inTransaction } from '../common/database/transaction';
import { CacheInvalidation } from '../common/cache/cache-invalidation';
import { AuthErrors } from './auth.errors';
import { API_KEY_PREFIX, apiKeyPrefixOf, decoyPasswordHash, digest, newSessionToken, sameDigest, SESSION_PREFIX, verifyPassword } from './credentials';
import { ApiKeyEntity } from './api-key.entity';
import { LoginThrottle } from './login-throttle';
import type { Principal } from './principal';
import { SessionEntity } from './session.entity';
import { UserEntity } from './user.entity';
import { toUserResponse } from './users.service';

export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

// last_used_at / last_seen_at are written at most this often per credential
const TOUCH_INTERVAL_MS = 60_000;
// a key checked this recently is trusted without a query: ingestion is hot. A revocation
// reaches every process's cache through CacheInvalidation; the TTL bounds what a lost notification could cost
export const API_KEY_CACHE_MS = 5_000;

@Injectable()
export class AuthService {
  private readonly verifiedKeys = new LRUCache<string, Extract<Principal, { kind: 'api_key' }>>({ max: 10_000, ttl: API_KEY_CACHE_MS });
  private readonly throttle: LoginThrottle;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly invalidation: CacheInvalidation,
    private readonly revocations: AccessRevocations,
  ) {
    invalidation.subscribe('api_key', (keyId) => (keyId === undefined ? this.verifiedKeys.clear() : this.forgetApiKey(keyId)));
    // one address may sign in for many people (an office behind NAT): a looser limit there
    this.throttle = new LoginThrottle(dataSource, {
      maxPerAccount: config.login.maxFailures,
      maxPerAddress: config.login.maxFailures * 10,
      windowSeconds: config.login.windowSeconds,
    });
  }

  async login(request: LoginRequest, client: ClientInfo): Promise<LoginResponse> {
    if (!this.config.localPasswords) throw AuthErrors.localPasswordsOff();
    // the account's limit holds whatever the address: guesses spread over many addresses count together
    const account = request.email.toLowerCase();
    const attempt = await this.throttle.attempt(account, client.ip ?? 'unknown');
    if (!attempt.attemptId) throw AuthErrors.rateLimited(attempt.retryAfter);
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ email: request.email });
    const valid = await verifyPassword(user?.passwordHash ?? (await decoyPasswordHash()), request.password);
    if (!user || !valid || user.disabledAt) throw AuthErrors.invalidCredentials();
    await this.throttle.succeeded(account, attempt.attemptId);
    return { ...(await this.startSession(user.id, client)), user: toUserResponse(user) };
  }

  /** A new session for a person who proved who they are (a password, or the OpenID provider): a fresh token, never one the client brought. */
  async startSession(userId: string, client: ClientInfo): Promise<{ token: string; expiresAt: string }> {
    const token = newSessionToken();
    const expiresAt = new Date(Date.now() + this.config.session.ttlSeconds * 1000);
    await this.dataSource.getRepository(SessionEntity).insert({
      userId,
      tokenHash: digest(token),
      expiresAt,
      userAgent: client.userAgent?.slice(0, 500) ?? null,
      ip: client.ip ?? null,
    });
    return { token, expiresAt: expiresAt.toISOString() };
  }

  /** Ends the session; its sockets, on every node, are told and cut (and with no other session left, the user's leases end). */
  async logout(sessionId: string): Promise<void> {
    await inTransaction(this.dataSource, async (tx) => {
      const [rows]: [Array<{ user_id: string }>, number] = await tx.manager.query(
        `UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING user_id`,
        [sessionId],
      );
      if (rows[0]) await this.revocations.revoke(tx, { kind: 'session', userId: rows[0].user_id, sessionId });
    });
  }

  /** Why a session no longer authenticates, in the words a socket is told. */
  async sessionEndReason(sessionId: string): Promise<SessionEndReason> {
    const [row]: Array<{ revoked: boolean; disabled: boolean; password_changed: boolean }> = await this.dataSource.query(
      `SELECT s.revoked_at IS NOT NULL AS revoked, u.disabled_at IS NOT NULL AS disabled, s.revoked_at = u.password_changed_at AS password_changed
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
      [sessionId],
    );
    if (row?.disabled) return 'user_disabled';
    if (row?.password_changed) return 'password_changed';
    return row?.revoked ? 'signed_out' : 'session_expired';
  }

  /** Resolves a bearer token, cookie or API key to who is calling; throws 401 for anything unknown, expired or revoked. */
  async authenticate(token: string): Promise<Principal> {
    if (token.startsWith(SESSION_PREFIX)) return this.authenticateSession(token);
    if (token.startsWith(API_KEY_PREFIX)) return this.authenticateApiKey(token);
    throw AuthErrors.unauthenticated();
  }

  private async authenticateSession(token: string): Promise<Principal> {
    const rows: Array<{
      id: string;
      expires_at: Date;
      revoked_at: Date | null;
      last_seen_at: Date;
      user_id: string;
      email: string;
      role: UserEntity['role'];
      disabled_at: Date | null;
    }> = await this.dataSource.query(
      `SELECT s.id, s.expires_at, s.revoked_at, s.last_seen_at, u.id AS user_id, u.email, u.role, u.disabled_at
           FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`,
      [digest(token)],
    );
    const session = rows[0];
    if (!session || session.revoked_at || session.disabled_at) throw AuthErrors.unauthenticated();
    if (session.expires_at.getTime() <= Date.now()) throw AuthErrors.sessionExpired();
    if (Date.now() - session.last_seen_at.getTime() > TOUCH_INTERVAL_MS) {
      await this.dataSource.query(`UPDATE sessions SET last_seen_at = now() WHERE id = $1`, [session.id]);
    }
    return { kind: 'user', userId: session.user_id, email: session.email, role: session.role, sessionId: session.id };
  }

  /** Forgets a key's cached verification (it was revoked). */
  forgetApiKey(keyId: string): void {
    for (const [digestHex, principal] of this.verifiedKeys.entries()) if (principal.keyId === keyId) this.verifiedKeys.delete(digestHex);
  }

  private async authenticateApiKey(secret: string): Promise<Principal> {
    const prefix = apiKeyPrefixOf(secret);
    if (!prefix) throw AuthErrors.invalidApiKey();
    const cacheKey = digest(secret).toString('hex');
    const cached = this.invalidation.live ? this.verifiedKeys.get(cacheKey) : undefined;
    if (cached) return cached;
    const key = await this.dataSource.getRepository(ApiKeyEntity).findOneBy({ prefix });
    if (!key || key.revokedAt || !sameDigest(key.secretHash, digest(secret))) throw AuthErrors.invalidApiKey();
    if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      await this.dataSource.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [key.id]);
    }
    const principal = { kind: 'api_key' as const, keyId: key.id, projectId: key.projectId, scopes: key.scopes };
    this.verifiedKeys.set(cacheKey, principal);
    return principal;
  }
}
