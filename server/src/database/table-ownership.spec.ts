import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sqlRelations } from './sql-relations';
import { moduleOf, publishedViews, serverSqlSources, sqlLiteralsOf } from './sql-sources';
import { ownerOf, ownershipMarkdown } from './table-ownership';

const root = join(__dirname, '..');

/** Every breach of "the owner is the only writer; others read what is published to them", one line each. */
function breaches(): string[] {
  const views = publishedViews(root);
  const sources = serverSqlSources(root).map((source) => ({ ...source, ...sqlRelations(source.sql) }));
  // a temporary table belongs to the module whose SQL creates it
  const temporary = new Map(sources.flatMap((source) => source.temporary.map((table) => [table, source.module] as const)));
  const found: string[] = [];
  for (const { reads, writes, ...source } of sources) {
    const at = `${source.file}:${source.line} (${source.module})`;
    for (const relation of writes) {
      const owner = ownerOf(relation) ?? views.get(relation)?.owner ?? temporary.get(relation);
      if (owner === undefined) found.push(`${at} writes ${relation}, which no module owns (add it to TABLE_OWNERS)`);
      else if (owner !== source.module) found.push(`${at} writes ${relation}, owned by ${owner}`);
    }
    for (const relation of reads) {
      const view = views.get(relation);
      if (view) {
        if (view.owner !== source.module && !view.publishedTo.includes(source.module))
          found.push(`${at} reads ${relation}, a view of ${view.owner} (${view.file}) not published to ${source.module}`);
        continue;
      }
      const owner = ownerOf(relation) ?? temporary.get(relation);
      if (owner === undefined) found.push(`${at} reads ${relation}, which no module owns`);
      else if (owner !== source.module) found.push(`${at} reads ${relation}, owned by ${owner}: read a view ${owner} publishes to ${source.module}`);
    }
  }
  return found;
}

describe('table ownership', () => {
  it('no module writes a table it does not own, or reads one not published to it', () => {
    expect(breaches()).toEqual([]);
  });

  it('every view is published, to modules that exist', () => {
    const modules = new Set(serverSqlSources(root).map((source) => source.module));
    for (const [name, view] of publishedViews(root)) {
      expect({ name, unknown: view.publishedTo.filter((m) => !existsSync(join(root, m)) && !modules.has(m)) }).toEqual({ name, unknown: [] });
      expect({ name, publishedTo: view.publishedTo.length > 0 }).toEqual({ name, publishedTo: true });
    }
  });

  it('the architecture document shows the ownership table this manifest holds', () => {
    const docs = join(root, '..', '..', 'docs');
    const documents = readdirSync(docs).filter((name) => name.startsWith('architecture') && name.endsWith('.md'));
    // as Prettier pads a Markdown table's cells
    const unpadded = (markdown: string) => markdown.replace(/ *\| */g, '|').replace(/-{3,}/g, '---');
    expect(documents.filter((name) => unpadded(readFileSync(join(docs, name), 'utf8')).includes(unpadded(ownershipMarkdown())))).not.toEqual([]);
  });

  it('attributes files to modules', () => {
    expect(moduleOf('/s', '/s/labels/labels.service.ts')).toBe('labels');
    expect(moduleOf('/s', '/s/common/jobs/jobs.service.ts')).toBe('common/jobs');
    expect(moduleOf('/s', '/s/main.ts')).toBe('app');
  });

  it('finds SQL in string and template literals, and leaves prose alone', () => {
    const text = [
      'const a = `SELECT id FROM labels WHERE x = ${value}`;',
      "const b = 'UPDATE tasks SET priority = 1';",
      "const c = 'a message from the model';",
      'const d = `${COLUMNS} INSERT INTO predictions (${COLUMNS}) VALUES (1)`;',
    ].join('\n');
    expect(sqlLiteralsOf('x.ts', text).map((l) => [l.line, sqlRelations(l.sql)])).toEqual([
      [1, { reads: ['labels'], writes: [], temporary: [] }],
      [2, { reads: [], writes: ['tasks'], temporary: [] }],
      [4, { reads: [], writes: ['predictions'], temporary: [] }],
    ]);
  });
});
