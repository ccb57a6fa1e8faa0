//! Directory objects (Entra users and groups): tag sources and the accounts view.
//!
//! No API exposes priority accounts or user tags, so whalewatch resolves tag membership from
//! groups and directory attributes at refresh time; these types carry what that needs.

use serde::{Deserialize, Serialize};

/// An Entra user (`microsoft.graph.user`), with the attributes tag rules may test.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    /// Object id.
    pub id: String,
    /// Sign-in name.
    pub user_principal_name: Option<String>,
    /// Primary SMTP address; joins to `RecipientEmailAddress`.
    pub mail: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// First name.
    pub given_name: Option<String>,
    /// Last name.
    pub surname: Option<String>,
    /// Department (tag rule attribute).
    pub department: Option<String>,
    /// Job title (tag rule attribute).
    pub job_title: Option<String>,
    /// Country or region.
    pub country: Option<String>,
    /// Disabled accounts are shown but rarely matter for triage.
    pub account_enabled: Option<bool>,
}

impl User {
    /// The `$select` list that fetches exactly these fields (keeps user pages small).
    pub const SELECT: &'static str = "id,userPrincipalName,mail,displayName,givenName,surname,department,jobTitle,country,accountEnabled";
}

/// An Entra group (`microsoft.graph.group`): a tag source.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Group {
    /// Object id.
    pub id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Group mailbox address, if mail-enabled.
    pub mail: Option<String>,
}

impl Group {
    /// The `$select` list that fetches exactly these fields.
    pub const SELECT: &'static str = "id,displayName,description,mail";
}

/// A member returned by `/groups/{id}/transitiveMembers`: users, nested groups, or other
/// directory objects (devices, service principals) that tags ignore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryObject {
    /// `#microsoft.graph.user`
    User(User),
    /// `#microsoft.graph.group`
    Group(Group),
    /// Any other `@odata.type`, with its id.
    Other {
        /// The `@odata.type` value.
        odata_type: String,
        /// Object id.
        id: String,
    },
}

impl<'de> Deserialize<'de> for DirectoryObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = serde_json::Value::deserialize(d)?;
        let odata_type = raw
            .get("@odata.type")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned();
        let kind = odata_type.trim_start_matches('#');
        if kind.eq_ignore_ascii_case("microsoft.graph.user") {
            User::deserialize(&raw)
                .map(DirectoryObject::User)
                .map_err(D::Error::custom)
        } else if kind.eq_ignore_ascii_case("microsoft.graph.group") {
            Group::deserialize(&raw)
                .map(DirectoryObject::Group)
                .map_err(D::Error::custom)
        } else {
            let id = raw
                .get("id")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned();
            Ok(DirectoryObject::Other { odata_type, id })
        }
    }
}

/// The address mail to `u` is delivered to: `mail`, else the sign-in name; lower-cased,
/// because addresses compare case-insensitively everywhere in whalewatch.
pub fn address_of(u: &User) -> Option<String> {
    u.mail
        .clone()
        .filter(|m| !m.is_empty())
        .or_else(|| u.user_principal_name.clone())
        .map(|a| a.to_lowercase())
}

impl crate::json::Keyed for User {
    fn key(&self) -> &str {
        &self.id
    }
}

impl crate::json::Keyed for Group {
    fn key(&self) -> &str {
        &self.id
    }
}

impl crate::json::Keyed for DirectoryObject {
    fn key(&self) -> &str {
        match self {
            DirectoryObject::User(u) => &u.id,
            DirectoryObject::Group(g) => &g.id,
            DirectoryObject::Other { id, .. } => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_dispatch_on_odata_type() {
        let json = r##"[{"@odata.type":"#microsoft.graph.user","id":"u1","mail":"a@b.c","accountEnabled":true},
            {"@odata.type":"#microsoft.graph.group","id":"g1","displayName":"VIPs"},
            {"@odata.type":"#microsoft.graph.device","id":"d1"}]"##;
        let members: Vec<DirectoryObject> = serde_json::from_str(json).unwrap_or_default();
        assert!(
            matches!(&members[0], DirectoryObject::User(u) if u.mail.as_deref() == Some("a@b.c"))
        );
        assert!(matches!(&members[1], DirectoryObject::Group(g) if g.id == "g1"));
        assert!(matches!(&members[2], DirectoryObject::Other { id, .. } if id == "d1"));
    }
}
