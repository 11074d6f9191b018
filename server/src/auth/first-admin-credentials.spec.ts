import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIRST_ADMIN_FILE, firstAdminNotice, forgetFirstAdminCredentials, writeFirstAdminCredentials } from './first-admin-credentials';

describe('first admin credentials', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-first-admin-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the password to a file only its owner can read, even over an older file with wider permissions', () => {
    const older = path.join(dir, 'data', FIRST_ADMIN_FILE);
    fs.mkdirSync(path.dirname(older));
    fs.writeFileSync(older, 'old', { mode: 0o644 });
    const file = writeFirstAdminCredentials(path.join(dir, 'data'), 'admin@backflow.local', 's3cret-Generated');
    expect(file).toBe(older);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toContain('email: admin@backflow.local\npassword: s3cret-Generated\n');
  });

  it("is removed when that admin's password changes, and only then", () => {
    const file = writeFirstAdminCredentials(dir, 'admin@backflow.local', 's3cret-Generated');
    forgetFirstAdminCredentials(dir, 'someone@backflow.local');
    expect(fs.existsSync(file)).toBe(true);
    forgetFirstAdminCredentials(dir, 'admin@backflow.local');
    expect(fs.existsSync(file)).toBe(false);
    expect(() => forgetFirstAdminCredentials(dir, 'admin@backflow.local')).not.toThrow();
  });

  it('prints a framed block that names the file, and the password only to a terminal or when no file could be written', () => {
    const toLog = firstAdminNotice({ email: 'a@b.c', password: 'pw-123', file: '/data/first-admin-credentials', terminal: false });
    expect(toLog).not.toContain('pw-123');
    expect(toLog).toContain('/data/first-admin-credentials');
    expect(toLog).toContain('users:reset-password --email a@b.c');
    const lines = toLog.trim().split('\n');
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
    expect(lines.every((line) => /^[+|]/.test(line))).toBe(true);
    expect(firstAdminNotice({ email: 'a@b.c', password: 'pw-123', file: '/data/x', terminal: true })).toContain('pw-123');
    expect(firstAdminNotice({ email: 'a@b.c', password: 'pw-123', writeError: 'EROFS', terminal: false })).toContain('pw-123');
  });
});
