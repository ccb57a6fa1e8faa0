//! Campaign figures, defined once. The Campaigns pane, the campaign flyout and its
//! flow, and `whalewatch query campaigns` all read [`campaign_figures`] and
//! [`campaign_flow`]; nothing else counts a campaign.
//!
//! Definitions (Campaign Views, `defender-office-365/campaigns.md`), over the email
//! rows of the campaign's messages (`CampaignInfo` → `EmailEvents`), narrowed to an
//! [`Audience`] when a tag narrows the view:
//!
//! | figure | definition |
//! |---|---|
//! | messages | distinct `NetworkMessageId`s that reached the audience |
//! | recipients | distinct recipients (case-insensitive) |
//! | copies | message × recipient rows (what the flow's verdict and location layers count) |
//! | inboxed | distinct recipients with a copy originally delivered to `Inbox/folder` (ZAP or remediation later do not undo that they received it) |
//! | clicked | distinct recipients who clicked a URL of a campaign message (allowed or blocked) |
//! | clicked through | distinct recipients whose click got through ([`UrlClick::got_through`](whalewatch_model::email::UrlClick::got_through); Campaign Views' "Visited") |
//! | click rate | clicked ÷ inboxed, counting only clickers who were inboxed, so it never exceeds 100 % (Campaign Views: "Clicked / Inboxed") |
//! | priority accounts | distinct recipients tagged Priority account |
//! | targeted % | audience members the campaign reached ÷ audience members (without a tag: priority accounts reached ÷ priority accounts) |

use std::collections::{HashMap, HashSet};

use super::schema as s;
use super::text::fold;
use super::{EmailIndex, IndexError};
use crate::index::entities::CampaignIndex;
use crate::lang::ast::{Expr, Filter, Term};
use crate::lang::fields::Field;
use whalewatch_config::PRIORITY_ACCOUNT;

/// The `DeliveryLocation` of a copy delivered to the mailbox.
pub const INBOX: &str = "Inbox/folder";

/// Who a view is narrowed to: every group must hold (AND), a group holds when the
/// recipient is a member of any of its tags (OR, like `tag:a,b`). Empty: everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// Tag names per group.
    pub groups: Vec<Vec<String>>,
}

impl Audience {
    /// Everyone.
    pub fn everyone() -> Audience {
        Audience::default()
    }

    /// The recipients of one tag.
    pub fn tag(name: &str) -> Audience {
        Audience {
            groups: vec![vec![name.to_string()]],
        }
    }

    /// The tags a filter narrows to: its `tag:` and `is:priority` terms that must hold
    /// for every result (top-level, not under `OR` or `NOT`). A campaign filter with
    /// `tag:finance` selects campaigns that reached finance; its figures then count
    /// finance only.
    pub fn of_filter(filter: &Filter) -> Audience {
        let mut groups = Vec::new();
        let mut take = |t: &Term| {
            if let Term::Match { field, values } = t {
                match field {
                    Field::Tag => groups.push(values.clone()),
                    Field::Is => groups.push(vec![PRIORITY_ACCOUNT.to_string()]),
                    _ => {}
                }
            }
        };
        match &filter.root {
            Some(Expr::Term(t)) => take(t),
            Some(Expr::And(kids)) => {
                for k in kids {
                    if let Expr::Term(t) = k {
                        take(t);
                    }
                }
            }
            _ => {}
        }
        Audience { groups }
    }

    /// This audience and `other`'s groups, AND-ed.
    pub fn and(mut self, other: Audience) -> Audience {
        for g in other.groups {
            if !self.groups.contains(&g) {
                self.groups.push(g);
            }
        }
        self
    }

    /// Whether there is no narrowing.
    pub fn is_everyone(&self) -> bool {
        self.groups.is_empty()
    }

