import * as path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
/** The path of the OpenID Connect callback route: OIDC_REDIRECT_URL names it on this server's public address. */
export const SSO_CALLBACK_PATH = '/api/v1/auth/oidc/callback';
const LOOPBACK = /^(localhost|127\.0\.0\.1|\[::1\])$/;
const groupList = z
  .string()
  .transform((list) =>
    list
      .split(',')
      .map((group) => group.trim())
      .filter(Boolean),
  )
  .default([]);

const EnvSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  BACKFLOW_DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: port.default(54329),
  // a directory, or s3://bucket/prefix (S3 or an S3-compatible store)
  EXPORT_ROOT: z
    .string()
    .min(1)
    .refine((root) => !root.startsWith('s3:') || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(root), 's3://bucket or s3://bucket/prefix')
    .optional(),
  // statistics of a large span computed on a worker thread beside the one writing its files (auto: spans of 20,000 rows or more, on more than one core)
  EXPORT_STATISTICS_THREAD: z.enum(['auto', 'on', 'off']).default('auto'),
  ARCHIVE_ROOT: z
    .string()
    .min(1)
    .refine((root) => !root.startsWith('s3:') || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(root), 's3://bucket or s3://bucket/prefix')
    .optional(),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false'),
  AWS_REGION: z.string().min(1).optional(),
  AWS_DEFAULT_REGION: z.string().min(1).optional(),
  BACKFLOW_ADMIN_EMAIL: z.email().optional(),
  BACKFLOW_ADMIN_PASSWORD: z.string().min(10).optional(),
  BACKFLOW_CLIENT_DIR: z.string().min(1).default('client/dist'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // a request that takes this long is logged at warn (the others: a refusal at info, a server error at error, the rest at debug)
  LOG_SLOW_REQUEST_MS: positiveInt.max(3_600_000).default(1000),
  SESSION_TTL_HOURS: positiveInt.default(12),
  COOKIE_SECURE: z.enum(['true', 'false']).default('false'),
  LOGIN_MAX_FAILURES: positiveInt.default(10),
  LOGIN_WINDOW_SECONDS: positiveInt.default(300),
  // migrations hold one connection under their lock while TypeORM works on another
  DB_POOL_SIZE: positiveInt.min(2).max(500).default(10),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  INGEST_MAX_BATCH: positiveInt.max(1_000_000).default(10_000),
  INGEST_MAX_BODY_MB: positiveInt.max(1024).default(64),
  INGEST_MAX_STREAM_MB: positiveInt.max(1_048_576).default(4096),
  HTTP_MAX_BODY_KB: positiveInt.max(1_048_576).default(1024),
  REQUEST_BODY_TIMEOUT_SECONDS: positiveInt.max(3600).default(20),
  // origins besides the app's own that may send cookie-authenticated requests and sockets (a dev server, a second host name)
  ALLOWED_ORIGINS: z
    .string()
    .transform((list) =>
      list
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }).transform((url) => new URL(url).origin.toLowerCase())))
    .default([]),
  // zxcvbn's 0-4 scale: 3 is "safely unguessable" against an online attack and a slow offline one
  PASSWORD_MIN_SCORE: z.coerce.number().int().min(0).max(4).default(3),
  // false: only single sign-on (OIDC_ISSUER must be set); the password sign-in and password changes are refused
  LOCAL_PASSWORDS: z.enum(['true', 'false']).default('true'),
  // single sign-on with an OpenID Connect provider, on when OIDC_ISSUER is set
  OIDC_ISSUER: z
    .url({ protocol: /^https?$/ })
    .refine((url) => url.startsWith('https:') || LOOPBACK.test(new URL(url).hostname), 'https (plain http only on this machine: localhost, 127.0.0.1, [::1])')
    .optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_REDIRECT_URL: z
    .url({ protocol: /^https?$/ })
    .refine((url) => new URL(url).pathname === SSO_CALLBACK_PATH, `must end in ${SSO_CALLBACK_PATH}`)
    .optional(),
  OIDC_SCOPES: z.string().default('openid email profile'),
  OIDC_PROVIDER_NAME: z.string().trim().min(1).max(60).default('SSO'),
  OIDC_EMAIL_CLAIM: z.string().min(1).default('email'),
  OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
  OIDC_ROLE_CLAIM: z.string().min(1).optional(),
  OIDC_ADMIN_GROUPS: groupList,
  OIDC_REVIEWER_GROUPS: groupList,
  OIDC_RATER_GROUPS: groupList,
  // group=project-slug:role, comma-separated; a group's name may hold '=' (the last one separates)
  OIDC_PROJECT_GROUPS: z
    .string()
    .transform((list) =>
      list
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine(
      (entries) => entries.every((entry) => /^.+=[a-z0-9][a-z0-9-]{0,62}:(rater|reviewer)$/.test(entry)),
      'group=project-slug:rater or group=project-slug:reviewer, comma-separated',
    )
    .transform((entries) =>
      entries.map((entry) => {
        const at = entry.lastIndexOf('=');
        const [project, role] = entry.slice(at + 1).split(':');
        return { group: entry.slice(0, at).trim(), project, role: role as 'rater' | 'reviewer' };
      }),
    )
    .default([]),
  OIDC_DEFAULT_ROLE: z.enum(['none', 'rater', 'reviewer']).default('none'),
});

