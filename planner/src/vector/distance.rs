//! Distance kernels with pgvector's definitions. Sums are taken in float32 as pgvector does;
//! long vectors use Lance's SIMD kernels (AVX2/FMA chosen at run time), short ones a plain loop
//! so small examples give exactly pgvector's digits.
//!
//! The long-vector kernels are Lance's batch ones (one query against many rows), also for a
//! single pair: a row's distance is then the same number whether it was computed alone (the
//! SQL function) or in a batch (the exact top-k), so the two never disagree on an order.

use lance_linalg::distance::{Dot, L2};

/// Below this length the sequential loop is used (pgvector's own order of summation).
const SIMD_FROM: usize = 32;

/// Squared Euclidean distance.
#[inline]
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    if a.len() < SIMD_FROM {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).fold(0.0, |s, d| s + d)
    } else {
        let mut out = [0.0];
        f32::l2_batch_into(a, b, a.len(), &mut out);
        out[0]
    }
}

/// Inner product.
#[inline]
pub fn inner(a: &[f32], b: &[f32]) -> f32 {
    if a.len() < SIMD_FROM {
        a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y)
    } else {
        let mut out = [0.0];
        f32::dot_batch_into(a, b, a.len(), &mut out);
        out[0]
    }
}

/// [`l2_squared`] of `query` and each row of `rows` (consecutive rows of `query.len()`).
pub fn l2_squared_rows(query: &[f32], rows: &[f32], out: &mut [f32]) {
    if query.len() < SIMD_FROM {
        out.iter_mut().zip(rows.chunks_exact(query.len())).for_each(|(o, r)| *o = l2_squared(r, query));
    } else {
        f32::l2_batch_into(query, rows, query.len(), out);
    }
}

/// [`inner`] of `query` and each row of `rows`.
pub fn inner_rows(query: &[f32], rows: &[f32], out: &mut [f32]) {
    if query.len() < SIMD_FROM {
        out.iter_mut().zip(rows.chunks_exact(query.len())).for_each(|(o, r)| *o = inner(r, query));
    } else {
        f32::dot_batch_into(query, rows, query.len(), out);
    }
}

/// Taxicab distance, in eight lanes so the compiler vectorizes it.
#[inline]
pub fn l1(a: &[f32], b: &[f32]) -> f32 {
    if a.len() < SIMD_FROM {
        return a.iter().zip(b).fold(0.0, |s, (x, y)| s + (x - y).abs());
    }
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += (x[i] - y[i]).abs();
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| (x - y).abs()).sum();
    lanes.iter().sum::<f32>() + tail
}

/// Cosine distance, `1 - cos`, clamped as pgvector does; NaN when a vector is zero.
#[inline]
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (ab, aa, bb) = (inner(a, b), inner(a, a), inner(b, b));
    cosine_from(ab, aa, bb)
}

/// Cosine distance from a precomputed `b·b` (the query's, computed once).
#[inline]
pub fn cosine_with_norm(a: &[f32], b: &[f32], bb: f32) -> f64 {
    cosine_from(inner(a, b), inner(a, a), bb)
}

#[inline]
fn cosine_from(ab: f32, aa: f32, bb: f32) -> f64 {
    let similarity = ab as f64 / ((aa as f64) * (bb as f64)).sqrt();
    if similarity.is_nan() {
        return f64::NAN;
    }
    1.0 - similarity.clamp(-1.0, 1.0)
}

/// The Euclidean norm, summed in double precision as pgvector's `vector_norm` does.
pub fn norm(a: &[f32]) -> f64 {
    a.iter().map(|x| (*x as f64) * (*x as f64)).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_vectors() {
        assert_eq!(l2_squared(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0]), 6.0);
        assert_eq!(inner(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
        assert_eq!(l1(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0]), 4.0);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), 1.0);
        assert!(cosine(&[0.0, 0.0], &[0.0, 1.0]).is_nan());
        assert_eq!(norm(&[3.0, 4.0]), 5.0);
    }

    #[test]
    fn simd_kernels_agree_with_the_plain_loops() {
        let a: Vec<f32> = (0..131).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..131).map(|i| (i as f32 * 0.11).cos()).collect();
        let plain_l2: f64 = a.iter().zip(&b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
        let plain_dot: f64 = a.iter().zip(&b).map(|(x, y)| (x * y) as f64).sum();
        let plain_l1: f64 = a.iter().zip(&b).map(|(x, y)| (x - y).abs() as f64).sum();
        assert!((l2_squared(&a, &b) as f64 - plain_l2).abs() < 1e-3);
        assert!((inner(&a, &b) as f64 - plain_dot).abs() < 1e-3);
        assert!((l1(&a, &b) as f64 - plain_l1).abs() < 1e-3);
    }

    #[test]
    fn batches_give_each_pair_its_own_value() {
        for dims in [3, 31, 32, 128, 131] {
            let q: Vec<f32> = (0..dims).map(|i| (i as f32 * 0.37).sin()).collect();
            let rows: Vec<f32> = (0..dims * 5).map(|i| (i as f32 * 0.11).cos()).collect();
            let (mut l2s, mut dots) = (vec![0.0; 5], vec![0.0; 5]);
            l2_squared_rows(&q, &rows, &mut l2s);
            inner_rows(&q, &rows, &mut dots);
            for (i, r) in rows.chunks_exact(dims).enumerate() {
                assert_eq!(l2s[i].to_bits(), l2_squared(r, &q).to_bits(), "{dims}");
                assert_eq!(l2s[i].to_bits(), l2_squared(&q, r).to_bits(), "{dims}");
                assert_eq!(dots[i].to_bits(), inner(r, &q).to_bits(), "{dims}");
                assert_eq!(dots[i].to_bits(), inner(&q, r).to_bits(), "{dims}");
            }
        }
    }
}
