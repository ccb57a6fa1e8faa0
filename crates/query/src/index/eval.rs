//! `Filter` → row set over the email index, term by term, with exactly the semantics
//! of [`crate::lang::fields`] (the same table the KQL compiler follows), so a
//! local count equals the remote one. Each string term is decided once per distinct
//! value of its column; semi-joins are decided once per distinct side-table value,
//! then spread to messages and rows.

use chrono::{DateTime, Utc};

use super::bitset::Bitset;
use super::column::StrColumn;
use super::schema::{self as s};
use super::text::{self, Needle, Op, Pattern};
use super::{EmailIndex, IndexError, RowSet};
use crate::lang::ast::{CmpOp, Expr, Filter, Term, TimeFilter};
use crate::lang::fields::Field;
use whalewatch_config::PRIORITY_ACCOUNT;
use whalewatch_model::time::to_ticks;

/// The half-open tick interval of a time filter.
pub fn tick_bounds(t: &TimeFilter, now: DateTime<Utc>) -> (i64, i64) {
    let (from, to) = t.bounds(now);
    let ticks = |t: DateTime<Utc>| to_ticks(&t);
    (from.map_or(i64::MIN, ticks), to.map_or(i64::MAX, ticks))
}

fn exact(values: &[String]) -> Vec<Pattern> {
    values.iter().map(|v| Pattern::exact(v)).collect()
}

fn contains(values: &[String]) -> Vec<Pattern> {
    values.iter().map(|v| Pattern::contains(v)).collect()
}

