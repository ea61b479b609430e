//! The issuer folder's `canary.toml`.

use std::collections::BTreeSet;

use anyhow::{Context as _, Result, bail};
use canary_core::{PublicKey, TrustPolicy, is_slug, parse_duration};
use chrono::TimeDelta;
use serde::Deserialize;

/// The configuration of one issuer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// Who speaks, normally a domain.
    pub issuer: String,
    /// Display name (shown on the status page).
    #[serde(default)]
    pub name: Option<String>,
    /// Where the statement is published.
    #[serde(default)]
    pub url: Option<String>,
    /// Time between statements, e.g. `90d`.
    pub cadence: String,
    /// Time after `next_due` until the canary expires, e.g. `14d`.
    pub grace: String,
    /// The services the status page reports on.
    #[serde(default)]
    pub components: Vec<Component>,
    /// The promises every statement makes.
    #[serde(default)]
    pub statements: Vec<Promise>,
    /// Who signs.
    pub trust: TrustConfig,
}

/// A service on the status page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Slug.
    pub id: String,
    /// Display name (shown on the status page).
    pub name: String,
}

/// A promise of the canary.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promise {
    /// Slug, stable across statements.
    pub id: String,
    /// What readers read.
    pub text: String,
}

/// The signing keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    /// The trust policy version (1 until keys are rotated).
    #[serde(default = "one")]
    pub version: u64,
    /// Signatures each document needs.
    pub threshold: u64,
    /// The signing keys, `ed25519:<base64>`.
    #[serde(default)]
    pub keys: Vec<PublicKey>,
    /// Keys whose signature means "under duress".
    #[serde(default)]
    pub panic_keys: Vec<PublicKey>,
}

fn one() -> u64 {
    1
}

/// True for a URL a reader will fetch (DESIGN §7): `https://` with a host,
/// or `http://` to a loopback host; nothing that could run or mislead
/// (`javascript:`, spaces, control characters, credentials).
fn is_reader_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let (rest, loopback_only) = if let Some(r) = lower.strip_prefix("https://") {
        (r, false)
    } else if let Some(r) = lower.strip_prefix("http://") {
        (r, true)
    } else {
        return false;
    };
    if url
        .chars()
        .any(|c| c.is_whitespace() || canary_core::is_unsafe(c))
    {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return false;
    }
    let host = if authority.starts_with('[') {
        authority
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or("").to_owned()
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    if !host_ok {
        return false;
    }
    !loopback_only || host == "localhost" || host == "[::1]" || host.starts_with("127.")
}

impl IssuerConfig {
    /// Parses and checks `canary.toml`.
    pub fn parse(text: &str) -> Result<Self> {
        let config: IssuerConfig = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        if self.issuer.is_empty() {
            bail!("issuer must not be empty");
        }
        self.cadence().context("cadence")?;
        self.grace().context("grace")?;
        if let Some(url) = &self.url
            && !is_reader_url(url)
        {
            bail!(
                "url {url:?} is not an https:// URL (http:// only for loopback hosts): readers \
                 fetch the canary from it, and it is written into the feed and trust.toml"
            );
        }
        let mut seen = BTreeSet::new();
        for p in &self.statements {
            if !is_slug(&p.id) {
                bail!(
                    "statements: id {:?} is not a slug (lowercase letters and digits joined by hyphens)",
                    p.id
                );
            }
            if !seen.insert(&p.id) {
                bail!("statements: id {:?} appears twice", p.id);
            }
        }
        let mut seen = BTreeSet::new();
        for c in &self.components {
            if !is_slug(&c.id) {
                bail!("components: id {:?} is not a slug", c.id);
            }
            if !seen.insert(&c.id) {
                bail!("components: id {:?} appears twice", c.id);
            }
            if c.id == crate::statuspage::CANARY_COMPONENT {
                bail!(
                    "components: id {:?} is the canary's own component on the status API; choose another",
                    c.id
                );
            }
        }
        Ok(())
    }

    /// The cadence as a duration.
    pub fn cadence(&self) -> Result<TimeDelta> {
        positive(&self.cadence)
    }

    /// The grace period as a duration.
    pub fn grace(&self) -> Result<TimeDelta> {
        let d = parse_duration(&self.grace)?;
        if d < TimeDelta::zero() {
            bail!("must not be negative");
        }
        Ok(d)
    }

    /// The full trust policy (threshold as configured).
    pub fn policy(&self) -> Result<TrustPolicy> {
        if self.trust.keys.is_empty() {
            bail!(
                "[trust] keys is empty in canary.toml; add the public key of each signer \
                 (the line in their .pub file, without the comment)"
            );
        }
        let policy = TrustPolicy::new(
            self.issuer.clone(),
            self.trust.version,
            self.trust.threshold,
            self.trust.keys.iter().copied(),
            self.trust.panic_keys.iter().copied(),
        )?;
        Ok(match &self.url {
            Some(u) => policy.with_url(u.clone()),
            None => policy,
        })
    }
}

