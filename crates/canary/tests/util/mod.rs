//! Helpers for driving the real `canary` binary: fixture keys, documents
//! built with canary-core at fixed dates, publish and issuer folder layouts,
//! and a runner that bounds every run in time, keeps the child away from the
//! real state folder and checks that nothing panicked.

// Not every test binary that includes this module uses every helper.
#![allow(dead_code)]
// Test helpers outside `#[test]` functions report failures by panicking;
// clippy.toml's allow-panic-in-tests does not reach them.
#![allow(clippy::panic)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use canary_core::{
    Compromise, Digest, Envelope, Impact, IncidentKind, IncidentRecord, IncidentRef,
    IncidentStatus, IncidentUpdate, Measure, MeasureKind, Payload, PublicKey, SigningKey,
    Statement, StatementItem, TimeDelta, Timestamp, Zeroizing, to_payload,
};

/// Exit status: ok.
pub const OK: i32 = 0;
/// Exit status: invalid.
pub const INVALID: i32 = 1;
/// Exit status: usage error.
pub const USAGE: i32 = 2;
/// Exit status: stale.
pub const STALE: i32 = 3;
/// Exit status: unreachable.
pub const UNREACHABLE: i32 = 4;
/// Exit status: tripped.
pub const TRIPPED: i32 = 5;
/// Exit status: warning (only with `--deny-warnings`).
pub const WARNING: i32 = 6;

/// The fixture issuer.
pub const ISSUER: &str = "example.org";

/// No run of the binary may take longer than this.
const RUN_LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------- time

/// A fixed time (tests never read the clock).
pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("a valid fixed timestamp")
}

/// `t` moved by `days` (negative: earlier).
pub fn plus_days(t: Timestamp, days: i64) -> Timestamp {
    t.checked_add(TimeDelta::days(days))
        .expect("timestamp in range")
}

/// `t` moved by `secs` seconds (negative: earlier).
pub fn plus_secs(t: Timestamp, secs: i64) -> Timestamp {
    t.checked_add(TimeDelta::seconds(secs))
        .expect("timestamp in range")
}

// ---------------------------------------------------------------- keys

/// The fixture key folder of canary-core.
pub fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../canary-core/testdata/keys")
}

