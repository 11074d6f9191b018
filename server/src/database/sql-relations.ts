/** The tables and views one SQL text reads and writes, for the ownership guard (a scanner, not a parser: it knows the statements Backflow writes). */
export interface SqlRelations {
  reads: string[];
  writes: string[];
  /** tables this text creates as TEMPORARY: the session's own, nobody's to own */
  temporary: string[];
}

type Token = { kind: 'word'; text: string; quoted: boolean } | { kind: 'punct'; text: string };

/** What stands in a TypeScript template's `${…}`: never a relation. */
export const SUBSTITUTION = '__substitution__';

// functions whose argument lists use FROM or IN as a keyword
const FROM_IN_ARGUMENTS = new Set(['extract', 'substring', 'trim', 'overlay', 'position']);
// a word before UPDATE that makes it a lock or a conflict action, not a statement
const NOT_AN_UPDATE = new Set(['for', 'key', 'do', 'on']);
const NOT_A_RELATION = new Set(['stdin', 'stdout', 'only', 'lateral', 'table', SUBSTITUTION]);

function tokenize(sql: string, into: Token[] = []): Token[] {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) i++;
    else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 0;
      do {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      } while (depth > 0 && i < sql.length);
    } else if (c === "'") {
      i++;
      while (i < sql.length && !(sql[i] === "'" && sql[i + 1] !== "'")) i += sql[i] === "'" ? 2 : sql[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '"') {
      let text = '';
      i++;
      while (i < sql.length && !(sql[i] === '"' && sql[i + 1] !== '"')) {
        text += sql[i];
        i += sql[i] === '"' ? 2 : 1;
      }
      i++;
      into.push({ kind: 'word', text, quoted: true });
    } else if (c === '$' && /[A-Za-z_$]/.test(sql[i + 1] ?? '')) {
      // a dollar-quoted body: Backflow's are function bodies, so code to scan
      const tag = /^\$[A-Za-z_0-9]*\$/.exec(sql.slice(i))?.[0];
      if (!tag) {
        i++;
        continue;
      }
      const end = sql.indexOf(tag, i + tag.length);
      const body = sql.slice(i + tag.length, end < 0 ? sql.length : end);
      into.push({ kind: 'punct', text: ';' });
      tokenize(body, into);
      into.push({ kind: 'punct', text: ';' });
      i = end < 0 ? sql.length : end + tag.length;
    } else if (c === '$' && /\d/.test(sql[i + 1] ?? '')) {
      i++;
      while (/\d/.test(sql[i] ?? '')) i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i))![0];
      // E'…' and U&'…' strings: the quote is read next
      into.push({ kind: 'word', text: word.toLowerCase(), quoted: false });
      i += word.length;
    } else if (/\d/.test(c)) {
      while (/[\d.eE]/.test(sql[i] ?? '')) i++;
    } else if (c === ':' && sql[i + 1] === ':') {
      into.push({ kind: 'punct', text: '::' });
      i += 2;
    } else {
      into.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return into;
}

const isWord = (t: Token | undefined, ...words: string[]): boolean => t?.kind === 'word' && !t.quoted && (words.length === 0 || words.includes(t.text));
const isPunct = (t: Token | undefined, text: string): boolean => t?.kind === 'punct' && t.text === text;

