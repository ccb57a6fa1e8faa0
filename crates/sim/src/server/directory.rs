//! Entra directory: `/users`, `/groups`, `/groups/{id}/members` and
//! `/groups/{id}/transitiveMembers`, paged and filterable.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::alerts::page;
use super::errors::GraphError;
use super::odata::ListOptions;
use super::{AppState, json_response};
use crate::world::World;

const USERS: &[&str] = &["User.Read.All"];
const GROUPS: &[&str] = &["GroupMember.Read.All"];

fn user_json(w: &World, u: usize) -> Value {
    let user = &w.directory.users[u];
    json!({
        "@odata.type": "#microsoft.graph.user",
        "id": user.id.to_string(),
        "userPrincipalName": &*user.upn,
        "mail": &*user.upn,
        "displayName": &*user.display_name,
        "givenName": &*user.given_name,
        "surname": &*user.surname,
        "department": &*user.department,
        "jobTitle": &*user.job_title,
        "country": &*user.country,
        "accountEnabled": user.enabled,
    })
}

pub(super) fn group_json(w: &World, g: usize) -> Value {
    let group = &w.directory.groups[g];
    json!({
        "@odata.type": "#microsoft.graph.group",
        "id": group.id.to_string(),
        "displayName": &*group.name,
        "description": &*group.description,
        "mail": null,
        "mailEnabled": false,
        "securityEnabled": true,
        "groupTypes": [],
    })
}

/// Filters rendered entities and returns the requested page.
fn list_of(
    st: &AppState,
    path: &str,
    q: &HashMap<String, String>,
    all: Vec<Value>,
    context: &str,
) -> Response {
    list_sized(st, path, q, all, context, (100, 999))
}

/// [`list_of`] with the endpoint's (default, maximum) page size.
pub(super) fn list_sized(
    st: &AppState,
    path: &str,
    q: &HashMap<String, String>,
    all: Vec<Value>,
    context: &str,
    (default_top, max_top): (usize, usize),
) -> Response {
    let opts = match ListOptions::from_query(q, default_top, max_top) {
        Ok(o) => o,
        Err(m) => return st.graph_error(GraphError::bad_request(m)),
    };
    let matched: Vec<Value> = all
        .into_iter()
        .filter(|v| opts.filter.as_ref().is_none_or(|f| f.matches(v)))
        .collect();
    let total = matched.len();
    let items = matched.into_iter().skip(opts.skip).take(opts.top).collect();
    page(st, path, q, &opts, total, items, context)
}

pub async fn list_users(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = st.authorize(&headers, USERS) {
        return st.graph_error(e);
    }
    let all = {
        let w = st.read();
        (0..w.directory.users.len())
            .map(|u| user_json(&w, u))
            .collect()
    };
    list_of(&st, uri.path(), &q, all, "users")
}

pub async fn get_user(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = st.authorize(&headers, USERS) {
        return st.graph_error(e);
    }
    let w = st.read();
    let found = w
        .directory
        .users
        .iter()
        .position(|u| u.id.to_string() == id || u.upn.eq_ignore_ascii_case(&id));
    match found {
        Some(u) => json_response(user_json(&w, u).to_string()),
        None => st.graph_error(GraphError::not_found(&format!("user '{id}'"))),
    }
}

pub async fn list_groups(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = st.authorize(&headers, GROUPS) {
        return st.graph_error(e);
    }
    let all = {
        let w = st.read();
        (0..w.directory.groups.len())
            .map(|g| group_json(&w, g))
            .collect()
    };
    list_of(&st, uri.path(), &q, all, "groups")
}

fn find_group(w: &World, id: &str) -> Option<usize> {
    w.directory
        .groups
        .iter()
        .position(|g| g.id.to_string() == id)
}

pub async fn get_group(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = st.authorize(&headers, GROUPS) {
        return st.graph_error(e);
    }
    let w = st.read();
    match find_group(&w, &id) {
        Some(g) => json_response(group_json(&w, g).to_string()),
        None => st.graph_error(GraphError::not_found(&format!("group '{id}'"))),
    }
}

async fn members_of(
    st: Arc<AppState>,
    headers: HeaderMap,
    id: String,
    path: &str,
    q: HashMap<String, String>,
    transitive: bool,
) -> Response {
    if let Err(e) = st.authorize(&headers, GROUPS) {
        return st.graph_error(e);
    }
    let all = {
        let w = st.read();
        let Some(g) = find_group(&w, &id) else {
            return st.graph_error(GraphError::not_found(&format!("group '{id}'")));
        };
        let (users, groups) = if transitive {
            w.directory.transitive_members(g)
        } else {
            let group = &w.directory.groups[g];
            (group.members.clone(), group.groups.clone())
        };
        let mut all: Vec<Value> = users.iter().map(|u| user_json(&w, *u as usize)).collect();
        all.extend(groups.iter().map(|g| group_json(&w, *g as usize)));
        all
    };
    list_of(&st, path, &q, all, "directoryObjects")
}

pub async fn members(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    members_of(st, headers, id, uri.path(), q, false).await
}

pub async fn transitive_members(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    members_of(st, headers, id, uri.path(), q, true).await
}
