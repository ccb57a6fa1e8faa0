//! `whalewatch profile list|show|add`: so nobody has to hand-edit TOML to start.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;

use super::context::ProfileArgs;
use crate::cache::cache_file;
use crate::config::{AuthKind, Config, Profile};

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List the profiles in the config file.
    List,
    /// Show a profile (never its secret: only where the secret comes from).
    Show { name: Option<String> },
    /// Add (or replace) a profile.
    Add(AddArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct AddArgs {
    /// Profile name (letters, digits, '-', '_', '.').
    pub name: String,
    /// Tenant domain or GUID.
    #[arg(long)]
    pub tenant: String,
    /// Application (client) id of the app registration.
    #[arg(long)]
    pub client_id: String,
    /// How to sign in.
    #[arg(long, value_enum, default_value = "client-secret")]
    pub auth: AuthArg,
    /// Environment variable holding the client secret (auth client-secret).
    #[arg(long)]
    pub client_secret_env: Option<String>,
    /// PEM file with certificate and private key (auth certificate).
    #[arg(long)]
    pub certificate: Option<PathBuf>,
    /// global, usgov, usgov-dod or china.
    #[arg(long, default_value = "global")]
    pub cloud: String,
    /// Override the login host (proxies, the simulator).
    #[arg(long)]
    pub login_url: Option<String>,
    /// Override the Graph host (proxies, the simulator).
    #[arg(long)]
    pub graph_url: Option<String>,
    /// Make this the default profile.
    #[arg(long)]
    pub default: bool,
    /// Refuse writes to the tenant from this profile.
    #[arg(long)]
    pub read_only: bool,
    /// Your sign-in name, recorded in the triage journal [default: the app's client id]
    #[arg(long)]
    pub analyst: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AuthArg {
    ClientSecret,
    Certificate,
    DeviceCode,
}

pub fn run(p: &ProfileArgs, cmd: &ProfileCommand) -> Result<ExitCode> {
    let path = p.config_path();
    let mut config = Config::load(&path)?;
    match cmd {
        ProfileCommand::List => {
            if config.profiles.is_empty() {
                println!(
                    "no profiles in {}; add one with `whalewatch profile add`",
                    path.display()
                );
            }
            for (name, prof) in &config.profiles {
                let mark = if config.default_profile.as_deref() == Some(name) {
                    "*"
                } else {
                    " "
                };
                println!(
                    "{mark} {name:<20} {:<36} {}",
                    prof.tenant,
                    prof.endpoints().graph_url
                );
            }
        }
        ProfileCommand::Show { name } => {
            let (name, prof) = config.profile(name.as_deref().or(p.profile.as_deref()), &path)?;
            print!("{}", describe(name, prof, &p.cache_dir()));
        }
        ProfileCommand::Add(a) => {
            // Settings `profile add` has no flags for are kept from the profile it replaces.
            let existing = config.profiles.get(&a.name);
            let profile = Profile {
                tenant: a.tenant.clone(),
                client_id: a.client_id.clone(),
                auth: match a.auth {
                    AuthArg::ClientSecret => AuthKind::ClientSecret,
                    AuthArg::Certificate => AuthKind::Certificate,
                    AuthArg::DeviceCode => AuthKind::DeviceCode,
                },
                client_secret_env: a.client_secret_env.clone(),
                certificate: a.certificate.clone(),
                cloud: a.cloud.clone(),
                login_url: a.login_url.clone(),
                graph_url: a.graph_url.clone(),
                read_only: a.read_only,
                analyst: a.analyst.clone(),
                tags: config
                    .profiles
                    .get(&a.name)
                    .map(|p| p.tags.clone())
                    .unwrap_or_default(),
                request_timeout_secs: existing.and_then(|p| p.request_timeout_secs),
                refresh_budget_secs: existing.and_then(|p| p.refresh_budget_secs),
            };
            if a.name.is_empty()
                || !a
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                bail!(
                    "profile name `{}` may only use letters, digits, '-', '_' and '.'",
                    a.name
                );
            }
            config.profiles.insert(a.name.clone(), profile);
            if a.default || config.default_profile.is_none() {
                config.default_profile = Some(a.name.clone());
            }
            config.validate(&path)?;
            config.save(&path)?;
            println!("profile `{}` saved in {}", a.name, path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A profile as `profile show` prints it: settings, where the secret comes from
/// (and whether it is set, never its value), tags, cache and token files.
fn describe(name: &str, p: &Profile, cache_dir: &std::path::Path) -> String {
    let e = p.endpoints();
    let mut out = format!(
        "profile: {name}\ntenant: {}\nclient_id: {}\n",
        p.tenant, p.client_id
    );
    out.push_str(&format!("login: {}\ngraph: {}\n", e.login_url, e.graph_url));
    match p.auth {
        AuthKind::ClientSecret => {
            let var = p.client_secret_env.clone().unwrap_or_default();
            let set = std::env::var_os(&var).is_some_and(|v| !v.is_empty());
            out.push_str(&format!(
                "auth: client secret from ${var} ({})\n",
                if set { "set" } else { "NOT set" }
            ));
        }
        AuthKind::Certificate => out.push_str(&format!(
            "auth: certificate {}\n",
            p.certificate.clone().unwrap_or_default().display()
        )),
        AuthKind::DeviceCode => out.push_str("auth: device code (`whalewatch login`)\n"),
    }
    if p.read_only {
        out.push_str("read-only: yes\n");
    }
    for t in p.tags() {
        let mut sources = Vec::new();
        if !t.groups.is_empty() {
            sources.push(format!("groups {}", t.groups.join(", ")));
        }
        if !t.files.is_empty() {
            sources.push(format!(
                "files {}",
                t.files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !t.rules.is_empty() {
            sources.push(format!("rules {}", t.rules.join("; ")));
        }
        if !t.members.is_empty() {
            sources.push(format!("{} members", t.members.len()));
        }
        out.push_str(&format!(
            "tag: {} ({})\n",
            t.name,
            if sources.is_empty() {
                "no sources yet".into()
            } else {
                sources.join("; ")
            }
        ));
    }
    let cache = cache_file(cache_dir, name);
    out.push_str(&format!(
        "cache: {} ({})\n",
        cache.display(),
        std::fs::metadata(&cache)
            .map_or("not created yet".into(), |m| format!("{} bytes", m.len()))
    ));
    out
}
