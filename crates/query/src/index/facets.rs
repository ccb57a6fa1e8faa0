//! Counting over a result: facet counts for the filter panel, VisiData-style
//! frequency tables of any column, and time histograms split by a column. Every
//! count is one pass over the result's codes into a dense counter per distinct value.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::bitset::Bitset;
use super::schema::{self as s, Column};
use super::text::{Needle, Op};
use super::{EmailIndex, IndexError, RowSet, recipient_domain};
use crate::kql::TimeBin;
use crate::lang::ast::{Expr, Term};
use crate::lang::fields::{self, Field, ValueKind};
use crate::lang::print::print_expr;
use whalewatch_model::hunting::from_ticks;

/// A facet of the filter panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Facet {
    /// User tags of the recipient.
    Tag,
    /// Threat types.
    Threat,
    /// Delivery action.
    Delivery,
    /// Latest delivery location.
    Location,
    /// Detection technologies.
    Detection,
    /// Directionality.
    Direction,
    /// The most frequent sender domains.
    SenderDomain,
}

impl Facet {
    /// Every facet, in panel order.
    pub const ALL: [Facet; 7] = [
        Facet::Tag,
        Facet::Threat,
        Facet::Delivery,
        Facet::Location,
        Facet::Detection,
        Facet::Direction,
        Facet::SenderDomain,
    ];
}

/// One value of a facet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetValue {
    /// The value as the data spells it (raw, untrusted for sender domains).
    pub label: String,
    /// Rows of the result with this value.
    pub count: usize,
    /// The filter term that selects it (`threat:phish`), to add when the analyst dives in.
    pub term: String,
}

/// The counts of one facet, most frequent first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCounts {
    /// Which facet.
    pub facet: Facet,
    /// Its values with at least one row.
    pub values: Vec<FacetValue>,
}

/// One row of a frequency table.
#[derive(Debug, Clone, PartialEq)]
pub struct FrequencyRow {
    /// The value (raw; numbers in decimal; null as the empty string).
    pub value: String,
    /// Rows with this value.
    pub count: usize,
    /// `count` as a percentage of the result.
    pub percent: f64,
    /// How the value becomes a filter term ([`FrequencyRow::term`]).
    pub bin: BinTerm,
}

impl FrequencyRow {
    /// The row of `value` held by `count` of `total` rows (the one place a frequency
    /// table's percentage is computed; an empty result is 0 %).
    pub fn new(value: String, count: usize, total: usize, bin: BinTerm) -> FrequencyRow {
        FrequencyRow {
            percent: if total == 0 {
                0.0
            } else {
                count as f64 * 100.0 / total as f64
            },
            value,
            count,
            bin,
        }
    }
}

/// How a frequency row's value becomes a filter term. An index column's term is
/// written when asked for: a table of thousands of values shows a screenful.
#[derive(Debug, Clone, PartialEq)]
pub enum BinTerm {
    /// The value cannot be written as a filter.
    None,
    /// The term, given.
    Given(String),
    /// The term selecting the row's value in this index column.
    Of(Column),
}

impl BinTerm {
    /// A given term, if any.
    pub fn given(term: Option<String>) -> BinTerm {
        term.map_or(BinTerm::None, BinTerm::Given)
    }
}

impl FrequencyRow {
    /// The filter term selecting exactly this value, when the column is a filter field.
    pub fn term(&self) -> Option<String> {
        match &self.bin {
            BinTerm::None => None,
            BinTerm::Given(t) => Some(t.clone()),
            BinTerm::Of(column @ (Column::Str(_) | Column::RecipientDomain)) => {
                term_text(field_of(*column)?, &self.value)
            }
            BinTerm::Of(column @ Column::Int(_)) => number_term(*column, self.value.parse().ok()?),
            BinTerm::Of(Column::Time) => None,
        }
    }
}

impl Serialize for FrequencyRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FrequencyRow", 4)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("count", &self.count)?;
        st.serialize_field("percent", &self.percent)?;
        st.serialize_field("term", &self.term())?;
        st.end()
    }
}

