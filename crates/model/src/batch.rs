//! Hunting rows parsed straight into storage cells: the refresh's fast path.
//!
//! A refresh of a million-row tenant parses a million `EmailEvents` rows of ~40
//! columns. Building a typed struct per row costs ~40 `String` allocations, which
//! are then only read once to bind SQLite parameters and dropped. A [`RowBatch`]
//! instead appends every text value to one arena and keeps, per row and column, a
//! small [`Slot`] (null, integer, or a range of the arena): no allocation per value,
//! and binding a parameter is a slice of the arena.
//!
//! The cells are exactly those the typed row would store (`HuntingRow::to_cells`):
//! the same column matching (exact, then ignoring ASCII case), the same lenient
//! conversions and defaults, and the same `Table.Column: ...` errors. Tests compare
//! both paths.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::hunting::{Cell, CellValue, Column, HuntingRow, HuntingValue, RowError};
use super::json::RejectedRecord;

/// One stored value: what SQLite is given for one column of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// No value.
    Null,
    /// Integers, booleans (0/1) and timestamps (ticks).
    Int(i64),
    /// Text: `len` bytes of the batch's arena from `start`.
    Text {
        /// Byte offset into the arena.
        start: u32,
        /// Length in bytes.
        len: u32,
    },
}

/// Rows of one hunting table, in arrival order, as storage cells.
#[derive(Debug, Clone, Default)]
pub struct RowBatch {
    columns: usize,
    slots: Vec<Slot>,
    text: String,
    /// The schema the service sent, for completeness (unused by the cache).
    schema_columns: usize,
}

/// A borrowed view of one cell, ready to bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellRef<'a> {
    /// No value.
    Null,
    /// An integer.
    Int(i64),
    /// Text borrowed from the batch.
    Text(&'a str),
}

impl RowBatch {
    /// An empty batch of rows with `columns` columns.
    pub fn new(columns: usize) -> RowBatch {
        RowBatch {
            columns,
            ..RowBatch::default()
        }
    }

    /// Parses a `runHuntingQuery` response body (`{"schema": [...], "results": [...]}`,
    /// keys in either case) into cells of `R`'s columns.
    pub fn parse<R: BatchRow>(bytes: &[u8]) -> Result<RowBatch, serde_json::Error> {
        let mut batch = RowBatch::new(R::COLUMNS.len());
        // Text is roughly the body minus quotes and keys: reserving half avoids most regrowth.
        batch.text.reserve(bytes.len() / 2);
        // One validation of the whole body is much cheaper than one per string value
        // (what parsing bytes does); a body that is not UTF-8 takes the slow path,
        // which reports where.
        match std::str::from_utf8(bytes) {
            Ok(text) => fill::<R, _>(serde_json::Deserializer::from_str(text), &mut batch)?,
            Err(_) => fill::<R, _>(serde_json::Deserializer::from_slice(bytes), &mut batch)?,
        }
        Ok(batch)
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.slots.len().checked_div(self.columns).unwrap_or(0)
    }

    /// Whether the batch holds no row.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Columns per row.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Columns in the schema the service sent.
    pub fn schema_columns(&self) -> usize {
        self.schema_columns
    }

