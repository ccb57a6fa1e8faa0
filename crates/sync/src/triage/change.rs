//! What an analyst can change on an alert, in the service's vocabulary, validated
//! before anything is queued: a wrong pair (false positive → phishing) is refused at
//! the keystroke, not by the tenant minutes later.

use whalewatch_model::{AlertStatus, Classification, Determination, IncidentStatus};
use whalewatch_tenant::alerts::AlertUpdate;
use whalewatch_tenant::incidents::IncidentUpdate;

use super::TriageError;

/// One triage action on one or more alerts. Empty fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertChange {
    /// New status.
    pub status: Option<AlertStatus>,
    /// New classification.
    pub classification: Option<Classification>,
    /// New determination; needs `classification` (the pair is validated).
    pub determination: Option<Determination>,
    /// New owner (a UPN); `Some("")` clears the owner.
    pub assigned_to: Option<String>,
    /// A comment to add.
    pub comment: Option<String>,
}

/// The determinations the service documents under each classification (the value
/// table of `microsoft.graph.security.alert` and the Defender portal's pairs).
pub fn determinations_for(c: &Classification) -> &'static [Determination] {
    use Determination as D;
    match c {
        Classification::TruePositive => &[
            D::MultiStagedAttack,
            D::MaliciousUserActivity,
            D::CompromisedAccount,
            D::Malware,
            D::Phishing,
            D::UnwantedSoftware,
            D::Apt,
            D::SecurityPersonnel,
            D::OtherDetermination,
        ],
        Classification::InformationalExpectedActivity => &[
            D::SecurityTesting,
            D::LineOfBusinessApplication,
            D::ConfirmedActivity,
            D::OtherDetermination,
        ],
        Classification::FalsePositive => &[
            D::NotMalicious,
            D::NotEnoughDataToValidate,
            D::OtherDetermination,
        ],
        _ => &[D::Unknown],
    }
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// Parses a status: `new`, `inProgress` (`in-progress`), `resolved`.
pub fn parse_status(s: &str) -> Result<AlertStatus, TriageError> {
    let v = AlertStatus::parse(&squash(s));
    match v {
        AlertStatus::New | AlertStatus::InProgress | AlertStatus::Resolved => Ok(v),
        _ => Err(TriageError::Invalid(format!(
            "`{s}` is not an alert status; use new, inProgress or resolved"
        ))),
    }
}

/// Parses an incident status: `active`, `inProgress` (`in-progress`), `resolved` —
/// the values an analyst sets (`redirected` is the service's, after a merge).
pub fn parse_incident_status(s: &str) -> Result<IncidentStatus, TriageError> {
    let v = IncidentStatus::parse(&squash(s));
    match v {
        IncidentStatus::Active | IncidentStatus::InProgress | IncidentStatus::Resolved => Ok(v),
        _ => Err(TriageError::Invalid(format!(
            "`{s}` is not an incident status; use active, inProgress or resolved"
        ))),
    }
}

/// Parses a classification: `truePositive` (`tp`, `true-positive`), `falsePositive`
/// (`fp`), `informationalExpectedActivity` (`informational`, `benign`), `unknown`.
pub fn parse_classification(s: &str) -> Result<Classification, TriageError> {
    let q = squash(s);
    let v = match q.as_str() {
        "tp" => Classification::TruePositive,
        "fp" => Classification::FalsePositive,
        "informational" | "benign" | "benignpositive" | "expected" => {
            Classification::InformationalExpectedActivity
        }
        _ => Classification::parse(&q),
    };
    match v {
        Classification::Other(_) | Classification::UnknownFutureValue => {
            Err(TriageError::Invalid(format!(
                "`{s}` is not a classification; use truePositive, falsePositive, informationalExpectedActivity or unknown"
            )))
        }
        v => Ok(v),
    }
}