impl FrequencyRow {
    /// A bar of `width` cells scaled to `max` (the largest count of the table).
    pub fn bar(&self, max: usize, width: usize) -> String {
        let n = if max == 0 {
            0
        } else {
            (self.count * width).div_ceil(max)
        };
        "█".repeat(n.min(width))
    }
}

/// VisiData's `F`: how often each value of a column occurs in the result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frequency {
    /// The column, as advanced hunting names it.
    pub column: &'static str,
    /// Rows in the result.
    pub total: usize,
    /// Values, most frequent first (ties by value).
    pub rows: Vec<FrequencyRow>,
}

/// One cell of a histogram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistogramBucket {
    /// Start of the bucket (UTC).
    pub start: DateTime<Utc>,
    /// The split column's value, when split.
    pub split: Option<String>,
    /// Rows.
    pub count: usize,
}

/// Rows per time bucket, optionally split by a column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Histogram {
    /// The split column's name.
    pub split: Option<&'static str>,
    /// Non-empty cells by start, then split value.
    pub buckets: Vec<HistogramBucket>,
}

/// Ticks in one bucket.
pub fn bin_ticks(bin: TimeBin) -> i64 {
    match bin {
        TimeBin::Hour => 3_600 * 10_000_000,
        TimeBin::Day => 86_400 * 10_000_000,
    }
}

/// The canonical text of `field:value` (a documented spelling for enumerations).
fn term_text(field: Field, value: &str) -> Option<String> {
    if value.is_empty() || value.starts_with('*') || value.ends_with('*') {
        return None;
    }
    let value = match fields::spec(field).kind {
        ValueKind::Enum(values) => fields::enum_value(values, value)?.doc.to_string(),
        _ => value.to_string(),
    };
    Some(print_expr(&Expr::Term(Term::Match {
        field,
        values: vec![value],
    })))
}

fn field_of(column: Column) -> Option<Field> {
    Some(match column {
        Column::Str(s::FROM) => Field::From,
        Column::Str(s::SENDER_DOMAIN) => Field::SenderDomain,
        Column::Str(s::MAIL_FROM) => Field::MailFrom,
        Column::Str(s::RECIPIENT) => Field::To,
        Column::Str(s::NMID) => Field::Nmid,
        Column::Str(s::IMID) => Field::Imid,
        Column::Str(s::LANGUAGE) => Field::Language,
        Column::Str(s::DIRECTION) => Field::Direction,
        Column::Str(s::DELIVERY) => Field::Delivery,
        Column::Str(s::LOCATION) => Field::Location,
        Column::Str(s::ORIGINAL_LOCATION) => Field::OriginalLocation,
        Column::Str(s::IPV4) | Column::Str(s::IPV6) => Field::Ip,
        Column::Str(s::THREAT_NAMES) => Field::ThreatName,
        Column::Str(s::CONNECTORS) => Field::Connector,
        Column::Str(s::MAIL_FROM_DOMAIN) => Field::MailFromDomain,
        Column::RecipientDomain => Field::RecipientDomain,
        _ => return None,
    })
}

fn number_term(column: Column, v: i64) -> Option<String> {
    let field = match column {
        Column::Int(s::CLUSTER) => Field::Cluster,
        Column::Int(s::BCL) => Field::Bcl,
        Column::Int(s::SIZE) => Field::Size,
        Column::Int(s::ATTACHMENT_COUNT) => Field::AttachmentCount,
        Column::Int(s::URL_COUNT) => Field::UrlCount,
        _ => return None,
    };
    Some(print_expr(&Expr::Term(Term::Number {
        field,
        op: crate::lang::ast::CmpOp::Eq,
        values: vec![v],
    })))
}

/// Threat Explorer's frequency tabs over the mail: each is a frequency table of one
/// column, named as the tab is, without the empty value (a message with no malware
/// family is not a family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TopTab {
    /// Recipients by rows received (`RecipientEmailAddress`).
    TargetedUsers,
    /// Threat names (`ThreatNames`: the malware family's detection name).
    MalwareFamilies,
}

impl TopTab {
    /// Every tab, in Threat Explorer's order.
    pub const ALL: [TopTab; 2] = [TopTab::TargetedUsers, TopTab::MalwareFamilies];

