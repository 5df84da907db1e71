//! COPY's binary format: the `PGCOPY` signature and header, then per row a 16-bit field count
//! and each field as a 32-bit length (-1 for NULL) and the value in the type's binary form, then
//! a count of -1. Rows are read as CopyData messages arrive (a row may span messages); values
//! are decoded by their column's type as binary parameters are ([`super::params::decode`]).

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use bytes::Bytes;
use datafusion::common::ScalarValue;
use pgwire::api::Type;
use pgwire::api::results::FieldFormat;
use pgwire::error::{ErrorInfo, PgWireError};
use quartzdb_planner::copy::Batch;

use crate::sqlstate::SqlState;

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Values of a binary COPY FROM STDIN decoded so far, one list per target column.
pub struct BinaryDecoder {
    types: Vec<Type>,
    columns: Vec<Vec<ScalarValue>>,
    pending: Vec<u8>,
    header_read: bool,
    ended: bool,
    /// Rows read (error messages count lines from 1, as PostgreSQL does).
    rows: usize,
    /// Rows taken in batches so far.
    taken: usize,
    /// Memory the values not yet taken hold, roughly.
    buffered: usize,
}

fn error(code: SqlState, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".into(), code.code().into(), message.into())))
}

fn bad_format(message: impl Into<String>) -> PgWireError {
    error(SqlState::BadCopyFileFormat, message)
}

/// The type a column's values are read as; types pgwire has no constant for (pgvector's) are
/// known by OID.
pub fn column_type(oid: u32, name: &str) -> Type {
    Type::from_oid(oid).unwrap_or_else(|| Type::new(name.to_string(), oid, postgres_types::Kind::Simple, "public".into()))
}

