//! What the published site shows (DESIGN §9), derived from verified
//! documents only: the status page, `status.json` and `canary.txt` are all
//! renderings of this one model.

use canary_core::{
    Digest, Impact, IncidentRecord, IncidentStatus, KeyId, PublicKey, Statement, Timestamp,
};
use serde::Serialize;

use crate::common::escape;

/// A component's state, from the unresolved incidents that affect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentStatus {
    /// No unresolved incident with an impact.
    Operational,
    /// An unresolved incident of minor impact.
    Degraded,
    /// An unresolved incident of major or critical impact.
    Outage,
}

impl ComponentStatus {
    /// From the impact of an unresolved incident.
    pub fn from_impact(impact: Impact) -> Self {
        match impact {
            Impact::None => ComponentStatus::Operational,
            Impact::Minor => ComponentStatus::Degraded,
            Impact::Major | Impact::Critical => ComponentStatus::Outage,
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "Operational",
            ComponentStatus::Degraded => "Degraded performance",
            ComponentStatus::Outage => "Outage",
        }
    }
}

/// One component on the page.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentView {
    /// Slug.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Current status.
    pub status: ComponentStatus,
}

/// The JSON Schema of `status.json`, published beside it (DESIGN §9).
pub const STATUS_SCHEMA: &str = include_str!("schema/status.schema.json");

/// What readers make of the current canary when the site is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CanaryState {
    /// Valid and not yet due (expiring soon counts as fresh).
    Fresh,
    /// The next statement is due (a warning for readers).
    Late,
    /// Expired, or older than the pinned `max_age`.
    Stale,
    /// Every reader reports it tripped.
    Tripped,
}

/// The current canary.
#[derive(Debug, Clone)]
pub struct CanaryView {
    /// The statement.
    pub statement: Statement,
    /// Digest of its payload.
    pub digest: Digest,
    /// Who signed it.
    pub signers: Vec<KeyId>,
    /// Panic keys that signed it.
    pub panic_signers: Vec<KeyId>,
    /// Signatures required.
    pub threshold: usize,
    /// Why every reader reports this canary as tripped (a panic key
    /// signed it, it is final, a promise was removed or reworded); empty
    /// when it is not tripped.
    pub tripped: Vec<String>,
    /// What readers make of it at publishing time.
    pub state: CanaryState,
    /// The signers' public keys, in key-id order (for the DSSE recipe).
    pub signer_keys: Vec<PublicKey>,
    /// The signers whose SSHSIG and minisign signatures are in `plain/`.
    pub plain_signers: Vec<KeyId>,
}

impl CanaryView {
    /// True when readers report the canary as tripped.
    pub fn is_tripped(&self) -> bool {
        self.state == CanaryState::Tripped
    }
}

/// Where the `plain/` files are published.
pub const PLAIN_DIR: &str = ".well-known/canary/plain/";

/// How the envelope reads to other DSSE producers and consumers.
pub const DSSE_PROFILE: &str = "canary.json is a DSSE v1 envelope in a strict profile: every \
    signature names its keyid (the lowercase hex SHA-256 of the raw public key), base64 is the \
    standard alphabet with padding and nothing else, and the envelope has no fields besides \
    payload, payloadType and signatures.";

/// Everything the site shows.
#[derive(Debug, Clone)]
pub struct Site {
    /// The issuer.
    pub issuer: String,
    /// Display name.
    pub name: String,
    /// Components with status.
    pub components: Vec<ComponentView>,
    /// Worst impact among unresolved incidents.
    pub indicator: Impact,
    /// The current canary.
    pub canary: CanaryView,
    /// Every statement, oldest first (sequence, issued_at, digest).
    pub history: Vec<(u64, Timestamp, Digest)>,
    /// The latest version of every incident, newest first.
    pub incidents: Vec<IncidentRecord>,
    /// Every version of every incident, for the feed.
    pub incident_versions: Vec<IncidentRecord>,
    /// When the site was published (`publish --at`, or the clock).
    pub generated_at: Timestamp,
}

