//! Open enums: every value Microsoft documents gets a variant, and anything else is kept as text.
//!
//! Graph adds enum members over time (`unknownFutureValue` is their own admission), and its
//! examples disagree on spelling (`TruePositive` in incidents, `truePositive` in alerts), so
//! parsing is case-insensitive and never rejects; serialising writes the documented spelling, or
//! the original text for [`Other`](AlertStatus::Other) values, so nothing is lost on a round trip.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Declares an open enum with its documented spellings.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = concat!("The documented value `", $text, "`.")] $variant, )*
            /// A value this build does not know; kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every documented value, in documentation order (for pickers and help).
            pub const KNOWN: &'static [$name] = &[$($name::$variant),*];

            /// Parses case-insensitively; unknown text becomes [`Self::Other`].
            pub fn parse(text: &str) -> Self {
                $( if text.eq_ignore_ascii_case($text) { return $name::$variant; } )*
                $name::Other(text.to_owned())
            }

            /// The documented spelling, or the original text of an unknown value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Other(text) => text,
                }
            }

            /// True when the value is not one this build knows.
            pub fn is_other(&self) -> bool {
                matches!(self, $name::Other(_))
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::parse(s))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<str>::deserialize(d)?;
                Ok(Self::parse(&text))
            }
        }

        impl crate::hunting::HuntingValue for Option<$name> {
            fn from_text(text: &str) -> Result<Self, String> {
                Ok(if text.is_empty() { None } else { Some($name::parse(text)) })
            }
            fn from_null() -> Self {
                None
            }
        }

        impl crate::batch::BatchValue for Option<$name> {}

        impl crate::hunting::CellValue for Option<$name> {
            fn to_cell(&self) -> crate::hunting::Cell<'_> {
                match self {
                    Some(v) => crate::hunting::Cell::Text(std::borrow::Cow::Borrowed(v.as_str())),
                    None => crate::hunting::Cell::Null,
                }
            }
            fn from_cell(cell: crate::hunting::Cell<'_>) -> Result<Self, String> {
                Ok(match cell {
                    crate::hunting::Cell::Text(t) if !t.is_empty() => Some($name::parse(&t)),
                    _ => None,
                })
            }
        }
    };
}

open_enum! {
    /// Where an alert is in triage (`microsoft.graph.security.alertStatus`).
    pub enum AlertStatus {
        Unknown => "unknown",
        New => "new",
        InProgress => "inProgress",
        Resolved => "resolved",
        UnknownFutureValue => "unknownFutureValue",
    }
}

open_enum! {
    /// Where an incident is in triage (`microsoft.graph.security.incidentStatus`).
    pub enum IncidentStatus {
        Active => "active",
        Resolved => "resolved",
        InProgress => "inProgress",
        Redirected => "redirected",
        UnknownFutureValue => "unknownFutureValue",
        AwaitingAction => "awaitingAction",
    }
}

open_enum! {
    /// How bad an alert or incident is (`microsoft.graph.security.alertSeverity`).
    pub enum Severity {
        Unknown => "unknown",
        Informational => "informational",
        Low => "low",
        Medium => "medium",
        High => "high",
        UnknownFutureValue => "unknownFutureValue",
    }
}

open_enum! {
    /// The analyst's verdict class (`microsoft.graph.security.alertClassification`).
    pub enum Classification {
        Unknown => "unknown",
        FalsePositive => "falsePositive",
        TruePositive => "truePositive",
        InformationalExpectedActivity => "informationalExpectedActivity",
        UnknownFutureValue => "unknownFutureValue",
    }
}

open_enum! {
    /// What the analyst decided happened (`microsoft.graph.security.alertDetermination`).
    pub enum Determination {
        Unknown => "unknown",
        Apt => "apt",
        Malware => "malware",
        SecurityPersonnel => "securityPersonnel",
        SecurityTesting => "securityTesting",
        UnwantedSoftware => "unwantedSoftware",
        OtherDetermination => "other",
        MultiStagedAttack => "multiStagedAttack",
        CompromisedAccount => "compromisedAccount",
        Phishing => "phishing",
        MaliciousUserActivity => "maliciousUserActivity",
        NotMalicious => "notMalicious",
        NotEnoughDataToValidate => "notEnoughDataToValidate",
        /// Spelled `confirmedActivity` in the value table of the alert resource page and
        /// by the service; the property lists of the same pages say `confirmedUserActivity`.
        ConfirmedActivity => "confirmedActivity",
        LineOfBusinessApplication => "lineOfBusinessApplication",
        UnknownFutureValue => "unknownFutureValue",
    }
}

