import { sqlRelations, SUBSTITUTION } from './sql-relations';

describe('sqlRelations', () => {
  it.each([
    ['a plain read', 'SELECT id FROM labels WHERE project_id = $1', ['labels'], []],
    [
      'joins with aliases',
      'SELECT 1 FROM annotations a JOIN tasks t ON t.id = a.task_id LEFT JOIN labels l ON l.task_id = a.task_id',
      ['annotations', 'labels', 'tasks'],
      [],
    ],
    ['a FROM list', 'SELECT 1 FROM memberships m, users AS u WHERE m.user_id = u.id', ['memberships', 'users'], []],
    [
      'quoted and schema-qualified names',
      'SELECT 1 FROM "Labels" JOIN public.tasks t ON true JOIN pgboss.job j ON true',
      ['Labels', 'pgboss.job', 'tasks'],
      [],
    ],
    ['comments hide words', 'SELECT 1 -- FROM secrets\n FROM /* JOIN hidden /* nested */ */ labels', ['labels'], []],
    ['strings hide words', "SELECT 'FROM secrets', E'it''s FROM x' FROM labels", ['labels'], []],
    [
      'CTE names are not relations',
      'WITH due AS (DELETE FROM feedback_windows RETURNING 1), b (x) AS NOT MATERIALIZED (SELECT 1 FROM tasks) SELECT * FROM due, b',
      ['tasks'],
      ['feedback_windows'],
    ],
    ['functions in FROM are not relations, the list goes on after them', 'SELECT 1 FROM unnest($1::uuid[]) AS b(id), labels l', ['labels'], []],
    ['a subquery in FROM, then the list', 'SELECT 1 FROM (SELECT id FROM labels) a, backflow_record_labels($1) r, tasks', ['labels', 'tasks'], []],
    ['keywords FROM inside functions', 'SELECT extract(epoch FROM created_at), substring(x FROM 2), a IS DISTINCT FROM b FROM tasks', ['tasks'], []],
    ['writes', 'INSERT INTO labels (id) SELECT id FROM predictions', ['predictions'], ['labels']],
    ['an UPDATE … FROM', 'UPDATE tasks t SET priority = 1 FROM labels l WHERE l.task_id = t.id', ['labels'], ['tasks']],
    [
      'locks and conflict actions are not updates',
      'SELECT 1 FROM tasks FOR NO KEY UPDATE; SELECT 1 FROM labels FOR UPDATE OF labels; INSERT INTO x VALUES (1) ON CONFLICT DO UPDATE SET a = 1',
      ['labels', 'tasks'],
      ['x'],
    ],
    ['COPY in and out', 'COPY predictions (id, input) FROM STDIN; COPY labels TO STDOUT', ['labels'], ['predictions']],
    ['TRUNCATE a list', 'TRUNCATE TABLE tasks, ONLY labels', [], ['labels', 'tasks']],
    [
      'DDL',
      'CREATE OR REPLACE VIEW labels_read AS SELECT id FROM labels; CREATE INDEX i ON tasks (id); ALTER TABLE IF EXISTS annotations ADD x int',
      ['labels'],
      ['annotations', 'labels_read', 'tasks'],
    ],
    [
      'a trigger names its table',
      'CREATE TRIGGER t AFTER INSERT ON predictions REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION f()',
      [],
      ['predictions'],
    ],
    [
      'a PL/pgSQL body: SELECT … INTO a variable is no write',
      'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$ DECLARE v uuid; BEGIN SELECT t.id INTO v FROM tasks t; INSERT INTO task_leases AS l (x) VALUES (v) RETURNING l.x INTO v; END $fn$;',
      ['tasks'],
      ['task_leases'],
    ],
    ['system catalogs are nobody’s', "SELECT 1 FROM pg_stat_activity JOIN pg_catalog.pg_locks ON true WHERE to_regclass('x') IS NULL", [], []],
    ['a substituted fragment is no relation', `SELECT ${SUBSTITUTION} FROM labels ${SUBSTITUTION}`, ['labels'], []],
    [
      'DELETE FROM with an alias, then a read',
      'DELETE FROM task_leases l WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.id = l.task_id)',
      ['tasks'],
      ['task_leases'],
    ],
    ['DELETE … USING reads its list', 'DELETE FROM task_leases l USING tasks t, users_read u WHERE t.id = l.task_id', ['tasks', 'users_read'], ['task_leases']],
  ])('%s', (_name, sql, reads, writes) => {
    expect(sqlRelations(sql)).toEqual({ reads, writes, temporary: [] });
  });

  it('a temporary table is the session’s own', () => {
    expect(sqlRelations('CREATE TEMP TABLE span_claim ON COMMIT DROP AS SELECT id FROM labels_read; INSERT INTO span_claim SELECT 1')).toEqual({
      reads: ['labels_read'],
      writes: [],
      temporary: ['span_claim'],
    });
  });
});
