//! A Parquet writer for sweep tables: flat columns of INT64, DOUBLE, BOOLEAN and UTF-8 strings,
//! every column OPTIONAL (missing values are nulls), PLAIN encoding, uncompressed, one data
//! page per column chunk, row groups of at most [`ROW_GROUP_ROWS`] rows.
//!
//! Hand-written rather than the `parquet` crate because the crate (even without default
//! features) added more to the default binary's cold build than the issue allows for one
//! output format (figures in ARCHITECTURE.md), and the subset a flat table needs is small:
//! the file layout, the Thrift compact encoding of the footer and page headers, and
//! definition levels as RLE runs. The output is byte-deterministic. pyarrow reads it in the
//! Python tests (`crates/python/tests/`), which is the check that it is real Parquet.
//!
//! Format: <https://parquet.apache.org/docs/file-format/> and `parquet.thrift`.

use crate::table::{Table, Values};

/// Rows per row group (and so per data page): bounds a page's size.
pub const ROW_GROUP_ROWS: usize = 65_536;

const MAGIC: &[u8] = b"PAR1";

// Parquet physical types.
const BOOLEAN: i32 = 0;
const INT64: i32 = 2;
const DOUBLE: i32 = 5;
const BYTE_ARRAY: i32 = 6;
// Repetition, converted type, encodings, codec, page type.
const OPTIONAL: i32 = 1;
const CONVERTED_UTF8: i32 = 0;
const PLAIN: i32 = 0;
const RLE: i32 = 3;
const UNCOMPRESSED: i32 = 0;
const DATA_PAGE: i32 = 0;