open_enum! {
    /// Which product raised an alert (`microsoft.graph.security.serviceSource`).
    pub enum ServiceSource {
        Unknown => "unknown",
        MicrosoftDefenderForEndpoint => "microsoftDefenderForEndpoint",
        MicrosoftDefenderForIdentity => "microsoftDefenderForIdentity",
        MicrosoftDefenderForCloudApps => "microsoftDefenderForCloudApps",
        MicrosoftDefenderForOffice365 => "microsoftDefenderForOffice365",
        Microsoft365Defender => "microsoft365Defender",
        AzureAdIdentityProtection => "azureAdIdentityProtection",
        MicrosoftAppGovernance => "microsoftAppGovernance",
        DataLossPrevention => "dataLossPrevention",
        UnknownFutureValue => "unknownFutureValue",
        MicrosoftDefenderForCloud => "microsoftDefenderForCloud",
        MicrosoftSentinel => "microsoftSentinel",
        MicrosoftInsiderRiskManagement => "microsoftInsiderRiskManagement",
    }
}

open_enum! {
    /// Which detector inside the product fired (`microsoft.graph.security.detectionSource`); the
    /// list is long and grows, so only the email-relevant and common values are named.
    pub enum DetectionSource {
        Unknown => "unknown",
        MicrosoftDefenderForEndpoint => "microsoftDefenderForEndpoint",
        Antivirus => "antivirus",
        CustomTi => "customTi",
        CustomDetection => "customDetection",
        MicrosoftDefenderForOffice365 => "microsoftDefenderForOffice365",
        Microsoft365Defender => "microsoft365Defender",
        AutomatedInvestigation => "automatedInvestigation",
        ManualInvestigation => "manualInvestigation",
        MicrosoftThreatExperts => "microsoftThreatExperts",
        UnknownFutureValue => "unknownFutureValue",
    }
}

open_enum! {
    /// The verdict on one piece of evidence (`microsoft.graph.security.evidenceVerdict`).
    pub enum EvidenceVerdict {
        Unknown => "unknown",
        Suspicious => "suspicious",
        Malicious => "malicious",
        NoThreatsFound => "noThreatsFound",
        UnknownFutureValue => "unknownFutureValue",
    }
}

open_enum! {
    /// Whether evidence was remediated (`microsoft.graph.security.evidenceRemediationStatus`).
    pub enum RemediationStatus {
        None => "none",
        Remediated => "remediated",
        Prevented => "prevented",
        Blocked => "blocked",
        NotFound => "notFound",
        UnknownFutureValue => "unknownFutureValue",
        Active => "active",
        PendingApproval => "pendingApproval",
        Declined => "declined",
        Unremediated => "unremediated",
        Running => "running",
        PartiallyRemediated => "partiallyRemediated",
    }
}

open_enum! {
    /// Mail flow direction (`EmailEvents.EmailDirection`; evidence `antiSpamDirection`).
    pub enum EmailDirection {
        Inbound => "Inbound",
        Outbound => "Outbound",
        IntraOrg => "Intra-org",
        Unknown => "Unknown",
    }
}

open_enum! {
    /// What filtering did to a message on arrival (`EmailEvents.DeliveryAction`).
    pub enum DeliveryAction {
        Delivered => "Delivered",
        Junked => "Junked",
        Blocked => "Blocked",
        Replaced => "Replaced",
        Unknown => "Unknown",
    }
}

open_enum! {
    /// Where a message landed or is now (`DeliveryLocation`, `LatestDeliveryLocation`).
    pub enum DeliveryLocation {
        InboxFolder => "Inbox/folder",
        JunkFolder => "Junk folder",
        Quarantine => "Quarantine",
        OnPremisesExternal => "On-premises/external",
        Failed => "Failed",
        Dropped => "Dropped",
        DeletedItems => "Deleted items",
        Forwarded => "Forwarded",
        Unknown => "Unknown",
    }
}

open_enum! {
    /// A remediation the Action center can run on messages (`microsoft.graph.security.remediationAction`).
    pub enum RemediationAction {
        MoveToJunk => "moveToJunk",
        MoveToInbox => "moveToInbox",
        HardDelete => "hardDelete",
        SoftDelete => "softDelete",
        MoveToDeletedItems => "moveToDeletedItems",
        UnknownFutureValue => "unknownFutureValue",
    }
}

open_enum! {
    /// Severity attached to a remediation request (`microsoft.graph.security.remediationSeverity`).
    pub enum RemediationSeverity {
        Low => "low",
        Medium => "medium",
        High => "high",
        UnknownFutureValue => "unknownFutureValue",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_case_insensitive_and_writes_documented_spelling() {
        assert_eq!(
            Classification::parse("TruePositive"),
            Classification::TruePositive
        );
        assert_eq!(Classification::TruePositive.as_str(), "truePositive");
        assert_eq!(IncidentStatus::parse("Active"), IncidentStatus::Active);
        assert_eq!(
            DeliveryLocation::parse("junk FOLDER"),
            DeliveryLocation::JunkFolder
        );
        assert_eq!(
            Determination::parse("other"),
            Determination::OtherDetermination
        );
    }

    #[test]
    fn unknown_values_survive_a_round_trip() {
        let status: AlertStatus =
            serde_json::from_str("\"somethingNew\"").unwrap_or(AlertStatus::New);
        assert_eq!(status, AlertStatus::Other("somethingNew".into()));
        assert_eq!(
            serde_json::to_string(&status).ok().as_deref(),
            Some("\"somethingNew\"")
        );
        assert!(status.is_other());
    }
}
