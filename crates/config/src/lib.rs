//! The configuration file: one `[profiles.NAME]` per tenant, its tags, and which
//! profile is the default. Secrets are never stored here: a profile names the
//! environment variable that holds its client secret.
//!
//! ```toml
//! default_profile = "contoso"
//!
//! [profiles.contoso]
//! tenant = "contoso.onmicrosoft.com"
//! client_id = "00000000-0000-0000-0000-000000000000"
//! auth = "client_secret"              # client_secret | certificate | device_code
//! client_secret_env = "CONTOSO_SECRET"
//! cloud = "global"                    # global | usgov | usgov-dod | china
//!
//! [[profiles.contoso.tags]]
//! name = "Priority account"
//! groups = ["Executives", "Board"]
//! files = ["/path/vips.txt"]
//! rules = ["department == 'Finance'", "job_title contains 'Chief'"]
//! members = ["ceo@contoso.com"]
//! ```

pub mod cloud;
pub mod paths;
pub mod rules;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use rules::{Rule, RuleError, UserAttributes};

use cloud::{Cloud, CloudEndpoints};

/// The built-in tag: it exists in every profile, listed or not.
pub const PRIORITY_ACCOUNT: &str = "Priority account";

/// Where the demo profile reads its client secret from. Only `whalewatch demo`,
/// which runs the simulated tenant, hands the secret over; seeing this name
/// elsewhere means the demo tenant is not running.
pub const DEMO_SECRET_ENV: &str = "WHALEWATCH_DEMO_SECRET";

/// What to do when the demo profile is used without its simulated tenant.
pub const DEMO_NOT_RUNNING: &str = "the demo tenant runs only inside `whalewatch demo`; run `whalewatch demo` to reopen this cache with refresh";

/// How a profile signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// OAuth 2.0 client credentials with a secret from `client_secret_env`.
    ClientSecret,
    /// Client credentials with a certificate assertion signed by `certificate`.
    Certificate,
    /// The device-code flow, for analysts on a jump host (`whalewatch login`).
    DeviceCode,
}

/// A tag and the sources of its members, resolved at every refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagDef {
    pub name: String,
    /// Entra groups by display name or id; membership is transitive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Files of addresses, one per line (the portal's import format).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<PathBuf>,
    /// Directory attribute rules (see `rules`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Explicit addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

/// One tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Tenant domain or GUID.
    pub tenant: String,
    pub client_id: String,
    pub auth: AuthKind,
    /// Name of the environment variable that holds the client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_env: Option<String>,
    /// PEM file with the certificate and its private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<PathBuf>,
    /// `global`, `usgov`, `usgov-dod` or `china`: sets the login and Graph hosts.
    #[serde(default = "default_cloud")]
    pub cloud: String,
    /// Overrides the cloud's login host (proxies, the simulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_url: Option<String>,
    /// Overrides the cloud's Graph host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_url: Option<String>,
    /// Makes every write (triage, remediation) impossible.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Who the journal names for this profile's writes (a UPN); default: the app's
    /// client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analyst: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagDef>,
    /// Total deadline of one request in seconds (default 120; hunting calls get at
    /// least 300, since the service may think for 3 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout_secs: Option<u64>,
    /// Longest a refresh may run in seconds before it stops cleanly with what it got
    /// (default: no limit; `refresh --budget` overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_budget_secs: Option<u64>,
}

fn default_cloud() -> String {
    "global".to_string()
}

/// Default total deadline of one Graph or identity request.
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

impl Profile {
    /// The total deadline of one request (see `request_timeout_secs`).
    pub fn request_timeout(&self) -> std::time::Duration {
        self.request_timeout_secs
            .filter(|s| *s > 0)
            .map(std::time::Duration::from_secs)
            .unwrap_or(DEFAULT_REQUEST_TIMEOUT)
    }

    /// The login and Graph hosts: the cloud's, with the profile's overrides.
    pub fn endpoints(&self) -> CloudEndpoints {
        let cloud = Cloud::parse(&self.cloud).unwrap_or_default();
        CloudEndpoints::new(cloud, self.login_url.as_deref(), self.graph_url.as_deref())
    }