impl Site {
    /// Builds the model: component status from unresolved incidents,
    /// incidents newest first.
    pub fn new(
        issuer: String,
        name: String,
        components: Vec<(String, String)>,
        canary: CanaryView,
        history: Vec<(u64, Timestamp, Digest)>,
        mut incidents: Vec<IncidentRecord>,
        incident_versions: Vec<IncidentRecord>,
    ) -> Self {
        incidents.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        let open: Vec<&IncidentRecord> = incidents
            .iter()
            .filter(|r| r.status != IncidentStatus::Resolved)
            .collect();
        let mut indicator = open.iter().map(|r| r.impact).max().unwrap_or(Impact::None);
        // A tripped canary is the worst news the page can carry.
        if canary.is_tripped() {
            indicator = Impact::Critical;
        }
        let components = components
            .into_iter()
            .map(|(id, name)| {
                let status = open
                    .iter()
                    .filter(|r| r.affected.contains(&id))
                    .map(|r| ComponentStatus::from_impact(r.impact))
                    .max()
                    .unwrap_or(ComponentStatus::Operational);
                ComponentView { id, name, status }
            })
            .collect();
        let generated_at = canary.statement.issued_at;
        Site {
            issuer,
            name,
            components,
            indicator,
            canary,
            history,
            incidents,
            incident_versions,
            generated_at,
        }
    }

    /// The unresolved incidents.
    pub fn open_incidents(&self) -> impl Iterator<Item = &IncidentRecord> {
        self.incidents
            .iter()
            .filter(|r| r.status != IncidentStatus::Resolved)
    }

