import * as fs from 'node:fs';
import * as path from 'node:path';

/** The file under the data directory that holds the generated first admin's password, readable by the server's user only. */
export const FIRST_ADMIN_FILE = 'first-admin-credentials';

/**
 * Writes the generated first admin's email and password to `<dataDir>/first-admin-credentials`
 * with mode 0600 (the mode is set again if the file was there before). Returns its path.
 */
export function writeFirstAdminCredentials(dataDir: string, email: string, password: string): string {
  const file = path.join(dataDir, FIRST_ADMIN_FILE);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(
      fd,
      `# Backflow's first admin, generated at the first start. Delete this file once you have signed in;\n# it is deleted when this password is changed or reset.\nemail: ${email}\npassword: ${password}\n`,
    );
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** The generated password no longer signs anybody in (it was changed or reset): the file that holds it goes. */
export function forgetFirstAdminCredentials(dataDir: string, email: string): void {
  const file = path.join(dataDir, FIRST_ADMIN_FILE);
  try {
    if (fs.readFileSync(file, 'utf8').includes(`\nemail: ${email}\n`)) fs.rmSync(file, { force: true });
  } catch {
    // no file (the usual case), or one we cannot read: nothing of ours to remove
  }
}

/**
 * The notice printed on stderr when the first admin is created with a generated password: a
 * plain framed block apart from the JSON log lines on stdout. It names the file holding the
 * password; the password itself is in the block only for a person at a terminal, or when the
 * file could not be written.
 */
export function firstAdminNotice(notice: { email: string; password: string; file?: string; writeError?: string; terminal: boolean }): string {
  const reset = `npm run cli -- users:reset-password --email ${notice.email}`;
  const lines = [
    'Backflow created the first admin.',
    `  email:    ${notice.email}`,
    ...(notice.file && !notice.terminal ? [`  password: in ${notice.file} (mode 0600)`] : [`  password: ${notice.password}`]),
    ...(notice.file && notice.terminal ? [`  (also in ${notice.file}, mode 0600)`] : []),
    ...(notice.writeError ? [`  (not written to a file: ${notice.writeError}; shown here once)`] : []),
    '',
    'Sign in and change it (your account page), or set a new one on the server:',
    `  ${reset}`,
  ];
  const width = Math.max(...lines.map((line) => line.length));
  const rule = `+${'-'.repeat(width + 2)}+`;
  return ['', rule, ...lines.map((line) => `| ${line.padEnd(width)} |`), rule, ''].join('\n') + '\n';
}
