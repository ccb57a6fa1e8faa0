//! The tenant: identity and the Microsoft Graph client, one file per API family.
//!
//! Nothing above `sync` talks to the network; everything here returns `model` types and
//! [`TenantError`]s whose messages tell the analyst what to do.

#![warn(missing_docs)]

pub mod alerts;
pub mod auth;
/// National clouds live with the configuration that names them; re-exported here
/// because the HTTP core resolves its hosts from them.
pub use whalewatch_config::cloud;
pub mod directory;
pub mod emails;
pub mod error;
pub mod http;
pub mod hunting;
pub mod incidents;
pub mod posture;
pub mod retry;
pub mod window;

pub use auth::{AccessTokenSource, Credential, Identity, Secret, StaticToken, TokenProvider};
pub use cloud::{Cloud, CloudEndpoints};
pub use error::{Endpoint, IdentityError, IdentityErrorKind, TenantError};
pub use http::{GraphClient, GraphConfig, Pager};
pub use retry::{RetryPolicy, RetryStatsSnapshot, Sleeper, TokioSleeper};