/// Parses a determination. The service's pages spell four of them two ways
/// (`compromisedUser`/`compromisedAccount`, `clean`/`notMalicious`,
/// `insufficientData`/`notEnoughDataToValidate`, `confirmedUserActivity`/
/// `confirmedActivity`): both are accepted and the value-table spelling is sent.
pub fn parse_determination(s: &str) -> Result<Determination, TriageError> {
    let q = squash(s);
    let v = match q.as_str() {
        "compromiseduser" => Determination::CompromisedAccount,
        "clean" => Determination::NotMalicious,
        "insufficientdata" | "notenoughdata" => Determination::NotEnoughDataToValidate,
        "confirmeduseractivity" => Determination::ConfirmedActivity,
        "lob" => Determination::LineOfBusinessApplication,
        _ => Determination::parse(&q),
    };
    match v {
        Determination::Other(_) | Determination::UnknownFutureValue => {
            let known: Vec<&str> = Determination::KNOWN
                .iter()
                .filter(|d| **d != Determination::UnknownFutureValue)
                .map(|d| d.as_str())
                .collect();
            Err(TriageError::Invalid(format!(
                "`{s}` is not a determination; use one of {}",
                known.join(", ")
            )))
        }
        v => Ok(v),
    }
}

impl AlertChange {
    /// True when the change does nothing.
    pub fn is_empty(&self) -> bool {
        self.update().is_none() && self.comment.is_none()
    }

    /// Refuses pairs the service does not document and empty comments.
    pub fn validate(&self) -> Result<(), TriageError> {
        check(
            self.is_empty(),
            self.classification.as_ref(),
            self.determination.as_ref(),
            self.comment.as_deref(),
        )
    }

    /// The PATCH body, if the change sets any field.
    pub fn update(&self) -> Option<AlertUpdate> {
        let u = AlertUpdate {
            status: self.status.clone(),
            classification: self.classification.clone(),
            determination: self.determination.clone(),
            assigned_to: self.assigned_to.clone(),
        };
        (u != AlertUpdate::default()).then_some(u)
    }

    /// A one-line description for the journal and the CLI.
    pub fn describe(&self) -> String {
        self.describe_with(self.status.as_ref().map(|s| s.as_str()))
    }

    /// [`AlertChange::describe`] with `status` spelled by the caller (incidents have
    /// their own statuses).
    fn describe_with(&self, status: Option<&str>) -> String {
        let mut parts = Vec::new();
        if let Some(s) = status {
            parts.push(format!("status={s}"));
        }
        if let Some(c) = &self.classification {
            parts.push(format!("classification={c}"));
        }
        if let Some(d) = &self.determination {
            parts.push(format!("determination={d}"));
        }
        if let Some(a) = &self.assigned_to {
            parts.push(format!("assignedTo={a}"));
        }
        if let Some(c) = &self.comment {
            parts.push(format!("comment={c:?}"));
        }
        parts.join(" ")
    }
}

/// The checks every triage change passes (alert or incident): something to do, a
/// documented classification/determination pair, no empty comment.
fn check(
    empty: bool,
    classification: Option<&Classification>,
    determination: Option<&Determination>,
    comment: Option<&str>,
) -> Result<(), TriageError> {
    if empty {
        return Err(TriageError::Invalid(
            "nothing to change: give a status, classification, determination, owner or comment"
                .into(),
        ));
    }
    if let Some(d) = determination {
        let Some(c) = classification else {
            return Err(TriageError::Invalid(format!(
                "a determination needs its classification: add --classification (for {d}: {})",
                classifications_of(d).join(" or ")
            )));
        };
        let allowed = determinations_for(c);
        if !allowed.contains(d) {
            let names: Vec<&str> = allowed.iter().map(|d| d.as_str()).collect();
            return Err(TriageError::Invalid(format!(
                "{c} does not go with {d}; with {c} use {}",
                names.join(", ")
            )));
        }
    }
    if let Some(c) = comment
        && c.trim().is_empty()
    {
        return Err(TriageError::Invalid("the comment is empty".into()));
    }
    Ok(())
}

/// One triage action on one or more incidents (`PATCH /security/incidents/{id}` and
/// its comments). Empty fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentChange {
    /// New status.
    pub status: Option<IncidentStatus>,
    /// New classification.
    pub classification: Option<Classification>,
    /// New determination; needs `classification` (the pair is validated).
    pub determination: Option<Determination>,
    /// New owner (a UPN); `Some("")` clears the owner.
    pub assigned_to: Option<String>,
    /// A comment to add.
    pub comment: Option<String>,
}

impl IncidentChange {
    /// Refuses pairs the service does not document and empty comments (as alerts).
    pub fn validate(&self) -> Result<(), TriageError> {
        check(
            self.update().is_none() && self.comment.is_none(),
            self.classification.as_ref(),
            self.determination.as_ref(),
            self.comment.as_deref(),
        )
    }