    /// The folded members (`None`: everyone).
    fn members(&self, index: &EmailIndex) -> Result<Option<HashSet<String>>, IndexError> {
        let mut out: Option<HashSet<String>> = None;
        for g in &self.groups {
            let mut set = HashSet::new();
            for name in g {
                set.extend(index.tags().resolve(name)?.iter().cloned());
            }
            out = Some(match out {
                None => set,
                Some(prev) => prev.intersection(&set).cloned().collect(),
            });
        }
        Ok(out)
    }
}

/// One campaign's figures (see the module's table).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CampaignFigures {
    /// Distinct messages.
    pub messages: usize,
    /// Distinct recipients.
    pub recipients: usize,
    /// Message × recipient rows.
    pub copies: usize,
    /// Distinct recipients who received a copy in their inbox.
    pub inboxed: usize,
    /// Distinct recipients who clicked (allowed or blocked).
    pub clicked: usize,
    /// Distinct recipients whose click got through.
    pub clicked_through: usize,
    /// Distinct inboxed recipients who clicked (the click rate's numerator).
    pub clicked_inboxed: usize,
    /// Distinct priority accounts among the recipients.
    pub priority: usize,
    /// Audience members reached (without a tag: priority accounts reached).
    pub targeted: usize,
    /// Audience members (without a tag: priority accounts).
    pub audience: usize,
    /// The subject of the newest copy.
    pub sample_subject: String,
}

impl CampaignFigures {
    /// Clicked ÷ inboxed in percent (`None` when nobody was inboxed).
    pub fn click_rate(&self) -> Option<f64> {
        (self.inboxed > 0).then(|| self.clicked_inboxed as f64 * 100.0 / self.inboxed as f64)
    }

    /// Audience members reached ÷ audience members in percent (`None`: no members).
    pub fn targeted_percent(&self) -> Option<f64> {
        (self.audience > 0).then(|| self.targeted as f64 * 100.0 / self.audience as f64)
    }

    /// `12.5%`, or empty when undefined.
    pub fn percent_text(v: Option<f64>) -> String {
        v.map_or(String::new(), |v| format!("{v:.1}%"))
    }
}

/// What the figures count, per recipient code of the index.
struct Recipients {
    /// Distinct folded address id per dictionary code.
    id: Vec<u32>,
    /// Per dictionary code: in the audience.
    member: Vec<bool>,
    /// Per dictionary code: a priority account.
    priority: Vec<bool>,
}

impl Recipients {
    fn of(index: &EmailIndex, members: Option<&HashSet<String>>) -> Recipients {
        let col = index.str_column(s::RECIPIENT);
        // The Priority account tag always resolves (to nobody when undefined).
        let prio: HashSet<&str> = index
            .tags()
            .resolve(PRIORITY_ACCOUNT)
            .map(|m| m.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let mut ids: HashMap<String, u32> = HashMap::new();
        let (mut id, mut member, mut priority) = (Vec::new(), Vec::new(), Vec::new());
        for (_, v) in col.dict.iter() {
            let f = fold(v).into_owned();
            member.push(members.is_none_or(|m| m.contains(&f)));
            priority.push(prio.contains(f.as_str()));
            let n = ids.len() as u32;
            id.push(*ids.entry(f).or_insert(n));
        }
        Recipients {
            id,
            member,
            priority,
        }
    }
}

/// The message codes of each campaign (parallel to `campaigns.campaigns`).
fn messages_by_campaign(index: &EmailIndex, campaigns: &CampaignIndex) -> Vec<Vec<u32>> {
    let pos: HashMap<&str, usize> = campaigns
        .campaigns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); campaigns.campaigns.len()];
    let side = &index.side().campaigns;
    if let Some(ids) = side.columns.first() {
        for (e, &m) in side.message.iter().enumerate() {
            if let Some(&c) = pos.get(ids.value(e)) {
                out[c].push(m);
            }
        }
    }
    for v in &mut out {
        v.sort_unstable();
        v.dedup();
    }
    out
}

