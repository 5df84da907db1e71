-- Bit strings for binary vectors: I/O, length rules, Hamming and Jaccard distances
SELECT '101'::bit(3), '1010'::bit(3), '10'::bit(3), '101'::bit varying(2), '101'::varbit, 'x1F'::bit(8);

SELECT '102'::bit(3);

SELECT '101'::bit(3)::text;

SELECT hamming_distance('110'::bit(3), '011'::bit(3)), jaccard_distance('110'::bit(3), '011'::bit(3)), jaccard_distance('000'::bit(3), '000'::bit(3));

SELECT '110'::bit(3) <~> '011', '110'::bit(3) <%> '011';

SELECT hamming_distance('11'::bit(2), '011'::bit(3));

SELECT '11'::varbit <%> '011'::varbit;

SELECT binary_quantize('[0,-1,2,0.5]'::vector), binary_quantize('[1,2]'::halfvec), binary_quantize('[-1,0,3]'::vector)::text;

-- A bit(4) column: assignment checks the length
CREATE TABLE b (id int, v bit(4), w bit varying(4));

INSERT INTO b VALUES (1, '1010', '1'), (2, '0110', '1111'), (3, '1111', NULL), (4, NULL, '0');

INSERT INTO b (id, v) VALUES (5, '101');

INSERT INTO b (id, w) VALUES (5, '10101');

SELECT id, v, w FROM b ORDER BY id;

SELECT id, v <~> '1000' FROM b ORDER BY v <~> '1000', id LIMIT 3;

SELECT id FROM b ORDER BY v <%> '1110', id LIMIT 2;

UPDATE b SET v = '11' WHERE id = 1;

SELECT count(*) FROM b WHERE v = '1111';
