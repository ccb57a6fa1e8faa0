//! One filter term → one KQL predicate, per entity. The mapping is the semantics table
//! of [`crate::lang::fields`]; keep the two in step.

use chrono::{DateTime, Utc};

use super::expr::{K, contains_any, datetime, exact_any, in_ci, lit};
use super::{CompileError, TagResolver};
use crate::lang::ast::{CmpOp, Term, TimeFilter};
use crate::lang::error::closest;
use crate::lang::fields::{self, Entity, Field};
use whalewatch_config::PRIORITY_ACCOUNT;

/// What a term compiles against.
pub struct Cx<'a> {
    pub entity: Entity,
    pub tags: &'a dyn TagResolver,
    pub now: DateTime<Utc>,
}

/// The per-recipient key of `EmailEvents`, for semi-joins on message and recipient.
const RECIPIENT_KEY: &str = r#"strcat(NetworkMessageId, "|", tolower(RecipientEmailAddress))"#;

/// `NetworkMessageId in ((Table | where cond | project NetworkMessageId))`.
fn by_message(table: &str, cond: K) -> K {
    match cond {
        K::False => K::False,
        cond => K::atom(format!(
            "NetworkMessageId in (({table} | where {} | project NetworkMessageId))",
            cond.render()
        )),
    }
}

/// The row's message and recipient appear in `table` rows matching `cond`, whose
/// recipient column is `account`.
fn by_recipient(table: &str, account: &str, cond: K) -> K {
    match cond {
        K::False => K::False,
        cond => K::atom(format!(
            r#"{RECIPIENT_KEY} in (({table} | where {} | project Key = strcat(NetworkMessageId, "|", tolower({account}))))"#,
            cond.render()
        )),
    }
}

fn not_remote(field: Field, reason: &str) -> CompileError {
    CompileError::NotRemote {
        field: fields::spec(field).name.to_string(),
        reason: reason.to_string(),
    }
}

