//! `whalewatch login`: the device-code flow, for analysts on a jump host with no
//! browser. Prints the code and the URL, polls at the interval the service asks for,
//! and keeps the tokens in the profile's owner-only token file.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};

use super::context::ProfileArgs;
use crate::config::AuthKind;
use crate::safe_text::sanitize;
use crate::sync::connect;
use crate::tenant::auth::device_code::DeviceCodeFlow;
use crate::tenant::auth::store::TokenStore;
use crate::tenant::http::http_client;
use crate::tenant::{Credential, Secret, TokenProvider, TokioSleeper};

pub fn run(p: &ProfileArgs) -> Result<ExitCode> {
    let ctx = p.context()?;
    if ctx.profile.auth != AuthKind::DeviceCode {
        bail!(
            "profile `{}` signs in as an application (auth = \"{}\"), which needs no login; `whalewatch refresh` signs in by itself",
            ctx.name,
            match ctx.profile.auth {
                AuthKind::ClientSecret => "client_secret",
                _ => "certificate",
            }
        );
    }
    let identity = connect::identity(&ctx.profile);
    let http = http_client(
        std::time::Duration::from_secs(10),
        std::time::Duration::from_secs(60),
        ctx.profile.request_timeout(),
    )?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let flow = DeviceCodeFlow {
            identity: &identity,
            http: &http,
            sleeper: &TokioSleeper,
        };
        let challenge = flow.start().await?;
        // The message comes from the network: it goes through the sanitiser like any other.
        let message = if challenge.message.is_empty() {
            format!(
                "To sign in, open {} and enter the code {}.",
                challenge.verification_uri, challenge.user_code
            )
        } else {
            challenge.message.clone()
        };
        eprintln!("{}", sanitize(&message));
        eprintln!(
            "code: {}   url: {}",
            sanitize(&challenge.user_code),
            sanitize(&challenge.verification_uri)
        );
        let _ = std::io::stderr().flush();
        let token = flow.poll(&challenge).await?;
        let provider = TokenProvider::new(
            identity.clone(),
            Credential::RefreshToken(Secret::new(String::new())),
            http.clone(),
        )
        .with_store(TokenStore::new(&ctx.cache_dir), &ctx.name)?;
        provider.accept(&token).await?;
        anyhow::Ok(())
    })?;
    println!(
        "signed in; tokens for profile `{}` are kept in {} (owner-only)",
        ctx.name,
        ctx.cache_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
