//! What an index is made of: its access method, the distance it orders by, its `WITH` options,
//! and how those become Lance index parameters.
//!
//! pgvector's access methods map onto Lance's index types: `hnsw` is IVF_HNSW_SQ (one IVF
//! partition per half million rows, so small tables get one HNSW graph), `ivfflat` is IVF_FLAT.
//! QuartzDB's own methods name Lance's types directly (`ivf_pq`, `ivf_sq`, `ivf_rq`,
//! `ivf_hnsw_pq`, `ivf_hnsw_flat`, `ivf_hnsw_sq`, `ivf_flat`); scalar columns get `btree` or
//! `bitmap`. This file is also the one place where pgvector's distances meet Lance's: Lance's
//! `l2` is squared and its `dot` is `1 - a·b`, which order rows exactly as pgvector's `<->` and
//! `<#>` do; the values users see are always computed by QuartzDB's own distance functions.

use std::collections::BTreeMap;

use lance::index::vector::VectorIndexParams;
use lance_index::IndexType;
use lance_index::scalar::ScalarIndexParams;
use lance_index::vector::hnsw::builder::HnswBuildParams;
use lance_index::vector::ivf::IvfBuildParams;
use lance_index::vector::pq::PQBuildParams;
use lance_index::vector::sq::builder::SQBuildParams;
use lance_linalg::distance::DistanceType;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Fewer rows than this and a vector index is created untrained: it covers no rows, so every
/// query searches the table exactly until VACUUM, REINDEX or later writes train it.
pub const MIN_TRAINING_ROWS: usize = 256;

/// Rows per IVF partition QuartzDB aims at for `hnsw` indexes (each partition is one graph).
const HNSW_ROWS_PER_PARTITION: usize = 500_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexMethod {
    Hnsw,
    Ivfflat,
    IvfFlat,
    IvfPq,
    IvfSq,
    IvfRq,
    IvfHnswSq,
    IvfHnswPq,
    IvfHnswFlat,
    Btree,
    Bitmap,
}

/// A distance an index can order by, in pgvector's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// `<->`, `vector_l2_ops`.
    L2,
    /// `<#>` (negative inner product), `vector_ip_ops`.
    InnerProduct,
    /// `<=>`, `vector_cosine_ops`.
    Cosine,
}

impl Metric {
    /// Lance's distance of the same order.
    pub fn lance(self) -> DistanceType {
        match self {
            Metric::L2 => DistanceType::L2,
            Metric::InnerProduct => DistanceType::Dot,
            Metric::Cosine => DistanceType::Cosine,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "l2",
            Metric::InnerProduct => "inner product",
            Metric::Cosine => "cosine",
        }
    }
}

