-- Transaction blocks with writes: own changes visible, ROLLBACK, savepoints, modes, errors.
-- Expected results recorded from PostgreSQL 15.
CREATE TABLE tx_acct (id int PRIMARY KEY, balance int NOT NULL);

INSERT INTO tx_acct VALUES (1, 100), (2, 0);

BEGIN;

UPDATE tx_acct SET balance = balance - 40 WHERE id = 1;

UPDATE tx_acct SET balance = balance + 40 WHERE id = 2;

-- rowsort
SELECT id, balance FROM tx_acct;

COMMIT;

-- rowsort
SELECT id, balance FROM tx_acct;

-- ROLLBACK discards inserts, updates and deletes alike.
BEGIN;

INSERT INTO tx_acct VALUES (3, 7);

DELETE FROM tx_acct WHERE id = 1;

UPDATE tx_acct SET balance = 0;

SELECT count(*), sum(balance) FROM tx_acct;

ROLLBACK;

-- rowsort
SELECT id, balance FROM tx_acct;

-- START TRANSACTION and END are other spellings.
START TRANSACTION;

INSERT INTO tx_acct VALUES (3, 3);

END;

SELECT count(*) FROM tx_acct;

-- Savepoints: ROLLBACK TO undoes what came after, keeps the savepoint, and clears an error.
BEGIN;

INSERT INTO tx_acct VALUES (4, 4);

SAVEPOINT a;

INSERT INTO tx_acct VALUES (5, 5);

SAVEPOINT b;

INSERT INTO tx_acct VALUES (6, 6);

ROLLBACK TO SAVEPOINT a;

-- rowsort
SELECT id FROM tx_acct WHERE id >= 4;

INSERT INTO tx_acct VALUES (4, 44);

SELECT 1;

ROLLBACK TO a;

INSERT INTO tx_acct VALUES (7, 7);

RELEASE SAVEPOINT a;

ROLLBACK TO SAVEPOINT a;

ROLLBACK;

-- rowsort
SELECT id FROM tx_acct WHERE id >= 3;

BEGIN;

SAVEPOINT s;

SAVEPOINT s;

INSERT INTO tx_acct VALUES (8, 8);

RELEASE SAVEPOINT s;

ROLLBACK TO s;

SELECT count(*) FROM tx_acct WHERE id = 8;

COMMIT;

SELECT count(*) FROM tx_acct WHERE id = 8;

-- DDL is transactional.
BEGIN;

CREATE TABLE tx_new (id serial PRIMARY KEY, note text);

INSERT INTO tx_new (note) VALUES ('a'), ('b');

SELECT id, note FROM tx_new ORDER BY id;

ROLLBACK;

SELECT * FROM tx_new;

BEGIN;

CREATE TABLE tx_new (id serial PRIMARY KEY, note text);

INSERT INTO tx_new (note) VALUES ('c');

COMMIT;

SELECT id, note FROM tx_new;

BEGIN;

DROP TABLE tx_new;

ROLLBACK;

SELECT count(*) FROM tx_new;

BEGIN;

ALTER TABLE tx_new ADD COLUMN extra int;

TRUNCATE tx_new;

ROLLBACK;

SELECT id, note FROM tx_new;

-- Modes, and what a block refuses.
BEGIN READ ONLY;

SELECT count(*) FROM tx_acct;

INSERT INTO tx_acct VALUES (9, 9);

ROLLBACK;

BEGIN ISOLATION LEVEL REPEATABLE READ;

SHOW transaction_isolation;

COMMIT;

SHOW transaction_isolation;

BEGIN;

SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;

SHOW transaction_isolation;

SELECT 1;

SET TRANSACTION ISOLATION LEVEL READ COMMITTED;

ROLLBACK;

BEGIN;

VACUUM tx_acct;

ROLLBACK;

SAVEPOINT outside;

RELEASE SAVEPOINT outside;

ROLLBACK TO SAVEPOINT outside;
