//! PostgreSQL's `bit(n)` and `bit varying(n)`, as far as pgvector uses them for binary vectors:
//! text and binary I/O, casts with PostgreSQL's length rules, `hamming_distance` (`<~>`),
//! `jaccard_distance` (`<%>`) and `binary_quantize(vector)`.
//!
//! A bit string is an Arrow struct `{bit_length: Int32, bits: Binary}`, the bits packed first bit
//! in the high-order position as PostgreSQL packs them; the struct shape alone marks the type.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, Float64Array, Int32Builder, StructArray};
use arrow::datatypes::{DataType, Field, FieldRef, Fields, Int32Type};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::array::{Rows, output};
use super::error::VectorError;

pub const BIT: &str = "bit";
pub const VARBIT: &str = "bit varying";
/// Field metadata on a cast's target carrying the declared length (`bit(3)` → `3`).
pub const TYPMOD_METADATA: &str = "quartzdb.typmod";

fn fields() -> Fields {
    Fields::from(vec![Field::new("bit_length", DataType::Int32, false), Field::new("bits", DataType::Binary, false)])
}

/// The Arrow type of every bit string.
pub fn bit_type() -> DataType {
    DataType::Struct(fields())
}

pub fn is_bit_type(t: &DataType) -> bool {
    matches!(t, DataType::Struct(f) if f == &fields())
}

/// A bit string: its length in bits and the packed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bits {
    pub len: usize,
    pub bytes: Vec<u8>,
}

impl Bits {
    fn new(len: usize) -> Self {
        Self { len, bytes: vec![0; len.div_ceil(8)] }
    }

    pub fn get(&self, i: usize) -> bool {
        self.bytes[i / 8] & (0x80 >> (i % 8)) != 0
    }

    fn set(&mut self, i: usize) {
        self.bytes[i / 8] |= 0x80 >> (i % 8);
    }

    /// Truncated or zero-padded to `len` bits (an explicit cast to `bit(len)`).
    fn resized(&self, len: usize) -> Bits {
        let mut out = Bits::new(len);
        for i in 0..len.min(self.len) {
            if self.get(i) {
                out.set(i);
            }
        }
        out
    }

    /// `101`, or with an `x` prefix hexadecimal (`x1f`), as PostgreSQL reads bit strings.
    pub fn parse(text: &str) -> Result<Bits, VectorError> {
        if let Some(hex) = text.strip_prefix(['x', 'X']) {
            let mut out = Bits::new(hex.len() * 4);
            for (i, c) in hex.chars().enumerate() {
                let d = c.to_digit(16).ok_or_else(|| VectorError::InvalidDigit { digit: c.to_string(), kind: "hexadecimal" })?;
                for b in 0..4 {
                    if d & (8 >> b) != 0 {
                        out.set(i * 4 + b);
                    }
                }
            }
            return Ok(out);
        }
        let text = text.strip_prefix(['b', 'B']).unwrap_or(text);
        let mut out = Bits::new(text.chars().count());
        for (i, c) in text.chars().enumerate() {
            match c {
                '0' => {}
                '1' => out.set(i),
                other => return Err(VectorError::InvalidDigit { digit: other.to_string(), kind: "binary" }),
            }
        }
        Ok(out)
    }

    pub fn format(&self) -> String {
        (0..self.len).map(|i| if self.get(i) { '1' } else { '0' }).collect()
    }

    /// PostgreSQL's binary form: int32 length in bits, then the bytes.
    pub fn send(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.len as i32).to_be_bytes());
        out.extend_from_slice(&self.bytes);
    }

    pub fn recv(bytes: &[u8]) -> Option<Bits> {
        let len = i32::from_be_bytes(bytes.get(..4)?.try_into().ok()?);
        let len = usize::try_from(len).ok()?;
        let data = &bytes[4..];
        (data.len() == len.div_ceil(8)).then(|| Bits { len, bytes: data.to_vec() }.resized(len))
    }
}

/// Reads row `i` of a bit-string array.
pub fn get(array: &StructArray, i: usize) -> Option<Bits> {
    if array.is_null(i) {
        return None;
    }
    let len = array.column(0).as_primitive::<Int32Type>().value(i) as usize;
    let bytes = array.column(1).as_binary::<i32>().value(i).to_vec();
    Some(Bits { len, bytes })
}