    /// Words for the overall state.
    pub fn overall_label(&self) -> &'static str {
        if self.canary.is_tripped() {
            return "Major outage: the warrant canary is tripped";
        }
        match self.indicator {
            Impact::None => "All systems operational",
            Impact::Minor => "Minor service disruption",
            Impact::Major => "Partial service outage",
            Impact::Critical => "Major service outage",
        }
    }

    /// `status.json`: a machine summary.
    pub fn status_json(&self) -> serde_json::Value {
        let s = &self.canary.statement;
        serde_json::json!({
            "generated_at": self.generated_at.to_string(),
            "issuer": self.issuer,
            "name": self.name,
            "indicator": self.indicator.as_str(),
            "description": self.overall_label(),
            "components": self.components,
            "unresolved_incidents": self.open_incidents().map(|r| serde_json::json!({
                "id": r.id,
                "title": r.title,
                "kind": r.kind.as_str(),
                "impact": r.impact.as_str(),
                "status": r.status.as_str(),
                "started_at": r.started_at.to_string(),
                "affected": r.affected,
                "version": r.version,
            })).collect::<Vec<_>>(),
            "canary": {
                "url": "/.well-known/canary.json",
                "trust": "/.well-known/canary/trust.toml",
                "sequence": s.sequence,
                "issued_at": s.issued_at.to_string(),
                "next_due": s.next_due.to_string(),
                "expires_at": s.expires_at.to_string(),
                "digest": self.canary.digest.to_string(),
                "final": s.is_final(),
                "state": self.canary.state,
                "tripped": self.canary.is_tripped(),
                "tripped_reasons": self.canary.tripped,
                "signers": self.canary.signers.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "panic_signers": self.canary.panic_signers.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "statements": s.statements.iter().map(|i| serde_json::json!({"id": i.id, "text": i.text})).collect::<Vec<_>>(),
            },
        })
    }

    /// The `ssh-keygen` and `minisign` commands that check each signer's
    /// `plain/` signatures, run in that folder; empty when none is published.
    pub fn plain_commands(&self) -> Vec<(KeyId, String, String)> {
        let issuer = escape(&self.issuer);
        self.canary
            .plain_signers
            .iter()
            .map(|id| {
                let k = id.short();
                (
                    *id,
                    format!(
                        "ssh-keygen -Y verify -f allowed_signers -I {issuer} \\\n  -n canary-v1@{issuer} -s payload.json.{k}.sig < payload.json"
                    ),
                    format!("minisign -Vm payload.json -x payload.json.{k}.minisig \\\n  -p {k}.minisign.pub"),
                )
            })
            .collect()
    }

    /// A shell recipe that checks the first signer's signature in
    /// `canary.json` with jq, base64 and OpenSSL 3, run in `.well-known/`.
    pub fn dsse_recipe(&self) -> Option<String> {
        let key = self.canary.signer_keys.first()?;
        let b64 = key.to_string();
        let b64 = b64.strip_prefix("ed25519:").unwrap_or(&b64);
        Some(format!(
            "jq -r .payload canary.json | base64 -d > payload.json\n\
             jq -r '.signatures[] | select(.keyid == \"{id}\") | .sig' canary.json \\\n  | base64 -d > sig.bin\n\
             t=$(jq -r .payloadType canary.json)\n\
             {{ printf 'DSSEv1 %d %s %d ' \"${{#t}}\" \"$t\" \"$(( $(wc -c < payload.json) ))\"\n  cat payload.json; }} > pae.bin\n\
             {{ printf '\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000'\n  printf '%s' '{b64}' | base64 -d; }} > key.der\n\
             openssl pkeyutl -verify -pubin -inkey key.der -keyform DER -rawin \\\n  -in pae.bin -sigfile sig.bin",
            id = key.id(),
        ))
    }

    /// `canary.txt`: the current canary for people, labelled as a rendering.
    pub fn canary_text(&self) -> String {
        let s = &self.canary.statement;
        let mut t = String::new();
        t.push_str(&format!(
            "Warrant canary of {} ({})\n",
            escape(&self.name),
            escape(&self.issuer)
        ));
        if self.canary.is_tripped() {
            t.push_str("\nTRIPPED: every reader's verifier reports this canary as tripped:\n");
            for reason in &self.canary.tripped {
                t.push_str(&format!("  - {}\n", escape(reason)));
            }
            if !self.canary.panic_signers.is_empty() {
                t.push_str(
                    "It is signed with a panic key: the issuer signals duress or compromise.\n\
                     Do not rely on the promises below.\n",
                );
            }
        }
        t.push_str("\nThis text is a rendering for reading. The signed statement at\n");
        t.push_str("/.well-known/canary.json is authoritative; verify it with\n\n");
        t.push_str(&format!("    canary verify {}\n\n", escape(&self.issuer)));
        t.push_str("after pinning the trust policy at /.well-known/canary/trust.toml.\n\n");
        t.push_str(&format!(
            "Statement {}, as of {}:\n\n",
            s.sequence, s.issued_at
        ));
        for item in &s.statements {
            t.push_str(&format!(
                "  * {}  [{}]\n",
                escape(&item.text),
                escape(&item.id)
            ));
        }
        if let Some(notes) = &s.notes {
            t.push_str(&format!("\nNotes: {}\n", escape(notes)));
        }
        if s.is_final() {
            t.push_str("\nThis is the final statement: no further canary will be published.\n");
        }
        if let Some(f) = &s.freshness {
            t.push_str("\nFreshness proof (the text was not written before):\n");
            if let Some(b) = &f.bitcoin {
                t.push_str(&format!(
                    "  Bitcoin block {} ({})\n  {}\n",
                    b.height,
                    escape(&b.hash),
                    if b.header_checked() {
                        "its header is included and was checked offline: it hashes to the block\n  \
                         hash, meets its difficulty target, and its time precedes the statement"
                    } else {
                        "no header included: look the block up to confirm it"
                    }
                ));
            }
            for h in f.headlines.iter().flatten() {
                t.push_str(&format!("  Headline: {}\n", escape(h)));
            }
        }
        t.push_str(&format!("\nNext statement due: {}\n", s.next_due));
        t.push_str(&format!("Expires:            {}\n", s.expires_at));
        t.push_str(&format!("Digest:             {}\n", self.canary.digest));
        t.push_str(&format!(
            "Signed by {} of {} required keys:\n",
            self.canary.signers.len(),
            self.canary.threshold
        ));
        for k in &self.canary.signers {
            t.push_str(&format!("  {k}\n"));
        }
        for k in &self.canary.panic_signers {
            t.push_str(&format!("  {k} (PANIC KEY)\n"));
        }
        t.push_str(&self.verify_without_canary_text());
        t
    }

    /// The "Verify without canary" part of `canary.txt`.
    fn verify_without_canary_text(&self) -> String {
        let indent = |block: &str| {
            block
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        };
        let mut t = String::from("\nVerify without canary\n\n");
        let commands = self.plain_commands();
        if !commands.is_empty() {
            t.push_str(&format!(
                "The statement's payload, byte for byte, and its signers' signatures are also\n\
                 published for stock tools in /{PLAIN_DIR}. In that folder,\n\
                 for each signer:\n\n"
            ));
            for (id, ssh, minisign) in &commands {
                t.push_str(&format!("  {}\n\n", id.short()));
                t.push_str(&indent(ssh));
                t.push_str(&indent(minisign));
                t.push('\n');
            }
            t.push_str(
                "Compare the keys in allowed_signers and *.minisign.pub with the trust policy\n\
                 you pinned first: files from the same server prove nothing by themselves.\n\n",
            );
        }
        if let Some(recipe) = self.dsse_recipe() {
            t.push_str(
                "The signed statement itself, with jq, base64 and OpenSSL 3, in /.well-known/\n\
                 (the key is the signer's from trust.toml; repeat for each signer):\n\n",
            );
            t.push_str(&indent(&recipe));
            t.push('\n');
        }
        let mut line = String::new();
        for word in DSSE_PROFILE.split(' ') {
            if !line.is_empty() && line.len() + word.len() >= 78 {
                t.push_str(&line);
                t.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        t.push_str(&line);
        t.push('\n');
        t
    }
}