/// The email rows of `messages` whose recipient is in the audience.
fn rows_of(index: &EmailIndex, messages: &[u32], who: &Recipients) -> Vec<usize> {
    let rcpt = index.str_column(s::RECIPIENT);
    messages
        .iter()
        .flat_map(|&m| index.message_rows(m).iter().map(|&r| r as usize))
        .filter(|&r| who.member[rcpt.codes.get(r) as usize])
        .collect()
}

fn figures_of(
    index: &EmailIndex,
    rows: &[usize],
    who: &Recipients,
    audience: usize,
) -> CampaignFigures {
    let rcpt = index.str_column(s::RECIPIENT);
    let nmid = index.str_column(s::NMID);
    let original = index.str_column(s::ORIGINAL_LOCATION);
    let inbox = original.dict.find(INBOX);
    let subject = index.str_column(s::SUBJECT);
    let side = index.side();
    let times = index.times();
    let mut f = CampaignFigures::default();
    let (mut messages, mut recipients, mut inboxed, mut clicked, mut through) = (
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
    );
    let mut priority = HashSet::new();
    let mut newest = i64::MIN;
    for &r in rows {
        let code = rcpt.codes.get(r) as usize;
        let id = who.id[code];
        messages.insert(nmid.codes.get(r));
        recipients.insert(id);
        f.copies += 1;
        if inbox.is_some() && Some(original.codes.get(r)) == inbox {
            inboxed.insert(id);
        }
        if side.clicked_any.contains(r) {
            clicked.insert(id);
        }
        if side.clicked.contains(r) {
            through.insert(id);
        }
        if who.priority[code] {
            priority.insert(id);
        }
        let t = times[r];
        if t > newest {
            newest = t;
            f.sample_subject = subject.value(r).to_string();
        }
    }
    f.messages = messages.len();
    f.recipients = recipients.len();
    f.inboxed = inboxed.len();
    f.clicked = clicked.len();
    f.clicked_through = through.len();
    f.clicked_inboxed = clicked.intersection(&inboxed).count();
    f.priority = priority.len();
    f.audience = audience;
    f.targeted = f.recipients;
    f
}

/// Every campaign's figures (parallel to `campaigns.campaigns`), narrowed to
/// `audience`. One pass over the campaigns' rows.
pub fn campaign_figures(
    index: &EmailIndex,
    campaigns: &CampaignIndex,
    audience: &Audience,
) -> Result<Vec<CampaignFigures>, IndexError> {
    let members = audience.members(index)?;
    let who = Recipients::of(index, members.as_ref());
    let size = audience_size(index, members.as_ref())?;
    Ok(messages_by_campaign(index, campaigns)
        .iter()
        .map(|msgs| {
            let rows = rows_of(index, msgs, &who);
            let mut f = figures_of(index, &rows, &who, size);
            if members.is_none() {
                // Without a tag the audience is the priority accounts.
                f.targeted = f.priority;
            }
            f
        })
        .collect())
}

/// How many members the audience has (without a tag: the priority accounts).
fn audience_size(
    index: &EmailIndex,
    members: Option<&HashSet<String>>,
) -> Result<usize, IndexError> {
    Ok(match members {
        Some(m) => m.len(),
        None => index.tags().resolve(PRIORITY_ACCOUNT)?.len(),
    })
}

/// The email rows of campaign `id` whose recipient is in `audience` (`None`: no such
/// campaign): what the figures, the flow and the flyout's lists count.
pub fn campaign_rows(
    index: &EmailIndex,
    campaigns: &CampaignIndex,
    id: &str,
    audience: &Audience,
) -> Result<Option<Vec<usize>>, IndexError> {
    let Some(c) = campaigns.campaigns.iter().position(|c| c.id == id) else {
        return Ok(None);
    };
    let members = audience.members(index)?;
    let who = Recipients::of(index, members.as_ref());
    let msgs = &messages_by_campaign(index, campaigns)[c];
    Ok(Some(rows_of(index, msgs, &who)))
}