/// A fixture signing key: `alice`, `bob`, `carol`, `mallory` or `panic`.
pub fn key(name: &str) -> SigningKey {
    let path = keys_dir().join(format!("{name}.seed"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let hex = text.trim();
    assert_eq!(hex.len(), 64, "{} holds 64 hex digits", path.display());
    let mut seed = Zeroizing::new([0u8; 32]);
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex seed");
    }
    SigningKey::from_seed(&seed).expect("fixture key")
}

/// The public key of a fixture key.
pub fn public(name: &str) -> PublicKey {
    *key(name).public_key()
}

/// A trust policy for [`ISSUER`] in TOML.
pub fn trust_toml(threshold: u64, keys: &[&str], panic_keys: &[&str]) -> String {
    let list = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("\"{}\"", public(n)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut toml = format!(
        "issuer = \"{ISSUER}\"\nthreshold = {threshold}\nkeys = [{}]\n",
        list(keys)
    );
    if !panic_keys.is_empty() {
        toml.push_str(&format!("panic_keys = [{}]\n", list(panic_keys)));
    }
    toml
}

// ---------------------------------------------------------------- documents

/// The first statement's date.
pub fn epoch() -> Timestamp {
    ts("2026-01-01T00:00:00Z")
}

/// When statement `seq` of a fixture chain is issued: one per 90 days.
pub fn issued(seq: u64) -> Timestamp {
    plus_days(epoch(), 90 * (i64::try_from(seq).expect("small") - 1))
}

/// A day after statement `seq` was issued: it is valid and fresh then.
pub fn fresh_at(seq: u64) -> Timestamp {
    plus_days(issued(seq), 1)
}

/// The promises of the fixture issuer.
pub fn items() -> Vec<StatementItem> {
    [
        ("no-warrants", "We have never received a search warrant."),
        (
            "no-gag-orders",
            "We have never been placed under a gag order.",
        ),
        (
            "no-key-disclosure",
            "We have never been compelled to disclose encryption keys.",
        ),
    ]
    .into_iter()
    .map(|(id, text)| StatementItem {
        id: id.to_owned(),
        text: text.to_owned(),
    })
    .collect()
}

/// Statement `seq` of the fixture issuer: next due after 90 days, expiring
/// 14 days later, no `previous` (the caller links it).
pub fn statement(seq: u64) -> Statement {
    let issued_at = issued(seq);
    let next_due = plus_days(issued_at, 90);
    Statement {
        issuer: ISSUER.to_owned(),
        sequence: seq,
        issued_at,
        next_due,
        expires_at: plus_days(next_due, 14),
        statements: items(),
        previous: None,
        incidents: None,
        freshness: None,
        notes: None,
        is_final: None,
    }
}

/// The canonical payload of a document.
pub fn payload<T: Payload>(doc: &T) -> Vec<u8> {
    to_payload(doc).expect("a valid fixture document")
}

/// The digest of a document's payload.
pub fn digest<T: Payload>(doc: &T) -> Digest {
    Digest::of(&payload(doc))
}

/// An envelope over `payload` with `payload_type`, signed by each named key.
pub fn seal_raw(
    payload_type: canary_core::PayloadType,
    payload: Vec<u8>,
    signers: &[&str],
) -> Vec<u8> {
    let (first, rest) = signers.split_first().expect("at least one signer");
    let mut env = Envelope::sign(payload_type, payload, &key(first));
    for name in rest {
        env.add_signature(&key(name));
    }
    env.to_json()
}

/// The envelope of a document, signed by each named key.
pub fn seal<T: Payload>(doc: &T, signers: &[&str]) -> Vec<u8> {
    seal_raw(T::PAYLOAD_TYPE, payload(doc), signers)
}

/// A signed statement with its digest.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The statement.
    pub statement: Statement,
    /// Its envelope, signed by alice.
    pub envelope: Vec<u8>,
    /// Its payload digest.
    pub digest: Digest,
}

impl Doc {
    /// Signs `statement` with alice.
    pub fn new(statement: Statement) -> Self {
        Doc::signed(statement, &["alice"])
    }

    /// Signs `statement` with the named keys.
    pub fn signed(statement: Statement, signers: &[&str]) -> Self {
        Doc {
            envelope: seal(&statement, signers),
            digest: digest(&statement),
            statement,
        }
    }
}

/// Statements 1 to `n`, each linked to the one before, signed by alice.
/// `edit` sees each statement after linking and before signing, so it can
/// remove a promise or break a link.
pub fn chain(n: u64, mut edit: impl FnMut(&mut Statement)) -> Vec<Doc> {
    let mut docs: Vec<Doc> = Vec::new();
    for seq in 1..=n {
        let mut s = statement(seq);
        s.previous = docs.last().map(|d| d.digest);
        edit(&mut s);
        docs.push(Doc::new(s));
    }
    docs
}

/// Version `version` of incident `id`, linked to `previous`; the last
/// version is resolved.
pub fn incident(
    id: &str,
    version: u64,
    previous: Option<Digest>,
    resolved: bool,
) -> IncidentRecord {
    let started_at = ts("2026-01-10T08:00:00Z");
    let mut updates = vec![IncidentUpdate {
        at: started_at,
        status: IncidentStatus::Investigating,
        body: "Mail is not being delivered.".to_owned(),
    }];
    if resolved {
        updates.push(IncidentUpdate {
            at: ts("2026-01-10T12:00:00Z"),
            status: IncidentStatus::Resolved,
            body: "Delivery restored.".to_owned(),
        });
    }
    IncidentRecord {
        issuer: ISSUER.to_owned(),
        id: id.to_owned(),
        version,
        title: "Email delivery in sandbox mode".to_owned(),
        kind: IncidentKind::Incident,
        impact: Impact::Minor,
        status: if resolved {
            IncidentStatus::Resolved
        } else {
            IncidentStatus::Investigating
        },
        started_at,
        resolved_at: resolved.then(|| ts("2026-01-10T12:00:00Z")),
        affected: vec!["email".to_owned()],
        what_happened: "The mail provider left the account in sandbox mode.".to_owned(),
        compromised: Compromise {
            summary: "Nothing.".to_owned(),
            data_lost: false,
            data_exposed: false,
        },
        measures: vec![Measure {
            action: "Monitor delivery.".to_owned(),
            kind: MeasureKind::Prevent,
            done: resolved,
        }],
        updates,
        previous,
    }
}

/// The reference a statement carries to an incident version.
pub fn incident_ref(record: &IncidentRecord) -> IncidentRef {
    IncidentRef {
        id: record.id.clone(),
        version: record.version,
        digest: digest(record),
    }
}

// ---------------------------------------------------------------- layouts

/// Files by relative path: a publish folder or an issuer folder, written to
/// disk or served over HTTP.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// Relative path (`/`-separated) to contents.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Where the latest statement sits in a publish folder.
pub const LATEST: &str = ".well-known/canary.json";

impl Tree {
    /// A publish folder (DESIGN §9): the latest statement as
    /// `.well-known/canary.json`, every statement in the archive.
    pub fn publish(chain: &[Doc]) -> Self {
        let mut t = Tree::default();
        if let Some(last) = chain.last() {
            t.put(LATEST, last.envelope.clone());
        }
        for d in chain {
            t.put(&Tree::archived(d.statement.sequence), d.envelope.clone());
        }
        t
    }

    /// An issuer folder (DESIGN §8): `statements/NNNNNN.json`.
    pub fn issuer_folder(chain: &[Doc]) -> Self {
        let mut t = Tree::default();
        for d in chain {
            t.put(
                &format!("statements/{:06}.json", d.statement.sequence),
                d.envelope.clone(),
            );
        }
        t
    }

    /// The publish-folder path of statement `seq`.
    pub fn archived(seq: u64) -> String {
        format!(".well-known/canary/statements/{seq:06}.json")
    }

    /// The publish-folder path of an incident version.
    pub fn incident_path(id: &str, version: u64) -> String {
        format!(".well-known/canary/incidents/{id}/{version:06}.json")
    }

    /// Adds or replaces a file.
    pub fn put(&mut self, rel: &str, bytes: impl Into<Vec<u8>>) {
        self.files.insert(rel.to_owned(), bytes.into());
    }

    /// Removes a file.
    pub fn remove(&mut self, rel: &str) {
        assert!(self.files.remove(rel).is_some(), "{rel} was in the tree");
    }

    /// Writes every file under `dir`.
    pub fn write(&self, dir: &Path) {
        for (rel, bytes) in &self.files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create folder");
            }
            std::fs::write(&path, bytes).expect("write file");
        }
    }
}