    /// The PATCH body, if the change sets any field.
    pub fn update(&self) -> Option<IncidentUpdate> {
        let u = IncidentUpdate {
            status: self.status.clone(),
            classification: self.classification.clone(),
            determination: self.determination.clone(),
            assigned_to: self.assigned_to.clone(),
        };
        (u != IncidentUpdate::default()).then_some(u)
    }

    /// A one-line description for the journal and the console.
    pub fn describe(&self) -> String {
        AlertChange {
            status: None,
            classification: self.classification.clone(),
            determination: self.determination.clone(),
            assigned_to: self.assigned_to.clone(),
            comment: self.comment.clone(),
        }
        .describe_with(self.status.as_ref().map(|s| s.as_str()))
    }
}

fn classifications_of(d: &Determination) -> Vec<&'static str> {
    [
        Classification::TruePositive,
        Classification::InformationalExpectedActivity,
        Classification::FalsePositive,
    ]
    .iter()
    .filter(|c| determinations_for(c).contains(d))
    .map(|c| match c {
        Classification::TruePositive => "truePositive",
        Classification::FalsePositive => "falsePositive",
        _ => "informationalExpectedActivity",
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_pairs_pass_and_others_are_refused_with_the_allowed_list() {
        let ok = AlertChange {
            status: Some(parse_status("resolved").unwrap()),
            classification: Some(parse_classification("true-positive").unwrap()),
            determination: Some(parse_determination("phishing").unwrap()),
            ..Default::default()
        };
        assert_eq!(ok.validate().ok(), Some(()));
        assert_eq!(
            serde_json::to_value(ok.update().unwrap()).unwrap(),
            serde_json::json!({"status": "resolved", "classification": "truePositive", "determination": "phishing"})
        );
        let bad = AlertChange {
            classification: Some(Classification::FalsePositive),
            determination: Some(Determination::Phishing),
            ..Default::default()
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("notMalicious"), "{e}");
        let lonely = AlertChange {
            determination: Some(Determination::Malware),
            ..Default::default()
        };
        let e = lonely.validate().unwrap_err().to_string();
        assert!(
            e.contains("--classification") && e.contains("truePositive"),
            "{e}"
        );
        assert!(AlertChange::default().validate().is_err());
    }

    #[test]
    fn incident_changes_pass_the_same_checks_and_send_incident_statuses() {
        let ok = IncidentChange {
            status: Some(parse_incident_status("resolved").unwrap()),
            classification: Some(Classification::TruePositive),
            determination: Some(Determination::Phishing),
            ..Default::default()
        };
        assert_eq!(ok.validate().ok(), Some(()));
        assert_eq!(
            serde_json::to_value(ok.update().unwrap()).unwrap(),
            serde_json::json!({"status": "resolved", "classification": "truePositive", "determination": "phishing"})
        );
        assert_eq!(
            ok.describe(),
            "status=resolved classification=truePositive determination=phishing"
        );
        let bad = IncidentChange {
            classification: Some(Classification::FalsePositive),
            determination: Some(Determination::Phishing),
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("notMalicious")
        );
        assert!(IncidentChange::default().validate().is_err());
        assert_eq!(
            parse_incident_status("in-progress").unwrap(),
            IncidentStatus::InProgress
        );
        // An alert status is not an incident status.
        assert!(parse_incident_status("new").is_err());
    }

    #[test]
    fn both_documented_spellings_parse_to_the_value_table_spelling() {
        for (input, want) in [
            ("compromisedUser", "compromisedAccount"),
            ("compromised-account", "compromisedAccount"),
            ("clean", "notMalicious"),
            ("insufficientData", "notEnoughDataToValidate"),
            ("confirmedUserActivity", "confirmedActivity"),
            ("MultiStagedAttack", "multiStagedAttack"),
        ] {
            assert_eq!(parse_determination(input).unwrap().as_str(), want);
        }
        assert!(parse_determination("spam").is_err());
        assert_eq!(
            parse_status("in-progress").unwrap(),
            AlertStatus::InProgress
        );
        assert!(parse_status("closed").is_err());
        assert_eq!(
            parse_classification("fp").unwrap(),
            Classification::FalsePositive
        );
    }
}
