//! The world seen as advanced-hunting tables. Values are read on demand from the
//! compact layout, so querying never copies the world.

use std::sync::Arc;

use super::World;
use super::alerts::Evidence;
use super::types::RecipientRow;
use std::fmt::Write as _;

use crate::kql::json::{write_escaped, write_escaped_inner, write_value};
use crate::kql::table::write_datetime;
use crate::kql::{Catalog, Column, ColumnType as T, Table, Value};

const EMAIL_EVENTS: &[(&str, T)] = &[
    ("Timestamp", T::DateTime),
    ("NetworkMessageId", T::String),
    ("InternetMessageId", T::String),
    ("SenderMailFromAddress", T::String),
    ("SenderFromAddress", T::String),
    ("SenderDisplayName", T::String),
    ("SenderObjectId", T::String),
    ("SenderMailFromDomain", T::String),
    ("SenderFromDomain", T::String),
    ("SenderIPv4", T::String),
    ("SenderIPv6", T::String),
    ("RecipientEmailAddress", T::String),
    ("RecipientObjectId", T::String),
    ("Subject", T::String),
    ("EmailClusterId", T::Long),
    ("EmailDirection", T::String),
    ("DeliveryAction", T::String),
    ("DeliveryLocation", T::String),
    ("ThreatTypes", T::String),
    ("ThreatNames", T::String),
    ("DetectionMethods", T::String),
    ("ConfidenceLevel", T::String),
    ("BulkComplaintLevel", T::Int),
    ("EmailAction", T::String),
    ("EmailActionPolicy", T::String),
    ("EmailActionPolicyGuid", T::String),
    ("AuthenticationDetails", T::String),
    ("AttachmentCount", T::Int),
    ("UrlCount", T::Int),
    ("EmailLanguage", T::String),
    ("Connectors", T::String),
    ("OrgLevelAction", T::String),
    ("OrgLevelPolicy", T::String),
    ("UserLevelAction", T::String),
    ("UserLevelPolicy", T::String),
    ("ReportId", T::String),
    ("AdditionalFields", T::String),
    ("LatestDeliveryLocation", T::String),
    ("LatestDeliveryAction", T::String),
    ("Context", T::String),
];

const EMAIL_URL_INFO: &[(&str, T)] = &[
    ("Timestamp", T::DateTime),
    ("NetworkMessageId", T::String),
    ("Url", T::String),
    ("UrlDomain", T::String),
    ("UrlLocation", T::String),
    ("ReportId", T::String),
];

const EMAIL_ATTACHMENT_INFO: &[(&str, T)] = &[
    ("Timestamp", T::DateTime),
    ("NetworkMessageId", T::String),
    ("SenderFromAddress", T::String),
    ("SenderDisplayName", T::String),
    ("SenderObjectId", T::String),
    ("RecipientEmailAddress", T::String),
    ("RecipientObjectId", T::String),
    ("FileName", T::String),
    ("FileType", T::String),
    ("SHA256", T::String),
    ("FileSize", T::Long),
    ("ThreatTypes", T::String),
    ("ThreatNames", T::String),
    ("DetectionMethods", T::String),
    ("ReportId", T::String),
];

const EMAIL_POST_DELIVERY_EVENTS: &[(&str, T)] = &[
    ("Timestamp", T::DateTime),
    ("NetworkMessageId", T::String),
    ("InternetMessageId", T::String),
    ("Action", T::String),
    ("ActionType", T::String),
    ("ActionTrigger", T::String),
    ("ActionResult", T::String),
    ("RecipientEmailAddress", T::String),
    ("DeliveryLocation", T::String),
    ("ThreatTypes", T::String),
    ("DetectionMethods", T::String),
    ("ReportId", T::String),
];