/// The table as a Parquet file.
pub fn write(table: &Table, created_by: &str) -> Vec<u8> {
    let rows = table.rows();
    let mut out = MAGIC.to_vec();
    let mut row_groups = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + ROW_GROUP_ROWS).min(rows);
        let mut chunks = Vec::new();
        let group_start = out.len();
        for column in &table.columns {
            let page = page_data(&column.values, start..end);
            let offset = out.len() as i64;
            let mut header = Thrift::default();
            header.i32(1, DATA_PAGE);
            header.i32(2, page.len() as i32);
            header.i32(3, page.len() as i32);
            header.begin_struct(5);
            header.i32(1, (end - start) as i32);
            header.i32(2, PLAIN);
            header.i32(3, RLE);
            header.i32(4, RLE);
            header.end_struct();
            header.stop();
            out.extend_from_slice(&header.bytes);
            out.extend_from_slice(&page);
            chunks.push(Chunk {
                name: column.name.clone(),
                physical: physical_type(&column.values),
                offset,
                size: (out.len() as i64) - offset,
                values: (end - start) as i64,
            });
        }
        row_groups.push(Group {
            chunks,
            bytes: (out.len() - group_start) as i64,
            rows: (end - start) as i64,
        });
        start = end;
        if start >= rows {
            break;
        }
    }

    let mut meta = Thrift::default();
    meta.i32(1, 1);
    // Schema: the root, then one leaf per column.
    meta.begin_list(2, STRUCT, table.columns.len() + 1);
    meta.begin_element();
    meta.binary(4, b"schema");
    meta.i32(5, table.columns.len() as i32);
    meta.end_element();
    for column in &table.columns {
        meta.begin_element();
        meta.i32(1, physical_type(&column.values));
        meta.i32(3, OPTIONAL);
        meta.binary(4, column.name.as_bytes());
        if matches!(column.values, Values::Text(_)) {
            meta.i32(6, CONVERTED_UTF8);
            meta.begin_struct(10); // LogicalType (a union): STRING, an empty struct
            meta.begin_struct(1);
            meta.end_struct();
            meta.end_struct();
        }
        meta.end_element();
    }
    meta.i64(3, rows as i64);
    meta.begin_list(4, STRUCT, row_groups.len());
    for group in &row_groups {
        meta.begin_element();
        meta.begin_list(1, STRUCT, group.chunks.len());
        for chunk in &group.chunks {
            meta.begin_element();
            meta.i64(2, chunk.offset);
            meta.begin_struct(3);
            meta.i32(1, chunk.physical);
            meta.begin_list(2, I32, 2);
            meta.list_i32(PLAIN);
            meta.list_i32(RLE);
            meta.begin_list(3, BINARY, 1);
            meta.list_binary(chunk.name.as_bytes());
            meta.i32(4, UNCOMPRESSED);
            meta.i64(5, chunk.values);
            meta.i64(6, chunk.size);
            meta.i64(7, chunk.size);
            meta.i64(9, chunk.offset);
            meta.end_struct();
            meta.end_element();
        }
        meta.i64(2, group.bytes);
        meta.i64(3, group.rows);
        meta.end_element();
    }
    meta.binary(6, created_by.as_bytes());
    meta.stop();
    out.extend_from_slice(&meta.bytes);
    out.extend_from_slice(&(meta.bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(MAGIC);
    out
}

struct Chunk {
    name: String,
    physical: i32,
    offset: i64,
    size: i64,
    values: i64,
}

struct Group {
    chunks: Vec<Chunk>,
    bytes: i64,
    rows: i64,
}

fn physical_type(values: &Values) -> i32 {
    match values {
        Values::Int(_) => INT64,
        Values::Float(_) => DOUBLE,
        Values::Text(_) => BYTE_ARRAY,
        Values::Bool(_) => BOOLEAN,
    }
}

/// A data page (v1) of rows `range`: definition levels (4-byte length, then RLE runs of bit
/// width 1), then the present values PLAIN-encoded.
fn page_data(values: &Values, range: std::ops::Range<usize>) -> Vec<u8> {
    let present: Vec<bool> = range
        .clone()
        .map(|row| match values {
            Values::Int(v) => v[row].is_some(),
            Values::Float(v) => v[row].is_some(),
            Values::Text(v) => v[row].is_some(),
            Values::Bool(v) => v[row].is_some(),
        })
        .collect();
    let levels = rle_levels(&present);
    let mut page = (levels.len() as u32).to_le_bytes().to_vec();
    page.extend_from_slice(&levels);
    match values {
        Values::Int(v) => v[range]
            .iter()
            .flatten()
            .for_each(|x| page.extend_from_slice(&x.to_le_bytes())),
        Values::Float(v) => v[range]
            .iter()
            .flatten()
            .for_each(|x| page.extend_from_slice(&x.to_le_bytes())),
        Values::Text(v) => v[range].iter().flatten().for_each(|s| {
            page.extend_from_slice(&(s.len() as u32).to_le_bytes());
            page.extend_from_slice(s.as_bytes());
        }),
        Values::Bool(v) => {
            let bits: Vec<bool> = v[range].iter().flatten().copied().collect();
            for byte in bits.chunks(8) {
                let packed = byte
                    .iter()
                    .enumerate()
                    .fold(0u8, |acc, (i, &b)| acc | (u8::from(b) << i));
                page.push(packed);
            }
        }
    }
    page
}

/// Definition levels (0 missing, 1 present) as RLE runs: a varint `run_length << 1`, then the
/// level in one byte.
fn rle_levels(present: &[bool]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < present.len() {
        let level = present[i];
        let run = present[i..].iter().take_while(|&&p| p == level).count();
        varint(&mut out, (run as u64) << 1);
        out.push(u8::from(level));
        i += run;
    }
    out
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

// Thrift compact protocol type codes.
const I32: u8 = 5;
const I64: u8 = 6;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const STRUCT: u8 = 12;

/// The Thrift compact protocol, as much of it as the footer and page headers use.
#[derive(Default)]
struct Thrift {
    bytes: Vec<u8>,
    last_field: i16,
    outer: Vec<i16>,
}

impl Thrift {
    fn field(&mut self, id: i16, kind: u8) {
        let delta = id - self.last_field;
        if (1..=15).contains(&delta) {
            self.bytes.push(((delta as u8) << 4) | kind);
        } else {
            self.bytes.push(kind);
            varint(&mut self.bytes, zigzag(i64::from(id)));
        }
        self.last_field = id;
    }

    fn i32(&mut self, id: i16, value: i32) {
        self.field(id, I32);
        varint(&mut self.bytes, zigzag(i64::from(value)));
    }

    fn i64(&mut self, id: i16, value: i64) {
        self.field(id, I64);
        varint(&mut self.bytes, zigzag(value));
    }

    fn binary(&mut self, id: i16, value: &[u8]) {
        self.field(id, BINARY);
        varint(&mut self.bytes, value.len() as u64);
        self.bytes.extend_from_slice(value);
    }

    fn begin_struct(&mut self, id: i16) {
        self.field(id, STRUCT);
        self.begin_element();
    }

    fn end_struct(&mut self) {
        self.end_element();
    }

    /// A struct inside a list: a fresh field-id context.
    fn begin_element(&mut self) {
        self.outer.push(self.last_field);
        self.last_field = 0;
    }

    fn end_element(&mut self) {
        self.stop();
        self.last_field = self.outer.pop().unwrap_or(0);
    }

    fn begin_list(&mut self, id: i16, element: u8, len: usize) {
        self.field(id, LIST);
        if len < 15 {
            self.bytes.push(((len as u8) << 4) | element);
        } else {
            self.bytes.push(0xf0 | element);
            varint(&mut self.bytes, len as u64);
        }
    }

    fn list_i32(&mut self, value: i32) {
        varint(&mut self.bytes, zigzag(i64::from(value)));
    }

    fn list_binary(&mut self, value: &[u8]) {
        varint(&mut self.bytes, value.len() as u64);
        self.bytes.extend_from_slice(value);
    }

    fn stop(&mut self) {
        self.bytes.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    #[test]
    fn the_file_is_framed_and_its_footer_length_points_at_the_footer() {
        let table = Table {
            columns: vec![
                Column {
                    name: "point".into(),
                    values: Values::Int(vec![Some(0), Some(1), Some(2)]),
                },
                Column {
                    name: "x".into(),
                    values: Values::Float(vec![Some(1.5), None, Some(2.5)]),
                },
                Column {
                    name: "s".into(),
                    values: Values::Text(vec![None, Some("a".into()), Some("bc".into())]),
                },
                Column {
                    name: "b".into(),
                    values: Values::Bool(vec![Some(true), Some(false), None]),
                },
            ],
        };
        let bytes = write(&table, "test");
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(&bytes[bytes.len() - 4..], b"PAR1");
        let footer = u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap())
            as usize;
        let meta = &bytes[bytes.len() - 8 - footer..bytes.len() - 8];
        // version 1 is the footer's first field; created_by is in it.
        assert_eq!(meta[0], 0x15);
        assert!(meta.windows(4).any(|w| w == b"test"));
        // Deterministic.
        assert_eq!(bytes, write(&table, "test"));
    }

    #[test]
    fn levels_are_rle_runs() {
        assert_eq!(rle_levels(&[true, true, false]), vec![4, 1, 2, 0]);
        let mut v = Vec::new();
        varint(&mut v, 300);
        assert_eq!(v, vec![0xac, 0x02]);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }
}
