//! Distance kernels with pgvector's definitions. Sums are taken in float32 as pgvector does;
//! long vectors use Lance's SIMD kernels (AVX2/FMA chosen at run time), short ones a plain loop
//! so small examples give exactly pgvector's digits.

use lance_linalg::distance::{dot, l2};

/// Below this length the sequential loop is used (pgvector's own order of summation).
const SIMD_FROM: usize = 32;

/// Squared Euclidean distance.
#[inline]
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    if a.len() < SIMD_FROM {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).fold(0.0, |s, d| s + d)
    } else {
        l2::l2(a, b)
    }
}

/// Inner product.
#[inline]
pub fn inner(a: &[f32], b: &[f32]) -> f32 {
    if a.len() < SIMD_FROM { a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y) } else { dot::dot(a, b) }
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
}