    /// Memory the batch holds (its slots and text).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>() + self.text.capacity()
    }

    /// The slots of row `i` (in `COLUMNS` order).
    pub fn row(&self, i: usize) -> &[Slot] {
        &self.slots[i * self.columns..(i + 1) * self.columns]
    }

    /// A slot's value.
    pub fn get(&self, slot: Slot) -> CellRef<'_> {
        match slot {
            Slot::Null => CellRef::Null,
            Slot::Int(i) => CellRef::Int(i),
            Slot::Text { start, len } => {
                let (s, e) = (start as usize, start as usize + len as usize);
                CellRef::Text(self.text.get(s..e).unwrap_or(""))
            }
        }
    }

    /// The largest integer in column `col` (the newest `Timestamp`).
    pub fn max_int(&self, col: usize) -> Option<i64> {
        (0..self.len())
            .filter_map(|i| match self.row(i).get(col) {
                Some(Slot::Int(v)) => Some(*v),
                _ => None,
            })
            .max()
    }

    /// Removes the rows in which a `required` column (indices into `names`, the
    /// row type's `COLUMNS`) is null or empty text, and returns them as rejected
    /// records of `table`: the row's cells as a JSON object (the body itself is not
    /// kept) and a reason naming the missing columns. A key-less row would otherwise
    /// be merged with every other key-less row under an empty key.
    ///
    /// A per-row test on the parsed slots; a batch without such a row is left as is
    /// and costs no allocation.
    pub fn reject_keyless(
        &mut self,
        names: &[&str],
        required: &[usize],
        table: &str,
    ) -> Vec<RejectedRecord> {
        let missing = |row: &[Slot], c: usize| match row.get(c) {
            Some(Slot::Null) | None => true,
            Some(Slot::Text { len, .. }) => *len == 0,
            Some(Slot::Int(_)) => false,
        };
        let rows = self.len();
        let Some(first) = (0..rows).find(|&i| required.iter().any(|&c| missing(self.row(i), c)))
        else {
            return Vec::new();
        };
        let mut rejected = Vec::new();
        let mut kept = first;
        for i in first..rows {
            let lacks: Vec<&str> = required
                .iter()
                .filter(|&&c| missing(self.row(i), c))
                .map(|&c| names.get(c).copied().unwrap_or("?"))
                .collect();
            if lacks.is_empty() {
                let (from, to) = (i * self.columns, kept * self.columns);
                self.slots.copy_within(from..from + self.columns, to);
                kept += 1;
                continue;
            }
            rejected.push(RejectedRecord {
                reason: format!(
                    "{table} row without its key column{} {} (null or empty)",
                    if lacks.len() > 1 { "s" } else { "" },
                    lacks.join(", ")
                ),
                raw: self.row_json(i, names),
            });
        }
        self.slots.truncate(kept * self.columns);
        rejected
    }

    /// Row `i` as a JSON object of `names` (the row type's `COLUMNS`) to its cells.
    pub fn row_json(&self, i: usize, names: &[&str]) -> String {
        let mut map = serde_json::Map::new();
        for (c, slot) in self.row(i).iter().enumerate() {
            let v = match self.get(*slot) {
                CellRef::Null => Value::Null,
                CellRef::Int(v) => Value::from(v),
                CellRef::Text(t) => Value::from(t),
            };
            map.insert(names.get(c).copied().unwrap_or("?").to_string(), v);
        }
        Value::Object(map).to_string()
    }

    /// The rows as typed structs (for the few per-row hooks that need them).
    pub fn typed<R: HuntingRow>(&self) -> Result<Vec<R>, RowError> {
        (0..self.len())
            .map(|i| {
                let cells = self
                    .row(i)
                    .iter()
                    .map(|s| match self.get(*s) {
                        CellRef::Null => Cell::Null,
                        CellRef::Int(v) => Cell::Int(v),
                        CellRef::Text(t) => Cell::Text(std::borrow::Cow::Borrowed(t)),
                    })
                    .collect();
                R::from_cells(cells)
            })
            .collect()
    }

    /// Appends `s` to the arena and returns its slot.
    pub fn push_text(&mut self, s: &str) -> Result<Slot, String> {
        let start = u32::try_from(self.text.len())
            .map_err(|_| "a hunting result too large to hold (over 4 GiB of text)".to_string())?;
        let len = u32::try_from(s.len()).map_err(|_| "a value over 4 GiB".to_string())?;
        u32::try_from(self.text.len() + s.len())
            .map_err(|_| "a hunting result too large to hold (over 4 GiB of text)".to_string())?;
        self.text.push_str(s);
        Ok(Slot::Text { start, len })
    }

    /// The slot for a stored cell.
    pub fn slot_of(&mut self, cell: &Cell<'_>) -> Result<Slot, String> {
        Ok(match cell {
            Cell::Null => Slot::Null,
            Cell::Int(i) => Slot::Int(*i),
            Cell::Text(t) => self.push_text(t)?,
        })
    }

    /// Starts a row filled with `defaults`; returns its first slot's index.
    pub fn start_row(&mut self, defaults: &[Slot]) -> usize {
        let at = self.slots.len();
        self.slots.extend_from_slice(defaults);
        at
    }

    /// Sets one slot of the row started at `at`.
    pub fn set(&mut self, at: usize, col: usize, slot: Slot) {
        self.slots[at + col] = slot;
    }
}