/// Builds a bit-string array.
pub fn build(values: impl IntoIterator<Item = Option<Bits>>) -> Result<ArrayRef> {
    let (mut lens, mut bits, mut valid) = (Int32Builder::new(), BinaryBuilder::new(), Vec::new());
    for v in values {
        let v = v.map_or((Bits::new(0), false), |b| (b, true));
        lens.append_value(v.0.len as i32);
        bits.append_value(&v.0.bytes);
        valid.push(v.1);
    }
    let nulls = valid.iter().all(|v| *v).then_some(None).unwrap_or_else(|| Some(valid.into()));
    Ok(Arc::new(StructArray::try_new(fields(), vec![Arc::new(lens.finish()), Arc::new(bits.finish())], nulls)?))
}

/// Bit strings from an argument: a bit-string array or text to parse.
fn bits_of(arg: &ColumnarValue, n: usize) -> Result<Vec<Option<Bits>>> {
    let array = arg.to_array(n)?;
    match array.data_type() {
        t if is_bit_type(t) => Ok((0..n).map(|i| get(array.as_struct(), i)).collect()),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            let text = arrow::compute::cast(&array, &DataType::Utf8)?;
            text.as_string::<i32>().iter().map(|t| t.map(Bits::parse).transpose().map_err(Into::into)).collect()
        }
        other => exec_err!("expected a bit string, got {other}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Hamming,
    Jaccard,
    Quantize,
    /// `__quartz_to_bit(value, length, varying, explicit)`.
    Cast,
    /// `__quartz_bit_text(bits)`.
    Text,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct BitFunction {
    name: &'static str,
    op: Op,
    signature: Signature,
}

pub const TO_BIT: &str = "__quartz_to_bit";
pub const BIT_TEXT: &str = "__quartz_bit_text";

pub fn all() -> Vec<ScalarUDF> {
    let f = |name, op| ScalarUDF::new_from_impl(BitFunction { name, op, signature: Signature::user_defined(Volatility::Immutable) });
    vec![
        f("hamming_distance", Op::Hamming),
        f("jaccard_distance", Op::Jaccard),
        f("binary_quantize", Op::Quantize),
        f(TO_BIT, Op::Cast),
        f(BIT_TEXT, Op::Text),
    ]
}

fn text_or_bits(t: &DataType) -> bool {
    is_bit_type(t) || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null)
}

impl ScalarUDFImpl for BitFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let ok = match self.op {
            Op::Hamming | Op::Jaccard => args.len() == 2 && args.iter().all(text_or_bits),
            Op::Quantize => args.len() == 1 && super::is_vector_like(&args[0]),
            Op::Cast => args.len() == 4,
            Op::Text => args.len() == 1 && is_bit_type(&args[0]),
        };
        if !ok {
            return Err(crate::Error::no_such_function(self.name, args).into());
        }
        Ok(args.to_vec())
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.op {
            Op::Hamming | Op::Jaccard => DataType::Float64,
            Op::Quantize | Op::Cast => bit_type(),
            Op::Text => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if scalar { 1 } else { args.number_rows };
        let out: ArrayRef = match self.op {
            Op::Hamming | Op::Jaccard => {
                let (a, b) = (bits_of(&args.args[0], n)?, bits_of(&args.args[1], n)?);
                let mut out = Vec::with_capacity(n);
                for (x, y) in a.iter().zip(&b) {
                    let (Some(x), Some(y)) = (x, y) else {
                        out.push(None);
                        continue;
                    };
                    if x.len != y.len {
                        return Err(VectorError::DifferentBitLengths { a: x.len, b: y.len }.into());
                    }
                    let (mut differ, mut both, mut either) = (0u32, 0u32, 0u32);
                    for (p, q) in x.bytes.iter().zip(&y.bytes) {
                        differ += (p ^ q).count_ones();
                        both += (p & q).count_ones();
                        either += (p | q).count_ones();
                    }
                    out.push(Some(match self.op {
                        Op::Hamming => differ as f64,
                        // pgvector: two all-zero strings are at distance 1.
                        _ if either == 0 => 1.0,
                        _ => 1.0 - both as f64 / either as f64,
                    }));
                }
                Arc::new(Float64Array::from(out))
            }
            Op::Quantize => {
                let rows = Rows::new(&args.args[0])?;
                build((0..n).map(|i| {
                    rows.get(i).map(|v| {
                        let mut b = Bits::new(v.len());
                        for (j, x) in v.iter().enumerate() {
                            if *x > 0.0 {
                                b.set(j);
                            }
                        }
                        b
                    })
                }))?
            }
            Op::Text => {
                let bits = bits_of(&args.args[0], n)?;
                Arc::new(bits.iter().map(|b| b.as_ref().map(Bits::format)).collect::<arrow::array::StringArray>())
            }
            Op::Cast => {
                // The modifiers are constants (an array of one repeated value in VALUES lists).
                let constant = |i: usize| -> Result<i64> {
                    let v = match &args.args[i] {
                        ColumnarValue::Scalar(s) => s.clone(),
                        ColumnarValue::Array(a) if !a.is_empty() => ScalarValue::try_from_array(a, 0)?,
                        _ => return exec_err!("{TO_BIT} needs constant modifiers"),
                    };
                    match v.cast_to(&DataType::Int64)? {
                        ScalarValue::Int64(v) => Ok(v.unwrap_or(-1)),
                        _ => exec_err!("{TO_BIT} needs integer modifiers"),
                    }
                };
                let (length, varying, explicit) = (constant(1)? as i32, constant(2)? == 1, constant(3)? == 1);
                let bits = bits_of(&args.args[0], n)?;
                let mut out = Vec::with_capacity(n);
                for b in bits {
                    out.push(b.map(|b| fit(b, length, varying, explicit)).transpose()?);
                }
                build(out)?
            }
        };
        output(out, scalar)
    }
}