// ---------------------------------------------------------------- scratch

/// A temporary folder for one test's files.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Scratch {
    /// A new, empty folder.
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A path inside the folder as a string argument.
    pub fn arg(&self, rel: &str) -> String {
        self.path(rel).to_str().expect("UTF-8 temp path").to_owned()
    }

    /// Writes `bytes` to `rel` (creating folders); returns the path as an argument.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(&path, bytes).expect("write file");
        self.arg(rel)
    }

    /// Writes the default trust policy (alice, bob, carol; threshold 1; the
    /// panic key) as `trust.toml`; returns its path.
    pub fn trust(&self) -> String {
        self.write(
            "trust.toml",
            trust_toml(1, &["alice", "bob", "carol"], &["panic"]),
        )
    }

    /// `canary verify SOURCE` under the default trust policy at `at`,
    /// without state, in JSON; more arguments may follow.
    pub fn verify_json(&self, source: &str, at: Timestamp) -> Run {
        verify([
            source,
            "--trust",
            &self.trust(),
            "--at",
            &at.to_string(),
            "--no-state",
            "--format",
            "json",
        ])
    }

    /// Writes `tree` under `rel`; returns the folder as an argument.
    pub fn tree(&self, rel: &str, tree: &Tree) -> String {
        let dir = self.path(rel);
        std::fs::create_dir_all(&dir).expect("create folder");
        tree.write(&dir);
        self.arg(rel)
    }

    /// Writes `NAME.pub` for a fixture key, with its name as the comment.
    pub fn pub_file(&self, name: &str) -> String {
        self.write(&format!("{name}.pub"), format!("{} {name}\n", public(name)))
    }

    /// Reads a file, `None` when absent.
    pub fn read(&self, rel: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(rel)).ok()
    }
}

// ---------------------------------------------------------------- running

/// One run of the binary, ready to start.
pub struct Run {
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
}

/// `canary ARGS`.
pub fn canary<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    Run {
        args: args.into_iter().map(Into::into).collect(),
        envs: Vec::new(),
    }
}

