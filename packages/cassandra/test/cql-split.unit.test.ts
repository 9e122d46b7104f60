import assert from 'node:assert/strict';

import { splitCqlStatements } from '../src/cql-split.js';

describe('splitCqlStatements', function () {
  it('splits on semicolons and drops -- // and /* */ comments', function () {
    const cql = `-- header; with a semicolon
CREATE TABLE a (k text PRIMARY KEY); // trailing; comment
/* block; comment
   over lines */ CREATE TABLE b (k text PRIMARY KEY);
`;
    assert.deepEqual(splitCqlStatements(cql), [
      'CREATE TABLE a (k text PRIMARY KEY)',
      'CREATE TABLE b (k text PRIMARY KEY)',
    ]);
  });

  it("keeps semicolons and comment markers inside 'strings' (with '' escapes), \"identifiers\" and $$bodies$$", function () {
    const cql = `INSERT INTO t (k, v) VALUES ('a;b -- c', 'it''s; /* x */');
SELECT "we;ird" FROM t;
CREATE FUNCTION f() RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS $$ return 1; $$;`;
    assert.deepEqual(splitCqlStatements(cql), [
      "INSERT INTO t (k, v) VALUES ('a;b -- c', 'it''s; /* x */')",
      'SELECT "we;ird" FROM t',
      'CREATE FUNCTION f() RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS $$ return 1; $$',
    ]);
  });

  it('accepts a file of only comments and whitespace, and ignores empty statements', function () {
    assert.deepEqual(splitCqlStatements('-- nothing here\n/* really */\n ;; \n'), []);
  });

  it('refuses an unterminated last statement, string or comment', function () {
    assert.throws(() => splitCqlStatements('CREATE TABLE a (k text PRIMARY KEY);\nCREATE TABLE b'), /not terminated/);
    assert.throws(() => splitCqlStatements("INSERT INTO t VALUES ('oops);"), /Unterminated string/);
    assert.throws(() => splitCqlStatements('SELECT 1; /* open'), /Unterminated block comment/);
  });
});
