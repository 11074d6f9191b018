import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AdminUserResponse, CreateUserRequest, MemberRole, MemberResponse, UpdateUserRequest, UserResponse } from '@backflow/contracts';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AuditService } from '../common/audit/audit.service';
import { AccessRevocations } from '../common/cache/access-revocations';
import { inTransaction, type Transaction } from '../common/database/transaction';
import { AuthErrors } from './auth.errors';
import { generatePassword, hashPassword } from './credentials';
import { firstAdminNotice, writeFirstAdminCredentials } from './first-admin-credentials';
import { assertStrongPassword } from './password-strength';
import { MembershipEntity } from './membership.entity';
import type { SsoAccess, SsoIdentity } from './sso-claims';
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

function toAdminUserResponse(user: UserEntity): AdminUserResponse {
  return {
    ...toUserResponse(user),
    disabledAt: user.disabledAt?.toISOString() ?? null,
    sso: user.ssoSubject !== null,
    passwordChangedAt: user.passwordChangedAt?.toISOString() ?? null,
  };
}

// the password hash of an imported rater's account: no argon2 hash, so no password ever matches
const IMPORTED_PASSWORD_HASH = '!imported: no password';
// the same for an account made at a single sign-on: it has no password here until an admin sets one
export const SSO_PASSWORD_HASH = '!sso: no password';
// serialises the sign-ins of one identity at the provider
const SSO_ACCOUNT_LOCK = 0x6266_0012;

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
    return users.map(toAdminUserResponse);
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
      return toAdminUserResponse(user);
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

  /**
   * First run: with no admin, create one from the environment, or with a generated password that
   * goes to a file only the server's user can read (`<data dir>/first-admin-credentials`), named
   * on stderr apart from the log. With local passwords off the first admin comes from the provider.
   */
  async ensureFirstAdmin(): Promise<void> {
    if (!this.config.localPasswords) {
      const admins = await this.dataSource.getRepository(UserEntity).countBy({ role: 'admin' });
      if (admins > 0) return;
      const fromProvider = this.config.sso && (this.config.sso.roleGroups.admin.length > 0 || this.config.sso.claims.role);
      if (fromProvider) this.logger.log(`no admin yet: the first one signs in through ${this.config.sso!.providerName} (OIDC_ADMIN_GROUPS or OIDC_ROLE_CLAIM)`);
      else this.logger.warn('no admin yet and local passwords are off: set OIDC_ADMIN_GROUPS or OIDC_ROLE_CLAIM so that somebody can become admin');
      return;
    }
    const created = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [FIRST_ADMIN_LOCK]);
      const admins = await manager.getRepository(UserEntity).countBy({ role: 'admin' });
      if (admins > 0) return undefined;
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
      return { email, password, generated };
    });
    if (!created) return;
    if (!created.generated) return this.logger.log(`created the first admin ${created.email} from BACKFLOW_ADMIN_EMAIL / BACKFLOW_ADMIN_PASSWORD`);
    // told once, and never as a log line: log collectors keep what they are given
    let file: string | undefined;
    let writeError: string | undefined;
    try {
      file = writeFirstAdminCredentials(this.config.dataDir, created.email, created.password);
    } catch (error) {
      writeError = (error as Error).message;
    }
    process.stderr.write(firstAdminNotice({ email: created.email, password: created.password, file, writeError, terminal: process.stderr.isTTY === true }));
    this.logger.log(
      file ? `created the first admin ${created.email}; its password is in ${file}` : `created the first admin ${created.email}; its password is on stderr`,
    );
  }

  /**
   * The account of a person the OpenID provider signed in, made or brought up to date from its
   * claims, in one transaction: found by the provider's subject, else linked by email (the
   * provider's, see identityOf), else made just in time (with no password). Its global role and
   * its memberships in the projects the mapping names are set to what the claims give; what was
   * taken away reaches every node's sockets when this commits. A disabled account is refused.
   */
  async signInFromProvider(issuer: string, identity: SsoIdentity, access: SsoAccess, managed: string[], actor: Actor): Promise<UserEntity> {
    return inTransaction(this.dataSource, async (tx) => {
      const { manager } = tx;
      const users = manager.getRepository(UserEntity);
      // a person's first two sign-ins at once make one account
      await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SSO_ACCOUNT_LOCK, `${issuer} ${identity.subject}`]);
      const via = { via: 'sso', issuer };
      const record = (action: string, targetId: string, details: Record<string, unknown>, projectId?: string) =>
        this.audit.record(
          { actorUserId: actor.userId, action, targetType: 'user', targetId, projectId, details: { ...details, ...via }, requestId: actor.requestId },
          manager,
        );
      let user = await users.findOne({ where: { ssoIssuer: issuer, ssoSubject: identity.subject }, lock: { mode: 'pessimistic_write' } });
      if (!user) {
        user = await users.findOne({ where: { email: identity.email }, lock: { mode: 'pessimistic_write' } });
        if (user?.ssoSubject) throw AuthErrors.ssoEmailTaken(identity.email);
        if (user?.disabledAt) throw AuthErrors.ssoAccountDisabled();
        if (user) {
          await users.update({ id: user.id }, { ssoIssuer: issuer, ssoSubject: identity.subject });
          await record('user.sso_linked', user.id, { email: user.email, subject: identity.subject });
        } else {
          const inserted = await this.insertUser(manager, identity.email, SSO_PASSWORD_HASH, access.role);
          await users.update({ id: inserted.id }, { ssoIssuer: issuer, ssoSubject: identity.subject });
          user = await users.findOneByOrFail({ id: inserted.id });
          await record('user.created', user.id, { email: user.email, role: user.role });
        }
      }
      if (user.disabledAt) throw AuthErrors.ssoAccountDisabled();
      // the provider's email may change; it is taken when no other account has it
      if (user.email !== identity.email && !(await users.existsBy({ email: identity.email }))) {
        await record('user.updated', user.id, { email: identity.email, previousEmail: user.email });
        user.email = identity.email;
        await users.update({ id: user.id }, { email: identity.email });
      }
      if (user.role !== access.role) {
        await record('user.updated', user.id, { role: access.role, previousRole: user.role });
        user.role = access.role;
        await users.update({ id: user.id }, { role: access.role });
        if (access.role === 'rater') await manager.query(`UPDATE memberships SET role = 'rater' WHERE user_id = $1 AND role = 'reviewer'`, [user.id]);
        await this.revocations.revoke(tx, { kind: 'user', userId: user.id });
      }
      await this.syncManagedMemberships(tx, user.id, access, managed, record);
      return user;
    });
  }

  /** The memberships in the projects the provider decides, made what its claims give; each change audited and revoked. */
  private async syncManagedMemberships(
    tx: Transaction,
    userId: string,
    access: SsoAccess,
    managed: string[],
    record: (action: string, targetId: string, details: Record<string, unknown>, projectId?: string) => Promise<void>,
  ): Promise<void> {
    if (managed.length === 0) return;
    const projects: Array<{ id: string; slug: string }> = await tx.manager.query(`SELECT id, slug FROM projects_read WHERE slug = ANY($1::text[])`, [managed]);
    const missing = managed.filter((slug) => !projects.some((project) => project.slug === slug));
    if (missing.length) this.logger.warn(`OIDC_PROJECT_GROUPS names projects that do not exist: ${missing.join(', ')}`);
    const current: Array<{ project_id: string; role: MemberRole }> = await tx.manager.query(
      `SELECT project_id, role FROM memberships WHERE user_id = $1 AND project_id = ANY($2::uuid[]) FOR UPDATE`,
      [userId, projects.map((project) => project.id)],
    );
    for (const project of projects) {
      const had = current.find((membership) => membership.project_id === project.id)?.role;
      const wanted = access.projects.get(project.slug);
      if (had === wanted) continue;
      if (wanted) {
        await tx.manager.query(
          `INSERT INTO memberships (user_id, project_id, role) VALUES ($1, $2, $3) ON CONFLICT (user_id, project_id) DO UPDATE SET role = EXCLUDED.role`,
          [userId, project.id, wanted],
        );
        await record('membership.added', userId, { role: wanted }, project.id);
      } else {
        await tx.manager.query(`DELETE FROM memberships WHERE user_id = $1 AND project_id = $2`, [userId, project.id]);
        await record('membership.removed', userId, {}, project.id);
      }
      await this.revocations.revoke(tx, { kind: 'membership', userId, projectId: project.id });
    }
  }

  /**
   * The provider signed in somebody it gives no role here any more: the sessions of the account
   * linked to them end (and their sockets and leases with them), as if an admin had disabled it.
   */
  async endProviderSessions(issuer: string, subject: string, actor: Actor): Promise<number> {
    return inTransaction(this.dataSource, async (tx) => {
      const [user] = await tx.manager.getRepository(UserEntity).findBy({ ssoIssuer: issuer, ssoSubject: subject });
      if (!user) return 0;
      const [ended]: [unknown[], number] = await tx.manager.query(
        `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() RETURNING id`,
        [user.id],
      );
      if (ended.length === 0) return 0;
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'user.sso_refused',
          targetType: 'user',
          targetId: user.id,
          details: { sessionsEnded: ended.length, via: 'sso', issuer },
          requestId: actor.requestId,
        },
        tx.manager,
      );
      await this.revocations.revoke(tx, { kind: 'user', userId: user.id });
      return ended.length;
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