    /// The tags, with the built-in Priority account tag first even when not listed.
    pub fn tags(&self) -> Vec<TagDef> {
        let mut tags = self.tags.clone();
        match tags
            .iter()
            .position(|t| t.name.eq_ignore_ascii_case(PRIORITY_ACCOUNT))
        {
            Some(0) => {}
            Some(i) => {
                let t = tags.remove(i);
                tags.insert(0, t);
            }
            None => tags.insert(
                0,
                TagDef {
                    name: PRIORITY_ACCOUNT.to_string(),
                    ..TagDef::default()
                },
            ),
        }
        tags
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Console key overrides: command name → keys (`sort-desc = ["S"]`), checked
    /// against the command registry when the console starts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, Vec<String>>,
}

/// Why the configuration cannot be used. Messages name the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: profile `{profile}`: {message}")]
    Invalid {
        path: PathBuf,
        profile: String,
        message: String,
    },
    #[error(
        "no profile named `{0}`; `whalewatch profile list` shows the profiles, `whalewatch profile add` creates one"
    )]
    UnknownProfile(String),
    #[error("no profile chosen: pass --profile NAME or set default_profile in {0}")]
    NoProfile(PathBuf),
    #[error(
        "no profiles in {0} yet: `whalewatch demo` tries the product on a simulated tenant; `whalewatch profile add` adds a real one"
    )]
    NoProfiles(PathBuf),
}

impl Config {
    /// Reads and validates the file at `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    /// Checks what serde cannot: required fields per auth kind, tag rules, names.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |profile: &str, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            profile: profile.to_string(),
            message,
        };
        for (name, p) in &self.profiles {
            if p.tenant.trim().is_empty() || p.client_id.trim().is_empty() {
                return Err(invalid(
                    name,
                    "`tenant` and `client_id` must not be empty".into(),
                ));
            }
            match p.auth {
                AuthKind::ClientSecret
                    if p.client_secret_env
                        .as_deref()
                        .is_none_or(|e| e.trim().is_empty()) =>
                {
                    return Err(invalid(name, "auth = \"client_secret\" needs `client_secret_env`, the name of the environment variable holding the secret (the secret itself never goes in this file)".into()));
                }
                AuthKind::Certificate if p.certificate.is_none() => {
                    return Err(invalid(name, "auth = \"certificate\" needs `certificate`, the path of a PEM file with the certificate and its private key".into()));
                }
                _ => {}
            }
            if let Err(e) = Cloud::parse(&p.cloud) {
                return Err(invalid(name, e.to_string()));
            }
            for url in [&p.login_url, &p.graph_url].into_iter().flatten() {
                if url::Url::parse(url)
                    .map(|u| !matches!(u.scheme(), "http" | "https"))
                    .unwrap_or(true)
                {
                    return Err(invalid(name, format!("`{url}` is not an http(s) URL")));
                }
            }
            let mut seen = std::collections::HashSet::new();
            for t in &p.tags {
                if t.name.trim().is_empty() {
                    return Err(invalid(name, "a tag has an empty name".into()));
                }
                if !seen.insert(t.name.to_lowercase()) {
                    return Err(invalid(name, format!("tag `{}` is defined twice", t.name)));
                }
                for r in &t.rules {
                    Rule::parse(r).map_err(|e| invalid(name, format!("tag `{}`: {e}", t.name)))?;
                }
            }
        }
        if let Some(d) = &self.default_profile
            && !self.profiles.contains_key(d)
        {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                profile: d.clone(),
                message: "default_profile names a profile that is not defined".into(),
            });
        }
        Ok(())
    }

    /// Writes the file atomically (temp file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string_pretty(self).map_err(|e| ConfigError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;
        paths::write_private(path, text.as_bytes()).map_err(|source| ConfigError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The profile `name`, or the default one.
    pub fn profile<'a>(
        &'a self,
        name: Option<&'a str>,
        path: &Path,
    ) -> Result<(&'a str, &'a Profile), ConfigError> {
        let name = name.or(self.default_profile.as_deref()).or_else(|| {
            // A single profile needs no default.
            (self.profiles.len() == 1)
                .then(|| self.profiles.keys().next().map(String::as_str))
                .flatten()
        });
        if self.profiles.is_empty() && name.is_none() {
            return Err(ConfigError::NoProfiles(path.to_path_buf()));
        }
        let name = name.ok_or_else(|| ConfigError::NoProfile(path.to_path_buf()))?;
        self.profiles
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
            .ok_or_else(|| ConfigError::UnknownProfile(name.to_string()))
    }
}

