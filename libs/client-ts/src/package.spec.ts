import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..', '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const dependenciesOf = (packageDir: string) =>
  Object.keys((JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});

// what npm would put beside the package: its declared dependencies, workspace ones as built, the rest from the registry (linked here)
function install(nodeModules: string, name: string, seen = new Set<string>()): void {
  if (seen.has(name)) return;
  seen.add(name);
  const workspace = name.startsWith('@backflow/') ? path.join(root, 'libs', name.slice('@backflow/'.length)) : null;
  const target = path.join(nodeModules, name);
  mkdirSync(path.dirname(target), { recursive: true });
  if (workspace) {
    mkdirSync(target);
    cpSync(path.join(workspace, 'package.json'), path.join(target, 'package.json'));
    cpSync(path.join(workspace, 'dist'), path.join(target, 'dist'), { recursive: true });
  } else {
    symlinkSync(path.join(root, 'node_modules', name), target, 'dir');
  }
  for (const dependency of dependenciesOf(workspace ?? target)) install(nodeModules, dependency, seen);
}

describe('the built package, for a consumer outside the monorepo', () => {
  let consumer: string;
  beforeAll(() => {
    execFileSync(process.execPath, [tsc, '-b', path.join(root, 'libs', 'client-ts', 'tsconfig.json')], { stdio: 'pipe' });
    consumer = mkdtempSync(path.join(tmpdir(), 'client-ts-consumer-'));
    install(path.join(consumer, 'node_modules'), '@backflow/client-ts');
  }, 120_000);
  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  it('type-checks against its declared dependencies alone, with the contract types in force', () => {
    writeFileSync(
      path.join(consumer, 'index.ts'),
      [
        "import { BackflowClient, type FeedbackEvent, type Prediction } from '@backflow/client-ts';",
        "const client = new BackflowClient({ baseUrl: 'http://localhost:3000', apiKey: 'key', project: 'spam-filter' });",
        "const prediction: Prediction = { model: { name: 'm', version: '1' }, input: { links: 3, words: ['win'] as const }, scores: { ham: 0.2, spam: 0.8 }, timestamp: new Date() };",
        "const event: FeedbackEvent = { id: 'click-1', predictionId: client.predict(prediction), type: 'click', occurredAt: new Date() };",
        'client.feedback(event);',
        '// @ts-expect-error a score is a number',
        "client.predict({ model: { name: 'm', version: '1' }, input: {}, scores: { ham: 'high' } });",
      ].join('\n'),
    );
    // skipLibCheck as most consumers have it: a type lost to a missing dependency then turns up as the unused @ts-expect-error
    const compilerOptions = { strict: true, skipLibCheck: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: [] };
    writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }));
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', consumer], { stdio: 'pipe' });
    } catch (error) {
      output = String((error as { stdout?: Buffer }).stdout ?? error);
    }
    expect(output).toBe('');
  });
});