/** The relations a SQL text reads and writes: CTE names, functions, system catalogs and `public.` left out. */
export function sqlRelations(sql: string): SqlRelations {
  const tokens = tokenize(sql);
  const reads = new Set<string>();
  const writes = new Set<string>();
  const ctes = new Set<string>();
  const temporaries = new Set<string>();

  // CTE names: `name AS (`, `name AS [NOT] MATERIALIZED (`, `name (columns) AS (` after WITH or a comma
  for (let i = 0; i < tokens.length; i++) {
    const before = tokens[i - 1];
    if (!(isWord(before, 'with', 'recursive') || isPunct(before, ','))) continue;
    if (tokens[i]?.kind !== 'word') continue;
    let j = i + 1;
    if (isPunct(tokens[j], '(')) {
      while (j < tokens.length && !isPunct(tokens[j], ')')) j++;
      j++;
    }
    if (!isWord(tokens[j], 'as')) continue;
    j++;
    if (isWord(tokens[j], 'not')) j++;
    if (isWord(tokens[j], 'materialized')) j++;
    if (isPunct(tokens[j], '(')) ctes.add(tokens[i].text);
  }

  /** A possibly qualified name at `i`; undefined when it is a function call, a subquery or not a name. */
  const nameAt = (i: number, columnsMayFollow = false): { name: string; next: number } | undefined => {
    while (isWord(tokens[i], 'only', 'lateral')) i++;
    if (tokens[i]?.kind !== 'word') return undefined;
    const parts = [tokens[i].text];
    let j = i + 1;
    while (isPunct(tokens[j], '.') && tokens[j + 1]?.kind === 'word') {
      parts.push(tokens[j + 1].text);
      j += 2;
    }
    if (isPunct(tokens[j], '(') && !columnsMayFollow) return undefined;
    if (parts.length === 2 && parts[0] === 'public') parts.shift();
    return { name: parts.join('.'), next: j };
  };

  const record = (into: Set<string>, name: string): void => {
    if (NOT_A_RELATION.has(name) || ctes.has(name) || temporaries.has(name)) return;
    if (name.startsWith('pg_') || name.startsWith('pg_catalog.') || name.startsWith('information_schema.')) return;
    into.add(name);
  };

  // each open parenthesis: whether it is a function's argument list that uses FROM as a keyword, or a FROM item
  const parens: Array<'from-arguments' | 'from-item' | 'other'> = [];
  const inFromArguments = (): boolean => parens.at(-1) === 'from-arguments';

  /** Reads FROM items from `i` (a list when `list`); returns where scanning goes on. */
  const fromItems = (i: number, list: boolean, into: Set<string>): number => {
    for (;;) {
      let j = i;
      while (isWord(tokens[j], 'only', 'lateral')) j++;
      if (isPunct(tokens[j], '(')) return j; // a subquery or VALUES: scanned as it comes; its alias is read at its ')'
      if (tokens[j]?.kind === 'word' && isPunct(tokens[j + 1], '(')) return j; // a function in FROM
      const found = nameAt(j);
      if (!found) return j;
      record(into, found.name);
      j = found.next;
      j = skipAlias(j);
      if (list && isPunct(tokens[j], ',')) {
        i = j + 1;
        continue;
      }
      return j;
    }
  };

  const skipAlias = (j: number): number => {
    if (isWord(tokens[j], 'as')) j++;
    if (tokens[j]?.kind === 'word' && !isWord(tokens[j], ...CLAUSE_WORDS)) {
      j++;
      if (isPunct(tokens[j], '(')) {
        while (j < tokens.length && !isPunct(tokens[j], ')')) j++;
        j++;
      }
    }
    return j;
  };

  // between COPY and its FROM: the table COPY writes
  let copyTarget: string | undefined;
  // the parentheses that open a FROM item (a subquery or a function), whose alias and list follow their ')'
  const fromItemStarts = new Set<number>();
  /** Reads the FROM items (or the JOIN's one) at `i`, marking a parenthesised item to finish at its ')'. */
  const readFromItems = (i: number, list = true): number => {
    const next = fromItems(i, list, reads);
    if (isPunct(tokens[next], '(')) fromItemStarts.add(next);
    else if (tokens[next]?.kind === 'word' && isPunct(tokens[next + 1], '(')) fromItemStarts.add(next + 1);
    return next;
  };

  for (let i = 0; i < tokens.length;) {
    const t = tokens[i];
    const previous = tokens[i - 1];
    if (isPunct(t, '(')) {
      const opener = tokens[i - 1];
      const kind = isWord(opener) && FROM_IN_ARGUMENTS.has(opener.text) ? 'from-arguments' : fromItemStarts.has(i) ? 'from-item' : 'other';
      parens.push(kind);
      i++;
      continue;
    }
    if (isPunct(t, ')')) {
      const kind = parens.pop();
      i++;
      if (kind === 'from-item') {
        i = skipAlias(i);
        // a FROM list goes on after a subquery or a function
        if (isPunct(tokens[i], ',')) i = readFromItems(i + 1);
      }
      continue;
    }
    if (!isWord(t)) {
      i++;
      continue;
    }
    switch (t.text) {
      case 'from': {
        if (isWord(previous, 'distinct') || inFromArguments()) break;
        if (isWord(previous, 'delete')) {
          const found = nameAt(i + 1);
          if (found) record(writes, found.name);
          i = found ? skipAlias(found.next) : i + 1;
          // DELETE … USING reads a FROM list
          if (isWord(tokens[i], 'using')) i = readFromItems(i + 1);
          continue;
        }
        if (copyTarget !== undefined) {
          record(writes, copyTarget);
          copyTarget = undefined;
          break;
        }
        i = readFromItems(i + 1);
        continue;
      }
      case 'join':
        i = readFromItems(i + 1, false);
        continue;
      case 'into':
        if (isWord(previous, 'insert', 'merge')) {
          const found = nameAt(i + 1, true);
          if (found) record(writes, found.name);
        }
        break;
      case 'update':
        if (!isWord(previous, ...NOT_AN_UPDATE)) {
          const found = nameAt(i + 1);
          if (found) record(writes, found.name);
        }
        break;
      case 'truncate': {
        let j = i + 1;
        if (isWord(tokens[j], 'table')) j++;
        for (;;) {
          const found = nameAt(j);
          if (!found) break;
          record(writes, found.name);
          j = found.next;
          if (!isPunct(tokens[j], ',')) break;
          j++;
        }
        break;
      }
      case 'copy': {
        const found = nameAt(i + 1, true);
        if (found) {
          let j = found.next;
          if (isPunct(tokens[j], '(')) while (j < tokens.length && !isPunct(tokens[j], ')')) j++;
          if (isWord(tokens[j + 1], 'to') || isWord(tokens[j], 'to')) record(reads, found.name);
          else copyTarget = found.name;
        }
        break;
      }
      case 'alter':
      case 'drop':
      case 'create':
      case 'lock':
      case 'refresh': {
        const target = ddlTarget(i);
        if (target) record(writes, target);
        break;
      }
    }
    i++;
  }

  /** The table or view a DDL statement at `i` changes (CREATE TABLE/VIEW/INDEX … ON/TRIGGER … ON, ALTER/DROP TABLE/VIEW, LOCK, REFRESH). */
  function ddlTarget(i: number): string | undefined {
    let j = i + 1;
    const skip = (...words: string[]) => {
      while (isWord(tokens[j], ...words)) j++;
    };
    const temporary = isWord(tokens[j], 'temporary', 'temp') || isWord(tokens[j + 1], 'temporary', 'temp');
    skip('or', 'replace', 'unique', 'temporary', 'temp', 'materialized', 'recursive', 'constraint');
    if (isWord(tokens[j], 'table', 'view')) {
      j++;
      skip('if', 'not', 'exists', 'only');
      const name = nameAt(j, true)?.name;
      if (name && temporary) {
        temporaries.add(name);
        return undefined;
      }
      return name;
    }
    if (tokens[i].text === 'lock') {
      skip('table', 'only');
      return nameAt(j)?.name;
    }
    if (isWord(tokens[j], 'index', 'trigger')) {
      // the relation after ON
      for (let k = j; k < tokens.length && !isPunct(tokens[k], ';'); k++) {
        if (isWord(tokens[k], 'on')) return nameAt(k + 1, true)?.name;
      }
    }
    return undefined;
  }

  return { reads: [...reads].sort(), writes: [...writes].sort(), temporary: [...temporaries].sort() };
}

// words that end a FROM item instead of naming its alias
const CLAUSE_WORDS = [
  'where',
  'join',
  'inner',
  'left',
  'right',
  'full',
  'cross',
  'natural',
  'on',
  'using',
  'group',
  'order',
  'limit',
  'offset',
  'having',
  'window',
  'union',
  'intersect',
  'except',
  'for',
  'returning',
  'set',
  'from',
  'with',
  'select',
  'values',
  'into',
  'loop',
  'then',
  'end',
  'when',
  'and',
  'or',
  'tablesample',
  'fetch',
  'do',
  'default',
];