fn positive(s: &str) -> Result<TimeDelta> {
    let d = parse_duration(s)?;
    if d <= TimeDelta::zero() {
        bail!("{s:?} must be longer than zero");
    }
    Ok(d)
}

/// Where readers of `issuer` fetch its canary unless `url` says otherwise.
pub fn default_url(issuer: &str) -> String {
    format!("https://{issuer}/.well-known/canary.json")
}

/// True when `issuer` can be the host of [`default_url`].
pub fn is_host_name(issuer: &str) -> bool {
    is_reader_url(&default_url(issuer))
}

/// The `canary.toml` that `init` writes.
pub fn template(issuer: &str, name: &str, keys: &[(PublicKey, String)], threshold: u64) -> String {
    let keys_toml = if keys.is_empty() {
        "keys = [\n  # \"ed25519:...\",  # the first field of each signer's .pub file\n]\n"
            .to_owned()
    } else {
        let mut s = "keys = [\n".to_owned();
        for (k, comment) in keys {
            // A TOML comment holds no control character.
            let comment: String = comment
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            if comment.is_empty() {
                s.push_str(&format!("  \"{k}\",\n"));
            } else {
                s.push_str(&format!("  \"{k}\",  # {comment}\n"));
            }
        }
        s.push_str("]\n");
        s
    };
    let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
    format!(
        r#"# canary issuer configuration. Every statement is drafted from this file
# (`canary-sign new`), so edit it before drafting, not the draft afterwards.

# Who speaks: normally the domain the canary is published under.
issuer = {issuer}
# Display name on the status page.
name = {name}
# Where readers fetch the canary.
url = {url}

# How often a new statement is promised (next_due = issued_at + cadence), and
# how long after next_due the canary stays valid (expires_at = next_due + grace).
# Units: s, m, h, d, w (e.g. "90d", "2w").
cadence = "90d"
grace = "14d"

# The services the status page reports on; incident records name them by id.
[[components]]
id = "website"
name = "Website"

# The promises. Ids are stable slugs: removing a promise, or changing its text,
# is exactly what a canary exists to signal, so `canary-sign sign` refuses it
# unless --allow-statement-change is given.
[[statements]]
id = "no-warrants"
text = "We have never received a search warrant."

[[statements]]
id = "no-gag-orders"
text = "We have never been placed under a gag order."

[[statements]]
id = "no-national-security-letters"
text = "We have never received a National Security Letter."

[[statements]]
id = "no-key-disclosure"
text = "We have never been compelled to disclose encryption keys."

[[statements]]
id = "no-backdoors"
text = "We have never placed a backdoor in our software or infrastructure."

# Who signs, and how many signatures each document needs (k of n).
[trust]
threshold = {threshold}
{keys_toml}# Keys that signal duress: a valid signature by one trips every verifier.
panic_keys = []
"#,
        issuer = q(issuer),
        name = q(name),
        url = q(&default_url(issuer)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses() {
        let c = IssuerConfig::parse(&template("example.org", "Example", &[], 1)).expect("parses");
        assert_eq!(c.issuer, "example.org");
        assert_eq!(c.cadence().expect("cadence"), TimeDelta::days(90));
        assert_eq!(c.statements.len(), 5);
        assert!(c.policy().is_err(), "no keys yet");
    }

    #[test]
    fn url_is_one_a_reader_fetches() {
        let base = template("example.org", "Example", &[], 1);
        let with = |url: &str| {
            let line = base
                .lines()
                .find(|l| l.starts_with("url = "))
                .expect("the template names a url");
            IssuerConfig::parse(&base.replace(line, &format!("url = \"{url}\"")))
        };
        for good in [
            "https://example.org/.well-known/canary.json",
            "https://example.org:8443/c.json",
            "http://127.0.0.1:8000/.well-known/canary.json",
            "http://localhost/c.json",
            "http://[::1]/c.json",
        ] {
            assert!(with(good).is_ok(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "http://example.org/c.json",
            "ftp://example.org/c.json",
            "https://",
            "https://user@example.org/c.json",
            "https://exa mple.org/c.json",
            "https://example.org/\u{202e}",
            "data:text/html,hi",
        ] {
            let err = with(bad).expect_err(bad).to_string();
            assert!(err.contains("https://"), "{bad}: {err}");
        }
    }

    #[test]
    fn refuses_unknown_fields_and_bad_values() {
        let base = template("example.org", "Example", &[], 1);
        assert!(IssuerConfig::parse(&format!("oops = 1\n{base}")).is_err());
        assert!(IssuerConfig::parse(&base.replace("\"90d\"", "\"90\"")).is_err());
        assert!(IssuerConfig::parse(&base.replace("\"no-raids\"", "x")).is_ok());
        assert!(
            IssuerConfig::parse(&base.replace("id = \"no-warrants\"", "id = \"No Warrants\""))
                .is_err()
        );
    }
}
