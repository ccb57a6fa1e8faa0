//! National clouds: which login and Graph hosts a tenant lives on.
//!
//! A US Government or China tenant cannot sign in at login.microsoftonline.com, so both hosts
//! come from the cloud; explicit overrides point whalewatch at a proxy or at `whalewatch sim`
//! without changing the token scope (which must stay the cloud's Graph resource).

/// A cloud name the config names that whalewatch does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown cloud {0:?}; use global, usgov, usgov-dod or china")]
pub struct UnknownCloud(pub String);

/// A Microsoft national cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cloud {
    /// Commercial / GCC: login.microsoftonline.com, graph.microsoft.com.
    #[default]
    Global,
    /// GCC High: login.microsoftonline.us, graph.microsoft.us.
    UsGov,
    /// DoD: login.microsoftonline.us, dod-graph.microsoft.us.
    UsGovDod,
    /// 21Vianet: login.chinacloudapi.cn, microsoftgraph.chinacloudapi.cn.
    China,
}

impl Cloud {
    /// Parses a config value (`global`, `usgov`, `usgov-dod`, `china`, and common aliases).
    pub fn parse(name: &str) -> Result<Self, UnknownCloud> {
        match name.trim().to_ascii_lowercase().as_str() {
            "global" | "public" | "commercial" | "gcc" | "azurecloud" => Ok(Cloud::Global),
            "usgov" | "gcchigh" | "gcc-high" | "usgovernment" | "azureusgovernment" => {
                Ok(Cloud::UsGov)
            }
            "usgov-dod" | "dod" | "usgovdod" => Ok(Cloud::UsGovDod),
            "china" | "21vianet" | "azurechinacloud" => Ok(Cloud::China),
            other => Err(UnknownCloud(other.to_owned())),
        }
    }

    /// The identity platform host for this cloud.
    pub fn login_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    /// The Microsoft Graph host for this cloud (also the token resource).
    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::UsGov => "https://graph.microsoft.us",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }
}

/// Microsoft hosts whose links whalewatch shows as trusted (portals and sign-in pages);
/// none of them is ever sent a credential.
const MICROSOFT_PORTAL_HOSTS: &[&str] = &[
    "security.microsoft.com",
    "security.microsoft.us",
    "security.apps.mil",
    "microsoft.com",
    "www.microsoft.com",
    "login.microsoft.com",
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "aka.ms",
];

/// True for an HTTPS link, on the default port, to one of Microsoft's portal or
/// sign-in hosts.
pub fn is_microsoft_portal(url: &url::Url) -> bool {
    url.scheme() == "https"
        && url.port().is_none()
        && url
            .host_str()
            .is_some_and(|h| MICROSOFT_PORTAL_HOSTS.contains(&h.to_ascii_lowercase().as_str()))
}

/// The resolved hosts whalewatch talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudEndpoints {
    /// Identity platform base URL, no trailing slash.
    pub login_url: String,
    /// Graph base URL (without `/v1.0`), no trailing slash.
    pub graph_url: String,
    /// The Graph resource the token is for; stays the cloud's even when `graph_url` is overridden.
    pub graph_resource: String,
}

impl CloudEndpoints {
    /// The cloud's hosts, with optional overrides (proxies, the simulator).
    pub fn new(cloud: Cloud, login_override: Option<&str>, graph_override: Option<&str>) -> Self {
        let trim = |s: &str| s.trim_end_matches('/').to_owned();
        CloudEndpoints {
            login_url: trim(login_override.unwrap_or(cloud.login_url())),
            graph_url: trim(graph_override.unwrap_or(cloud.graph_url())),
            graph_resource: cloud.graph_url().to_owned(),
        }
    }

    /// `{login}/{tenant}/oauth2/v2.0/token`
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.login_url, tenant)
    }

    /// `{login}/{tenant}/oauth2/v2.0/devicecode`
    pub fn device_code_url(&self, tenant: &str) -> String {
        format!("{}/{}/oauth2/v2.0/devicecode", self.login_url, tenant)
    }

    /// True when a link the service handed us only to show (an Action-center
    /// `Location`, a device-code `verification_uri`) points at a host this profile trusts:
    /// its own login or Graph origin, or a Microsoft portal host over HTTPS. Anything
    /// else is shown as untrusted (or refused) and never fetched.
    pub fn is_trusted_display_link(&self, link: &str) -> bool {
        let Ok(url) = url::Url::parse(link) else {
            return false;
        };
        let origin = url.origin().ascii_serialization();
        let same = |base: &str| {
            url::Url::parse(base).is_ok_and(|b| b.origin().ascii_serialization() == origin)
        };
        if same(&self.login_url) || same(&self.graph_url) {
            return true;
        }
        is_microsoft_portal(&url)
    }

    /// `{graph resource}/.default`: every application permission granted to the app.
    pub fn graph_scope(&self) -> String {
        format!("{}/.default", self.graph_resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_map_to_hosts() {
        let dod = CloudEndpoints::new(Cloud::parse("usgov-dod").unwrap_or_default(), None, None);
        assert_eq!(
            dod.token_url("t"),
            "https://login.microsoftonline.us/t/oauth2/v2.0/token"
        );
        assert_eq!(dod.graph_url, "https://dod-graph.microsoft.us");
        let cn = CloudEndpoints::new(Cloud::China, None, None);
        assert_eq!(
            cn.graph_scope(),
            "https://microsoftgraph.chinacloudapi.cn/.default"
        );
        let sim = CloudEndpoints::new(
            Cloud::Global,
            Some("http://127.0.0.1:9/"),
            Some("http://127.0.0.1:9"),
        );
        assert_eq!(
            sim.device_code_url("x"),
            "http://127.0.0.1:9/x/oauth2/v2.0/devicecode"
        );
        assert_eq!(sim.graph_scope(), "https://graph.microsoft.com/.default");
        assert!(Cloud::parse("mars").is_err());
        let global = CloudEndpoints::new(Cloud::Global, None, None);
        for (link, trusted) in [
            ("https://microsoft.com/devicelogin", true),
            (
                "https://security.microsoft.com/action-center/history?filters=x",
                true,
            ),
            ("https://graph.microsoft.com/v1.0/x", true),
            ("http://security.microsoft.com/", false),
            ("https://security.microsoft.com.evil.example/", false),
            ("https://security.microsoft.com:8443/", false),
            ("https://evil.example/devicelogin", false),
            ("not a link", false),
        ] {
            assert_eq!(global.is_trusted_display_link(link), trusted, "{link}");
        }
        assert!(sim.is_trusted_display_link("http://127.0.0.1:9/action"));
        assert!(!sim.is_trusted_display_link("http://127.0.0.1:10/action"));
    }
}