/** Single sign-on with an OpenID Connect provider: who it is, and how its claims and groups become roles. */
export interface SsoConfig {
  issuer: string;
  clientId: string;
  /** absent: a public client, PKCE alone proves the code's redemption */
  clientSecret?: string;
  redirectUrl: string;
  scopes: string[];
  providerName: string;
  claims: { email: string; groups: string; role?: string };
  /** groups whose members get a global role */
  roleGroups: { admin: string[]; reviewer: string[]; rater: string[] };
  /** groups whose members are made members of a project, in a role */
  projectGroups: Array<{ group: string; project: string; role: 'rater' | 'reviewer' }>;
  /** the global role of someone no claim or group gives one; undefined: they are refused */
  defaultRole?: 'rater' | 'reviewer';
}

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  embeddedPostgres: { dataDir: string; port: number };
  /** a directory, or `s3://bucket/prefix` */
  exportRoot: string;
  /** where retention archives raw predictions: a directory, or `s3://bucket/prefix` */
  archiveRoot: string;
  /** where an export's statistics are computed: a worker thread for a large span (auto), always, or never */
  exportStatisticsThread: 'auto' | 'on' | 'off';
  s3: { endpoint?: string; forcePathStyle: boolean; region: string };
  admin: { email?: string; password?: string };
  clientDir: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** a request that takes this long is logged at warn */
  logSlowRequestMs: number;
  session: { ttlSeconds: number; cookieSecure: boolean };
  login: { maxFailures: number; windowSeconds: number };
  dbPoolSize: number;
  /** believe X-Forwarded-For: only behind a proxy that sets it */
  trustProxy: boolean;
  ingest: { maxBatch: number; maxBodyBytes: number; maxStreamBytes: number };
  http: { maxBodyBytes: number; bodyTimeoutMs: number; allowedOrigins: ReadonlySet<string> };
  passwordMinScore: number;
  /** whether people may sign in with a password (else only through single sign-on) */
  localPasswords: boolean;
  sso?: SsoConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment once at boot; a bad variable stops the process with its name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return `${name}: ${issue.message} (got ${JSON.stringify(present[name] ?? null)})`;
      }),
    );
  }
  const e = parsed.data;
  const sso = ssoConfig(e);
  const dataDir = path.resolve(cwd, e.BACKFLOW_DATA_DIR);
  const rootOf = (root: string) => (root.startsWith('s3://') ? root.replace(/\/+$/, '') : path.resolve(cwd, root));
  const exportRoot = rootOf(e.EXPORT_ROOT ?? path.join(dataDir, 'exports'));
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    embeddedPostgres: { dataDir: path.join(dataDir, 'postgres'), port: e.EMBEDDED_PG_PORT },
    exportRoot,
    archiveRoot: e.ARCHIVE_ROOT ? rootOf(e.ARCHIVE_ROOT) : defaultArchiveRoot(exportRoot, dataDir),
    exportStatisticsThread: e.EXPORT_STATISTICS_THREAD,
    s3: { endpoint: e.S3_ENDPOINT, forcePathStyle: e.S3_FORCE_PATH_STYLE === 'true', region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1' },
    admin: { email: e.BACKFLOW_ADMIN_EMAIL?.toLowerCase(), password: e.BACKFLOW_ADMIN_PASSWORD },
    clientDir: path.resolve(cwd, e.BACKFLOW_CLIENT_DIR),
    logLevel: e.LOG_LEVEL,
    logSlowRequestMs: e.LOG_SLOW_REQUEST_MS,
    session: { ttlSeconds: e.SESSION_TTL_HOURS * 3600, cookieSecure: e.COOKIE_SECURE === 'true' },
    login: { maxFailures: e.LOGIN_MAX_FAILURES, windowSeconds: e.LOGIN_WINDOW_SECONDS },
    dbPoolSize: e.DB_POOL_SIZE,
    trustProxy: e.TRUST_PROXY === 'true',
    ingest: { maxBatch: e.INGEST_MAX_BATCH, maxBodyBytes: e.INGEST_MAX_BODY_MB * 1024 * 1024, maxStreamBytes: e.INGEST_MAX_STREAM_MB * 1024 * 1024 },
    http: { maxBodyBytes: e.HTTP_MAX_BODY_KB * 1024, bodyTimeoutMs: e.REQUEST_BODY_TIMEOUT_SECONDS * 1000, allowedOrigins: new Set(e.ALLOWED_ORIGINS) },
    passwordMinScore: e.PASSWORD_MIN_SCORE,
    localPasswords: e.LOCAL_PASSWORDS === 'true',
    sso,
  };
}