impl BinaryDecoder {
    pub fn new(types: Vec<Type>) -> Self {
        let columns = types.iter().map(|_| Vec::new()).collect();
        Self { types, columns, pending: Vec::new(), header_read: false, ended: false, rows: 0, taken: 0, buffered: 0 }
    }

    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Reads the complete rows in `data` (and before it).
    pub fn feed(&mut self, data: &[u8]) -> Result<(), PgWireError> {
        self.pending.extend_from_slice(data);
        let pending = std::mem::take(&mut self.pending);
        let mut at = 0;
        let result = loop {
            match self.next(&pending[at..]) {
                Ok(Some(used)) => at += used,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        self.pending = pending;
        self.pending.drain(..at);
        result
    }

    /// Consumes the header or one row from the front of `bytes`: how many bytes it took, or
    /// `None` when they do not hold a whole one yet.
    fn next(&mut self, bytes: &[u8]) -> Result<Option<usize>, PgWireError> {
        if bytes.is_empty() {
            return Ok(None);
        }
        if self.ended {
            return Err(bad_format(format!("received copy data after EOF marker (COPY line {})", self.rows + 1)));
        }
        if !self.header_read {
            return self.header(bytes);
        }
        let Some(count) = bytes.get(..2).map(|b| i16::from_be_bytes([b[0], b[1]])) else { return Ok(None) };
        if count == -1 {
            self.ended = true;
            return Ok(Some(2));
        }
        let line = self.rows + 1;
        if count as usize != self.types.len() || count < 0 {
            return Err(bad_format(format!("row field count is {count}, expected {} (COPY line {line})", self.types.len())));
        }
        // Find the row's end before decoding anything, so a row split across messages is
        // decoded once, whole.
        let mut fields = Vec::with_capacity(self.types.len());
        let mut at = 2;
        for _ in 0..count {
            let Some(len) = bytes.get(at..at + 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]])) else { return Ok(None) };
            at += 4;
            if len < -1 {
                return Err(bad_format(format!("invalid field size (COPY line {line})")));
            }
            if len == -1 {
                fields.push(None);
                continue;
            }
            let end = at + len as usize;
            if bytes.len() < end {
                return Ok(None);
            }
            fields.push(Some(at..end));
            at = end;
        }
        for (i, field) in fields.into_iter().enumerate() {
            self.buffered += std::mem::size_of::<ScalarValue>() + field.as_ref().map_or(0, |r| r.len());
            let value = match field {
                None => ScalarValue::Null,
                Some(range) => value(&self.types[i], &bytes[range]).map_err(|e| in_line(e, line, i))?,
            };
            self.columns[i].push(value);
        }
        self.rows += 1;
        Ok(Some(at))
    }

    fn header(&mut self, bytes: &[u8]) -> Result<Option<usize>, PgWireError> {
        if bytes.len() < SIGNATURE.len() {
            return if SIGNATURE.starts_with(bytes) { Ok(None) } else { Err(bad_format("COPY file signature not recognized")) };
        }
        if &bytes[..SIGNATURE.len()] != SIGNATURE {
            return Err(bad_format("COPY file signature not recognized"));
        }
        let Some(rest) = bytes.get(SIGNATURE.len()..SIGNATURE.len() + 8) else { return Ok(None) };
        let flags = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        if flags & (1 << 16) != 0 {
            return Err(bad_format("invalid COPY file header (WITH OIDS)"));
        }
        if flags & 0xffff_0000 != 0 {
            return Err(bad_format("unrecognized critical flags in COPY file header"));
        }
        let extension = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let used = SIGNATURE.len() + 8 + extension;
        if bytes.len() < used {
            return Ok(None);
        }
        self.header_read = true;
        Ok(Some(used))
    }

    /// The rows read since the last batch, each column as one Arrow array (NULLs typed as the
    /// column's other values).
    pub fn take(&mut self) -> Result<Batch, PgWireError> {
        let internal = |e: datafusion::error::DataFusionError| error(SqlState::InternalError, e.to_string());
        let columns = self
            .columns
            .iter_mut()
            .map(|column| {
                let values = std::mem::take(column);
                let data_type = values.iter().find(|v| !v.is_null()).map_or(DataType::Utf8, ScalarValue::data_type);
                let typed_null = ScalarValue::try_from(&data_type).map_err(internal)?;
                let values = values.into_iter().map(|v| if v.is_null() { typed_null.clone() } else { v });
                ScalarValue::iter_to_array(values).map_err(internal)
            })
            .collect::<Result<Vec<ArrayRef>, _>>()?;
        let batch = Batch { columns, first_line: self.taken + 1 };
        self.taken = self.rows;
        self.buffered = 0;
        Ok(batch)
    }

    /// The last batch, once the data is complete.
    pub fn finish(mut self) -> Result<Batch, PgWireError> {
        if !self.pending.is_empty() || !self.header_read {
            return Err(bad_format(if self.header_read { "unexpected EOF in COPY data" } else { "invalid COPY file header (missing flags)" }));
        }
        self.take()
    }
}

/// One value. Vectors are read into their text form, so that the column's cast checks their
/// dimensions (vectors of other dimensions would be other Arrow types in one column).
fn value(ty: &Type, bytes: &[u8]) -> Result<ScalarValue, PgWireError> {
    if let Some(kind) = quartzdb_planner::vector::Kind::from_oid(ty.oid()) {
        let values = quartzdb_planner::vector::binary::recv(kind, bytes).map_err(|e| {
            let code = match &e {
                quartzdb_planner::vector::binary::RecvError::Vector(v) => crate::sqlstate::vector(v),
                _ => SqlState::InvalidBinaryRepresentation,
            };
            error(code, e.to_string())
        })?;
        return Ok(ScalarValue::Utf8(Some(quartzdb_planner::vector::text::format_vector(&values))));
    }
    super::params::decode(Some(&Bytes::copy_from_slice(bytes)), FieldFormat::Binary, ty)
}

