import * as path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

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
});

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
  s3: { endpoint?: string; forcePathStyle: boolean; region: string };
  admin: { email?: string; password?: string };
  clientDir: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  session: { ttlSeconds: number; cookieSecure: boolean };
  login: { maxFailures: number; windowSeconds: number };
  dbPoolSize: number;
  /** believe X-Forwarded-For: only behind a proxy that sets it */
  trustProxy: boolean;
  ingest: { maxBatch: number; maxBodyBytes: number; maxStreamBytes: number };
  http: { maxBodyBytes: number; bodyTimeoutMs: number; allowedOrigins: ReadonlySet<string> };
  passwordMinScore: number;
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
    s3: { endpoint: e.S3_ENDPOINT, forcePathStyle: e.S3_FORCE_PATH_STYLE === 'true', region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1' },
    admin: { email: e.BACKFLOW_ADMIN_EMAIL?.toLowerCase(), password: e.BACKFLOW_ADMIN_PASSWORD },
    clientDir: path.resolve(cwd, e.BACKFLOW_CLIENT_DIR),
    logLevel: e.LOG_LEVEL,
    session: { ttlSeconds: e.SESSION_TTL_HOURS * 3600, cookieSecure: e.COOKIE_SECURE === 'true' },
    login: { maxFailures: e.LOGIN_MAX_FAILURES, windowSeconds: e.LOGIN_WINDOW_SECONDS },
    dbPoolSize: e.DB_POOL_SIZE,
    trustProxy: e.TRUST_PROXY === 'true',
    ingest: { maxBatch: e.INGEST_MAX_BATCH, maxBodyBytes: e.INGEST_MAX_BODY_MB * 1024 * 1024, maxStreamBytes: e.INGEST_MAX_STREAM_MB * 1024 * 1024 },
    http: { maxBodyBytes: e.HTTP_MAX_BODY_KB * 1024, bodyTimeoutMs: e.REQUEST_BODY_TIMEOUT_SECONDS * 1000, allowedOrigins: new Set(e.ALLOWED_ORIGINS) },
    passwordMinScore: e.PASSWORD_MIN_SCORE,
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