impl Run {
    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Runs to completion (at most [`RUN_LIMIT`]) with `XDG_STATE_HOME` and
    /// `HOME` in a fresh temporary folder, and checks that nothing panicked
    /// and nothing was written there (the default state folder).
    pub fn run(self) -> Out {
        let shown = self
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let xdg = tempfile::tempdir().expect("a temporary XDG_STATE_HOME");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_canary"));
        cmd.args(&self.args)
            .env("XDG_STATE_HOME", xdg.path())
            .env("HOME", xdg.path())
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("NO_COLOR")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .env_remove("ALL_PROXY")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().expect("canary starts");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let out_reader = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stdout.read_to_end(&mut v);
            v
        });
        let err_reader = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stderr.read_to_end(&mut v);
            v
        });
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for canary") {
                break status;
            }
            if started.elapsed() > RUN_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`canary {shown}` ran longer than {RUN_LIMIT:?}; killed");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = started.elapsed();
        let stdout = out_reader.join().expect("stdout reader");
        let stderr = err_reader.join().expect("stderr reader");
        let out = Out {
            args: shown,
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stdout_bytes: stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed,
        };
        assert!(
            !out.stderr.contains("panicked") && !out.stdout.contains("panicked"),
            "`canary {}` panicked:\n{}",
            out.args,
            out.stderr
        );
        assert!(
            out.code.is_some(),
            "`canary {}` was killed by a signal:\n{}",
            out.args,
            out.stderr
        );
        let touched: Vec<_> = std::fs::read_dir(xdg.path())
            .expect("read XDG_STATE_HOME")
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(
            touched.is_empty(),
            "`canary {}` wrote to the default state folder: {touched:?}",
            out.args
        );
        out
    }
}

/// `canary verify ARGS`.
pub fn verify<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    canary(["verify"]).args(args)
}

/// What one run did.
#[derive(Debug)]
pub struct Out {
    /// The arguments, for messages.
    pub args: String,
    /// The exit code.
    pub code: Option<i32>,
    /// Standard output as text (lossy).
    pub stdout: String,
    /// Standard output as bytes.
    pub stdout_bytes: Vec<u8>,
    /// Standard error.
    pub stderr: String,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Out {
    /// Asserts the exit code is exactly `code`.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "`canary {}` exited with {:?}, expected {code}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args,
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts standard output contains `needle`.
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout of `canary {}` lacks {needle:?}:\n{}\n--- stderr:\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts standard output does not contain `needle`.
    #[track_caller]
    pub fn stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout of `canary {}` contains {needle:?}:\n{}",
            self.args,
            self.stdout
        );
        self
    }

    /// Asserts standard error contains `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr of `canary {}` lacks {needle:?}:\n{}\n--- stdout:\n{}",
            self.args,
            self.stderr,
            self.stdout
        );
        self
    }

    /// Every line of standard output, parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!("`canary {}` printed a non-JSON line {l:?}: {e}", self.args)
                })
            })
            .collect()
    }

    /// The single JSON object printed (one source).
    #[track_caller]
    pub fn one(&self) -> serde_json::Value {
        let mut lines = self.json();
        assert_eq!(
            lines.len(),
            1,
            "`canary {}` printed {} JSON lines:\n{}",
            self.args,
            lines.len(),
            self.stdout
        );
        lines.remove(0)
    }

    /// The reason codes of every JSON line, in order.
    #[track_caller]
    pub fn reasons(&self) -> Vec<String> {
        self.json().iter().flat_map(reason_codes).collect()
    }

    /// Asserts a JSON line carries reason `code`.
    #[track_caller]
    pub fn reason(&self, code: &str) -> &Self {
        let reasons = self.reasons();
        assert!(
            reasons.iter().any(|r| r == code),
            "`canary {}` gave reasons {reasons:?}, expected {code:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts the reason `code` has a message containing `needle`.
    #[track_caller]
    pub fn reason_says(&self, code: &str, needle: &str) -> &Self {
        let found = self.json().iter().any(|v| {
            v["reasons"].as_array().is_some_and(|rs| {
                rs.iter().any(|r| {
                    r["code"] == code && r["message"].as_str().is_some_and(|m| m.contains(needle))
                })
            })
        });
        assert!(
            found,
            "`canary {}`: no reason {code:?} saying {needle:?}:\n{}",
            self.args, self.stdout
        );
        self
    }

    /// Asserts the only verdict printed is `verdict`.
    #[track_caller]
    pub fn verdict(&self, verdict: &str) -> &Self {
        let v = self.one();
        assert_eq!(v["verdict"], verdict, "{}", self.stdout);
        self
    }
}

/// The reason codes of one JSON line.
pub fn reason_codes(line: &serde_json::Value) -> Vec<String> {
    line["reasons"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