impl IndexMethod {
    /// The method of `USING name`, or `None` when QuartzDB has no such access method.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "hnsw" => Self::Hnsw,
            "ivfflat" => Self::Ivfflat,
            "ivf_flat" => Self::IvfFlat,
            "ivf_pq" => Self::IvfPq,
            "ivf_sq" => Self::IvfSq,
            "ivf_rq" => Self::IvfRq,
            "ivf_hnsw_sq" => Self::IvfHnswSq,
            "ivf_hnsw_pq" => Self::IvfHnswPq,
            "ivf_hnsw_flat" => Self::IvfHnswFlat,
            "btree" => Self::Btree,
            "bitmap" => Self::Bitmap,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Hnsw => "hnsw",
            Self::Ivfflat => "ivfflat",
            Self::IvfFlat => "ivf_flat",
            Self::IvfPq => "ivf_pq",
            Self::IvfSq => "ivf_sq",
            Self::IvfRq => "ivf_rq",
            Self::IvfHnswSq => "ivf_hnsw_sq",
            Self::IvfHnswPq => "ivf_hnsw_pq",
            Self::IvfHnswFlat => "ivf_hnsw_flat",
            Self::Btree => "btree",
            Self::Bitmap => "bitmap",
        }
    }

    pub fn is_vector(self) -> bool {
        !matches!(self, Self::Btree | Self::Bitmap)
    }

    /// Whether the index has an HNSW graph in each partition (searched with `ef`).
    pub fn has_graph(self) -> bool {
        matches!(self, Self::Hnsw | Self::IvfHnswSq | Self::IvfHnswPq | Self::IvfHnswFlat)
    }

    /// The `WITH` options the method takes, with their inclusive bounds (pgvector's where it has
    /// the option).
    fn options(self) -> &'static [(&'static str, i64, i64)] {
        const PARTITIONS: (&str, i64, i64) = ("lists", 1, 32768);
        const NUM_PARTITIONS: (&str, i64, i64) = ("num_partitions", 1, 32768);
        const M: (&str, i64, i64) = ("m", 2, 100);
        const EF: (&str, i64, i64) = ("ef_construction", 4, 1000);
        const SUB: (&str, i64, i64) = ("num_sub_vectors", 1, 4096);
        const SAMPLE: (&str, i64, i64) = ("sample_rate", 2, 1 << 20);
        const ITERS: (&str, i64, i64) = ("max_iters", 1, 1000);
        match self {
            Self::Hnsw => &[M, EF, NUM_PARTITIONS],
            Self::Ivfflat => &[PARTITIONS],
            Self::IvfFlat => &[PARTITIONS, NUM_PARTITIONS, SAMPLE, ITERS],
            Self::IvfPq => &[PARTITIONS, NUM_PARTITIONS, SUB, ("num_bits", 4, 8), SAMPLE, ITERS],
            Self::IvfSq => &[PARTITIONS, NUM_PARTITIONS, ("num_bits", 8, 8), SAMPLE, ITERS],
            Self::IvfRq => &[PARTITIONS, NUM_PARTITIONS, ("num_bits", 1, 8), SAMPLE, ITERS],
            Self::IvfHnswSq | Self::IvfHnswFlat => &[PARTITIONS, NUM_PARTITIONS, M, EF, SAMPLE, ITERS],
            Self::IvfHnswPq => &[PARTITIONS, NUM_PARTITIONS, M, EF, SUB, ("num_bits", 4, 8), SAMPLE, ITERS],
            Self::Btree | Self::Bitmap => &[],
        }
    }

    /// Checks `WITH` options against the method (22023 for unknown names and values out of bounds).
    pub fn validate(self, options: &BTreeMap<String, i64>) -> Result<()> {
        for (name, value) in options {
            let Some((_, lo, hi)) = self.options().iter().find(|(n, _, _)| n == name) else {
                return Err(Error::InvalidIndexOption { message: format!("unrecognized parameter \"{name}\""), detail: None });
            };
            if value < lo || value > hi {
                return Err(Error::InvalidIndexOption {
                    message: format!("value {value} out of bounds for option \"{name}\""),
                    detail: Some(format!("Valid values are between \"{lo}\" and \"{hi}\".")),
                });
            }
        }
        if let (Some(m), Some(ef)) = (options.get("m"), options.get("ef_construction"))
            && *ef < 2 * m
        {
            return Err(Error::InvalidIndexOption { message: "ef_construction must be greater than or equal to 2 * m".into(), detail: None });
        }
        Ok(())
    }
}

/// The operator class of a vector index: its distance, and the element type it indexes
/// (`false` for `vector`, `true` for `halfvec`).
pub fn opclass(name: &str, method: IndexMethod) -> Result<(Metric, bool)> {
    let lower = name.to_ascii_lowercase();
    let (half, rest) = match (lower.strip_prefix("vector_"), lower.strip_prefix("halfvec_")) {
        (Some(rest), _) => (false, rest),
        (_, Some(rest)) => (true, rest),
        _ => return Err(unsupported_opclass(&lower, method)),
    };
    let metric = match rest {
        "l2_ops" => Metric::L2,
        "ip_ops" => Metric::InnerProduct,
        "cosine_ops" => Metric::Cosine,
        _ => return Err(unsupported_opclass(&lower, method)),
    };
    Ok((metric, half))
}

