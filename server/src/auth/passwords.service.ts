import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ChangePasswordRequest, PasswordChangedResponse, PasswordResetResponse, ResetPasswordRequest } from '@backflow/contracts';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AuditService } from '../common/audit/audit.service';
import { AccessRevocations } from '../common/cache/access-revocations';
import { inTransaction, type Transaction } from '../common/database/transaction';
import { DomainError } from '../common/errors';
import { AuthErrors } from './auth.errors';
import { generatePassword, hashPassword, verifyPassword } from './credentials';
import { forgetFirstAdminCredentials } from './first-admin-credentials';
import { LoginThrottle } from './login-throttle';
import { assertStrongPassword } from './password-strength';
import type { UserPrincipal } from './principal';
import { UserEntity } from './user.entity';
import type { Actor } from './users.service';

/**
 * Passwords changed by their owner (who proves the current one) or reset by an admin or on the
 * server (the CLI). Either way the new password is rated like any new one, the change is audited,
 * and the person's other sessions end at once, their sockets on every node with them.
 */
@Injectable()
export class PasswordsService {
  private readonly throttle: LoginThrottle;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly revocations: AccessRevocations,
  ) {
    // a wrong current password counts as a failed sign-in of the account: a stolen session cannot guess it freely
    this.throttle = new LoginThrottle(dataSource, {
      maxPerAccount: config.login.maxFailures,
      maxPerAddress: config.login.maxFailures * 10,
      windowSeconds: config.login.windowSeconds,
    });
  }

  /** The signed-in person's own change: their other sessions end, the one they are using stays. */
  async change(principal: UserPrincipal, request: ChangePasswordRequest, client: { ip?: string; requestId?: string }): Promise<PasswordChangedResponse> {
    if (!this.config.localPasswords) throw AuthErrors.localPasswordsOff();
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ id: principal.userId });
    if (!user) throw AuthErrors.unauthenticated();
    if (!user.passwordHash.startsWith('$')) throw AuthErrors.noLocalPassword();
    const attempt = await this.throttle.attempt(user.email, client.ip ?? 'unknown');
    if (!attempt.attemptId) throw AuthErrors.rateLimited(attempt.retryAfter);
    if (!(await verifyPassword(user.passwordHash, request.currentPassword))) throw AuthErrors.wrongCurrentPassword();
    await this.throttle.succeeded(user.email, attempt.attemptId);
    if (request.currentPassword === request.newPassword) throw AuthErrors.passwordUnchanged();
    await assertStrongPassword(request.newPassword, this.config.passwordMinScore, [user.email]).catch((error: unknown) => {
      throw renamed(error, 'newPassword');
    });
    const passwordHash = await hashPassword(request.newPassword);
    const sessionsEnded = await inTransaction(this.dataSource, async (tx) => {
      const ended = await this.replace(tx, user.id, passwordHash, principal.sessionId);
      await this.audit.record(
        {
          actorUserId: user.id,
          action: 'user.password_changed',
          targetType: 'user',
          targetId: user.id,
          details: { sessionsEnded: ended },
          requestId: client.requestId,
        },
        tx.manager,
      );
      return ended;
    });
    forgetFirstAdminCredentials(this.config.dataDir, user.email);
    return { sessionsEnded };
  }

  /**
   * An admin's reset of somebody's password (the given one, or a generated one answered once): all
   * of their sessions end, but for the admin's own when they reset themselves.
   */
  async reset(userId: string, request: ResetPasswordRequest, actor: Actor & { sessionId?: string }): Promise<PasswordResetResponse> {
    if (!this.config.localPasswords) throw AuthErrors.localPasswordsOff();
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ id: userId });
    if (!user) throw AuthErrors.userIdNotFound(userId);
    return this.resetUser(user, request.password, actor);
  }

  /** The way back in on the server (the CLI), with or without local passwords on: by email. */
  async resetByEmail(email: string, password: string | undefined, actor: Actor): Promise<PasswordResetResponse & { userId: string; email: string }> {
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ email: email.toLowerCase() });
    if (!user) throw AuthErrors.userNotFound(email);
    return { ...(await this.resetUser(user, password, actor)), userId: user.id, email: user.email };
  }

  private async resetUser(user: UserEntity, given: string | undefined, actor: Actor & { sessionId?: string }): Promise<PasswordResetResponse> {
    const password = given ?? generatePassword();
    if (given !== undefined) await assertStrongPassword(given, this.config.passwordMinScore, [user.email]);
    const passwordHash = await hashPassword(password);
    const keep = actor.userId === user.id ? actor.sessionId : undefined;
    const sessionsEnded = await inTransaction(this.dataSource, async (tx) => {
      const ended = await this.replace(tx, user.id, passwordHash, keep);
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'user.password_reset',
          targetType: 'user',
          targetId: user.id,
          details: { email: user.email, generated: given === undefined, sessionsEnded: ended },
          requestId: actor.requestId,
        },
        tx.manager,
      );
      return ended;
    });
    forgetFirstAdminCredentials(this.config.dataDir, user.email);
    return given === undefined ? { password, sessionsEnded } : { sessionsEnded };
  }

  /** Sets the hash and ends the user's live sessions but `keep`; every node re-checks their sockets once this commits. */
  private async replace(tx: Transaction, userId: string, passwordHash: string, keep: string | undefined): Promise<number> {
    // revoked_at = password_changed_at (one now()) tells the sockets why their session ended
    await tx.manager.query(`UPDATE users SET password_hash = $2, password_changed_at = now() WHERE id = $1`, [userId, passwordHash]);
    const [ended]: [unknown[], number] = await tx.manager.query(
      `UPDATE sessions SET revoked_at = now()
        WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() AND ($2::uuid IS NULL OR id <> $2) RETURNING id`,
      [userId, keep ?? null],
    );
    await this.revocations.revoke(tx, { kind: 'user', userId });
    return ended.length;
  }
}

/** A refusal of the new password names the field the request called it by. */
function renamed(error: unknown, field: string): unknown {
  if (!(error instanceof DomainError) || error.field !== 'password') return error;
  return new DomainError(error.code, error.message.replace(/^password:/, `${field}:`), error.status, field, error.details);
}
