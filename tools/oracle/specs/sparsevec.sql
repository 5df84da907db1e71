-- sparsevec: text input and output (1-based indices; zeros are left out)
SELECT '{1:1,3:2}/5'::sparsevec, '{}/3'::sparsevec, '{3:2,1:1}/5'::sparsevec, '{1:0,2:1.5}/3'::sparsevec, ' { 1 : 1 , 2 : 2 } / 3 '::sparsevec;

SELECT '{1:1,3:2}/5'::sparsevec(5);

SELECT '{1:1,1:2}/3'::sparsevec;

SELECT '{0:1}/3'::sparsevec;

SELECT '{4:1}/3'::sparsevec;

SELECT '{1:1}/0'::sparsevec;

SELECT '{1:1}'::sparsevec;

SELECT '{1:1}/3'::sparsevec(4);

SELECT '{1:NaN}/2'::sparsevec;

SELECT '{1:1}/1000000001'::sparsevec;

SELECT '{1:1}/3'::sparsevec(0);

-- Distances and functions
SELECT '{1:1,3:2}/5'::sparsevec <-> '{2:1}/5', '{1:1,3:2}/5'::sparsevec <#> '{3:1}/5', '{1:1,3:2}/5'::sparsevec <=> '{3:1}/5', '{1:1,3:2}/5'::sparsevec <+> '{2:1}/5';

SELECT l2_distance('{1:0.5,4:2}/4'::sparsevec, '{1:0.25,2:1}/4'::sparsevec), inner_product('{1:0.5,4:2}/4'::sparsevec, '{1:0.25,2:1}/4'::sparsevec), cosine_distance('{1:0.5,4:2}/4'::sparsevec, '{1:0.25,2:1}/4'::sparsevec), l1_distance('{1:0.5,4:2}/4'::sparsevec, '{1:0.25,2:1}/4'::sparsevec);

SELECT l2_norm('{1:3,2:4}/2'::sparsevec), l2_normalize('{1:3,2:4}/2'::sparsevec), '{1:1}/3'::sparsevec <=> '{}/3';

SELECT '{1:1}/2'::sparsevec <-> '{1:1}/3';

-- Casts
SELECT '[1,0,2]'::vector::sparsevec, '{1:1,3:2}/3'::sparsevec::vector, '{1:1}/2'::sparsevec::halfvec, '[0,1.5]'::halfvec::sparsevec, ARRAY[0,1,0]::sparsevec;

SELECT '{1:1,3:2}/3'::sparsevec::text, '[1,0]'::vector::sparsevec(2);

SELECT '[1,0]'::vector::sparsevec(3);

-- A sparsevec(4) column
CREATE TABLE s (id int, v sparsevec(4));

INSERT INTO s VALUES (1, '{1:1,4:1}/4'), (2, '{2:2}/4'), (3, '{1:1,2:1,3:1}/4'), (4, NULL);

INSERT INTO s VALUES (5, '{1:1}/3');

SELECT id, v FROM s ORDER BY id;

SELECT id, v <-> '{1:1}/4' FROM s ORDER BY v <-> '{1:1}/4', id LIMIT 3;

SELECT id FROM s ORDER BY v <#> '{1:1,2:1}/4', id LIMIT 2;

SELECT count(*) FROM s WHERE v = '{2:2}/4';
