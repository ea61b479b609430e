//! Trust policies (DESIGN §4): what a verifier pins for an issuer.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use serde::Deserialize;

use crate::document::KeyRotation;
use crate::keys::{KeyId, PublicKey};
use crate::time::parse_duration;

/// The keys a verifier trusts for one issuer, and how many must sign.
///
/// A key listed twice counts once; a threshold above the number of distinct
/// keys is refused when the policy is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    issuer: String,
    version: u64,
    threshold: usize,
    keys: BTreeMap<KeyId, PublicKey>,
    panic_keys: BTreeMap<KeyId, PublicKey>,
    url: Option<String>,
    max_age: Option<TimeDelta>,
}

/// What a key rotation changes (DESIGN §3.5), from
/// [`TrustPolicy::change_to`]: keys in key-id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustChange {
    /// The version rotated from.
    pub from_version: u64,
    /// The version rotated to.
    pub to_version: u64,
    /// Signing keys the rotation adds.
    pub added: Vec<PublicKey>,
    /// Signing keys the rotation removes.
    pub removed: Vec<PublicKey>,
    /// Signing keys in both.
    pub kept: Vec<PublicKey>,
    /// Signatures the old key set needed.
    pub old_threshold: u64,
    /// Signatures the new key set needs.
    pub new_threshold: u64,
    /// Distinct keys in the new key set.
    pub new_key_count: usize,
    /// Panic keys the rotation adds.
    pub panic_added: Vec<PublicKey>,
    /// Panic keys the rotation removes.
    pub panic_removed: Vec<PublicKey>,
}

impl TrustChange {
    /// True when the new key set needs fewer signatures than the old one.
    #[must_use]
    pub fn lowers_threshold(&self) -> bool {
        self.new_threshold < self.old_threshold
    }
}

/// Why a trust policy is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not TOML, or a field is missing, unknown or of the wrong type; the
    /// message names it.
    #[error("trust policy is not valid: {0}")]
    Parse(String),
    /// `issuer` is empty.
    #[error("trust policy: issuer must not be empty")]
    EmptyIssuer,
    /// `issuer` holds whitespace or a control character: no valid document
    /// can name it.
    #[error(
        "trust policy: issuer {0:?} {1} (no document could name it); write the issuer as its \
         statements do, such as example.org"
    )]
    Issuer(String, &'static str),
    /// `version` is 0.
    #[error("trust policy: version must be at least 1")]
    Version,
    /// No keys at all.
    #[error("trust policy for {issuer}: keys must list at least one key")]
    NoKeys {
        /// The issuer.
        issuer: String,
    },
    /// Threshold 0 or above the number of distinct keys.
    #[error(
        "trust policy for {issuer}: threshold {threshold} must be between 1 and the number of distinct keys ({keys})"
    )]
    Threshold {
        /// The issuer.
        issuer: String,
        /// The threshold asked for.
        threshold: u64,
        /// Distinct keys listed.
        keys: usize,
    },
    /// A key is both a signing key and a panic key.
    #[error("trust policy for {issuer}: key {keyid} is listed both in keys and in panic_keys")]
    PanicKeyIsSigningKey {
        /// The issuer.
        issuer: String,
        /// The key listed twice.
        keyid: KeyId,
    },
    /// `max_age` is not a duration such as `120d`, or is not positive.
    #[error("trust policy: max_age {0:?} is not a positive duration such as 120d")]
    MaxAge(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    issuer: String,
    #[serde(default = "one")]
    version: u64,
    threshold: u64,
    keys: Vec<PublicKey>,
    #[serde(default)]
    panic_keys: Vec<PublicKey>,
    url: Option<String>,
    max_age: Option<String>,
}

fn one() -> u64 {
    1
}

