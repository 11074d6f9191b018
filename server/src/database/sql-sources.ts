import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as ts from 'typescript';
import { SUBSTITUTION } from './sql-relations';

/** One SQL text of the server's sources, with the module (folder) it belongs to. */
export interface SqlSource {
  file: string;
  line: number;
  module: string;
  sql: string;
}

// an uppercase keyword: the server writes SQL in capitals, and prose that says "from" is not SQL
const LOOKS_LIKE_SQL = /\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|WITH|COPY|TRUNCATE|FROM|JOIN|CREATE|ALTER|DROP|LOCK)\b/;

/** The module of a file under `root`: its first folder, `common/<part>` inside common, `app` at the top. */
export function moduleOf(root: string, file: string): string {
  const parts = relative(root, file).split(sep);
  if (parts.length === 1) return 'app';
  return parts[0] === 'common' && parts.length > 2 ? `common/${parts[1]}` : parts[0];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every string and template literal of a TypeScript file that reads as SQL; a template's `${…}` becomes a placeholder. */
export function sqlLiteralsOf(path: string, text: string): Array<{ line: number; sql: string }> {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: Array<{ line: number; sql: string }> = [];
  const visit = (node: ts.Node): void => {
    let sql: string | undefined;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) sql = node.text;
    else if (ts.isTemplateExpression(node)) sql = node.head.text + node.templateSpans.map((span) => ` ${SUBSTITUTION} ${span.literal.text}`).join('');
    if (sql !== undefined && LOOKS_LIKE_SQL.test(sql)) found.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, sql });
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The SQL of the server's sources: literals in TypeScript (tests and dated migrations left out) and every `.sql` file. */
export function serverSqlSources(root: string): SqlSource[] {
  const migrations = join(root, 'database', 'migrations');
  return filesUnder(root).flatMap((file) => {
    if (file.startsWith(migrations + sep)) return [];
    const module = moduleOf(root, file);
    const name = relative(root, file);
    if (file.endsWith('.sql')) return [{ file: name, line: 1, module, sql: readFileSync(file, 'utf8') }];
    if (!file.endsWith('.ts') || file.endsWith('.spec.ts')) return [];
    return sqlLiteralsOf(file, readFileSync(file, 'utf8')).map(({ line, sql }) => ({ file: name, line, module, sql }));
  });
}

/** The views the `.sql` files define, each with its owner and the modules a `-- published to:` line above it names. */
export function publishedViews(root: string): Map<string, { owner: string; file: string; publishedTo: string[] }> {
  const views = new Map<string, { owner: string; file: string; publishedTo: string[] }>();
  for (const file of filesUnder(root).filter((f) => f.endsWith('.sql'))) {
    const text = readFileSync(file, 'utf8');
    const view = /((?:^--[^\n]*\n)*)^CREATE (?:OR REPLACE )?VIEW\s+([a-z_][a-z0-9_]*)/gm;
    for (const match of text.matchAll(view)) {
      const publishedTo =
        /^--\s*published to:\s*([^\n]+)$/m
          .exec(match[1])?.[1]
          .split(',')
          .map((m) => m.trim()) ?? [];
      views.set(match[2], { owner: moduleOf(root, file), file: relative(root, file), publishedTo });
    }
  }
  return views;
}