    /// The tab's name as Threat Explorer shows it.
    pub fn title(self) -> &'static str {
        match self {
            TopTab::TargetedUsers => "Top targeted users",
            TopTab::MalwareFamilies => "Top malware families",
        }
    }

    /// The index column the tab counts.
    pub fn column(self) -> Column {
        match self {
            TopTab::TargetedUsers => Column::Str(s::RECIPIENT),
            TopTab::MalwareFamilies => Column::Str(s::THREAT_NAMES),
        }
    }
}

impl EmailIndex {
    /// The tab's table over `rows`: the column's frequency without the empty value
    /// (percentages stay shares of every row in `rows`).
    pub fn top_tab(&self, rows: &RowSet, tab: TopTab) -> Frequency {
        let mut f = self.frequency(rows, tab.column());
        f.rows.retain(|r| !r.value.is_empty());
        f
    }

    /// Counts of every facet over `rows` (sender domains: the top `top`).
    pub fn facets(&self, rows: &RowSet, top: usize) -> Result<Vec<FacetCounts>, IndexError> {
        // Two cores: half the facets on a helper thread.
        let (a, b) = super::on_two_cores(
            || {
                [
                    Facet::Threat,
                    Facet::Delivery,
                    Facet::Location,
                    Facet::Direction,
                ]
                .map(|f| self.facet(rows, f, top))
            },
            || {
                [Facet::Detection, Facet::SenderDomain, Facet::Tag]
                    .map(|f| self.facet(rows, f, top))
            },
        )?;
        let mut out: Vec<FacetCounts> = a.into_iter().chain(b).collect();
        out.sort_by_key(|f| Facet::ALL.iter().position(|x| *x == f.facet));
        Ok(out)
    }