impl TrustPolicy {
    /// Builds a policy from its parts, applying every rule.
    pub fn new(
        issuer: impl Into<String>,
        version: u64,
        threshold: u64,
        keys: impl IntoIterator<Item = PublicKey>,
        panic_keys: impl IntoIterator<Item = PublicKey>,
    ) -> Result<Self, PolicyError> {
        let issuer = issuer.into();
        if issuer.is_empty() {
            return Err(PolicyError::EmptyIssuer);
        }
        if let Some(problem) = crate::document::issuer_problem(&issuer) {
            return Err(PolicyError::Issuer(issuer, problem));
        }
        if version == 0 {
            return Err(PolicyError::Version);
        }
        let keys: BTreeMap<_, _> = keys.into_iter().map(|k| (k.id(), k)).collect();
        if keys.is_empty() {
            return Err(PolicyError::NoKeys { issuer });
        }
        let threshold_ok = threshold >= 1 && threshold <= keys.len() as u64;
        if !threshold_ok {
            return Err(PolicyError::Threshold {
                issuer,
                threshold,
                keys: keys.len(),
            });
        }
        let panic_keys: BTreeMap<_, _> = panic_keys.into_iter().map(|k| (k.id(), k)).collect();
        if let Some(keyid) = panic_keys.keys().find(|id| keys.contains_key(id)) {
            return Err(PolicyError::PanicKeyIsSigningKey {
                issuer,
                keyid: *keyid,
            });
        }
        Ok(TrustPolicy {
            issuer,
            version,
            threshold: threshold as usize,
            keys,
            panic_keys,
            url: None,
            max_age: None,
        })
    }

