#!/usr/bin/env node
// Builds what is stale: libs and server with `tsc -b` (incremental), the client with Vite
// when a source is newer than its last build. `--force` rebuilds all; `--server-only` skips the client.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const force = args.has('--force');

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
run(process.execPath, [
  tsc,
  '-b',
  'server/tsconfig.json',
  'libs/client-ts/tsconfig.json',
  'libs/sampling/tsconfig.json',
  'libs/questions/tsconfig.json',
  'libs/agreement/tsconfig.json',
  'libs/weak/tsconfig.json',
  'libs/drift/tsconfig.json',
  'libs/ranking/tsconfig.json',
  'libs/tfrecord/tsconfig.json',
  'libs/tfmd/tsconfig.json',
  ...(force ? ['--force'] : []),
]);

// the database definitions (functions, read-model views) are read at boot from beside the compiled server
function copySql(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) copySql(path);
    else if (entry.name.endsWith('.sql')) {
      const target = join(root, 'server', 'dist', relative(join(root, 'server', 'src'), path));
      if (existsSync(target) && readFileSync(target).equals(readFileSync(path))) continue;
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(path, target);
    }
  }
}
copySql(join(root, 'server', 'src'));

if (!args.has('--server-only')) {
  const built = join(root, 'client', 'dist', 'index.html');
  const sources = ['client/src', 'client/index.html', 'client/vite.config.ts', 'client/public', 'libs/contracts/src', 'libs/questions/src'].map((p) =>
    newest(join(root, p)),
  );
  if (force || !existsSync(built) || Math.max(...sources) > statSync(built).mtimeMs) {
    const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
    run(process.execPath, [vite, 'build', 'client', '--logLevel', 'warn']);
  }
}
