-- A table with a vector(3) column: INSERT and UPDATE check dimensions, aggregates, search.
CREATE TABLE items (id int PRIMARY KEY, category int, embedding vector(3));

INSERT INTO items VALUES (1, 1, '[1,2,3]'), (2, 1, '[4,5,6]'), (3, 2, '[1,1,1]'), (4, 2, '[-1,0,2]'), (5, 1, NULL), (6, 3, '[10,10,10]');

SELECT * FROM items ORDER BY id;

INSERT INTO items VALUES (7, 1, '[1,2]');

INSERT INTO items VALUES (7, 1, '[1,2,3,4]');

INSERT INTO items VALUES (7, 1, '[NaN,1,2]');

UPDATE items SET embedding = '[1]' WHERE id = 1;

UPDATE items SET embedding = embedding + '[1,1,1]' WHERE id = 6;

SELECT embedding FROM items WHERE id = 6;

-- Aggregates
SELECT avg(embedding), sum(embedding) FROM items;

SELECT category, avg(embedding), sum(embedding) FROM items GROUP BY category ORDER BY category;

SELECT avg(embedding), sum(embedding) FROM items WHERE id > 100;

SELECT avg(embedding) FROM items WHERE embedding IS NULL;

SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]'::vector)) t(v);

SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]'::vector)) t(v);

SELECT avg(v) FROM (VALUES ('[1e38,1]'::vector), ('[3e38,1]'::vector)) t(v);

SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]'::vector)) t(v);

-- Exact nearest-neighbour search with every operator, with and without a filter
SELECT id, embedding <-> '[1,1,1]' FROM items ORDER BY embedding <-> '[1,1,1]' LIMIT 3;

SELECT id FROM items WHERE category = 1 ORDER BY embedding <-> '[3,3,3]' LIMIT 5;

SELECT id, embedding <#> '[1,1,1]' FROM items ORDER BY embedding <#> '[1,1,1]' LIMIT 3;

SELECT id, embedding <=> '[1,1,1]' FROM items ORDER BY embedding <=> '[1,1,1]', id LIMIT 3;

SELECT id, embedding <+> '[1,1,1]' FROM items ORDER BY embedding <+> '[1,1,1]' LIMIT 3;

SELECT id FROM items ORDER BY embedding <-> '[1,1,1]' LIMIT 2 OFFSET 2;

SELECT id FROM items ORDER BY embedding <-> '[1,1]' LIMIT 1;

-- Other uses of vector columns
SELECT id, vector_dims(embedding), round(vector_norm(embedding)::numeric, 6) FROM items ORDER BY id;

SELECT id FROM items WHERE embedding = '[1,1,1]';

SELECT id, embedding FROM items WHERE embedding IS NOT NULL ORDER BY embedding;

SELECT count(*) FROM items WHERE embedding <-> '[0,0,0]' < 5;

-- A vector column without a dimension holds vectors of any size
CREATE TABLE anydim (id int, v vector);

INSERT INTO anydim VALUES (1, '[1]'), (2, '[1,2]'), (3, '[1,2,3]');

SELECT id, v, vector_dims(v) FROM anydim ORDER BY id;

SELECT id, v <-> '[0,0]' FROM anydim WHERE vector_dims(v) = 2;

SELECT v <-> '[0,0]' FROM anydim;

-- DROP EXTENSION is refused while vector columns exist
DROP EXTENSION vector;
