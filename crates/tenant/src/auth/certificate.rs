//! Client-credentials sign-in with a certificate: an RS256-signed JWT client assertion.
//!
//! Signing uses `aws-lc-rs` because rustls (reqwest's TLS) already builds it: RSA PKCS#1 v1.5
//! with SHA-256 and the SHA-1/SHA-256 thumbprints cost no extra dependency, no system OpenSSL,
//! and avoid the `rsa` crate's unresolved timing advisory. `jsonwebtoken` would bring a second
//! crypto backend for one signature.

use super::Secret;
use crate::error::TenantError;
use aws_lc_rs::{digest, rand::SecureRandom, signature};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use std::fmt;
use std::path::Path;

/// How long an assertion is valid: the identity platform only needs it for one request.
const ASSERTION_LIFETIME_SECS: i64 = 600;

/// A certificate and its RSA private key, loaded from one PEM file.
pub struct Certificate {
    key: signature::RsaKeyPair,
    x5t: String,
    x5t_s256: String,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("x5t", &self.x5t)
            .finish_non_exhaustive()
    }
}

fn pem_blocks(pem: &str) -> Vec<(String, Result<Vec<u8>, base64::DecodeError>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in pem.lines() {
        let line = line.trim();
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            current = Some((label.to_owned(), String::new()));
        } else if line.starts_with("-----END ") {
            if let Some((label, body)) = current.take() {
                blocks.push((label, STANDARD.decode(body.as_bytes())));
            }
        } else if let Some((_, body)) = current.as_mut() {
            // Skip RFC 1421 headers such as `Proc-Type:` (encrypted keys are rejected below).
            if !line.contains(':') {
                body.push_str(line);
            }
        }
    }
    blocks
}

impl Certificate {
    /// Loads a PEM file holding the certificate and its unencrypted private key.
    pub fn from_pem_file(path: &Path) -> Result<Self, TenantError> {
        let text = std::fs::read_to_string(path).map_err(|e| TenantError::Certificate {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_pem(&text).map_err(|message| TenantError::Certificate {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses PEM text: the first `CERTIFICATE` block is the one registered with the app; the key
    /// is a `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1) block.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let mut cert_der = None;
        let mut key = None;
        for (label, der) in pem_blocks(pem) {
            let der = der.map_err(|e| format!("{label} block is not valid base64: {e}"))?;
            match label.as_str() {
                "CERTIFICATE" if cert_der.is_none() => cert_der = Some(der),
                "PRIVATE KEY" => {
                    key = Some(
                        signature::RsaKeyPair::from_pkcs8(&der)
                            .map_err(|e| format!("private key is not an RSA PKCS#8 key: {e}"))?,
                    )
                }
                "RSA PRIVATE KEY" => {
                    key = Some(
                        signature::RsaKeyPair::from_der(&der)
                            .map_err(|e| format!("private key is not an RSA PKCS#1 key: {e}"))?,
                    )
                }
                "ENCRYPTED PRIVATE KEY" => {
                    return Err("the private key is encrypted; export it without a passphrase (openssl pkcs12 -nodes) and protect the file instead".into());
                }
                _ => {}
            }
        }
        let cert_der = cert_der.ok_or(
            "no CERTIFICATE block found; the PEM file must hold the certificate and its key",
        )?;
        let key = key.ok_or(
            "no PRIVATE KEY block found; the PEM file must hold the certificate and its key",
        )?;
        Ok(Self::from_parts(&cert_der, key))
    }

    /// Builds from a DER certificate and a parsed key.
    pub fn from_parts(cert_der: &[u8], key: signature::RsaKeyPair) -> Self {
        let x5t =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der));
        let x5t_s256 = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, cert_der));
        Certificate { key, x5t, x5t_s256 }
    }

    /// The base64url SHA-1 thumbprint (`x5t`) the identity platform matches against the
    /// certificate uploaded to the app registration.
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// Builds the signed client assertion for `audience` (the token endpoint URL).
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: DateTime<Utc>,
        jti: &str,
    ) -> Result<Secret, TenantError> {
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t, "x5t#S256": self.x5t_s256});
        let iat = now.timestamp();
        let claims = serde_json::json!({
            "aud": audience, "iss": client_id, "sub": client_id, "jti": jti,
            "nbf": iat, "iat": iat, "exp": iat + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &rng,
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| TenantError::Certificate {
                path: String::new(),
                message: "RSA signing failed".into(),
            })?;
        Ok(Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(sig)
        )))
    }
}

/// A random UUIDv4 for the assertion's `jti` (replay protection).
pub fn random_jti() -> String {
    let mut b = [0u8; 16];
    if aws_lc_rs::rand::SystemRandom::new().fill(&mut b).is_err() {
        b = rand::random();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The token request form (`fixtures/token-client-credentials-certificate.request.http`).
pub fn form(client_id: &str, assertion: &Secret, scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("scope", scope.to_owned()),
        ("client_id", client_id.to_owned()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
        ),
        ("client_assertion", assertion.expose().to_owned()),
        ("grant_type", "client_credentials".to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::KeyPair;
    use chrono::TimeZone;

    fn pem(label: &str, der: &[u8]) -> String {
        let b64 = STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn assertion_has_the_documented_shape_and_verifies() {
        let key = signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .unwrap_or_else(|e| panic!("{e}"));
        let pkcs8 = key.as_der().unwrap_or_else(|e| panic!("{e}"));
        let cert_der = b"not really a certificate, but thumbprints only hash the DER";
        let text = format!(
            "{}{}",
            pem("CERTIFICATE", cert_der),
            pem("PRIVATE KEY", pkcs8.as_ref())
        );
        let cert = Certificate::from_pem(&text).unwrap_or_else(|e| panic!("{e}"));
        let now = Utc
            .with_ymd_and_hms(2024, 5, 1, 12, 0, 0)
            .single()
            .unwrap_or_default();
        let aud = "https://login.microsoftonline.com/contoso/oauth2/v2.0/token";
        let jwt = cert
            .assertion("client-1", aud, now, &random_jti())
            .unwrap_or_else(|e| panic!("{e}"));
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |p: &str| -> serde_json::Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap_or_default())
                .unwrap_or_default()
        };
        let header = decode(parts[0]);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["typ"], "JWT");
        let sha1 =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der));
        assert_eq!(header["x5t"], sha1.as_str());
        assert!(header["x5t#S256"].is_string());
        let claims = decode(parts[1]);
        assert_eq!(claims["aud"], aud);
        assert_eq!(
            (claims["iss"].as_str(), claims["sub"].as_str()),
            (Some("client-1"), Some("client-1"))
        );
        assert_eq!(claims["nbf"], now.timestamp());
        assert_eq!(claims["exp"], now.timestamp() + 600);
        assert_eq!(claims["jti"].as_str().map(str::len), Some(36));
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default();
        let public = signature::UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            key.public_key().as_ref(),
        );
        let signed = format!("{}.{}", parts[0], parts[1]);
        assert!(
            public.verify(signed.as_bytes(), &sig).is_ok(),
            "signature must verify"
        );
    }

    #[test]
    fn bad_pem_files_explain_themselves() {
        assert!(
            Certificate::from_pem("")
                .err()
                .unwrap_or_default()
                .contains("no CERTIFICATE")
        );
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(
            Certificate::from_pem(enc)
                .err()
                .unwrap_or_default()
                .contains("encrypted")
        );
    }
}