    /// Parses a `*.toml` trust policy.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        let max_age = match file.max_age {
            None => None,
            Some(s) => match parse_duration(&s) {
                Ok(d) if d > TimeDelta::zero() => Some(d),
                _ => return Err(PolicyError::MaxAge(s)),
            },
        };
        let mut policy = TrustPolicy::new(
            file.issuer,
            file.version,
            file.threshold,
            file.keys,
            file.panic_keys,
        )?;
        policy.url = file.url;
        policy.max_age = max_age;
        Ok(policy)
    }

    /// Writes the policy as TOML, in the form [`TrustPolicy::from_toml`] reads.
    pub fn to_toml(&self) -> String {
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let list = |keys: &BTreeMap<KeyId, PublicKey>| {
            keys.values()
                .map(|k| format!("  \"{k}\",\n"))
                .collect::<String>()
        };
        let mut out = format!(
            "issuer = {}\nversion = {}\nthreshold = {}\nkeys = [\n{}]\n",
            quote(&self.issuer),
            self.version,
            self.threshold,
            list(&self.keys)
        );
        if !self.panic_keys.is_empty() {
            out.push_str(&format!("panic_keys = [\n{}]\n", list(&self.panic_keys)));
        }
        if let Some(url) = &self.url {
            out.push_str(&format!("url = {}\n", quote(url)));
        }
        if let Some(age) = self.max_age {
            out.push_str(&format!(
                "max_age = \"{}\"\n",
                crate::time::format_duration(age)
            ));
        }
        out
    }

    /// The next policy after a valid rotation (the caller checks signatures).
    pub fn rotated(&self, rotation: &KeyRotation) -> Result<Self, PolicyError> {
        let mut next = TrustPolicy::new(
            rotation.issuer.clone(),
            rotation.version,
            rotation.threshold,
            rotation.keys.iter().copied(),
            rotation.panic_keys.iter().flatten().copied(),
        )?;
        next.url = self.url.clone();
        next.max_age = self.max_age;
        Ok(next)
    }

    /// What changes from this policy to `next` (normally
    /// [`TrustPolicy::rotated`] by a rotation): keys added, removed and
    /// kept, the old and new thresholds, panic keys added and removed. For
    /// showing a rotation to whoever signs or reads it; nothing is checked.
    #[must_use]
    pub fn change_to(&self, next: &TrustPolicy) -> TrustChange {
        let only = |a: &BTreeMap<KeyId, PublicKey>, b: &BTreeMap<KeyId, PublicKey>| {
            a.iter()
                .filter(|(id, _)| !b.contains_key(id))
                .map(|(_, k)| *k)
                .collect::<Vec<_>>()
        };
        TrustChange {
            from_version: self.version,
            to_version: next.version,
            added: only(&next.keys, &self.keys),
            removed: only(&self.keys, &next.keys),
            kept: self
                .keys
                .iter()
                .filter(|(id, _)| next.keys.contains_key(id))
                .map(|(_, k)| *k)
                .collect(),
            old_threshold: self.threshold as u64,
            new_threshold: next.threshold as u64,
            new_key_count: next.keys.len(),
            panic_added: only(&next.panic_keys, &self.panic_keys),
            panic_removed: only(&self.panic_keys, &next.panic_keys),
        }
    }

    /// The same policy with threshold `threshold` (at least 1, at most the
    /// number of keys): what a document still being co-signed is read with.
    #[must_use]
    pub fn with_threshold(&self, threshold: usize) -> Self {
        let mut lowered = self.clone();
        lowered.threshold = threshold.clamp(1, self.keys.len());
        lowered
    }

    /// True when both policies trust the same thing: issuer, version,
    /// threshold, keys and panic keys (`url` and `max_age` aside).
    #[must_use]
    pub fn same_trust(&self, other: &TrustPolicy) -> bool {
        self.issuer == other.issuer
            && self.version == other.version
            && self.threshold == other.threshold
            && self.keys == other.keys
            && self.panic_keys == other.panic_keys
    }

    /// A digest of what [`TrustPolicy::same_trust`] compares: names a pin
    /// without holding it.
    #[must_use]
    pub fn trust_digest(&self) -> crate::digest::Digest {
        let mut text = format!(
            "canary trust\nissuer {:?}\nversion {}\nthreshold {}\n",
            self.issuer, self.version, self.threshold
        );
        for k in self.keys.values() {
            text.push_str(&format!("key {k}\n"));
        }
        for k in self.panic_keys.values() {
            text.push_str(&format!("panic {k}\n"));
        }
        crate::digest::Digest::of(text.as_bytes())
    }

    /// Sets where the issuer publishes.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Sets the verifier's maximum accepted age of a statement.
    pub fn with_max_age(mut self, max_age: TimeDelta) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// The issuer this policy is for.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The policy version (1 for the first, +1 per rotation).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// How many distinct trusted keys must sign.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The trusted signing keys, by key id.
    pub fn keys(&self) -> &BTreeMap<KeyId, PublicKey> {
        &self.keys
    }

    /// The panic keys, by key id.
    pub fn panic_keys(&self) -> &BTreeMap<KeyId, PublicKey> {
        &self.panic_keys
    }

    /// Where the issuer publishes, if pinned.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The maximum accepted age of a statement, if set.
    pub fn max_age(&self) -> Option<TimeDelta> {
        self.max_age
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;
    use zeroize::Zeroizing;

    fn pk(seed: u8) -> PublicKey {
        *SigningKey::from_seed(&Zeroizing::new([seed; 32]))
            .expect("seed")
            .public_key()
    }

    #[test]
    fn parses_and_round_trips() {
        let text = format!(
            "issuer = \"example.org\"\nthreshold = 2\nkeys = [\"{}\", \"{}\"]\npanic_keys = [\"{}\"]\nurl = \"https://example.org/.well-known/canary.json\"\nmax_age = \"120d\"\n",
            pk(1),
            pk(2),
            pk(3)
        );
        let p = TrustPolicy::from_toml(&text).expect("valid");
        assert_eq!(p.issuer(), "example.org");
        assert_eq!(p.version(), 1);
        assert_eq!(p.threshold(), 2);
        assert_eq!(p.keys().len(), 2);
        assert_eq!(p.panic_keys().len(), 1);
        assert_eq!(p.max_age(), Some(TimeDelta::days(120)));
        assert_eq!(TrustPolicy::from_toml(&p.to_toml()), Ok(p));
    }

    #[test]
    fn an_issuer_no_document_could_name_is_refused() {
        for issuer in ["test example", "example.org\n", "a\tb", "ex\u{85}ample"] {
            assert!(
                matches!(
                    TrustPolicy::new(issuer, 1, 1, [pk(1)], []),
                    Err(PolicyError::Issuer(..))
                ),
                "{issuer:?}"
            );
        }
        assert_eq!(
            TrustPolicy::new("", 1, 1, [pk(1)], []),
            Err(PolicyError::EmptyIssuer)
        );
        let text = format!(
            "issuer = \"test example\"\nthreshold = 1\nkeys = [\"{}\"]\n",
            pk(1)
        );
        let refused = TrustPolicy::from_toml(&text).expect_err("refused");
        assert!(refused.to_string().contains("whitespace"), "{refused}");
        assert!(TrustPolicy::new("example.org", 1, 1, [pk(1)], []).is_ok());
    }

    #[test]
    fn change_to_names_every_difference() {
        let before =
            TrustPolicy::new("example.org", 1, 2, [pk(1), pk(2)], [pk(5)]).expect("policy");
        let rotation = KeyRotation {
            issuer: "example.org".into(),
            version: 2,
            threshold: 1,
            keys: vec![pk(3), pk(1)],
            panic_keys: Some(vec![pk(6)]),
            issued_at: "2026-01-01T00:00:00Z".parse().expect("time"),
        };
        let change = before.change_to(&before.rotated(&rotation).expect("valid"));
        assert_eq!((change.from_version, change.to_version), (1, 2));
        assert_eq!(change.added, vec![pk(3)]);
        assert_eq!(change.removed, vec![pk(2)]);
        assert_eq!(change.kept, vec![pk(1)]);
        assert_eq!((change.old_threshold, change.new_threshold), (2, 1));
        assert_eq!(change.new_key_count, 2);
        assert_eq!(change.panic_added, vec![pk(6)]);
        assert_eq!(change.panic_removed, vec![pk(5)]);
        assert!(change.lowers_threshold());
        let same = KeyRotation {
            threshold: 2,
            keys: vec![pk(2), pk(1)],
            panic_keys: Some(vec![pk(5)]),
            ..rotation
        };
        let none = before.change_to(&before.rotated(&same).expect("valid"));
        assert!(none.added.is_empty() && none.removed.is_empty());
        assert!(none.panic_added.is_empty() && none.panic_removed.is_empty());
        assert!(!none.lowers_threshold());
    }

    #[test]
    fn duplicate_keys_count_once() {
        let text = format!(
            "issuer = \"example.org\"\nthreshold = 2\nkeys = [\"{}\", \"{}\"]\n",
            pk(1),
            pk(1)
        );
        assert!(matches!(
            TrustPolicy::from_toml(&text),
            Err(PolicyError::Threshold {
                threshold: 2,
                keys: 1,
                ..
            })
        ));
    }

    #[test]
    fn refuses_bad_policies() {
        let k = pk(1);
        let cases = [
            (format!("issuer = \"\"\nthreshold = 1\nkeys = [\"{k}\"]\n"), "issuer"),
            (format!("issuer = \"a\"\nthreshold = 0\nkeys = [\"{k}\"]\n"), "threshold"),
            ("issuer = \"a\"\nthreshold = 1\nkeys = []\n".to_owned(), "at least one key"),
            (format!("issuer = \"a\"\nthreshold = 1\nkeys = [\"{k}\"]\nversion = 0\n"), "version"),
            (format!("issuer = \"a\"\nthreshold = 1\nkeys = [\"{k}\"]\nextra = 1\n"), "unknown field"),
            (format!("issuer = \"a\"\nthreshold = 1\nkeys = [\"{k}\"]\nmax_age = \"soon\"\n"), "max_age"),
            (format!("issuer = \"a\"\nthreshold = 1\nkeys = [\"{k}\"]\npanic_keys = [\"{k}\"]\n"), "both"),
            ("issuer = \"a\"\nthreshold = 1\nkeys = [\"ed25519:AQ==\"]\n".to_owned(), "32 bytes"),
            ("issuer = \"a\"\nthreshold = 1\nkeys = [\"ed25519:AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]\n".to_owned(), "weak"),
        ];
        for (text, needle) in cases {
            let err = TrustPolicy::from_toml(&text).expect_err(&text).to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