    /// Counts of one facet over `rows`.
    pub fn facet(&self, rows: &RowSet, facet: Facet, top: usize) -> FacetCounts {
        let mut values = match facet {
            Facet::Tag => self
                .tags
                .names()
                .enumerate()
                .map(|(i, name)| FacetValue {
                    label: name.to_string(),
                    count: rows.count_and(&self.tag_rows(i)),
                    term: term_text(Field::Tag, name).unwrap_or_default(),
                })
                .collect(),
            Facet::Threat => self.spread(rows, s::THREATS, Field::Threat, |doc, v| {
                if doc.is_empty() {
                    v.is_empty()
                } else {
                    Needle::new(doc).test(Op::Has, v)
                }
            }),
            Facet::Detection => self.spread(rows, s::DETECTION, Field::Detection, |doc, v| {
                Needle::new(&format!("\"{doc}\"")).test(Op::Contains, v)
            }),
            Facet::Delivery => self.spread(rows, s::DELIVERY, Field::Delivery, super::text::eq_ci),
            Facet::Location => self.spread(rows, s::LOCATION, Field::Location, super::text::eq_ci),
            Facet::Direction => {
                self.spread(rows, s::DIRECTION, Field::Direction, super::text::eq_ci)
            }
            Facet::SenderDomain => {
                let f = self.frequency_top(rows, Column::Str(s::SENDER_DOMAIN), top);
                f.rows
                    .into_iter()
                    .map(|r| FacetValue {
                        term: r.term().unwrap_or_default(),
                        label: r.value,
                        count: r.count,
                    })
                    .collect()
            }
        };
        values.retain(|v: &FacetValue| v.count > 0);
        values.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(&b.label)));
        FacetCounts { facet, values }
    }

    /// Counts per documented value of an enumerated field: rows are counted per
    /// distinct column value, then each distinct value adds its count to every
    /// documented value it matches (a row with `Phish, Spam` counts for both).
    fn spread(
        &self,
        rows: &RowSet,
        col: usize,
        field: Field,
        matches: impl Fn(&str, &str) -> bool,
    ) -> Vec<FacetValue> {
        let ValueKind::Enum(docs) = fields::spec(field).kind else {
            return Vec::new();
        };
        let column = self.s(col);
        let counts = column.counts(rows);
        docs.iter()
            .map(|d| {
                let count = column
                    .dict
                    .iter()
                    .filter(|(c, v)| counts[*c as usize] > 0 && matches(d.doc, v))
                    .map(|(c, _)| counts[c as usize] as usize)
                    .sum();
                FacetValue {
                    label: if d.doc.is_empty() {
                        "none".to_string()
                    } else {
                        d.doc.to_string()
                    },
                    count,
                    term: print_expr(&Expr::Term(Term::Match {
                        field,
                        values: vec![d.doc.to_string()],
                    })),
                }
            })
            .collect()
    }

    /// The frequency table of `column` over `rows`.
    pub fn frequency(&self, rows: &RowSet, column: Column) -> Frequency {
        self.frequency_top(rows, column, usize::MAX)
    }

    /// The `top` most frequent values of `column` over `rows` (ties by value), with
    /// `total` still counting every row. For a string column the rows are counted
    /// by dictionary code into a flat array and only the `top` codes are ordered and
    /// turned into text — what keeps a group-by over thousands of values (sender
    /// domains of every row) at a millisecond.
    pub fn frequency_top(&self, rows: &RowSet, column: Column, top: usize) -> Frequency {
        let total = rows.count();
        let row = |value: String, count: usize| {
            FrequencyRow::new(value, count, total, BinTerm::Of(column))
        };
        let mut pairs: Vec<(String, usize)> = match column {
            Column::Str(i) => {
                let col = self.s(i);
                let counts = col.counts(rows);
                let ranks = col.dict.ranks();
                // One integer per value present, ordered as the table is: count
                // descending, then value ascending (its rank in the dictionary).
                let mut keys: Vec<(u64, u32)> = counts
                    .iter()
                    .zip(0u32..)
                    .filter(|(n, _)| **n > 0)
                    .map(|(&n, c)| ((u64::from(!n) << 32) | u64::from(ranks[c as usize]), c))
                    .collect();
                if top < keys.len() {
                    keys.select_nth_unstable_by_key(top, |k| k.0);
                    keys.truncate(top);
                }
                keys.sort_unstable_by_key(|k| k.0);
                let rows = keys
                    .into_iter()
                    .map(|(_, c)| row(col.dict.get(c).to_string(), counts[c as usize] as usize))
                    .collect();
                return Frequency {
                    column: column.name(),
                    total,
                    rows,
                };
            }
            Column::RecipientDomain => {
                let col = self.s(s::RECIPIENT);
                let counts = col.counts(rows);
                let mut by: std::collections::HashMap<&str, usize> = Default::default();
                for (c, v) in col.dict.iter() {
                    if counts[c as usize] > 0 {
                        *by.entry(recipient_domain(v)).or_default() += counts[c as usize] as usize;
                    }
                }
                by.into_iter().map(|(d, n)| (d.to_string(), n)).collect()
            }
            Column::Int(i) => {
                let col = self.n(i);
                let mut by: std::collections::HashMap<Option<i64>, usize> = Default::default();
                rows.for_each(|r| *by.entry(col.get(r)).or_default() += 1);
                by.into_iter()
                    .map(|(v, n)| (v.map_or_else(String::new, |v| v.to_string()), n))
                    .collect()
            }
            Column::Time => {
                let mut by: std::collections::HashMap<i64, usize> = Default::default();
                rows.for_each(|r| *by.entry(self.time[r]).or_default() += 1);
                by.into_iter()
                    .map(|(t, n)| (whalewatch_model::time::format_datetime(&from_ticks(t)), n))
                    .collect()
            }
        };
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        pairs.truncate(top);
        Frequency {
            column: column.name(),
            total,
            rows: pairs
                .into_iter()
                .map(|(value, count)| row(value, count))
                .collect(),
        }
    }

    /// Rows of `rows` per `bin`, optionally split by a string column.
    /// Fails only when its helper thread panics ([`IndexError::HelperPanicked`]).
    pub fn histogram(
        &self,
        rows: &RowSet,
        bin: TimeBin,
        split: Option<Column>,
    ) -> Result<Histogram, IndexError> {
        let span = bin_ticks(bin);
        let bucket = |t: i64| t.div_euclid(span);
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        rows.for_each(|r| {
            let t = self.time[r];
            lo = lo.min(t);
            hi = hi.max(t);
        });
        let (lo, hi) = if lo > hi {
            (1, 0)
        } else {
            (bucket(lo), bucket(hi))
        };
        // A result spanning absurd times (a bad clock) gets at most ~1M buckets.
        let lo = lo.max(hi.saturating_sub(1 << 20));
        if lo > hi {
            return Ok(Histogram {
                split: split.map(Column::name),
                buckets: Vec::new(),
            });
        }
        let width = (hi - lo + 1) as usize;
        let (codes, labels): (Box<dyn Fn(usize) -> u32 + Sync + '_>, Vec<String>) = match split {
            Some(Column::Str(i)) => {
                let col = self.s(i);
                (
                    Box::new(move |r| col.codes.get(r)),
                    col.dict.iter().map(|(_, v)| v.to_string()).collect(),
                )
            }
            Some(other) => {
                // Numbers and derived columns: label each row's value through a dictionary.
                let mut labels: Vec<String> = Vec::new();
                let mut map: std::collections::HashMap<String, u32> = Default::default();
                let mut per_row = vec![0u32; self.rows];
                rows.for_each(|r| {
                    let v = self.value(other, r);
                    let next = map.len() as u32;
                    let c = *map.entry(v.clone()).or_insert_with(|| {
                        labels.push(v);
                        next
                    });
                    per_row[r] = c;
                });
                (Box::new(move |r| per_row[r]), labels)
            }
            None => (Box::new(|_| 0), vec![String::new()]),
        };
        let k = labels.len().max(1);
        let mut counts = vec![0u32; width * k];
        if let Some(Column::Str(i)) = split {
            // The hot path (q4): a typed loop over the codes, on both cores.
            let col = self.s(i);
            let time = &self.time;
            let words = rows.words();
            let half = words.len() / 2;
            let part = |from: usize, to: usize| -> Vec<u32> {
                let mut c = vec![0u32; width * k];
                let mut count = |r: usize| {
                    let b = (time[r].div_euclid(span) - lo).max(0) as usize;
                    c[b * k + col.codes.get(r) as usize] += 1;
                };
                for (w, &bits) in words[from..to].iter().enumerate() {
                    let base = (from + w) * 64;
                    let mut bits = bits;
                    while bits != 0 {
                        count(base + bits.trailing_zeros() as usize);
                        bits &= bits - 1;
                    }
                }
                c
            };
            let (a, b) = super::on_two_cores(|| part(0, half), || part(half, words.len()))?;
            for (x, (p, q)) in counts.iter_mut().zip(a.iter().zip(&b)) {
                *x = p + q;
            }
        } else {
            rows.for_each(|r| {
                let b = (bucket(self.time[r]) - lo).max(0) as usize;
                counts[b * k + codes(r) as usize] += 1;
            });
        }
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|a, b| labels[*a].cmp(&labels[*b]));
        let mut buckets = Vec::new();
        for b in 0..width {
            for &c in &order {
                let n = counts[b * k + c];
                if n > 0 {
                    buckets.push(HistogramBucket {
                        start: from_ticks((lo + b as i64) * span),
                        split: split.map(|_| labels[c].clone()),
                        count: n as usize,
                    });
                }
            }
        }
        Ok(Histogram {
            split: split.map(Column::name),
            buckets,
        })
    }
}