fn unsupported_opclass(name: &str, method: IndexMethod) -> Error {
    if name.ends_with("_l1_ops") || name.starts_with("bit_") || name.starts_with("sparsevec_") {
        // pgvector has these; Lance's indexes have no L1 distance and index only dense vectors.
        Error::Unsupported(format!("operator class \"{name}\": QuartzDB's vector indexes support the l2, ip and cosine operator classes of vector and halfvec"))
    } else {
        Error::UnknownIndexObject(format!("operator class \"{name}\" does not exist for access method \"{}\"", method.name()))
    }
}

/// Lance parameters for building `method` over `rows` rows of `dims`-dimensional vectors.
pub(crate) struct Build {
    pub index_type: IndexType,
    pub vector: Option<VectorIndexParams>,
    pub scalar: Option<ScalarIndexParams>,
    /// False when there are too few rows to train on (see [`MIN_TRAINING_ROWS`]).
    pub train: bool,
}

pub(crate) fn build_params(method: IndexMethod, metric: Option<Metric>, options: &BTreeMap<String, i64>, rows: usize, dims: usize) -> Result<Build> {
    let get = |name: &str| options.get(name).map(|v| *v as usize);
    match method {
        IndexMethod::Btree => {
            return Ok(Build { index_type: IndexType::BTree, vector: None, scalar: Some(ScalarIndexParams::default()), train: true });
        }
        IndexMethod::Bitmap => {
            let params = ScalarIndexParams::for_builtin(lance_index::scalar::BuiltinIndexType::Bitmap);
            return Ok(Build { index_type: IndexType::Bitmap, vector: None, scalar: Some(params), train: true });
        }
        _ => {}
    }
    let metric = metric.ok_or_else(|| Error::Internal("vector index without a metric".into()))?.lance();
    let train = rows >= MIN_TRAINING_ROWS;
    // k-means cannot make more partitions than it has rows.
    let wanted = get("lists").or(get("num_partitions")).unwrap_or_else(|| default_partitions(method, rows));
    let partitions = wanted.clamp(1, rows.max(1));
    let mut ivf = IvfBuildParams::new(partitions);
    if let Some(s) = get("sample_rate") {
        ivf.sample_rate = s;
    }
    if let Some(i) = get("max_iters") {
        ivf.max_iters = i;
    }
    // Lance's graphs need at least 4 links per node; pgvector allows m down to 2.
    let hnsw = HnswBuildParams::default().num_edges(get("m").unwrap_or(16).max(4)).ef_construction(get("ef_construction").unwrap_or(64));
    let pq = || {
        let sub = get("num_sub_vectors").unwrap_or_else(|| default_sub_vectors(dims));
        if dims % sub != 0 {
            return Err(Error::InvalidIndexOption {
                message: format!("num_sub_vectors {sub} does not divide the column's {dims} dimensions"),
                detail: None,
            });
        }
        Ok(PQBuildParams::new(sub, get("num_bits").unwrap_or(8)))
    };
    let sq = SQBuildParams { num_bits: 8, sample_rate: get("sample_rate").unwrap_or(256) };
    let params = match method {
        IndexMethod::Hnsw | IndexMethod::IvfHnswSq => VectorIndexParams::with_ivf_hnsw_sq_params(metric, ivf, hnsw, sq),
        IndexMethod::Ivfflat | IndexMethod::IvfFlat => VectorIndexParams::with_ivf_flat_params(metric, ivf),
        IndexMethod::IvfPq => VectorIndexParams::with_ivf_pq_params(metric, ivf, pq()?),
        IndexMethod::IvfSq => VectorIndexParams::with_ivf_sq_params(metric, ivf, sq),
        IndexMethod::IvfRq => {
            let rq = lance_index::vector::bq::RQBuildParams { num_bits: get("num_bits").unwrap_or(1) as u8, ..Default::default() };
            VectorIndexParams::with_ivf_rq_params(metric, ivf, rq)
        }
        IndexMethod::IvfHnswPq => VectorIndexParams::with_ivf_hnsw_pq_params(metric, ivf, hnsw, pq()?),
        IndexMethod::IvfHnswFlat => VectorIndexParams::ivf_hnsw(metric, ivf, hnsw),
        IndexMethod::Btree | IndexMethod::Bitmap => unreachable!("handled above"),
    };
    Ok(Build { index_type: params.index_type(), vector: Some(params), scalar: None, train })
}

