import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AdminUserResponse, CreateUserRequest, MemberRole, MemberResponse, UpdateUserRequest, UserResponse } from '@backflow/contracts';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AuditService } from '../common/audit/audit.service';
import { AccessRevocations } from '../common/cache/access-revocations';
import { inTransaction } from '../common/database/transaction';
import { AuthErrors } from './auth.errors';
import { generatePassword, hashPassword } from './credentials';
import { assertStrongPassword } from './password-strength';
import { MembershipEntity } from './membership.entity';
import { UserEntity } from './user.entity';

export interface Actor {
  userId: string | null;
  requestId?: string;
}

// serialises first-admin creation across server processes starting together
const FIRST_ADMIN_LOCK = 0x6266_0002;

export function toUserResponse(user: UserEntity): UserResponse {
  return { id: user.id, email: user.email, role: user.role, createdAt: user.createdAt.toISOString() };
}

// the password hash of an imported rater's account: no argon2 hash, so no password ever matches
const IMPORTED_PASSWORD_HASH = '!imported: no password';

@Injectable()
export class UsersService {
  private readonly logger = new Logger('UsersService');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly revocations: AccessRevocations,
  ) {}

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ email: email.toLowerCase() });
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ id });
  }

  async list(): Promise<AdminUserResponse[]> {
    const users = await this.dataSource.getRepository(UserEntity).find({ order: { createdAt: 'ASC' } });
    return users.map((user) => ({ ...toUserResponse(user), disabledAt: user.disabledAt?.toISOString() ?? null }));
  }

  /**
   * Changes a user's role or lets them in or out; a disabled user's sessions end, and a rater
   * reviews in no project. Their sockets, on every node, lose what they may no longer use, and
   * their leases end, when this commits. Admins cannot lock themselves out.
   */
  async update(userId: string, patch: UpdateUserRequest, actor: Actor): Promise<AdminUserResponse> {
    if (userId === actor.userId && (patch.disabled === true || (patch.role !== undefined && patch.role !== 'admin'))) throw AuthErrors.cannotLockOutSelf();
    return inTransaction(this.dataSource, async (tx) => {
      const { manager } = tx;
      const user = await manager.getRepository(UserEntity).findOne({ where: { id: userId }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw AuthErrors.userIdNotFound(userId);
      const before = { role: user.role, disabled: user.disabledAt !== null };
      if (patch.role !== undefined) user.role = patch.role;
      if (patch.disabled !== undefined) user.disabledAt = patch.disabled ? (user.disabledAt ?? new Date()) : null;
      await manager.getRepository(UserEntity).save(user);
      if (patch.disabled) await manager.query(`UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
      // what addMember refuses (a rater as a project's reviewer) cannot be left behind by a role change
      if (user.role === 'rater') await manager.query(`UPDATE memberships SET role = 'rater' WHERE user_id = $1 AND role = 'reviewer'`, [userId]);
      await this.audit.record(
        { actorUserId: actor.userId, action: 'user.updated', targetType: 'user', targetId: userId, details: { ...patch }, requestId: actor.requestId },
        manager,
      );
      const changed = before.role !== user.role || before.disabled !== (user.disabledAt !== null);
      if (changed) await this.revocations.revoke(tx, { kind: 'user', userId });
      return { ...toUserResponse(user), disabledAt: user.disabledAt?.toISOString() ?? null };
    });
  }

  async create(request: CreateUserRequest, actor: Actor): Promise<UserResponse> {
    await assertStrongPassword(request.password, this.config.passwordMinScore, [request.email]);
    const passwordHash = await hashPassword(request.password);
    return this.dataSource.transaction(async (manager) => {
      const user = await this.insertUser(manager, request.email, passwordHash, request.role);
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'user.created',
          targetType: 'user',
          targetId: user.id,
          details: { email: user.email, role: user.role },
          requestId: actor.requestId,
        },
        manager,
      );
      return toUserResponse(user);
    });
  }

  private async insertUser(manager: EntityManager, email: string, passwordHash: string, role: UserEntity['role']): Promise<UserEntity> {
    const inserted = await manager.createQueryBuilder().insert().into(UserEntity).values({ email, passwordHash, role }).orIgnore().returning('*').execute();
    if (!(inserted.raw as unknown[])[0]) throw AuthErrors.emailTaken(email);
    return manager.getRepository(UserEntity).findOneByOrFail({ email });
  }

  /**
   * Raters whose answers come from another labeling tool (a Label Studio import): an account
   * each, disabled and with no password that can match (they never sign in here), a rater of
   * the project. A real account with the email is credited only when it may label the project
   * already (a member, or an admin): an import never makes somebody a member. Anyone else's
   * answers go to a stand-in account (`standInFor(email)`), so a file cannot grant access by
   * naming a person. Returns the id by the file's email.
   */
  async importedRaters(
    manager: EntityManager,
    projectId: string,
    emails: string[],
    standInFor: (email: string) => string,
  ): Promise<{ ids: Map<string, string>; created: number }> {
    if (emails.length === 0) return { ids: new Map(), created: 0 };
    const existing: Array<{ email: string; imported: boolean; mayLabel: boolean }> = await manager.query(
      `SELECT u.email, u.password_hash = $3 AS imported,
              (u.role = 'admin' OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.project_id = $2)) AS "mayLabel"
         FROM users u WHERE u.email = ANY($1::text[])`,
      [emails, projectId, IMPORTED_PASSWORD_HASH],
    );
    const stranger = new Set(existing.filter((u) => !u.imported && !u.mayLabel).map((u) => u.email));
    const accountOf = new Map(emails.map((email) => [email, stranger.has(email) ? standInFor(email) : email]));
    const accounts = [...new Set(accountOf.values())];
    const created: unknown[] = await manager.query(
      `INSERT INTO users (email, password_hash, role, disabled_at) SELECT email, $2, 'rater', now() FROM unnest($1::text[]) AS email
       ON CONFLICT (email) DO NOTHING RETURNING id`,
      [accounts, IMPORTED_PASSWORD_HASH],
    );
    const rows: Array<{ id: string; email: string; imported: boolean }> = await manager.query(
      `SELECT id, email, password_hash = $2 AS imported FROM users WHERE email = ANY($1::text[])`,
      [accounts, IMPORTED_PASSWORD_HASH],
    );
    // only the imported stand-ins become raters of the project; real accounts keep the access they have
    await manager.query(`INSERT INTO memberships (user_id, project_id, role) SELECT id, $2, 'rater' FROM unnest($1::uuid[]) AS id ON CONFLICT DO NOTHING`, [
      rows.filter((r) => r.imported).map((r) => r.id),
      projectId,
    ]);
    const idOf = new Map(rows.map((r) => [r.email, r.id]));
    return { ids: new Map(emails.map((email) => [email, idOf.get(accountOf.get(email)!)!])), created: created.length };
  }

  /** First run: with no admin, create one from the environment, or with a generated password printed once. */
  async ensureFirstAdmin(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [FIRST_ADMIN_LOCK]);
      const admins = await manager.getRepository(UserEntity).countBy({ role: 'admin' });
      if (admins > 0) return;
      const email = this.config.admin.email ?? 'admin@backflow.local';
      const generated = this.config.admin.password === undefined;
      const password = this.config.admin.password ?? generatePassword();
      if (!generated) {
        try {
          await assertStrongPassword(password, this.config.passwordMinScore, [email]);
        } catch (error) {
          throw new Error(`BACKFLOW_ADMIN_PASSWORD is refused: ${(error as Error).message}`, { cause: error });
        }
      }
      const existing = await manager.getRepository(UserEntity).findOneBy({ email });
      if (existing) {
        await manager.update(UserEntity, { id: existing.id }, { role: 'admin', passwordHash: await hashPassword(password) });
      } else {
        await this.insertUser(manager, email, await hashPassword(password), 'admin');
      }
      await this.audit.record({ actorUserId: null, action: 'user.first_admin_created', targetType: 'user', details: { email } }, manager);
      if (generated) {
        // printed once, on purpose: there is no other way to learn it
        process.stderr.write(
          `\n  Backflow created the first admin.\n    email:    ${email}\n    password: ${password}\n  Change it, or set BACKFLOW_ADMIN_EMAIL / BACKFLOW_ADMIN_PASSWORD before the first start.\n\n`,
        );
      } else {
        this.logger.log(`created the first admin ${email} from BACKFLOW_ADMIN_EMAIL / BACKFLOW_ADMIN_PASSWORD`);
      }
    });
  }

  async membershipsOf(userId: string): Promise<Array<{ projectId: string; projectSlug: string; role: MemberRole }>> {
    const rows: Array<{ project_id: string; slug: string; role: MemberRole }> = await this.dataSource.query(
      `SELECT m.project_id, p.slug, m.role FROM memberships m JOIN projects_read p ON p.id = m.project_id WHERE m.user_id = $1 ORDER BY p.slug`,
      [userId],
    );
    return rows.map((r) => ({ projectId: r.project_id, projectSlug: r.slug, role: r.role }));
  }

  async membershipRole(userId: string, projectId: string): Promise<MemberRole | undefined> {
    const membership = await this.dataSource.getRepository(MembershipEntity).findOneBy({ userId, projectId });
    return membership?.role;
  }

  /** Adds or changes a membership; a rater may only rate, a reviewer may review or rate. */
  async addMember(project: { id: string; slug: string }, email: string, role: MemberRole, actor: Actor): Promise<MemberResponse> {
    const user = await this.findByEmail(email);
    if (!user) throw AuthErrors.userNotFound(email);
    if (user.role === 'admin') throw AuthErrors.adminCannotBeMember();
    if (user.role === 'rater' && role === 'reviewer') throw AuthErrors.memberRoleMismatch(user.role, role);
    return inTransaction(this.dataSource, async (tx) => {
      const { manager } = tx;
      await manager.query(
        `INSERT INTO memberships (user_id, project_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, project_id) DO UPDATE SET role = EXCLUDED.role`,
        [user.id, project.id, role],
      );
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'membership.added',
          targetType: 'user',
          targetId: user.id,
          projectId: project.id,
          details: { email, role },
          requestId: actor.requestId,
        },
        manager,
      );
      const membership = await manager.getRepository(MembershipEntity).findOneByOrFail({ userId: user.id, projectId: project.id });
      // a reviewer made a rater loses review (and its review leases); any change refreshes the nodes' cached memberships
      await this.revocations.revoke(tx, { kind: 'membership', userId: user.id, projectId: project.id });
      return { userId: user.id, email: user.email, role: membership.role, projectSlug: project.slug, createdAt: membership.createdAt.toISOString() };
    });
  }

  /** Removes a member: their sockets, on every node, lose the project, and their leases in it end, when this commits. */
  async removeMember(project: { id: string }, userId: string, actor: Actor): Promise<boolean> {
    return inTransaction(this.dataSource, async (tx) => {
      const { manager } = tx;
      const result = await manager.delete(MembershipEntity, { userId, projectId: project.id });
      if (!result.affected) return false;
      await this.audit.record(
        { actorUserId: actor.userId, action: 'membership.removed', targetType: 'user', targetId: userId, projectId: project.id, requestId: actor.requestId },
        manager,
      );
      await this.revocations.revoke(tx, { kind: 'membership', userId, projectId: project.id });
      return true;
    });
  }

  async members(project: { id: string; slug: string }): Promise<MemberResponse[]> {
    const rows: Array<{ user_id: string; email: string; role: MemberRole; created_at: Date }> = await this.dataSource.query(
      `SELECT m.user_id, u.email, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY u.email`,
      [project.id],
    );
    return rows.map((r) => ({ userId: r.user_id, email: r.email, role: r.role, projectSlug: project.slug, createdAt: r.created_at.toISOString() }));
  }
}