/// One layer of a campaign's flow: values with their counts, largest first, the
/// rest folded into one "other" entry so the counts always sum to `total`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlowLayer {
    /// `Sender IPs`, `Sender domains`, `Verdicts`, `Delivery locations`, `URL clicks`.
    pub name: &'static str,
    /// What each count counts: `messages`, `copies` or `recipients`.
    pub unit: &'static str,
    /// The impact figure the layer sums to.
    pub total: usize,
    /// (value, count), largest first; at most `top` values plus one `(n other values)`.
    pub values: Vec<(String, usize)>,
}

/// The flow sender IPs → sender domains → verdicts → delivery locations → URL clicks
/// of campaign `id`, narrowed to `audience`, with at most `top` values per layer.
/// Each layer sums to the figure of [`campaign_figures`] it names: IPs and domains
/// to `messages`, verdicts and locations to `copies`, clicks to `recipients`.
pub fn campaign_flow(
    index: &EmailIndex,
    campaigns: &CampaignIndex,
    id: &str,
    audience: &Audience,
    top: usize,
) -> Result<Option<(CampaignFigures, Vec<FlowLayer>)>, IndexError> {
    let Some(rows) = campaign_rows(index, campaigns, id, audience)? else {
        return Ok(None);
    };
    let members = audience.members(index)?;
    let who = Recipients::of(index, members.as_ref());
    let size = audience_size(index, members.as_ref())?;
    let mut fig = figures_of(index, &rows, &who, size);
    if members.is_none() {
        fig.targeted = fig.priority;
    }
    let nmid = index.str_column(s::NMID);
    // Per message: counted once, from its first row in the audience.
    let mut seen = HashSet::new();
    let firsts: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&r| seen.insert(nmid.codes.get(r)))
        .collect();
    let count = |col: usize, over: &[usize]| -> HashMap<String, usize> {
        let c = index.str_column(col);
        let mut out: HashMap<String, usize> = HashMap::new();
        for &r in over {
            *out.entry(c.value(r).to_string()).or_default() += 1;
        }
        out
    };
    let verdicts = {
        let threats = index.str_column(s::THREATS);
        let delivery = index.str_column(s::DELIVERY);
        let mut out: HashMap<String, usize> = HashMap::new();
        for &r in &rows {
            let t = threats.value(r);
            let v = format!(
                "{} · {}",
                if t.is_empty() { "no threat" } else { t },
                delivery.value(r)
            );
            *out.entry(v).or_default() += 1;
        }
        out
    };
    let clicks = {
        let mut out: HashMap<String, usize> = HashMap::new();
        out.insert("clicked through".into(), fig.clicked_through);
        out.insert(
            "clicked, blocked".into(),
            fig.clicked - fig.clicked_through.min(fig.clicked),
        );
        out.insert(
            "no click".into(),
            fig.recipients - fig.clicked.min(fig.recipients),
        );
        out.retain(|_, n| *n > 0);
        out
    };
    let layers = vec![
        layer(
            "Sender IPs",
            "messages",
            fig.messages,
            count(s::IPV4, &firsts),
            top,
        ),
        layer(
            "Sender domains",
            "messages",
            fig.messages,
            count(s::SENDER_DOMAIN, &firsts),
            top,
        ),
        layer("Verdicts", "copies", fig.copies, verdicts, top),
        layer(
            "Delivery locations (latest)",
            "copies",
            fig.copies,
            count(s::LOCATION, &rows),
            top,
        ),
        layer("URL clicks", "recipients", fig.recipients, clicks, top),
    ];
    Ok(Some((fig, layers)))
}

fn layer(
    name: &'static str,
    unit: &'static str,
    total: usize,
    counts: HashMap<String, usize>,
    top: usize,
) -> FlowLayer {
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if v.len() > top {
        let rest: Vec<(String, usize)> = v.split_off(top);
        let n: usize = rest.iter().map(|x| x.1).sum();
        v.push((format!("({} other values)", rest.len()), n));
    }
    FlowLayer {
        name,
        unit,
        total,
        values: v,
    }
}