fn fill<'de, R: BatchRow, Rd: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<Rd>,
    batch: &mut RowBatch,
) -> Result<(), serde_json::Error> {
    Body::<R> {
        batch,
        row: PhantomData,
    }
    .deserialize(&mut de)?;
    de.end()
}

/// A typed hunting row that can also parse into a [`RowBatch`]; implemented by
/// `hunting_row!`.
pub trait BatchRow: HuntingRow {
    /// Parses one row object into a new row of `batch`.
    fn parse_into<'de, A: MapAccess<'de>>(map: A, batch: &mut RowBatch) -> Result<(), A::Error>;
}

/// How one field type becomes a [`Slot`] while parsing; the default goes through
/// the typed conversion (`HuntingValue`, then `CellValue`), text avoids it.
pub trait BatchValue: HuntingValue + CellValue + Default {
    /// Reads one JSON value into a slot of `batch`.
    fn slot<'de, D: Deserializer<'de>>(d: D, batch: &mut RowBatch) -> Result<Slot, D::Error> {
        let Column(v) = <Column<Self> as serde::Deserialize>::deserialize(d)?;
        batch.slot_of(&v.to_cell()).map_err(de::Error::custom)
    }
    /// The slot a missing column gets (the type's default, stored).
    fn default_slot(batch: &mut RowBatch) -> Slot {
        batch
            .slot_of(&Self::default().to_cell())
            .unwrap_or(Slot::Null)
    }
}

impl BatchValue for i64 {}
impl BatchValue for bool {}
impl BatchValue for chrono::DateTime<chrono::Utc> {}