const URL_CLICK_EVENTS: &[(&str, T)] = &[
    ("Timestamp", T::DateTime),
    ("Url", T::String),
    ("ActionType", T::String),
    ("AccountUpn", T::String),
    ("Workload", T::String),
    ("NetworkMessageId", T::String),
    ("ThreatTypes", T::String),
    ("DetectionMethods", T::String),
    ("IPAddress", T::String),
    ("IsClickedThrough", T::Bool),
    ("UrlChain", T::String),
    ("ReportId", T::String),
];

const CAMPAIGN_INFO: &[(&str, T)] = &[
    ("Timestamp", T::DateTime),
    ("CampaignName", T::String),
    ("CampaignId", T::String),
    ("CampaignType", T::String),
    ("CampaignSubtype", T::String),
    ("NetworkMessageId", T::String),
    ("RecipientEmailAddress", T::String),
    ("ReportId", T::String),
];

const IDENTITY_INFO: &[(&str, T)] = &[
    ("Timestamp", T::DateTime),
    ("AccountObjectId", T::String),
    ("AccountUpn", T::String),
    ("AccountDisplayName", T::String),
    ("GivenName", T::String),
    ("Surname", T::String),
    ("Department", T::String),
    ("JobTitle", T::String),
    ("Country", T::String),
    ("IsAccountEnabled", T::Bool),
    ("EmailAddress", T::String),
    ("AccountName", T::String),
    ("AccountDomain", T::String),
];

const ALERT_INFO: &[(&str, T)] = &[
    ("Timestamp", T::DateTime),
    ("AlertId", T::String),
    ("Title", T::String),
    ("Category", T::String),
    ("Severity", T::String),
    ("ServiceSource", T::String),
    ("DetectionSource", T::String),
    ("AttackTechniques", T::String),
];

const ALERT_EVIDENCE: &[(&str, T)] = &[
    ("Timestamp", T::DateTime),
    ("AlertId", T::String),
    ("Title", T::String),
    ("Categories", T::String),
    ("AttackTechniques", T::String),
    ("ServiceSource", T::String),
    ("DetectionSource", T::String),
    ("EntityType", T::String),
    ("EvidenceRole", T::String),
    ("NetworkMessageId", T::String),
    ("EmailSubject", T::String),
    ("AccountUpn", T::String),
    ("AccountObjectId", T::String),
    ("AccountName", T::String),
    ("AccountDomain", T::String),
    ("RemoteUrl", T::String),
    ("ThreatFamily", T::String),
];

/// Every advanced-hunting table the simulator serves, with its documented columns.
pub const SCHEMAS: &[(&str, &[(&str, T)])] = &[
    ("EmailEvents", EMAIL_EVENTS),
    ("EmailUrlInfo", EMAIL_URL_INFO),
    ("EmailAttachmentInfo", EMAIL_ATTACHMENT_INFO),
    ("EmailPostDeliveryEvents", EMAIL_POST_DELIVERY_EVENTS),
    ("UrlClickEvents", URL_CLICK_EVENTS),
    ("CampaignInfo", CAMPAIGN_INFO),
    ("IdentityInfo", IDENTITY_INFO),
    ("AlertInfo", ALERT_INFO),
    ("AlertEvidence", ALERT_EVIDENCE),
];

const SERVICE: &str = "Microsoft Defender for Office 365";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    EmailEvents,
    EmailUrlInfo,
    EmailAttachmentInfo,
    EmailPostDeliveryEvents,
    UrlClickEvents,
    CampaignInfo,
    IdentityInfo,
    AlertInfo,
    AlertEvidence,
}

/// One table of the world.
struct WorldTable<'w> {
    world: &'w World,
    which: Which,
    name: &'static str,
    columns: Vec<Column>,
    /// Row indices for tables derived by filtering or flattening.
    index: Arc<Vec<(u32, u32)>>,
}

/// The catalog `runHuntingQuery` evaluates against.
pub struct HuntingCatalog<'w> {
    tables: Vec<WorldTable<'w>>,
}