/// `tostring(parse_json(json).key)`.
pub fn json_key(json: &str, key: &str) -> String {
    let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(json) else {
        return String::new();
    };
    match o.get(key) {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl EmailIndex {
    /// The rows `filter` selects; relative times resolve against `now`. Fails only
    /// for a tag that does not exist (with a suggestion).
    pub fn eval(&self, filter: &Filter, now: DateTime<Utc>) -> Result<RowSet, IndexError> {
        match &filter.root {
            None => Ok(self.all()),
            Some(e) => self.expr(e, now),
        }
    }

    fn expr(&self, e: &Expr, now: DateTime<Utc>) -> Result<Bitset, IndexError> {
        Ok(match e {
            Expr::And(kids) => {
                let mut acc = self.expr(&kids[0], now)?;
                for k in &kids[1..] {
                    acc.and_with(&self.expr(k, now)?);
                }
                acc
            }
            Expr::Or(kids) => {
                let mut acc = self.expr(&kids[0], now)?;
                for k in &kids[1..] {
                    acc.or_with(&self.expr(k, now)?);
                }
                acc
            }
            Expr::Not(inner) => {
                let mut b = self.expr(inner, now)?;
                b.negate();
                b
            }
            Expr::Term(t) => self.term(t, now)?,
        })
    }

    fn col(&self, i: usize) -> &StrColumn {
        self.s(i)
    }

    fn any_of(&self, col: usize, patterns: &[Pattern]) -> Bitset {
        self.col(col).select(|v| text::any(patterns, v))
    }

    /// Rows of the messages flagged in `hit` (indexed by message code).
    fn rows_of_messages(&self, hit: &[bool]) -> Bitset {
        if !hit.iter().any(|&h| h) {
            return Bitset::new(self.rows);
        }
        self.col(s::NMID).codes.select(hit)
    }

    fn term(&self, t: &Term, now: DateTime<Utc>) -> Result<Bitset, IndexError> {
        let (field, values) = match t {
            Term::Text(w) => {
                let p = [Pattern::contains(w)];
                let mut b = self.any_of(s::SUBJECT, &p);
                b.or_with(&self.any_of(s::FROM, &p));
                b.or_with(&self.any_of(s::DISPLAY_NAME, &p));
                return Ok(b);
            }
            Term::Time(f) => {
                let (from, to) = tick_bounds(f, now);
                return Ok(Bitset::from_fn(self.rows, |i| {
                    let t = self.time[i];
                    t >= from && t < to
                }));
            }
            Term::Number { field, op, values } => {
                let col = match field {
                    Field::Bcl => s::BCL,
                    Field::Size => s::SIZE,
                    Field::AttachmentCount => s::ATTACHMENT_COUNT,
                    Field::UrlCount => s::URL_COUNT,
                    _ => s::CLUSTER,
                };
                let (op, values) = (*op, values.clone());
                return Ok(self.n(col).select(move |x| match op {
                    CmpOp::Eq => values.contains(&x),
                    op => op.holds(x, values.first().copied().unwrap_or(0)),
                }));
            }
            Term::Match { field, values } => (*field, values.as_slice()),
        };
        let n = self.rows;
        Ok(match field {
            Field::From => self.any_of(s::FROM, &exact(values)),
            Field::SenderDomain => self.any_of(s::SENDER_DOMAIN, &exact(values)),
            Field::DisplayName => self.any_of(s::DISPLAY_NAME, &contains(values)),
            Field::MailFrom => self.any_of(s::MAIL_FROM, &exact(values)),
            Field::To => self.any_of(s::RECIPIENT, &exact(values)),
            Field::Subject => self.any_of(s::SUBJECT, &contains(values)),
            Field::Nmid => self.any_of(s::NMID, &exact(values)),
            Field::Imid => self.any_of(s::IMID, &exact(values)),
            Field::Language => self.any_of(s::LANGUAGE, &exact(values)),
            Field::Rule => self.any_of(s::RULE, &contains(values)),
            Field::Policy => self.any_of(s::POLICY, &contains(values)),
            Field::Ip => {
                let p = exact(values);
                let mut b = self.any_of(s::IPV4, &p);
                b.or_with(&self.any_of(s::IPV6, &p));
                b
            }
            Field::RecipientDomain => {
                let tests: Vec<Option<(Op, Needle)>> = values
                    .iter()
                    .map(|v| {
                        if v.chars().all(|c| c == '*') {
                            None
                        } else if let Some(suffix) = v.strip_prefix('*') {
                            Some((Op::EndsWith, Needle::new(suffix)))
                        } else if let Some(prefix) = v.strip_suffix('*') {
                            Some((Op::Contains, Needle::new(&format!("@{prefix}"))))
                        } else {
                            Some((Op::EndsWith, Needle::new(&format!("@{v}"))))
                        }
                    })
                    .collect();
                self.col(s::RECIPIENT).select(|a| {
                    tests.iter().any(|t| match t {
                        None => true,
                        Some((op, needle)) => needle.test(*op, a),
                    })
                })
            }
            Field::Tag | Field::Is => {
                let names: Vec<String> = if field == Field::Is {
                    vec![PRIORITY_ACCOUNT.to_string()]
                } else {
                    values.to_vec()
                };
                let mut acc = Bitset::new(n);
                for name in &names {
                    self.tags.resolve(name)?;
                    if let Some(pos) = self.tags.names().position(|t| t.eq_ignore_ascii_case(name))
                    {
                        acc.or_with(&self.tag_rows(pos));
                    }
                }
                acc
            }
            Field::Threat => {
                let needles: Vec<Option<Needle>> = values
                    .iter()
                    .map(|v| (!v.is_empty()).then(|| Needle::new(v)))
                    .collect();
                self.col(s::THREATS).select(|t| {
                    needles.iter().any(|n| match n {
                        None => t.is_empty(),
                        Some(n) => n.test(Op::Has, t),
                    })
                })
            }
            Field::Detection => {
                let needles: Vec<Needle> = values
                    .iter()
                    .map(|v| Needle::new(&format!("\"{v}\"")))
                    .collect();
                self.col(s::DETECTION)
                    .select(|d| needles.iter().any(|n| n.test(Op::Contains, d)))
            }
            Field::Delivery => self.any_eq(s::DELIVERY, values),
            Field::Location => self.any_eq(s::LOCATION, values),
            Field::OriginalLocation => self.any_eq(s::ORIGINAL_LOCATION, values),
            Field::Direction => self.any_eq(s::DIRECTION, values),
            Field::Context => {
                let needles: Vec<Option<Needle>> = values
                    .iter()
                    .map(|v| (!v.is_empty()).then(|| Needle::new(v)))
                    .collect();
                self.col(s::CONTEXT).select(|c| {
                    needles.iter().any(|n| match n {
                        None => c.is_empty(),
                        Some(n) => n.test(Op::Contains, c),
                    })
                })
            }
            Field::Spf | Field::Dkim | Field::Dmarc | Field::CompAuth => {
                let key = match field {
                    Field::Spf => "SPF",
                    Field::Dkim => "DKIM",
                    Field::Dmarc => "DMARC",
                    _ => "CompAuth",
                };
                self.col(s::AUTH).select(|j| {
                    let got = json_key(j, key);
                    values.iter().any(|v| text::eq_ci(&got, v))
                })
            }
            Field::Campaign => {
                let side = &self.side.campaigns;
                let ids = side.columns[0]
                    .dict
                    .matching(|v| text::any(&exact(values), v));
                let names = side.columns[1]
                    .dict
                    .matching(|v| text::any(&contains(values), v));
                let hit = side.messages(self.col(s::NMID).dict.len(), |e| {
                    ids[side.columns[0].codes.get(e) as usize]
                        || names[side.columns[1].codes.get(e) as usize]
                });
                self.rows_of_messages(&hit)
            }
            Field::Url => self.by_message(&self.side.urls, 0, &contains(values)),
            Field::UrlDomain => self.by_message(&self.side.urls, 1, &exact(values)),
            Field::Alert => self.by_message(&self.side.alerts, 0, &exact(values)),
            Field::Attachment | Field::Sha256 => {
                let col = usize::from(field == Field::Sha256);
                let side = &self.side.attachments;
                let p = exact(values);
                let hit = side.columns[col].dict.matching(|v| text::any(&p, v));
                side.rows(n, |e| hit[side.columns[col].codes.get(e) as usize])
            }
            Field::ThreatName => self.any_of(s::THREAT_NAMES, &contains(values)),
            Field::Connector => self.any_of(s::CONNECTORS, &contains(values)),
            Field::MailFromDomain => self.any_of(s::MAIL_FROM_DOMAIN, &exact(values)),
            Field::PhishConfidence => self.col(s::CONFIDENCE).select(|j| {
                let got = json_key(j, "Phish");
                values.iter().any(|v| text::eq_ci(&got, v))
            }),
            Field::Override => {
                let overridden = |a: &str| text::eq_ci(a, "Allow") || text::eq_ci(a, "Block");
                let mut acc = Bitset::new(n);
                for v in values {
                    let (col, action) = match v.as_str() {
                        "Allowed by org policy" => (s::ORG_ACTION, "Allow"),
                        "Blocked by org policy" => (s::ORG_ACTION, "Block"),
                        "Allowed by user policy" => (s::USER_ACTION, "Allow"),
                        "Blocked by user policy" => (s::USER_ACTION, "Block"),
                        _ => {
                            let mut any = self.col(s::ORG_ACTION).select(overridden);
                            any.or_with(&self.col(s::USER_ACTION).select(overridden));
                            any.negate();
                            acc.or_with(&any);
                            continue;
                        }
                    };
                    acc.or_with(&self.col(col).select(|a| text::eq_ci(a, action)));
                }
                acc
            }
            Field::FileType => {
                let side = &self.side.attachments;
                let p = exact(values);
                let hit = side.columns[2].dict.matching(|v| text::any(&p, v));
                side.rows(n, |e| hit[side.columns[2].codes.get(e) as usize])
            }
            Field::UrlSource => self.by_message(&self.side.urls, 2, &exact(values)),
            Field::ClickVerdict => {
                let side = &self.side.clicks.by_row;
                let hit = side.columns[0]
                    .dict
                    .matching(|v| values.iter().any(|x| text::eq_ci(v, x)));
                side.rows(n, |e| hit[side.columns[0].codes.get(e) as usize])
            }
            Field::AdditionalAction => {
                let side = &self.side.post_delivery;
                let p = exact(values);
                let hit = side.columns[0].dict.matching(|v| text::any(&p, v));
                side.rows(n, |e| hit[side.columns[0].codes.get(e) as usize])
            }
            Field::Clicked => yes_no(values, &self.side.clicked),
            Field::Zap => yes_no(values, &self.side.zapped),
            // Fields of other entities never parse for emails.
            _ => Bitset::new(n),
        })
    }

    fn any_eq(&self, col: usize, values: &[String]) -> Bitset {
        self.col(col)
            .select(|v| values.iter().any(|x| text::eq_ci(v, x)))
    }

    fn by_message(&self, side: &super::side::ByMessage, col: usize, p: &[Pattern]) -> Bitset {
        let hit = side.columns[col].dict.matching(|v| text::any(p, v));
        let msgs = side.messages(self.col(s::NMID).dict.len(), |e| {
            hit[side.columns[col].codes.get(e) as usize]
        });
        self.rows_of_messages(&msgs)
    }
}

/// `yes` → the flag, `no` → its complement, both → everything.
fn yes_no(values: &[String], flag: &Bitset) -> Bitset {
    let mut acc = Bitset::new(flag.len());
    for v in values {
        let mut b = flag.clone();
        if v != "yes" {
            b.negate();
        }
        acc.or_with(&b);
    }
    acc
}
