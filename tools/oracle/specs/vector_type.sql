-- Text input and output
SELECT '[1,2,3]'::vector;

SELECT '[-1,2.5,3e2]'::vector;

SELECT ' [ 1 , 2 , 3 ] '::vector;

SELECT '[1.5e-7,1234567,123456,0.0001,-0]'::vector;

SELECT '[3.4028234e38]'::vector;

SELECT '[1,2,3]'::vector(3);

SELECT NULL::vector;

-- Malformed input
SELECT '[1,,3]'::vector;

SELECT '1,2,3'::vector;

SELECT '[1,2,3'::vector;

SELECT '[1,2,3] x'::vector;

SELECT '[a]'::vector;

SELECT ''::vector;

SELECT '[]'::vector;

SELECT '[NaN]'::vector;

SELECT '[Infinity]'::vector;

SELECT '[-inf]'::vector;

SELECT '[4e38]'::vector;

-- Dimensions
SELECT '[1,2]'::vector(3);

SELECT '[1,2,3]'::vector(2);

SELECT '[1,2]'::vector(0);

SELECT '[1,2]'::vector(16001);

SELECT vector_dims('[1,2,3]'::vector);

SELECT vector_dims((SELECT array_agg(0) FROM generate_series(1, 16000))::vector);

SELECT vector_dims((SELECT array_agg(0) FROM generate_series(1, 16001))::vector);

-- Arithmetic
SELECT '[1,2,3]'::vector + '[4,5,6]';

SELECT '[1,2,3]'::vector - '[4,5,6]';

SELECT '[1,2,3]'::vector * '[4,5,6]';

SELECT '[1,2,3]'::vector || '[4,5]';

SELECT '[1,2]'::vector + '[3]';

SELECT '[3e38]'::vector + '[3e38]';

SELECT '[1e-30]'::vector * '[1e-30]';

-- Comparisons
SELECT '[1,2,3]'::vector = '[1,2,3]', '[1,2,3]'::vector < '[1,2,4]', '[1,2,3]'::vector > '[1,2]', '[1,2]'::vector <> '[1,2,3]';

-- Distances
SELECT '[1,2,3]'::vector <-> '[3,1,2]', l2_distance('[1,2,3]'::vector, '[3,1,2]');

SELECT '[0,0]'::vector <-> '[3,4]';

SELECT '[1,2,3]'::vector <#> '[4,5,6]', inner_product('[1,2,3]'::vector, '[4,5,6]');

SELECT '[1,2,3]'::vector <=> '[4,5,6]', cosine_distance('[1,2,3]'::vector, '[4,5,6]');

SELECT '[1,1]'::vector <=> '[-1,-1]', '[1,2]'::vector <=> '[2,4]', '[1,2]'::vector <=> '[0,0]';

SELECT '[1,2,3]'::vector <+> '[3,1,2]', l1_distance('[1,2,3]'::vector, '[3,1,2]');

SELECT '[0.1,0.2,0.3]'::vector <-> '[0.3,0.2,0.1]', '[0.1,0.2,0.3]'::vector <=> '[0.3,0.2,0.1]', '[0.1,0.2,0.3]'::vector <#> '[0.3,0.2,0.1]', '[0.1,0.2,0.3]'::vector <+> '[0.3,0.2,0.1]';

SELECT '[1,2]'::vector <-> '[1,2,3]';

SELECT l2_distance('[1,2]'::vector, '[1,2,3]');

SELECT '[1,2]'::vector <=> '[1]';

-- Functions
SELECT vector_norm('[3,4]'::vector), vector_norm('[1,1,1]'::vector);

SELECT l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector), l2_normalize('[1,1,1]'::vector);

SELECT subvector('[1,2,3,4,5]'::vector, 2, 3), subvector('[1,2,3,4,5]'::vector, 4, 5), subvector('[1,2,3,4,5]'::vector, -1, 3);

SELECT subvector('[1,2,3]'::vector, 4, 1);

SELECT subvector('[1,2,3]'::vector, 1, 0);

SELECT subvector('[1,2,3]'::vector, -5, 3);

-- Casts
SELECT ARRAY[1,2,3]::vector, ARRAY[1.5,2.5]::vector, ARRAY[1.25::float8, 2]::vector, ARRAY[1::real, 2]::vector;

SELECT ARRAY[1,2,3]::vector(3);

SELECT ARRAY[1,2]::vector(3);

SELECT ARRAY[1,NULL]::vector;

SELECT ARRAY['1e300'::float8]::vector;

SELECT '[1,2,3]'::vector::real[];

SELECT '[1.5,2]'::vector::text;

-- NULLs
SELECT NULL::vector <-> '[1,2]', l2_distance(NULL, '[1,2]'::vector), vector_dims(NULL::vector), NULL::vector + '[1]';
