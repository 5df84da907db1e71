-- Vector and scalar indexes with pgvector's access methods, operator classes and options.
-- Small tables: every search is exact, with or without the index, in pgvector and in QuartzDB.
CREATE TABLE docs (id int PRIMARY KEY, category int, embedding vector(3));

INSERT INTO docs VALUES (1, 1, '[1,2,3]'), (2, 1, '[4,5,6]'), (3, 2, '[1,1,1]'), (4, 2, '[-1,0,2]'), (5, 1, NULL), (6, 3, '[10,10,10]'), (7, 3, '[0,0,1]'), (8, 2, '[2,2,3]');

CREATE INDEX docs_l2 ON docs USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64);

CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops);

CREATE INDEX ON docs USING ivfflat (embedding vector_ip_ops) WITH (lists = 1);

CREATE INDEX ON docs (category);

CREATE INDEX IF NOT EXISTS docs_l2 ON docs USING hnsw (embedding vector_l2_ops);

-- Errors: duplicate names, options out of bounds, unknown options, classes and methods.
CREATE INDEX docs_l2 ON docs USING hnsw (embedding vector_l2_ops);

CREATE INDEX ON docs USING hnsw (embedding vector_l2_ops) WITH (m = 1);

CREATE INDEX ON docs USING hnsw (embedding vector_l2_ops) WITH (m = 101);

CREATE INDEX ON docs USING hnsw (embedding vector_l2_ops) WITH (ef_construction = 3);

CREATE INDEX ON docs USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 31);

CREATE INDEX ON docs USING ivfflat (embedding vector_l2_ops) WITH (lists = 0);

CREATE INDEX ON docs USING ivfflat (embedding vector_l2_ops) WITH (lists = 32769);

CREATE INDEX ON docs USING hnsw (embedding vector_l2_ops) WITH (foo = 1);

CREATE INDEX ON docs USING hnsw (embedding nope_ops);

CREATE INDEX ON docs USING nope (embedding);

CREATE INDEX ON docs USING hnsw (embedding halfvec_l2_ops);

-- Searches through the indexes give the exact answer.
SELECT id, embedding <-> '[1,1,1]' AS d FROM docs ORDER BY embedding <-> '[1,1,1]' LIMIT 3;

SELECT id, embedding <=> '[1,2,2]' AS d FROM docs ORDER BY embedding <=> '[1,2,2]' LIMIT 3;

SELECT id, embedding <#> '[1,2,3]' AS d FROM docs ORDER BY embedding <#> '[1,2,3]' LIMIT 3;

SELECT id FROM docs WHERE category = 2 ORDER BY embedding <-> '[1,1,1]' LIMIT 2;

SELECT id FROM docs ORDER BY embedding <-> '[1,1,1]' LIMIT 2 OFFSET 1;

-- Rows written after the build are found; deleted and updated rows are never returned stale.
INSERT INTO docs VALUES (9, 1, '[1,1,1.5]');

DELETE FROM docs WHERE id = 3;

SELECT id FROM docs ORDER BY embedding <-> '[1,1,1]' LIMIT 2;

UPDATE docs SET embedding = '[1,1,1]' WHERE id = 2;

SELECT id FROM docs ORDER BY embedding <-> '[1,1,1]' LIMIT 2;

-- Search settings.
SET hnsw.ef_search = 100;

SHOW hnsw.ef_search;

SET hnsw.ef_search = 0;

SET hnsw.iterative_scan = relaxed_order;

SHOW hnsw.iterative_scan;

SET ivfflat.probes = 10;

SHOW ivfflat.probes;

RESET hnsw.ef_search;

SHOW hnsw.ef_search;

-- REINDEX rebuilds one index or every index of a table.
REINDEX INDEX docs_l2;

REINDEX TABLE docs;

SELECT id FROM docs ORDER BY embedding <-> '[1,1,1]' LIMIT 2;

DROP INDEX docs_l2;

DROP INDEX docs_l2;

DROP INDEX IF EXISTS docs_l2;

SELECT id FROM docs ORDER BY embedding <-> '[1,1,1]' LIMIT 2;

DROP TABLE docs;
