//! Client-credentials sign-in with a client secret: the simplest app-only setup.

use super::Secret;

/// An app registration's client secret.
#[derive(Debug, Clone)]
pub struct ClientSecret {
    secret: Secret,
}

impl ClientSecret {
    /// Wraps the secret value from the profile or environment.
    pub fn new(secret: Secret) -> Self {
        ClientSecret { secret }
    }

    /// The token request form (`fixtures/token-client-credentials-secret.request.http`).
    pub fn form(&self, client_id: &str, scope: &str) -> Vec<(&'static str, String)> {
        vec![
            ("client_id", client_id.to_owned()),
            ("scope", scope.to_owned()),
            ("client_secret", self.secret.expose().to_owned()),
            ("grant_type", "client_credentials".to_owned()),
        ]
    }
}
