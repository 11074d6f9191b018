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
      clientDir: path.join('/srv/backflow', 'client', 'dist'),
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL'],
    [{ BACKFLOW_ADMIN_EMAIL: 'not-an-email' }, 'BACKFLOW_ADMIN_EMAIL'],
    [{ BACKFLOW_ADMIN_PASSWORD: 'short' }, 'BACKFLOW_ADMIN_PASSWORD'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SESSION_TTL_HOURS: '-1' }, 'SESSION_TTL_HOURS'],
  ])('fails fast on %j, naming %s', (env, name) => {
    expect(() => loadConfig(env, '/srv')).toThrow(ConfigError);
    expect(() => loadConfig(env, '/srv')).toThrow(new RegExp(`${name}:`));
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }, '/srv')).toMatchObject({ port: 3000, databaseUrl: undefined });
  });
});
