import * as path from 'node:path';
import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('applies the documented defaults relative to the working directory', () => {
    const config = loadConfig({}, '/srv/backflow');
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      dataDir: '/srv/backflow/.data',
      embeddedPostgres: { dataDir: '/srv/backflow/.data/postgres' },
      exportRoot: '/srv/backflow/.data/exports',
      archiveRoot: '/srv/backflow/.data/archive',
      exportStatisticsThread: 'auto',
      s3: { endpoint: undefined, forcePathStyle: false, region: 'us-east-1' },
      clientDir: path.join('/srv/backflow', 'client', 'dist'),
    });
  });

  it.each([
    [{ EXPORT_STATISTICS_THREAD: 'yes' }, 'EXPORT_STATISTICS_THREAD'],
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL'],
    [{ BACKFLOW_ADMIN_EMAIL: 'not-an-email' }, 'BACKFLOW_ADMIN_EMAIL'],
    [{ BACKFLOW_ADMIN_PASSWORD: 'short' }, 'BACKFLOW_ADMIN_PASSWORD'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ LOG_SLOW_REQUEST_MS: '0' }, 'LOG_SLOW_REQUEST_MS'],
    [{ SESSION_TTL_HOURS: '-1' }, 'SESSION_TTL_HOURS'],
    [{ EXPORT_ROOT: 's3://' }, 'EXPORT_ROOT'],
    [{ ARCHIVE_ROOT: 's3://Bad_Bucket/x' }, 'ARCHIVE_ROOT'],
    [{ S3_ENDPOINT: 'ftp://store' }, 'S3_ENDPOINT'],
  ])('fails fast on %j, naming %s', (env, name) => {
    expect(() => loadConfig(env, '/srv')).toThrow(ConfigError);
    expect(() => loadConfig(env, '/srv')).toThrow(new RegExp(`${name}:`));
  });

  it('takes a bucket as the export root, the archive beside it unless named', () => {
    const env = { EXPORT_ROOT: 's3://spans/ml/exports/', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'eu-west-1' };
    expect(loadConfig(env, '/srv')).toMatchObject({
      exportRoot: 's3://spans/ml/exports',
      archiveRoot: 's3://spans/ml/archive',
      s3: { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, region: 'eu-west-1' },
    });
    expect(loadConfig({ EXPORT_ROOT: 's3://spans' }, '/srv').archiveRoot).toBe('s3://spans/_archive');
    expect(loadConfig({ EXPORT_ROOT: 's3://spans/exports', ARCHIVE_ROOT: 'archives' }, '/srv').archiveRoot).toBe('/srv/archives');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }, '/srv')).toMatchObject({ port: 3000, databaseUrl: undefined });
  });

  describe('single sign-on', () => {
    const sso = {
      OIDC_ISSUER: 'https://id.example.com/realms/ml',
      OIDC_CLIENT_ID: 'backflow',
      OIDC_REDIRECT_URL: 'https://backflow.example.com/api/v1/auth/oidc/callback',
    };

    it('is off without OIDC_ISSUER, with local passwords on', () => {
      expect(loadConfig({}, '/srv')).toMatchObject({ localPasswords: true, sso: undefined });
    });

    it('reads the provider, the claims and the group mappings', () => {
      const config = loadConfig(
        {
          ...sso,
          OIDC_CLIENT_SECRET: 's3cret',
          OIDC_SCOPES: 'openid email groups',
          OIDC_ROLE_CLAIM: 'realm_access.roles',
          OIDC_ADMIN_GROUPS: 'ml-admins, platform',
          OIDC_PROJECT_GROUPS: 'spam raters=spam:rater,/ml/spam=reviewers=spam:reviewer',
          OIDC_DEFAULT_ROLE: 'rater',
          LOCAL_PASSWORDS: 'false',
        },
        '/srv',
      );
      expect(config.localPasswords).toBe(false);
      expect(config.sso).toEqual({
        issuer: sso.OIDC_ISSUER,
        clientId: 'backflow',
        clientSecret: 's3cret',
        redirectUrl: sso.OIDC_REDIRECT_URL,
        scopes: ['openid', 'email', 'groups'],
        providerName: 'SSO',
        claims: { email: 'email', groups: 'groups', role: 'realm_access.roles' },
        roleGroups: { admin: ['ml-admins', 'platform'], reviewer: [], rater: [] },
        projectGroups: [
          { group: 'spam raters', project: 'spam', role: 'rater' },
          { group: '/ml/spam=reviewers', project: 'spam', role: 'reviewer' },
        ],
        defaultRole: 'rater',
      });
    });

    it.each([
      [{ ...sso, OIDC_ISSUER: 'http://id.example.com' }, 'OIDC_ISSUER'],
      [{ ...sso, OIDC_CLIENT_ID: '' }, 'OIDC_CLIENT_ID'],
      [{ ...sso, OIDC_REDIRECT_URL: 'https://backflow.example.com/callback' }, 'OIDC_REDIRECT_URL'],
      [{ ...sso, OIDC_SCOPES: 'email profile' }, 'OIDC_SCOPES'],
      [{ ...sso, OIDC_PROJECT_GROUPS: 'spam-raters=spam:admin' }, 'OIDC_PROJECT_GROUPS'],
      [{ ...sso, OIDC_DEFAULT_ROLE: 'admin' }, 'OIDC_DEFAULT_ROLE'],
      [{ LOCAL_PASSWORDS: 'false' }, 'LOCAL_PASSWORDS'],
      [{ OIDC_CLIENT_ID: 'backflow' }, 'OIDC_CLIENT_ID'],
    ])('fails fast on %j, naming %s', (env, name) => {
      expect(() => loadConfig(env, '/srv')).toThrow(new RegExp(`${name}:`));
    });

    it('takes plain http only for a provider on this machine', () => {
      expect(loadConfig({ ...sso, OIDC_ISSUER: 'http://127.0.0.1:8080/realms/dev' }, '/srv').sso?.issuer).toBe('http://127.0.0.1:8080/realms/dev');
    });
  });
});