/// A value's decoding error, placed at its line and column as PostgreSQL reports it.
fn in_line(e: PgWireError, line: usize, column: usize) -> PgWireError {
    match e {
        PgWireError::UserError(info) => {
            let message = format!("{} (COPY line {line}, column {})", info.message, column + 1);
            let code = if info.code == SqlState::InvalidTextRepresentation.code() { SqlState::InvalidBinaryRepresentation.code().to_string() } else { info.code.clone() };
            PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".into(), code, message)))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int32Type;

    fn row(fields: &[Option<&[u8]>]) -> Vec<u8> {
        let mut out = (fields.len() as i16).to_be_bytes().to_vec();
        for f in fields {
            match f {
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(b) => {
                    out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                    out.extend_from_slice(b);
                }
            }
        }
        out
    }

    fn header() -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&[0; 8]);
        out
    }

    #[test]
    fn rows_split_anywhere_across_messages_read_the_same() {
        let mut data = header();
        data.extend(row(&[Some(&7i32.to_be_bytes()), Some(b"seven")]));
        data.extend(row(&[None, Some(b"")]));
        data.extend_from_slice(&(-1i16).to_be_bytes());
        for split in 0..data.len() {
            let mut d = BinaryDecoder::new(vec![Type::INT4, Type::TEXT]);
            d.feed(&data[..split]).unwrap();
            d.feed(&data[split..]).unwrap();
            let cols = d.finish().unwrap().columns;
            let ids = cols[0].as_primitive::<Int32Type>();
            assert_eq!((ids.value(0), ids.is_null(1)), (7, true), "split at {split}");
            assert_eq!(cols[1].as_string::<i32>().value(0), "seven");
            assert_eq!(cols[1].as_string::<i32>().value(1), "");
        }
    }

    #[test]
    fn batches_are_taken_as_they_fill_and_count_their_rows() {
        let mut d = BinaryDecoder::new(vec![Type::INT4]);
        let mut data = header();
        data.extend(row(&[Some(&1i32.to_be_bytes())]));
        data.extend(row(&[None]));
        d.feed(&data).unwrap();
        assert!(d.buffered_bytes() >= 4);
        let first = d.take().unwrap();
        assert_eq!((first.first_line, first.rows(), d.buffered_bytes()), (1, 2, 0));
        d.feed(&row(&[Some(&3i32.to_be_bytes())])).unwrap();
        d.feed(&(-1i16).to_be_bytes()).unwrap();
        let last = d.finish().unwrap();
        assert_eq!((last.first_line, last.columns[0].as_primitive::<Int32Type>().value(0)), (3, 3));
    }

    #[test]
    fn malformed_data_is_22p04_and_bad_values_22p03() {
        let code = |r: Result<(), PgWireError>| match r {
            Err(PgWireError::UserError(i)) => (i.code.clone(), i.message.clone()),
            other => panic!("{other:?}"),
        };
        let mut d = BinaryDecoder::new(vec![Type::INT4]);
        assert_eq!(code(d.feed(b"XGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0")).0, "22P04");
        let mut d = BinaryDecoder::new(vec![Type::INT4, Type::INT4]);
        let mut data = header();
        data.extend(row(&[Some(&1i32.to_be_bytes())]));
        assert_eq!(code(d.feed(&data)), ("22P04".into(), "row field count is 1, expected 2 (COPY line 1)".into()));
        let mut d = BinaryDecoder::new(vec![Type::INT4]);
        let mut data = header();
        data.extend(row(&[Some(&[0, 1])]));
        assert_eq!(code(d.feed(&data)).0, "22P03");
        let mut d = BinaryDecoder::new(vec![Type::INT4]);
        let mut data = header();
        data.extend_from_slice(&(-1i16).to_be_bytes());
        data.extend_from_slice(b"junk");
        assert_eq!(code(d.feed(&data)).0, "22P04");
        // Data ending inside a row, or before the header is whole.
        let mut d = BinaryDecoder::new(vec![Type::INT4]);
        let mut data = header();
        data.extend_from_slice(&[0, 1, 0]);
        d.feed(&data).unwrap();
        assert!(d.finish().is_err());
        let mut d = BinaryDecoder::new(vec![Type::INT4]);
        d.feed(b"PGCOPY\n\xff\r\n\0").unwrap();
        assert!(d.finish().is_err());
    }
}
