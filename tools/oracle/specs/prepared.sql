-- SQL-level prepared statements and DISCARD. Expected results recorded from PostgreSQL 15.
CREATE TABLE prep_t (id int PRIMARY KEY, name text);

PREPARE ins (int, text) AS INSERT INTO prep_t VALUES ($1, $2);

EXECUTE ins (1, 'one');

EXECUTE ins (2, 'tw' || 'o');

PREPARE pick AS SELECT name FROM prep_t WHERE id = $1;

EXECUTE pick (2);

EXECUTE pick ('1');

PREPARE pick AS SELECT 1;

EXECUTE ins (3);

EXECUTE nothing (1);

PREPARE bad AS SELECT * FROM prep_missing;

DEALLOCATE pick;

EXECUTE pick (1);

DEALLOCATE pick;

DEALLOCATE ALL;

EXECUTE ins (4, 'four');

PREPARE upd (int) AS UPDATE prep_t SET name = upper(name) WHERE id <= $1 RETURNING id, name;

EXECUTE upd (1);

BEGIN;

-- rowsort
EXECUTE upd (2);

ROLLBACK;

-- rowsort
SELECT id, name FROM prep_t;

SET application_name = 'before';

DISCARD ALL;

SHOW application_name;

EXECUTE upd (2);

BEGIN;

DISCARD ALL;

ROLLBACK;