impl BatchValue for String {
    fn slot<'de, D: Deserializer<'de>>(d: D, batch: &mut RowBatch) -> Result<Slot, D::Error> {
        struct V<'b>(&'b mut RowBatch);
        impl V<'_> {
            fn via<E: de::Error>(self, v: Result<String, String>) -> Result<Slot, E> {
                let s = v.map_err(E::custom)?;
                self.0.push_text(&s).map_err(E::custom)
            }
        }
        impl<'de> Visitor<'de> for V<'_> {
            type Value = Slot;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a hunting column value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Slot, E> {
                self.0.push_text(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Slot, E> {
                self.via(String::from_i64(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Slot, E> {
                match i64::try_from(v) {
                    Ok(v) => self.via(String::from_i64(v)),
                    Err(_) => self.via(String::from_f64(v as f64)),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Slot, E> {
                self.via(String::from_f64(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Slot, E> {
                self.via(String::from_bool(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Slot, E> {
                self.0.push_text("").map_err(E::custom)
            }
            fn visit_none<E: de::Error>(self) -> Result<Slot, E> {
                self.visit_unit()
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Slot, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Slot, A::Error> {
                let v = <Value as serde::Deserialize>::deserialize(
                    de::value::MapAccessDeserializer::new(map),
                )?;
                self.via(String::from_json(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Slot, A::Error> {
                let v = <Value as serde::Deserialize>::deserialize(
                    de::value::SeqAccessDeserializer::new(seq),
                )?;
                self.via(String::from_json(v))
            }
        }
        d.deserialize_any(V(batch))
    }
}

/// Deserialises one column value of type `T` into a slot.
pub struct SlotSeed<'b, T> {
    /// Where text goes.
    pub batch: &'b mut RowBatch,
    /// The field type.
    pub ty: PhantomData<T>,
}

impl<'de, T: BatchValue> DeserializeSeed<'de> for SlotSeed<'_, T> {
    type Value = Slot;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Slot, D::Error> {
        T::slot(d, self.batch)
    }
}

/// The response body: `schema` is counted, `results` parsed row by row.
struct Body<'b, R> {
    batch: &'b mut RowBatch,
    row: PhantomData<R>,
}

impl<'de, R: BatchRow> DeserializeSeed<'de> for Body<'_, R> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, R: BatchRow> Visitor<'de> for Body<'_, R> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a hunting result object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<super::hunting::ColumnName<'de>>()? {
            if key.0.eq_ignore_ascii_case("results") {
                map.next_value_seed(Results::<R> {
                    batch: &mut *self.batch,
                    row: PhantomData,
                })?;
            } else if key.0.eq_ignore_ascii_case("schema") {
                let schema: Vec<de::IgnoredAny> = map.next_value()?;
                self.batch.schema_columns = schema.len();
            } else {
                map.next_value::<de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Results<'b, R> {
    batch: &'b mut RowBatch,
    row: PhantomData<R>,
}

impl<'de, R: BatchRow> DeserializeSeed<'de> for Results<'_, R> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, R: BatchRow> Visitor<'de> for Results<'_, R> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of result rows")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(n) = seq.size_hint() {
            self.batch.slots.reserve(n * self.batch.columns);
        }
        while seq
            .next_element_seed(RowSeed::<R> {
                batch: &mut *self.batch,
                row: PhantomData,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct RowSeed<'b, R> {
    batch: &'b mut RowBatch,
    row: PhantomData<R>,
}

impl<'de, R: BatchRow> DeserializeSeed<'de> for RowSeed<'_, R> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, R: BatchRow> Visitor<'de> for RowSeed<'_, R> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} row object", R::TABLE)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        R::parse_into(map, self.batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::{
        CampaignMessage, EmailAttachment, EmailEvent, EmailUrl, PostDeliveryEvent, UrlClick,
    };
    use crate::hunting::HuntingRows;

    /// The batch holds exactly the cells the typed row would store.
    fn same_cells<R: BatchRow + fmt::Debug + PartialEq>(body: &str) {
        let typed = HuntingRows::<R>::from_slice(body.as_bytes()).map(|r| r.rows);
        let batch = RowBatch::parse::<R>(body.as_bytes());
        match (typed, batch) {
            (Ok(rows), Ok(batch)) => {
                assert_eq!(rows.len(), batch.len());
                for (i, row) in rows.iter().enumerate() {
                    let want: Vec<Cell<'_>> = row.to_cells();
                    let got: Vec<Cell<'_>> = batch
                        .row(i)
                        .iter()
                        .map(|s| match batch.get(*s) {
                            CellRef::Null => Cell::Null,
                            CellRef::Int(v) => Cell::Int(v),
                            CellRef::Text(t) => Cell::Text(t.into()),
                        })
                        .collect();
                    assert_eq!(got, want, "row {i} of {body}");
                }
                assert_eq!(batch.typed::<R>().unwrap(), rows);
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("typed {a:?} but batch {b:?} for {body}"),
        }
    }

    fn all_tables(body: &str) {
        same_cells::<EmailEvent>(body);
        same_cells::<EmailUrl>(body);
        same_cells::<EmailAttachment>(body);
        same_cells::<PostDeliveryEvent>(body);
        same_cells::<UrlClick>(body);
        same_cells::<CampaignMessage>(body);
    }

    #[test]
    fn batches_store_what_typed_rows_store() {
        all_tables(r#"{"schema":[],"results":[]}"#);
        all_tables(r#"{"Results":[{}],"@odata.context":"x"}"#);
        all_tables(
            r#"{"schema":[{"name":"Timestamp","type":"DateTime"}],"results":[
            {"Timestamp":"2024-03-26T09:39:50.7688641Z","NetworkMessageId":"n\u0000\u001b]2;x","subject":"hé \"q\"",
             "BulkComplaintLevel":"5","EmailClusterId":3074457345618258602,"AttachmentCount":null,
             "FileSize":12.0,"IsClickedThrough":true,"DeliveryLocation":"Junk folder",
             "LatestDeliveryLocation":"","EmailDirection":"SomethingNew","AdditionalFields":{"x":[1,2]},
             "UrlChain":["a","b"],"Url":18446744073709551615,"ThreatTypes":1.5,"Workload":false,
             "ActionResult":null,"Unknown":{"deep":[{"a":1}]},"DeliveryAction":"Blocked"},
            {"TIMESTAMP":"2024-03-26T09:39:51Z","networkmessageid":"n2","Timestamp":"2024-03-27T00:00:00Z"}]}"#,
        );
    }

    #[test]
    fn bad_values_fail_the_same_way() {
        all_tables(r#"{"schema":[],"results":[{"BulkComplaintLevel":"high"}]}"#);
        all_tables(r#"{"schema":[],"results":[{"Timestamp":"yesterday"}]}"#);
        all_tables(r#"{"schema":[],"results":[{"IsClickedThrough":"maybe","FileSize":"big"}]}"#);
        all_tables(r#"{"schema":[],"results":[null]}"#);
        all_tables(r#"{"schema":[],"results":[{"Subject":"unterminated}]}"#);
    }

    #[test]
    fn the_newest_timestamp_is_the_watermark() {
        let b = RowBatch::parse::<EmailUrl>(
            br#"{"results":[{"Timestamp":"2024-01-02T00:00:00Z"},{"Timestamp":"2024-01-03T00:00:00Z"},{"Timestamp":"2024-01-01T00:00:00Z"}]}"#,
        )
        .unwrap();
        let want = crate::hunting::to_ticks(
            &chrono::DateTime::parse_from_rfc3339("2024-01-03T00:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        );
        assert_eq!(b.max_int(0), Some(want));
        assert_eq!(b.len(), 3);
    }
    #[test]
    fn rows_without_a_key_column_are_taken_out_and_named() {
        let mut b = RowBatch::parse::<EmailEvent>(
            br#"{"results":[{"NetworkMessageId":"a","RecipientEmailAddress":"x@c"},
                {"NetworkMessageId":"","RecipientEmailAddress":"y@c","Subject":"s"},
                {"NetworkMessageId":"b","RecipientEmailAddress":"z@c"},
                {"NetworkMessageId":null},
                {"NetworkMessageId":"c","RecipientEmailAddress":"w@c"}]}"#,
        )
        .unwrap();
        let names = EmailEvent::COLUMNS;
        let key: Vec<usize> = ["NetworkMessageId", "RecipientEmailAddress"]
            .iter()
            .map(|k| names.iter().position(|c| c == k).unwrap())
            .collect();
        let rejected = b.reject_keyless(names, &key, "EmailEvents");
        assert_eq!(b.len(), 3);
        let ids: Vec<_> = (0..3).map(|i| b.get(b.row(i)[key[0]])).collect();
        assert_eq!(
            ids,
            [CellRef::Text("a"), CellRef::Text("b"), CellRef::Text("c")]
        );
        assert_eq!(rejected.len(), 2);
        assert!(
            rejected[0].reason.contains("NetworkMessageId"),
            "{}",
            rejected[0].reason
        );
        assert!(!rejected[0].reason.contains("RecipientEmailAddress"));
        assert!(
            rejected[1]
                .reason
                .contains("NetworkMessageId, RecipientEmailAddress")
        );
        let raw: Value = serde_json::from_str(&rejected[0].raw).unwrap();
        assert_eq!(raw["RecipientEmailAddress"], "y@c");
        assert_eq!(raw["Subject"], "s");
        // A clean batch is untouched.
        assert!(b.reject_keyless(names, &key, "EmailEvents").is_empty());
        assert_eq!(b.len(), 3);
    }
}