/// Sets `analyst` (who "assign to me" and the journal name) in profile `profile` of
/// the config file at `path`, and writes the file owner-only (0600). Re-reads the
/// file first, so a change made meanwhile is kept.
pub fn save_analyst(path: &Path, profile: &str, analyst: &str) -> Result<(), ConfigError> {
    let mut config = Config::load(path)?;
    let p = config
        .profiles
        .get_mut(profile)
        .ok_or_else(|| ConfigError::UnknownProfile(profile.to_string()))?;
    p.analyst = Some(analyst.to_string());
    config.save(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"
default_profile = "contoso"

[profiles.contoso]
tenant = "contoso.onmicrosoft.com"
client_id = "00000000-0000-0000-0000-000000000001"
auth = "client_secret"
client_secret_env = "CONTOSO_SECRET"
cloud = "usgov-dod"

[[profiles.contoso.tags]]
name = "Finance"
groups = ["Finance"]
rules = ["department == 'Finance'"]

[profiles.lab]
tenant = "lab.onmicrosoft.com"
client_id = "x"
auth = "device_code"
graph_url = "http://127.0.0.1:9999/"
"#;

    fn parse(s: &str) -> Result<Config, ConfigError> {
        let c: Config = toml::from_str(s).map_err(|e| ConfigError::Parse {
            path: "t".into(),
            message: e.to_string(),
        })?;
        c.validate(Path::new("t"))?;
        Ok(c)
    }

    #[test]
    fn documented_shape_parses_and_priority_account_is_built_in() {
        let c = parse(DOC).unwrap();
        let (name, p) = c.profile(None, Path::new("t")).unwrap();
        assert_eq!(name, "contoso");
        assert_eq!(p.endpoints().graph_url, "https://dod-graph.microsoft.us");
        let tags: Vec<String> = p.tags().into_iter().map(|t| t.name).collect();
        assert_eq!(tags, ["Priority account", "Finance"]);
        let (_, lab) = c.profile(Some("lab"), Path::new("t")).unwrap();
        assert_eq!(
            lab.endpoints().login_url,
            "https://login.microsoftonline.com"
        );
        assert_eq!(lab.endpoints().graph_url, "http://127.0.0.1:9999");
        assert_eq!(
            lab.endpoints().graph_scope(),
            "https://graph.microsoft.com/.default"
        );
        let again = parse(&toml::to_string_pretty(&c).unwrap()).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn save_analyst_sets_the_profile_s_analyst_and_writes_owner_only() {
        let dir = std::env::temp_dir().join(format!("ww-config-analyst-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, DOC).unwrap();
        save_analyst(&path, "lab", "ana@contoso.com").unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(
            c.profiles["lab"].analyst.as_deref(),
            Some("ana@contoso.com")
        );
        assert_eq!(
            c.profiles["contoso"].analyst, None,
            "other profiles untouched"
        );
        assert_eq!(c.profiles["contoso"].tags.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            save_analyst(&path, "nope", "x@y"),
            Err(ConfigError::UnknownProfile(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn broken_configs_say_what_to_fix() {
        let e = parse("[profiles.a]\ntenant='t'\nclient_id='c'\nauth='client_secret'\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("client_secret_env"), "{e}");
        let e = parse("[profiles.a]\ntenant='t'\nclient_id='c'\nauth='password'\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("password"), "{e}");
        let e = parse("[profiles.a]\ntenant='t'\nclient_id='c'\nauth='device_code'\nclient_secret='hunter2'\n").unwrap_err().to_string();
        assert!(e.contains("client_secret"), "{e}");
        let e = parse("[profiles.a]\ntenant='t'\nclient_id='c'\nauth='device_code'\n[[profiles.a.tags]]\nname='X'\nrules=['dept == 1']\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown attribute `dept`"), "{e}");
        let e = parse("default_profile='nope'").unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
        let e =
            parse("[profiles.a]\ntenant='t'\nclient_id='c'\nauth='device_code'\ncloud='mars'\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("mars"), "{e}");
        let e = parse("[profiles.a\n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