impl<'w> HuntingCatalog<'w> {
    pub fn new(world: &'w World) -> Self {
        let which = [
            Which::EmailEvents,
            Which::EmailUrlInfo,
            Which::EmailAttachmentInfo,
            Which::EmailPostDeliveryEvents,
            Which::UrlClickEvents,
            Which::CampaignInfo,
            Which::IdentityInfo,
            Which::AlertInfo,
            Which::AlertEvidence,
        ];
        let tables = SCHEMAS
            .iter()
            .zip(which)
            .map(|((name, cols), which)| WorldTable {
                world,
                which,
                name,
                columns: cols.iter().map(|(n, t)| Column::new(*n, *t)).collect(),
                index: match which {
                    Which::CampaignInfo => world.campaign_index(),
                    Which::AlertEvidence => world.evidence_index(),
                    _ => Arc::new(Vec::new()),
                },
            })
            .collect();
        HuntingCatalog { tables }
    }

    /// The catalog of a Plan 1 tenant (no Campaign Views): `CampaignInfo` is empty.
    pub fn without_campaign_views(mut self) -> Self {
        for t in &mut self.tables {
            if t.which == Which::CampaignInfo {
                t.index = Arc::new(Vec::new());
            }
        }
        self
    }
}

impl Catalog for HuntingCatalog<'_> {
    fn table(&self, name: &str) -> Option<&dyn Table> {
        self.tables
            .iter()
            .find(|t| t.name == name)
            .map(|t| t as &dyn Table)
    }
    fn table_names(&self) -> Vec<String> {
        self.tables.iter().map(|t| t.name.to_string()).collect()
    }
}

fn s(v: &Arc<str>) -> Value {
    Value::String(v.clone())
}

fn st(v: &'static str) -> Value {
    Value::String(Arc::from(v))
}

fn report_id(prefix: char, i: usize) -> Value {
    Value::String(Arc::from(format!("{prefix}{:08}", i + 1)))
}

impl World {
    /// `InternetMessageId`, derived from the network id and the sender's domain.
    pub fn internet_message_id(&self, message: u32) -> String {
        let m = &self.messages[message as usize];
        let domain = self.s(self.parties[m.from as usize].domain);
        format!(
            "<{:016x}.{:04x}@{}>",
            (m.id.0 >> 64) as u64,
            m.id.0 as u16,
            domain
        )
    }

