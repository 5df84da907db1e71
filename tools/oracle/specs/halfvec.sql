-- halfvec: text input and output (elements are float16)
SELECT '[1,2,3]'::halfvec;

SELECT '[0.1,-2.5,65504,1e-7]'::halfvec;

SELECT '[1,2,3]'::halfvec(3);

SELECT '[65520]'::halfvec;

SELECT '[1,,2]'::halfvec;

SELECT '[]'::halfvec;

SELECT '[NaN]'::halfvec;

SELECT '[1,2]'::halfvec(3);

SELECT '[1]'::halfvec(0);

-- Operators and functions
SELECT '[1,2,3]'::halfvec + '[4,5,6]', '[1,2,3]'::halfvec - '[4,5,6]', '[1,2,3]'::halfvec * '[4,5,6]', '[1,2]'::halfvec || '[3]';

SELECT '[60000]'::halfvec + '[60000]';

SELECT '[1,2]'::halfvec + '[1]';

SELECT '[1,2,3]'::halfvec <-> '[3,1,2]', '[1,2,3]'::halfvec <#> '[3,1,2]', '[1,2,3]'::halfvec <=> '[3,1,2]', '[1,2,3]'::halfvec <+> '[3,1,2]';

SELECT l2_distance('[0.1,0.2]'::halfvec, '[0.3,0.4]'::halfvec), inner_product('[0.1,0.2]'::halfvec, '[0.3,0.4]'::halfvec), cosine_distance('[0.1,0.2]'::halfvec, '[0.3,0.4]'::halfvec), l1_distance('[0.1,0.2]'::halfvec, '[0.3,0.4]'::halfvec);

SELECT '[1,2]'::halfvec <-> '[1,2,3]';

SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec), l2_normalize('[3,4]'::halfvec), subvector('[1,2,3,4]'::halfvec, 2, 2);

-- Casts between vector, halfvec and arrays
SELECT '[0.1,2]'::vector::halfvec, '[0.1,2]'::halfvec::vector, '[1,2]'::halfvec::real[], ARRAY[1,2,3]::halfvec;

SELECT '[70000]'::vector::halfvec;

SELECT ARRAY[1.5, 2.5]::halfvec(2), '[1,2]'::halfvec::text;

-- A halfvec(2) column: search and aggregates
CREATE TABLE h (id int, v halfvec(2));

INSERT INTO h VALUES (1, '[1,1]'), (2, '[2,0.5]'), (3, '[-1,3]'), (4, NULL);

INSERT INTO h VALUES (5, '[1,2,3]');

SELECT id, v FROM h ORDER BY id;

SELECT id, v <-> '[0,0]' FROM h ORDER BY v <-> '[0,0]' LIMIT 3;

SELECT id FROM h ORDER BY v <=> '[1,0]' LIMIT 2;

SELECT avg(v), sum(v) FROM h;
