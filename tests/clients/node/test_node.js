// node-postgres (pg) and pgvector-node against a running QuartzDB.
// Run by tests/e2e/clients.rs as `node test_node.js "postgresql://quartz@127.0.0.1:N/quartz"`.
// Each check states what a Node application does; it prints "N passed, M failed".
const assert = require('node:assert/strict');
const pg = require('pg');
const pgvector = require('pgvector/pg');

const url = process.argv[2];
const checks = [];
const check = (name, fn) => checks.push([name, fn]);

async function connect() {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

check('parameters_types_and_prepared_statements', async () => {
  const c = await connect();
  try {
    await c.query('DROP TABLE IF EXISTS node_items');
    await c.query('CREATE TABLE node_items (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2), at timestamptz, tags text[], ok boolean)');
    const ins = { name: 'ins', text: 'INSERT INTO node_items (name, price, at, tags, ok) VALUES ($1, $2, $3, $4, $5) RETURNING id' };
    const r1 = await c.query({ ...ins, values: ['a', '1.50', new Date('2024-01-01T10:00:00Z'), ['x', 'y z'], true] });
    const r2 = await c.query({ ...ins, values: ['b', null, null, null, false] });
    assert.deepEqual([r1.rows[0].id, r2.rows[0].id], [1, 2]);
    const { rows } = await c.query('SELECT name, price, at, tags, ok FROM node_items WHERE id = $1', [1]);
    assert.equal(rows[0].name, 'a');
    assert.equal(rows[0].price, '1.50');
    assert.equal(rows[0].at.toISOString(), '2024-01-01T10:00:00.000Z');
    assert.deepEqual(rows[0].tags, ['x', 'y z']);
    assert.equal(rows[0].ok, true);
    const count = await c.query('SELECT count(*)::int AS n FROM node_items WHERE price IS NULL');
    assert.equal(count.rows[0].n, 1);
  } finally {
    await c.end();
  }
});

check('transactions_commit_and_roll_back', async () => {
  const c = await connect();
  const other = await connect();
  try {
    await c.query('DROP TABLE IF EXISTS node_acct');
    await c.query('CREATE TABLE node_acct (id int PRIMARY KEY, balance int)');
    await c.query('INSERT INTO node_acct VALUES (1, 100), (2, 0)');
    await c.query('BEGIN');
    await c.query('UPDATE node_acct SET balance = balance - 10 WHERE id = 1');
    await c.query('UPDATE node_acct SET balance = balance + 10 WHERE id = 2');
    const before = await other.query('SELECT balance FROM node_acct ORDER BY id');
    assert.deepEqual(before.rows.map((r) => r.balance), [100, 0], 'not visible before COMMIT');
    await c.query('COMMIT');
    await c.query('BEGIN');
    await c.query('DELETE FROM node_acct');
    await c.query('ROLLBACK');
    const after = await other.query('SELECT balance FROM node_acct ORDER BY id');
    assert.deepEqual(after.rows.map((r) => r.balance), [90, 10]);
    await assert.rejects(c.query('INSERT INTO node_acct VALUES (1, 0)'), (e) => e.code === '23505');
  } finally {
    await c.end();
    await other.end();
  }
});

check('pgvector_node_nearest_neighbours', async () => {
  const c = await connect();
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS vector');
    await pgvector.registerTypes(c);
    await c.query('DROP TABLE IF EXISTS node_docs');
    await c.query('CREATE TABLE node_docs (id int PRIMARY KEY, embedding vector(3))');
    const docs = [[1, [1, 1, 1]], [2, [2, 2, 2]], [3, [1, 1, 2]]];
    for (const [id, v] of docs) {
      await c.query('INSERT INTO node_docs VALUES ($1, $2)', [id, pgvector.toSql(v)]);
    }
    const { rows } = await c.query('SELECT id, embedding, embedding <-> $1 AS d FROM node_docs ORDER BY embedding <-> $1 LIMIT 2', [pgvector.toSql([1, 1, 1])]);
    assert.deepEqual(rows.map((r) => r.id), [1, 3]);
    assert.deepEqual(rows[1].embedding, [1, 1, 2]);
    assert.equal(rows[1].d, 1);
  } finally {
    await c.end();
  }
});

(async () => {
  let passed = 0;
  let failed = 0;
  for (const [name, fn] of checks) {
    try {
      await fn();
      passed += 1;
      console.log(`ok   ${name}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name}`);
      console.log(e && e.stack ? e.stack : e);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
