//! Related-entity pivots: from one email row to the filter that selects everything
//! related to it (same cluster, sender IP, URL domain, attachment hash, campaign,
//! recipient) or to its alerts. A pivot is a filter, so the view it opens can be
//! written down, pasted into a ticket and run remotely like any other.

use serde::Serialize;

use super::schema as s;
use super::{EmailIndex, RowSet};
use crate::lang::ast::{CmpOp, Expr, Filter, Term};
use crate::lang::fields::{Entity, Field};
use crate::lang::print::print;

/// What to pivot on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pivot {
    /// Mail in the same `EmailClusterId`.
    SameCluster,
    /// Mail from the same sender IP.
    SameSenderIp,
    /// Mail from the same sender address.
    SameSender,
    /// Mail with a URL on one of this message's URL domains.
    SameUrlDomain,
    /// Mail carrying one of this copy's attachment hashes.
    SameAttachmentHash,
    /// The messages of this message's campaigns.
    SameCampaign,
    /// The recipient's mail.
    RecipientMail,
    /// The recipient's alerts (`user:`).
    RecipientAlerts,
    /// The alerts whose evidence names this message.
    MessageAlerts,
}

/// Where a pivot leads: an entity and a filter over it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PivotTarget {
    /// The entity the view shows.
    pub entity: Entity,
    /// The filter; for [`Pivot::MessageAlerts`] the alerts are listed by id instead.
    pub filter: Filter,
    /// The filter as text.
    pub text: String,
    /// Alert ids, for [`Pivot::MessageAlerts`].
    pub alert_ids: Vec<String>,
}

fn matching(field: Field, mut values: Vec<String>) -> Option<Filter> {
    values.retain(|v| !v.is_empty() && !v.starts_with('*') && !v.ends_with('*'));
    values.sort();
    values.dedup();
    if values.is_empty() {
        return None;
    }
    Some(Filter {
        root: Some(Expr::Term(Term::Match { field, values })),
    })
}

impl EmailIndex {
    /// The distinct values of a side-table column for message `m`.
    fn side_values(&self, side: &super::side::ByMessage, col: usize, m: u32) -> Vec<String> {
        side.message
            .iter()
            .enumerate()
            .filter(|(_, x)| **x == m)
            .map(|(e, _)| side.columns[col].value(e).to_string())
            .collect()
    }

    /// Where `pivot` leads from `row`; `None` when the row has no such value (no URLs,
    /// no attachments, no campaign).
    pub fn pivot(&self, row: usize, pivot: Pivot) -> Option<PivotTarget> {
        let m = self.s(s::NMID).codes.get(row);
        let v = |c: usize| self.s(c).value(row).to_string();
        let emails = |f: Option<Filter>| {
            f.map(|filter| PivotTarget {
                entity: Entity::Emails,
                text: print(&filter),
                filter,
                alert_ids: Vec::new(),
            })
        };
        match pivot {
            Pivot::SameCluster => {
                let c = self.n(s::CLUSTER).get(row)?;
                emails(Some(Filter {
                    root: Some(Expr::Term(Term::Number {
                        field: Field::Cluster,
                        op: CmpOp::Eq,
                        values: vec![c],
                    })),
                }))
            }
            Pivot::SameSenderIp => {
                let ip = if v(s::IPV4).is_empty() {
                    v(s::IPV6)
                } else {
                    v(s::IPV4)
                };
                emails(matching(Field::Ip, vec![ip]))
            }
            Pivot::SameSender => emails(matching(Field::From, vec![v(s::FROM)])),
            Pivot::RecipientMail => emails(matching(Field::To, vec![v(s::RECIPIENT)])),
            Pivot::SameUrlDomain => emails(matching(
                Field::UrlDomain,
                self.side_values(&self.side.urls, 1, m),
            )),
            Pivot::SameCampaign => emails(matching(
                Field::Campaign,
                self.side_values(&self.side.campaigns, 0, m),
            )),
            Pivot::SameAttachmentHash => {
                let a = &self.side.attachments;
                let hashes = a
                    .row
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| **r as usize == row)
                    .map(|(e, _)| a.columns[1].value(e).to_string())
                    .collect();
                emails(matching(Field::Sha256, hashes))
            }
            Pivot::RecipientAlerts => {
                matching(Field::User, vec![v(s::RECIPIENT)]).map(|filter| PivotTarget {
                    entity: Entity::Alerts,
                    text: print(&filter),
                    filter,
                    alert_ids: Vec::new(),
                })
            }
            Pivot::MessageAlerts => {
                let mut ids = self.side_values(&self.side.alerts, 0, m);
                ids.sort();
                ids.dedup();
                (!ids.is_empty()).then(|| PivotTarget {
                    entity: Entity::Alerts,
                    filter: Filter::all(),
                    text: String::new(),
                    alert_ids: ids,
                })
            }
        }
    }

    /// The email rows an alert's evidence names (by message): `alert:ID`.
    pub fn alert_messages(&self, alert_id: &str) -> RowSet {
        let f = Filter {
            root: Some(Expr::Term(Term::Match {
                field: Field::Alert,
                values: vec![alert_id.to_string()],
            })),
        };
        self.eval(&f, chrono::Utc::now())
            .unwrap_or_else(|_| RowSet::new(self.rows))
    }
}