/** The single sign-on settings, when OIDC_ISSUER is set; what is missing or contradicts is named. */
function ssoConfig(e: z.infer<typeof EnvSchema>): SsoConfig | undefined {
  const problems: string[] = [];
  if (!e.OIDC_ISSUER) {
    if (e.LOCAL_PASSWORDS === 'false') problems.push('LOCAL_PASSWORDS: false needs single sign-on: set OIDC_ISSUER (and its client), or nobody could sign in');
    const stray = (['OIDC_CLIENT_ID', 'OIDC_REDIRECT_URL'] as const).find((name) => e[name] !== undefined);
    if (stray) problems.push(`${stray}: set without OIDC_ISSUER, which turns single sign-on on`);
    if (problems.length) throw new ConfigError(problems);
    return undefined;
  }
  if (!e.OIDC_CLIENT_ID) problems.push('OIDC_CLIENT_ID: required with OIDC_ISSUER (the client id registered at the provider)');
  if (!e.OIDC_REDIRECT_URL)
    problems.push(`OIDC_REDIRECT_URL: required with OIDC_ISSUER (this server's public URL of ${SSO_CALLBACK_PATH}, registered at the provider)`);
  const scopes = e.OIDC_SCOPES.split(/[\s,]+/).filter(Boolean);
  if (!scopes.includes('openid')) problems.push(`OIDC_SCOPES: must include openid (got ${JSON.stringify(e.OIDC_SCOPES)})`);
  if (problems.length) throw new ConfigError(problems);
  return {
    issuer: e.OIDC_ISSUER,
    clientId: e.OIDC_CLIENT_ID!,
    clientSecret: e.OIDC_CLIENT_SECRET,
    redirectUrl: e.OIDC_REDIRECT_URL!,
    scopes,
    providerName: e.OIDC_PROVIDER_NAME,
    claims: { email: e.OIDC_EMAIL_CLAIM, groups: e.OIDC_GROUPS_CLAIM, role: e.OIDC_ROLE_CLAIM },
    roleGroups: { admin: e.OIDC_ADMIN_GROUPS, reviewer: e.OIDC_REVIEWER_GROUPS, rater: e.OIDC_RATER_GROUPS },
    projectGroups: e.OIDC_PROJECT_GROUPS,
    defaultRole: e.OIDC_DEFAULT_ROLE === 'none' ? undefined : e.OIDC_DEFAULT_ROLE,
  };
}

/**
 * Archives go beside the spans unless ARCHIVE_ROOT says otherwise: `<data dir>/archive` for a
 * local export root, and for a bucket the folder `archive` next to the export prefix
 * (`s3://b/exports` → `s3://b/archive`; spans at the bucket's root → `s3://b/_archive`, a name no
 * project slug takes).
 */
function defaultArchiveRoot(exportRoot: string, dataDir: string): string {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(exportRoot);
  if (!s3) return path.join(dataDir, 'archive');
  const parent = s3[2].split('/').slice(0, -1).join('/');
  return s3[2] === '' ? `s3://${s3[1]}/_archive` : `s3://${s3[1]}/${parent ? `${parent}/` : ''}archive`;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