/// PostgreSQL's length rules: an explicit cast truncates (and pads `bit(n)`); an assignment to
/// `bit(n)` needs exactly `n` bits, to `bit varying(n)` at most `n`.
fn fit(b: Bits, length: i32, varying: bool, explicit: bool) -> Result<Bits> {
    if length < 0 {
        return Ok(b);
    }
    let n = length as usize;
    Ok(match (varying, explicit) {
        (false, true) => b.resized(n),
        (true, true) if b.len > n => b.resized(n),
        (false, false) if b.len != n => return Err(VectorError::BitLengthMismatch { len: b.len, expected: n }.into()),
        (true, false) if b.len > n => return Err(VectorError::BitTooLong { expected: n }.into()),
        _ => b,
    })
}

/// The field a cast to `bit(n)` / `bit varying(n)` targets: the struct type, marked with the
/// type and its length so the cast rule can apply PostgreSQL's length rules.
pub fn cast_field(varying: bool, length: Option<u64>) -> FieldRef {
    let name = if varying { VARBIT } else { BIT };
    let mut metadata = std::collections::HashMap::from([(crate::types::PG_TYPE_METADATA.to_string(), name.to_string())]);
    if let Some(n) = length {
        metadata.insert(TYPMOD_METADATA.to_string(), n.to_string());
    }
    Arc::new(Field::new("", bit_type(), true).with_metadata(metadata))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_like_postgres() {
        let b = Bits::parse("1011").unwrap();
        assert_eq!((b.len, b.bytes.clone()), (4, vec![0b1011_0000]));
        assert_eq!(b.format(), "1011");
        assert_eq!(Bits::parse("x1F").unwrap().format(), "00011111");
        assert!(matches!(Bits::parse("102"), Err(VectorError::InvalidDigit { .. })));
        let mut wire = Vec::new();
        b.send(&mut wire);
        assert_eq!(wire, [0, 0, 0, 4, 0b1011_0000]);
        assert_eq!(Bits::recv(&wire), Some(b));
    }

    #[test]
    fn length_rules() {
        let b = Bits::parse("1010").unwrap();
        assert_eq!(fit(b.clone(), 3, false, true).unwrap().format(), "101");
        assert_eq!(fit(b.clone(), 6, false, true).unwrap().format(), "101000");
        assert!(fit(b.clone(), 3, false, false).is_err());
        assert!(fit(b.clone(), 3, true, false).is_err());
        assert_eq!(fit(b, 8, true, false).unwrap().format(), "1010");
    }
}