/// Partitions when `WITH` gives none: one graph per half million rows for HNSW, about √rows
/// lists for the IVF methods (pgvector's advice is rows / 1000 up to 1M rows, √rows beyond;
/// Lance's partition search is cheap enough that the finer split wins on recall per probe).
pub fn default_partitions(method: IndexMethod, rows: usize) -> usize {
    match method {
        IndexMethod::Hnsw => rows.div_ceil(HNSW_ROWS_PER_PARTITION).max(1),
        IndexMethod::Ivfflat => 100,
        _ => ((rows as f64).sqrt() as usize).clamp(1, 4096),
    }
}

/// Product-quantization sub-vectors when `WITH` gives none: the largest divisor of the
/// dimension that leaves at least 8 dimensions per sub-vector (16 for 128 dimensions).
fn default_sub_vectors(dims: usize) -> usize {
    (1..=(dims / 8).max(1)).rev().find(|d| dims % d == 0).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opclasses_map_to_metrics() {
        let hnsw = IndexMethod::Hnsw;
        assert_eq!(opclass("vector_l2_ops", hnsw).unwrap(), (Metric::L2, false));
        assert_eq!(opclass("halfvec_cosine_ops", hnsw).unwrap(), (Metric::Cosine, true));
        assert_eq!(opclass("VECTOR_IP_OPS", hnsw).unwrap(), (Metric::InnerProduct, false));
        assert!(matches!(opclass("vector_l1_ops", hnsw), Err(Error::Unsupported(_))));
        assert!(matches!(opclass("bit_hamming_ops", hnsw), Err(Error::Unsupported(_))));
        assert!(matches!(opclass("text_ops", hnsw), Err(Error::UnknownIndexObject(_))));
    }

    #[test]
    fn options_are_checked_like_pgvector() {
        let opts = |pairs: &[(&str, i64)]| pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>();
        assert!(IndexMethod::Hnsw.validate(&opts(&[("m", 16), ("ef_construction", 64)])).is_ok());
        assert!(IndexMethod::Hnsw.validate(&opts(&[("m", 101)])).is_err());
        assert!(IndexMethod::Hnsw.validate(&opts(&[("m", 16), ("ef_construction", 31)])).is_err());
        assert!(IndexMethod::Hnsw.validate(&opts(&[("lists", 5)])).is_err());
        assert!(IndexMethod::Ivfflat.validate(&opts(&[("lists", 0)])).is_err());
        assert!(IndexMethod::IvfPq.validate(&opts(&[("num_sub_vectors", 16), ("num_bits", 8)])).is_ok());
    }

    #[test]
    fn defaults_follow_the_table_size() {
        assert_eq!(default_partitions(IndexMethod::Hnsw, 100_000), 1);
        assert_eq!(default_partitions(IndexMethod::Hnsw, 1_200_000), 3);
        assert_eq!(default_partitions(IndexMethod::IvfPq, 100_000), 316);
        assert_eq!(default_sub_vectors(128), 16);
        assert_eq!(default_sub_vectors(768), 96);
        assert_eq!(default_sub_vectors(3), 1);
        let b = build_params(IndexMethod::Ivfflat, Some(Metric::L2), &BTreeMap::new(), 10, 3).unwrap();
        assert!(!b.train, "ten rows are too few to train on");
        assert_eq!(b.index_type, IndexType::IvfFlat);
    }
}
