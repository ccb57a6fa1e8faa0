//! Directory reads for tag resolution: users, groups, and transitive group members.

use crate::error::TenantError;
use crate::http::{GraphClient, Pager};
use whalewatch_model::{DirectoryObject, Group, User};

/// Largest page the directory serves; fewer round trips for big tenants.
const DIRECTORY_PAGE: &str = "999";

impl GraphClient {
    /// Every user, with the attributes tag rules use.
    pub fn list_users(&self) -> Pager<User> {
        self.get_paged(
            "/users",
            vec![
                ("$select", User::SELECT.to_owned()),
                ("$top", DIRECTORY_PAGE.to_owned()),
            ],
        )
    }

    /// Every group.
    pub fn list_groups(&self) -> Pager<Group> {
        self.get_paged(
            "/groups",
            vec![
                ("$select", Group::SELECT.to_owned()),
                ("$top", DIRECTORY_PAGE.to_owned()),
            ],
        )
    }

    /// One group (to show a tag source's name).
    pub async fn get_group(&self, id: &str) -> Result<Group, TenantError> {
        self.get_json(
            &format!("/groups/{}", encode(id)),
            &[("$select", Group::SELECT.to_owned())],
        )
        .await
    }

    /// Members of a group including nested groups' members: users, groups, other objects.
    pub fn group_transitive_members(&self, group_id: &str) -> Pager<DirectoryObject> {
        self.get_paged(
            &format!("/groups/{}/transitiveMembers", encode(group_id)),
            vec![("$top", DIRECTORY_PAGE.to_owned())],
        )
    }
}

fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