    fn campaign_index(&self) -> Arc<Vec<(u32, u32)>> {
        Arc::new(
            self.rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    self.messages[r.message as usize]
                        .campaign
                        .map(|c| (i as u32, u32::from(c)))
                })
                .collect(),
        )
    }

    fn evidence_index(&self) -> Arc<Vec<(u32, u32)>> {
        let mut v = Vec::new();
        for (a, alert) in self.alerts.iter().enumerate() {
            for e in 0..alert.evidence.len() {
                v.push((a as u32, e as u32));
            }
        }
        Arc::new(v)
    }

    fn party_value(&self, p: u32, what: u8) -> Value {
        let party = &self.parties[p as usize];
        match what {
            0 => s(self.s(party.address)),
            1 => s(self.s(party.display_name)),
            2 => s(self.s(party.domain)),
            _ => party
                .object_id
                .map_or(Value::str(""), |g| Value::String(Arc::from(g.to_string()))),
        }
    }

    fn email_event(&self, i: usize, r: &RecipientRow, col: usize) -> Value {
        let m = &self.messages[r.message as usize];
        let v = &self.verdicts[m.verdict as usize];
        match col {
            0 => Value::DateTime(m.time),
            1 => Value::String(Arc::from(m.id.to_string())),
            2 => Value::String(Arc::from(self.internet_message_id(r.message))),
            3 => s(self.s(m.mail_from)),
            4 => self.party_value(m.from, 0),
            5 => self.party_value(m.from, 1),
            6 => self.party_value(m.from, 3),
            7 => Value::str(self.s(m.mail_from).rsplit_once('@').map_or("", |(_, d)| d)),
            8 => self.party_value(m.from, 2),
            9 => s(self.s(m.ip)),
            10 => Value::str(""),
            11 => self.party_value(r.recipient, 0),
            12 => self.party_value(r.recipient, 3),
            13 => s(self.s(m.subject)),
            14 => Value::Long(m.cluster),
            15 => st(m.direction.as_str()),
            16 => st(r.action.as_str()),
            17 => st(r.original.as_str()),
            18 => s(self.s(v.threat_types)),
            19 => s(self.s(v.threat_names)),
            20 => s(self.s(v.detection_methods)),
            21 => s(self.s(v.confidence)),
            22 => Value::Int(m.bcl),
            23 => s(self.s(v.email_action)),
            24 => s(self.s(v.policy)),
            25 => s(self.s(v.policy_guid)),
            26 => s(self.s(m.auth)),
            27 => Value::Int(i32::from(m.attachment_count)),
            28 => Value::Int(i32::from(m.url_count)),
            29 => s(self.s(m.language)),
            30 => s(self.s(m.connector)),
            31 => s(self.s(v.org_action)),
            32 => s(self.s(v.org_policy)),
            33 => s(self.s(v.user_action)),
            34 => s(self.s(v.user_policy)),
            35 => report_id('E', i),
            36 => Value::String(Arc::from(format!(r#"{{"EmailSize":{}}}"#, m.size))),
            37 => st(r.latest.as_str()),
            38 => s(self.s(r.latest_action)),
            _ => st(if r.priority_context {
                super::mail::PRIORITY_CONTEXT
            } else {
                ""
            }),
        }
    }

    fn party_json(&self, p: u32, what: u8, out: &mut String) {
        let party = &self.parties[p as usize];
        match what {
            0 => write_escaped(out, self.s(party.address)),
            1 => write_escaped(out, self.s(party.display_name)),
            2 => write_escaped(out, self.s(party.domain)),
            _ => match party.object_id {
                Some(g) => {
                    let _ = write!(out, "\"{g}\"");
                }
                None => out.push_str("\"\""),
            },
        }
    }

    /// [`World::email_event`] written straight as JSON: no `Value`, no string
    /// allocated per cell (a test checks both agree on every column).
    fn email_event_json(&self, i: usize, r: &RecipientRow, col: usize, out: &mut String) {
        let m = &self.messages[r.message as usize];
        let v = &self.verdicts[m.verdict as usize];
        match col {
            0 => {
                out.push('"');
                write_datetime(out, m.time);
                out.push('"');
            }
            1 => {
                let _ = write!(out, "\"{}\"", m.id);
            }
            2 => {
                let domain = self.s(self.parties[m.from as usize].domain);
                let _ = write!(
                    out,
                    "\"<{:016x}.{:04x}@",
                    (m.id.0 >> 64) as u64,
                    m.id.0 as u16
                );
                write_escaped_inner(out, domain);
                out.push_str(">\"");
            }
            3 => write_escaped(out, self.s(m.mail_from)),
            4 => self.party_json(m.from, 0, out),
            5 => self.party_json(m.from, 1, out),
            6 => self.party_json(m.from, 3, out),
            7 => write_escaped(
                out,
                self.s(m.mail_from).rsplit_once('@').map_or("", |(_, d)| d),
            ),
            8 => self.party_json(m.from, 2, out),
            9 => write_escaped(out, self.s(m.ip)),
            10 => out.push_str("\"\""),
            11 => self.party_json(r.recipient, 0, out),
            12 => self.party_json(r.recipient, 3, out),
            13 => write_escaped(out, self.s(m.subject)),
            14 => {
                let _ = write!(out, "{}", m.cluster);
            }
            15 => write_escaped(out, m.direction.as_str()),
            16 => write_escaped(out, r.action.as_str()),
            17 => write_escaped(out, r.original.as_str()),
            18 => write_escaped(out, self.s(v.threat_types)),
            19 => write_escaped(out, self.s(v.threat_names)),
            20 => write_escaped(out, self.s(v.detection_methods)),
            21 => write_escaped(out, self.s(v.confidence)),
            22 => {
                let _ = write!(out, "{}", m.bcl);
            }
            23 => write_escaped(out, self.s(v.email_action)),
            24 => write_escaped(out, self.s(v.policy)),
            25 => write_escaped(out, self.s(v.policy_guid)),
            26 => write_escaped(out, self.s(m.auth)),
            27 => {
                let _ = write!(out, "{}", m.attachment_count);
            }
            28 => {
                let _ = write!(out, "{}", m.url_count);
            }
            29 => write_escaped(out, self.s(m.language)),
            30 => write_escaped(out, self.s(m.connector)),
            31 => write_escaped(out, self.s(v.org_action)),
            32 => write_escaped(out, self.s(v.org_policy)),
            33 => write_escaped(out, self.s(v.user_action)),
            34 => write_escaped(out, self.s(v.user_policy)),
            35 => {
                let _ = write!(out, "\"E{:08}\"", i + 1);
            }
            36 => {
                let _ = write!(out, "\"{{\\\"EmailSize\\\":{}}}\"", m.size);
            }
            37 => write_escaped(out, r.latest.as_str()),
            38 => write_escaped(out, self.s(r.latest_action)),
            _ => write_escaped(
                out,
                if r.priority_context {
                    super::mail::PRIORITY_CONTEXT
                } else {
                    ""
                },
            ),
        }
    }

    /// The verdict a post-delivery action or click carries: the kind the service
    /// found, even when the message had no verdict at delivery.
    fn late_threat(&self, message: u32) -> &'static str {
        let m = &self.messages[message as usize];
        if m.kind.is_phish() {
            "Phish"
        } else if m.kind == super::Kind::Malware {
            "Malware"
        } else {
            ""
        }
    }

    fn evidence_value(&self, a: usize, e: usize, col: usize) -> Value {
        let alert = &self.alerts[a];
        let ev = &alert.evidence[e];
        let user = match ev {
            Evidence::User { user } | Evidence::Mailbox { user } => Some(*user as usize),
            _ => None,
        };
        let row = match ev {
            Evidence::Message { row } => Some(&self.rows[*row as usize]),
            _ => None,
        };
        match col {
            0 => Value::DateTime(alert.created),
            1 => Value::str(&alert.id),
            2 => st(alert.title),
            3 => Value::String(Arc::from(format!(r#"["{}"]"#, alert.category))),
            4 => Value::String(Arc::from(
                serde_json::to_string(&alert.mitre).unwrap_or_default(),
            )),
            5 | 6 => st(SERVICE),
            7 => st(match ev {
                Evidence::Message { .. } => "MailMessage",
                Evidence::User { .. } => "User",
                Evidence::Url { .. } => "Url",
                Evidence::Mailbox { .. } => "Mailbox",
            }),
            8 => st(
                if matches!(ev, Evidence::Message { .. } | Evidence::Url { .. }) {
                    "Related"
                } else {
                    "Impacted"
                },
            ),
            9 => row.map_or(Value::str(""), |r| {
                Value::String(Arc::from(self.messages[r.message as usize].id.to_string()))
            }),
            10 => row.map_or(Value::str(""), |r| {
                s(self.s(self.messages[r.message as usize].subject))
            }),
            11 => match (user, row) {
                (Some(u), _) => s(&self.directory.users[u].upn),
                (None, Some(r)) => self.party_value(r.recipient, 0),
                _ => Value::str(""),
            },
            12 => user.map_or(Value::str(""), |u| {
                Value::String(Arc::from(self.directory.users[u].id.to_string()))
            }),
            13 => user.map_or(Value::str(""), |u| {
                Value::str(self.directory.users[u].upn.split('@').next().unwrap_or(""))
            }),
            14 => user.map_or(Value::str(""), |_| Value::str(super::vocab::TENANT_DOMAIN)),
            15 => match ev {
                Evidence::Url { url } => s(self.s(self.urls[*url as usize].url)),
                _ => Value::str(""),
            },
            _ => Value::str(alert.threat_family.as_deref().unwrap_or("")),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

impl Table for WorldTable<'_> {
    fn name(&self) -> &str {
        self.name
    }
    fn columns(&self) -> &[Column] {
        &self.columns
    }
    fn len(&self) -> usize {
        let w = self.world;
        match self.which {
            Which::EmailEvents => w.rows.len(),
            Which::EmailUrlInfo => w.urls.len(),
            Which::EmailAttachmentInfo => w.attachment_rows.len(),
            Which::EmailPostDeliveryEvents => w.post_delivery.len(),
            Which::UrlClickEvents => w.clicks.len(),
            Which::CampaignInfo | Which::AlertEvidence => self.index.len(),
            Which::IdentityInfo => w.directory.users.len(),
            Which::AlertInfo => w.alerts.len(),
        }
    }
    fn sorted_time_column(&self) -> Option<usize> {
        match self.which {
            Which::AlertInfo | Which::AlertEvidence => None,
            _ => Some(0),
        }
    }
    fn write_json(&self, i: usize, col: usize, out: &mut String) {
        let w = self.world;
        match self.which {
            Which::EmailEvents => w.email_event_json(i, &w.rows[i], col, out),
            _ => write_value(out, &self.value(i, col)),
        }
    }
    fn value(&self, i: usize, col: usize) -> Value {
        let w = self.world;
        match self.which {
            Which::EmailEvents => w.email_event(i, &w.rows[i], col),
            Which::EmailUrlInfo => {
                let u = &w.urls[i];
                let m = &w.messages[u.message as usize];
                match col {
                    0 => Value::DateTime(m.time),
                    1 => Value::String(Arc::from(m.id.to_string())),
                    2 => s(w.s(u.url)),
                    3 => s(w.s(u.domain)),
                    4 => s(w.s(u.location)),
                    _ => report_id('U', i),
                }
            }
            Which::EmailAttachmentInfo => {
                let (a, row) = w.attachment_rows[i];
                let att = &w.attachments[a as usize];
                let r = &w.rows[row as usize];
                let m = &w.messages[att.message as usize];
                let v = &w.verdicts[m.verdict as usize];
                let flagged = att.malicious && !w.s(v.threat_types).is_empty();
                match col {
                    0 => Value::DateTime(m.time),
                    1 => Value::String(Arc::from(m.id.to_string())),
                    2 => w.party_value(m.from, 0),
                    3 => w.party_value(m.from, 1),
                    4 => w.party_value(m.from, 3),
                    5 => w.party_value(r.recipient, 0),
                    6 => w.party_value(r.recipient, 3),
                    7 => s(w.s(att.file_name)),
                    8 => s(w.s(att.file_type)),
                    9 => s(w.s(att.sha256)),
                    10 => Value::Long(i64::from(att.size)),
                    11 => st(if flagged { "Malware" } else { "" }),
                    12 => {
                        if flagged {
                            s(w.s(v.threat_names))
                        } else {
                            Value::str("")
                        }
                    }
                    13 => {
                        if flagged {
                            s(w.s(v.detection_methods))
                        } else {
                            Value::str("")
                        }
                    }
                    _ => report_id('A', i),
                }
            }
            Which::EmailPostDeliveryEvents => {
                let e = &w.post_delivery[i];
                let r = &w.rows[e.row as usize];
                match col {
                    0 => Value::DateTime(e.time),
                    1 => Value::String(Arc::from(w.messages[r.message as usize].id.to_string())),
                    2 => Value::String(Arc::from(w.internet_message_id(r.message))),
                    3 => s(w.s(e.action)),
                    4 => s(w.s(e.action_type)),
                    5 => s(w.s(e.trigger)),
                    6 => s(w.s(e.result)),
                    7 => w.party_value(r.recipient, 0),
                    8 => st(e.location.as_str()),
                    9 => st(w.late_threat(r.message)),
                    10 => st(if w.late_threat(r.message).is_empty() {
                        ""
                    } else {
                        r#"{"Phish":["ZAP"]}"#
                    }),
                    _ => report_id('P', i),
                }
            }
            Which::UrlClickEvents => {
                let c = &w.clicks[i];
                let r = &w.rows[c.row as usize];
                let u = &w.urls[c.url as usize];
                match col {
                    0 => Value::DateTime(c.time),
                    1 => s(w.s(u.url)),
                    2 => s(w.s(c.action_type)),
                    3 => w.party_value(r.recipient, 0),
                    4 => Value::str("Email"),
                    5 => Value::String(Arc::from(w.messages[r.message as usize].id.to_string())),
                    6 => st(if u.malicious {
                        w.late_threat(r.message)
                    } else {
                        ""
                    }),
                    7 => st(if u.malicious {
                        r#"{"Phish":["URL detonation reputation"]}"#
                    } else {
                        ""
                    }),
                    8 => s(w.s(c.ip)),
                    9 => Value::Bool(c.clicked_through),
                    10 => Value::String(Arc::from(
                        serde_json::to_string(&[&**w.s(u.url)]).unwrap_or_default(),
                    )),
                    _ => report_id('C', i),
                }
            }
            Which::CampaignInfo => {
                let (row, c) = self.index[i];
                let r = &w.rows[row as usize];
                let m = &w.messages[r.message as usize];
                let camp = &w.campaigns[c as usize];
                match col {
                    0 => Value::DateTime(m.time),
                    1 => s(w.s(camp.name)),
                    2 => Value::String(Arc::from(camp.id.to_string())),
                    3 => s(w.s(camp.campaign_type)),
                    4 => s(w.s(camp.subtype)),
                    5 => Value::String(Arc::from(m.id.to_string())),
                    6 => w.party_value(r.recipient, 0),
                    _ => report_id('K', i),
                }
            }
            Which::IdentityInfo => {
                let u = &w.directory.users[i];
                match col {
                    0 => Value::DateTime(w.now() - 3600 * crate::kql::TICKS_PER_SECOND),
                    1 => Value::String(Arc::from(u.id.to_string())),
                    2 | 10 => s(&u.upn),
                    3 => s(&u.display_name),
                    4 => s(&u.given_name),
                    5 => s(&u.surname),
                    6 => s(&u.department),
                    7 => s(&u.job_title),
                    8 => s(&u.country),
                    9 => Value::Bool(u.enabled),
                    11 => Value::str(u.upn.split('@').next().unwrap_or("")),
                    _ => Value::str(super::vocab::TENANT_DOMAIN),
                }
            }
            Which::AlertInfo => {
                let a = &w.alerts[i];
                match col {
                    0 => Value::DateTime(a.created),
                    1 => Value::str(&a.id),
                    2 => st(a.title),
                    3 => st(a.category),
                    4 => Value::String(Arc::from(capitalise(a.severity))),
                    5 | 6 => st(SERVICE),
                    _ => Value::String(Arc::from(
                        serde_json::to_string(&a.mitre).unwrap_or_default(),
                    )),
                }
            }
            Which::AlertEvidence => {
                let (a, e) = self.index[i];
                w.evidence_value(a as usize, e as usize, col)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WorldParams;

    #[test]
    fn email_events_written_as_json_equal_their_values() {
        let params = WorldParams {
            seed: 3,
            now: chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            users: 60,
            days: 3,
            emails_per_day: 400,
        };
        let world = World::generate(&params).unwrap();
        let catalog = HuntingCatalog::new(&world);
        let table = catalog.table("EmailEvents").unwrap();
        assert!(table.len() > 1000);
        for i in 0..table.len() {
            for c in 0..table.columns().len() {
                let (mut fast, mut slow) = (String::new(), String::new());
                table.write_json(i, c, &mut fast);
                write_value(&mut slow, &table.value(i, c));
                assert_eq!(fast, slow, "row {i} column {}", table.columns()[c].name);
            }
        }
    }
}