/// Rows of `rows` that are also in `other` (a helper for pivots and facets).
pub fn intersect(rows: &RowSet, other: &Bitset) -> RowSet {
    let mut r = rows.clone();
    r.and_with(other);
    r
}

#[cfg(test)]
mod top_tests {
    use super::*;
    use chrono::TimeZone;
    use whalewatch_cache::Cache;
    use whalewatch_model::email::EmailEvent;

    fn event(n: &str, r: &str, threat_names: &str) -> EmailEvent {
        EmailEvent {
            timestamp: Utc.with_ymd_and_hms(2026, 10, 30, 8, 0, 0).unwrap(),
            network_message_id: n.into(),
            recipient_email_address: r.into(),
            threat_names: threat_names.into(),
            ..EmailEvent::default()
        }
    }

    #[test]
    fn a_frequency_table_orders_by_count_then_value_and_writes_terms_when_asked() {
        let dir = std::env::temp_dir().join(format!("ww-freq-order-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut c = Cache::open(&dir.join("c.sqlite")).unwrap();
        // First seen (dictionary code) order differs from value order, and counts tie.
        let domains = [
            "zeta.com",
            "beta.com",
            "alpha.com",
            "zeta.com",
            "beta.com",
            "gamma.com",
        ];
        let rows: Vec<EmailEvent> = domains
            .iter()
            .enumerate()
            .map(|(i, d)| EmailEvent {
                sender_from_domain: (*d).into(),
                bulk_complaint_level: i as i64 % 2,
                ..event(&format!("n{i}"), "ceo@contoso.com", "")
            })
            .collect();
        c.write(|w| w.upsert_rows(&rows)).unwrap();
        let ix = EmailIndex::build(&c).unwrap();
        let all = ix.all();
        let col = Column::parse("SenderFromDomain").unwrap();
        let f = ix.frequency(&all, col);
        let got: Vec<(&str, usize)> = f.rows.iter().map(|r| (r.value.as_str(), r.count)).collect();
        assert_eq!(
            got,
            [
                ("beta.com", 2),
                ("zeta.com", 2),
                ("alpha.com", 1),
                ("gamma.com", 1)
            ]
        );
        assert_eq!(f.total, 6);
        assert_eq!(ix.frequency_top(&all, col, 3).rows[..], f.rows[..3]);
        // The term is written on demand, and selects exactly the value's rows.
        assert_eq!(f.rows[0].term().as_deref(), Some("sender-domain:beta.com"));
        for r in &f.rows {
            let term = r.term().unwrap();
            let q = crate::lang::parse(crate::lang::Entity::Emails, &term).unwrap();
            assert_eq!(ix.eval(&q, Utc::now()).unwrap().count(), r.count, "{term}");
        }
        let json = serde_json::to_value(&f.rows[0]).unwrap();
        assert_eq!(json["term"], "sender-domain:beta.com");
        // Numbers: the term is the number's.
        let bcl = ix.frequency(&all, Column::parse("BulkComplaintLevel").unwrap());
        let terms: Vec<Option<String>> = bcl.rows.iter().map(FrequencyRow::term).collect();
        assert_eq!(
            terms,
            [Some("bcl:0".to_string()), Some("bcl:1".to_string())]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn top_tabs_count_by_their_column_and_drop_the_empty_value() {
        let dir = std::env::temp_dir().join(format!("ww-top-tabs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut c = Cache::open(&dir.join("c.sqlite")).unwrap();
        c.write(|w| {
            w.upsert_rows(&[
                event("n1", "ceo@contoso.com", "Trojan:Win32/Qakbot"),
                event("n1", "cfo@contoso.com", "Trojan:Win32/Qakbot"),
                event("n2", "ceo@contoso.com", "Trojan:Win32/Emotet"),
                event("n3", "ceo@contoso.com", ""),
                event("n4", "cfo@contoso.com", ""),
                event("n5", "ceo@contoso.com", ""),
            ])
        })
        .unwrap();
        let ix = EmailIndex::build(&c).unwrap();
        let all = ix.all();
        let families = ix.top_tab(&all, TopTab::MalwareFamilies);
        let got: Vec<(&str, usize)> = families
            .rows
            .iter()
            .map(|r| (r.value.as_str(), r.count))
            .collect();
        // Three rows have no family: the most frequent value, yet not a top row.
        assert_eq!(
            got,
            [("Trojan:Win32/Qakbot", 2), ("Trojan:Win32/Emotet", 1)]
        );
        assert_eq!(families.total, 6);
        // A bin's term selects exactly that family.
        let term = families.rows[0].term().unwrap();
        let f = crate::lang::parse(crate::lang::Entity::Emails, &term).unwrap();
        assert_eq!(ix.eval(&f, Utc::now()).unwrap().count(), 2, "{term}");
        let users = ix.top_tab(&all, TopTab::TargetedUsers);
        let got: Vec<(&str, usize)> = users
            .rows
            .iter()
            .map(|r| (r.value.as_str(), r.count))
            .collect();
        assert_eq!(got, [("ceo@contoso.com", 4), ("cfo@contoso.com", 2)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