/// The member addresses of the tags named in `values` (`is:priority` passes the
/// built-in tag's name).
fn tag_members(cx: &Cx, values: &[String]) -> Result<Vec<String>, CompileError> {
    let names = cx.tags.tag_names();
    let mut out = Vec::new();
    for v in values {
        let name = names.iter().find(|n| n.eq_ignore_ascii_case(v)).cloned();
        let members = match name {
            Some(n) => cx.tags.members(&n),
            None if v.eq_ignore_ascii_case(PRIORITY_ACCOUNT) => Some(Vec::new()),
            None => None,
        };
        match members {
            Some(m) => out.extend(m),
            None => {
                return Err(CompileError::UnknownTag {
                    name: v.clone(),
                    suggestion: closest(v, names.iter().map(String::as_str)),
                    known: names.clone(),
                });
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|a| seen.insert(a.to_lowercase()));
    Ok(out)
}

/// `col in~ (members)`; no members → false.
fn member_of(col: &str, members: &[String]) -> K {
    in_ci(col, members)
}

/// The tags a `tag:` or `is:` term names.
fn tag_names_of(field: Field, values: &[String]) -> Vec<String> {
    if field == Field::Is {
        vec![PRIORITY_ACCOUNT.to_string()]
    } else {
        values.to_vec()
    }
}

fn time(t: &TimeFilter, now: DateTime<Utc>) -> K {
    let (from, to) = t.bounds(now);
    K::and(vec![
        from.map_or(K::True, |f| {
            K::atom(format!("Timestamp >= {}", datetime(f)))
        }),
        to.map_or(K::True, |t| K::atom(format!("Timestamp < {}", datetime(t)))),
    ])
}

/// A numeric comparison that is false (not null) when the value is missing.
fn number(expr: &str, op: CmpOp, values: &[i64]) -> K {
    let cmp = match (op, values) {
        (CmpOp::Eq, [one]) => format!("{expr} == {one}"),
        (CmpOp::Eq, many) => {
            let list: Vec<String> = many.iter().map(i64::to_string).collect();
            format!("{expr} in ({})", list.join(", "))
        }
        (op, vals) => {
            let sym = match op {
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                _ => ">=",
            };
            format!("{expr} {sym} {}", vals.first().copied().unwrap_or(0))
        }
    };
    K::atom(format!("(isnotnull({expr}) and {cmp})"))
}

/// Compiles one term for the context's entity.
pub fn term(cx: &Cx, t: &Term) -> Result<K, CompileError> {
    match cx.entity {
        Entity::Emails => email(cx, t),
        Entity::Alerts => alert(cx, t),
        Entity::Campaigns => campaign(cx, t),
        Entity::Users => user(cx, t),
        Entity::Incidents | Entity::Posture | Entity::SignIns => {
            Err(CompileError::EntityNotRemote { entity: cx.entity })
        }
    }
}

fn email(cx: &Cx, t: &Term) -> Result<K, CompileError> {
    let (field, values) = match t {
        Term::Text(w) => {
            let w = std::slice::from_ref(w);
            return Ok(K::or(vec![
                contains_any("Subject", w),
                contains_any("SenderFromAddress", w),
                contains_any("SenderDisplayName", w),
            ]));
        }
        Term::Time(f) => return Ok(time(f, cx.now)),
        Term::Number { field, op, values } => {
            let expr = match field {
                Field::Bcl => "BulkComplaintLevel",
                Field::Size => "tolong(parse_json(AdditionalFields).EmailSize)",
                Field::AttachmentCount => "AttachmentCount",
                Field::UrlCount => "UrlCount",
                _ => "EmailClusterId",
            };
            return Ok(number(expr, *op, values));
        }
        Term::Match { field, values } => (*field, values.as_slice()),
    };
    Ok(match field {
        Field::From => exact_any("SenderFromAddress", values),
        Field::SenderDomain => exact_any("SenderFromDomain", values),
        Field::DisplayName => contains_any("SenderDisplayName", values),
        Field::MailFrom => exact_any("SenderMailFromAddress", values),
        Field::To => exact_any("RecipientEmailAddress", values),
        Field::RecipientDomain => K::or(values.iter().map(|v| recipient_domain(v)).collect()),
        Field::Subject => contains_any("Subject", values),
        Field::Nmid => exact_any("NetworkMessageId", values),
        Field::Imid => exact_any("InternetMessageId", values),
        Field::Language => exact_any("EmailLanguage", values),
        Field::Rule => contains_any("OrgLevelPolicy", values),
        Field::Policy => contains_any("EmailActionPolicy", values),
        Field::Ip => K::or(vec![
            exact_any("SenderIPv4", values),
            exact_any("SenderIPv6", values),
        ]),
        Field::Tag | Field::Is => member_of(
            "RecipientEmailAddress",
            &tag_members(cx, &tag_names_of(field, values))?,
        ),
        Field::Threat => K::or(
            values
                .iter()
                .map(|v| {
                    if v.is_empty() {
                        K::atom("isempty(ThreatTypes)")
                    } else {
                        K::atom(format!("ThreatTypes has {}", lit(v)))
                    }
                })
                .collect(),
        ),
        Field::Detection => K::or(
            values
                .iter()
                .map(|v| {
                    K::atom(format!(
                        "DetectionMethods contains {}",
                        lit(&format!("\"{v}\""))
                    ))
                })
                .collect(),
        ),
        Field::Delivery => in_ci("DeliveryAction", values),
        Field::Location => in_ci("LatestDeliveryLocation", values),
        Field::OriginalLocation => in_ci("DeliveryLocation", values),
        Field::Direction => in_ci("EmailDirection", values),
        Field::Context => K::or(
            values
                .iter()
                .map(|v| {
                    if v.is_empty() {
                        K::atom("isempty(Context)")
                    } else {
                        K::atom(format!("Context contains {}", lit(v)))
                    }
                })
                .collect(),
        ),
        Field::Spf | Field::Dkim | Field::Dmarc | Field::CompAuth => {
            let key = match field {
                Field::Spf => "SPF",
                Field::Dkim => "DKIM",
                Field::Dmarc => "DMARC",
                _ => "CompAuth",
            };
            in_ci(
                &format!("tostring(parse_json(AuthenticationDetails).{key})"),
                values,
            )
        }
        Field::Campaign if values.iter().any(|v| crate::index::derived::is_derived(v)) => {
            return Err(not_remote(
                Field::Campaign,
                "derived campaigns (a tenant without Campaign Views) exist only in the cache; drop --remote",
            ));
        }
        Field::Campaign => by_message(
            "CampaignInfo",
            K::or(vec![
                exact_any("CampaignId", values),
                contains_any("CampaignName", values),
            ]),
        ),
        Field::Url => by_message("EmailUrlInfo", contains_any("Url", values)),
        Field::UrlDomain => by_message("EmailUrlInfo", exact_any("UrlDomain", values)),
        Field::Alert => by_message("AlertEvidence", exact_any("AlertId", values)),
        Field::Attachment => by_recipient(
            "EmailAttachmentInfo",
            "RecipientEmailAddress",
            exact_any("FileName", values),
        ),
        Field::Sha256 => by_recipient(
            "EmailAttachmentInfo",
            "RecipientEmailAddress",
            exact_any("SHA256", values),
        ),
        Field::ThreatName => contains_any("ThreatNames", values),
        Field::Connector => contains_any("Connectors", values),
        Field::MailFromDomain => exact_any("SenderMailFromDomain", values),
        Field::PhishConfidence => in_ci("tostring(parse_json(ConfidenceLevel).Phish)", values),
        Field::Override => K::or(
            values
                .iter()
                .map(|v| match v.as_str() {
                    "Allowed by org policy" => K::atom(r#"OrgLevelAction =~ "Allow""#),
                    "Blocked by org policy" => K::atom(r#"OrgLevelAction =~ "Block""#),
                    "Allowed by user policy" => K::atom(r#"UserLevelAction =~ "Allow""#),
                    "Blocked by user policy" => K::atom(r#"UserLevelAction =~ "Block""#),
                    _ => {
                        let both = ["Allow".to_string(), "Block".to_string()];
                        K::not(K::or(vec![
                            in_ci("OrgLevelAction", &both),
                            in_ci("UserLevelAction", &both),
                        ]))
                    }
                })
                .collect(),
        ),
        Field::FileType => by_recipient(
            "EmailAttachmentInfo",
            "RecipientEmailAddress",
            exact_any("FileType", values),
        ),
        Field::UrlSource => by_message("EmailUrlInfo", exact_any("UrlLocation", values)),
        Field::ClickVerdict => {
            by_recipient("UrlClickEvents", "AccountUpn", in_ci("ActionType", values))
        }
        Field::AdditionalAction => by_recipient(
            "EmailPostDeliveryEvents",
            "RecipientEmailAddress",
            exact_any("ActionType", values),
        ),
        Field::Clicked => yes_no(values, || {
            by_recipient(
                "UrlClickEvents",
                "AccountUpn",
                K::atom(r#"IsClickedThrough == true or ActionType =~ "ClickAllowed""#),
            )
        }),
        Field::Zap => yes_no(values, || {
            by_recipient(
                "EmailPostDeliveryEvents",
                "RecipientEmailAddress",
                K::atom(r#"ActionType in~ ("Phish ZAP", "Malware ZAP")"#),
            )
        }),
        other => return Err(not_remote(other, "it is not a field of emails")),
    })
}

/// `yes` → the condition, `no` → its negation, both → everything.
fn yes_no(values: &[String], cond: impl Fn() -> K) -> K {
    K::or(
        values
            .iter()
            .map(|v| if v == "yes" { cond() } else { K::not(cond()) })
            .collect(),
    )
}

/// The part of `RecipientEmailAddress` after `@` compared with a domain pattern.
fn recipient_domain(v: &str) -> K {
    const COL: &str = "RecipientEmailAddress";
    if v.chars().all(|c| c == '*') {
        return K::True;
    }
    if let Some(suffix) = v.strip_prefix('*') {
        K::atom(format!("{COL} endswith {}", lit(suffix)))
    } else if let Some(prefix) = v.strip_suffix('*') {
        K::atom(format!("{COL} contains {}", lit(&format!("@{prefix}"))))
    } else {
        K::atom(format!("{COL} endswith {}", lit(&format!("@{v}"))))
    }
}

/// AlertInfo's spelling of a Graph service source.
fn source_display(graph: &str) -> &'static str {
    match graph {
        "microsoftDefenderForOffice365" => "Microsoft Defender for Office 365",
        "microsoftDefenderForEndpoint" => "Microsoft Defender for Endpoint",
        "microsoftDefenderForIdentity" => "Microsoft Defender for Identity",
        "microsoftDefenderForCloudApps" => "Microsoft Defender for Cloud Apps",
        "microsoft365Defender" => "Microsoft Defender XDR",
        "azureAdIdentityProtection" => "Microsoft Entra ID Protection",
        "microsoftAppGovernance" => "App Governance",
        "dataLossPrevention" => "Microsoft Data Loss Prevention",
        "microsoftDefenderForCloud" => "Microsoft Defender for Cloud",
        "microsoftSentinel" => "Microsoft Sentinel",
        _ => "Microsoft Insider Risk Management",
    }
}

fn alert(cx: &Cx, t: &Term) -> Result<K, CompileError> {
    let (field, values) = match t {
        Term::Text(w) => return Ok(contains_any("Title", std::slice::from_ref(w))),
        Term::Time(f) => return Ok(time(f, cx.now)),
        Term::Number { field, .. } => {
            return Err(not_remote(
                *field,
                "AlertInfo has no incident id; alerts carry it only in Graph",
            ));
        }
        Term::Match { field, values } => (*field, values.as_slice()),
    };
    let evidence = |cond: K| match cond {
        K::False => K::False,
        cond => K::atom(format!(
            "AlertId in ((AlertEvidence | where {} | project AlertId))",
            cond.render()
        )),
    };
    Ok(match field {
        Field::Severity => in_ci("Severity", values),
        Field::Category => exact_any("Category", values),
        Field::Title => contains_any("Title", values),
        Field::Source => {
            let names: Vec<&str> = values.iter().map(|v| source_display(v)).collect();
            in_ci("ServiceSource", &names)
        }
        Field::User => evidence(exact_any("AccountUpn", values)),
        Field::Tag | Field::Is => evidence(member_of(
            "AccountUpn",
            &tag_members(cx, &tag_names_of(field, values))?,
        )),
        other => {
            return Err(not_remote(
                other,
                "AlertInfo has no such column (status, classification, determination and assignment live only in Graph's alerts)",
            ));
        }
    })
}

fn campaign(cx: &Cx, t: &Term) -> Result<K, CompileError> {
    let (field, values) = match t {
        Term::Text(w) => return Ok(contains_any("CampaignName", std::slice::from_ref(w))),
        Term::Time(f) => return Ok(time(f, cx.now)),
        Term::Number { field, .. } => return Err(not_remote(*field, "not a campaign field")),
        Term::Match { field, values } => (*field, values.as_slice()),
    };
    Ok(match field {
        Field::CampaignType => in_ci("CampaignType", values),
        Field::Subtype => exact_any("CampaignSubtype", values),
        Field::Name => contains_any("CampaignName", values),
        Field::Tag | Field::Is => {
            match member_of(
                "RecipientEmailAddress",
                &tag_members(cx, &tag_names_of(field, values))?,
            ) {
                K::False => K::False,
                cond => K::atom(format!(
                    "CampaignId in ((CampaignInfo | where {} | project CampaignId))",
                    cond.render()
                )),
            }
        }
        other => return Err(not_remote(other, "not a campaign field")),
    })
}

fn user(cx: &Cx, t: &Term) -> Result<K, CompileError> {
    let (field, values) = match t {
        Term::Text(w) => {
            let w = std::slice::from_ref(w);
            return Ok(K::or(vec![
                contains_any("AccountUpn", w),
                contains_any("AccountDisplayName", w),
            ]));
        }
        Term::Time(_) => {
            return Err(not_remote(Field::Since, "users have no time to filter on"));
        }
        Term::Number { field, .. } => return Err(not_remote(*field, "not a user field")),
        Term::Match { field, values } => (*field, values.as_slice()),
    };
    Ok(match field {
        Field::Upn => exact_any("AccountUpn", values),
        Field::Department => exact_any("Department", values),
        Field::JobTitle => exact_any("JobTitle", values),
        Field::Country => exact_any("Country", values),
        Field::Tag | Field::Is => member_of(
            "AccountUpn",
            &tag_members(cx, &tag_names_of(field, values))?,
        ),
        other => return Err(not_remote(other, "not a user field")),
    })
}
