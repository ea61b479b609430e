//! The signer's and the verifier's readings of an issuer's history agree
//! (issue 13, item 6; DESIGN §3.5, §5 step 11, §9).
//!
//! A property test over random issuer histories: 1-5 statements, 0-2 key
//! rotations (the newest sometimes still being co-signed), incident records
//! with one or two versions, and sometimes a missing statement or incident
//! file, a statement short of its threshold, a panic-key signature, a final
//! statement or a promise removed. Each history is written twice: as an
//! issuer folder (DESIGN §8) for `canary-sign publish`, and laid out by the
//! test itself as the site DESIGN §9 describes (the "naive" site). Then:
//!
//! - `publish` refuses (exit 1), and writes nothing, exactly when `canary
//!   verify NAIVE --history --incidents` finds the history invalid: its
//!   verdict is `invalid`, or a tripped verdict also carries a finding of the
//!   invalid kind (a tripped verdict wins over an invalid one, DESIGN §6,
//!   but publishing never serves a broken archive, §9). The exception: a
//!   latest statement signed by a panic key, short of the threshold, is
//!   published (as tripped) when the folder is whole;
//! - when it publishes, `canary verify` gives the published site the same
//!   verdict, with the same reason codes, as the naive one.
//!
//! Two runs: a fixed set of seeds, the same every time (with a check that
//! the generator reaches ok, invalid and tripped histories), and proptest's
//! random seeds, which differ from run to run; a failure of either names the
//! seed to replay.

// Helpers outside `#[test]` functions report failures by panicking.
#![allow(clippy::panic)]

mod util;
use util::verifier_bin;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use canary_core::{
    Compromise, Digest, Envelope, Impact, IncidentKind, IncidentRecord, IncidentRef,
    IncidentStatus, IncidentUpdate, KeyRotation, Measure, MeasureKind, Payload, PublicKey,
    SigningKey, Statement, StatementItem, TimeDelta, Timestamp, Zeroizing, to_payload,
};

const ISSUER: &str = "example.org";
/// Number of random histories checked.
const CASES: u64 = 32;
/// The generator's seed; case `i` uses `SEED + i`.
const SEED: u64 = 0x5eed_c0de_0000;

/// Key index of the outsider (never in any policy).
const OUTSIDER: u8 = 7;
/// Key index of the panic key (in every policy's `panic_keys`).
const PANIC: u8 = 8;

// ------------------------------------------------------------ generator

/// SplitMix64: small, deterministic, good enough to pick test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi);
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }
}

/// A key rotation in a generated history.
#[derive(Debug, Clone)]
struct RotationPlan {
    /// Made after statement `after` (and before `after + 1`).
    after: u64,
    /// The key set it rotates to (key indexes) and its threshold.
    keys: Vec<u8>,
    threshold: u64,
    /// Signed only by a new key: still being co-signed, not in force.
    pending: bool,
}

/// An incident record in a generated history.
#[derive(Debug, Clone)]
struct IncidentPlan {
    id: String,
    /// Version 1 is first listed by this statement.
    created: u64,
    /// Version 2, when there is one, is first listed by this statement.
    updated: Option<u64>,
}

/// One random issuer history.
#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    /// Statements 1..=n.
    n: u64,
    /// Trust version 1: `genesis_threshold` of keys 0 and 1.
    genesis_threshold: u64,
    rotations: Vec<RotationPlan>,
    incidents: Vec<IncidentPlan>,
    /// This statement has one trusted signature fewer than it needs.
    undersigned: Option<u64>,
    /// This statement also carries a panic-key signature.
    panic_on: Option<u64>,
    /// This statement says `final: true`.
    final_on: Option<u64>,
    /// From this statement on, the promise `no-gag-orders` is gone.
    removed_from: Option<u64>,
    /// This statement's file is missing (never the latest).
    missing_statement: Option<u64>,
    /// This incident version's file is missing (incident index, version).
    missing_incident: Option<(usize, u64)>,
}

impl Case {
    fn generate(seed: u64) -> Self {
        let mut rng = Rng(seed);
        let n = rng.range(1, 5);
        let genesis_threshold = rng.range(1, 2);

        let mut rotations = Vec::new();
        let count = rng.range(0, 2);
        let mut keys: Vec<u8> = vec![0, 1];
        let mut unused = 2u8;
        let mut after = 1;
        for j in 0..count {
            after = rng.range(after, n);
            let pending = j + 1 == count && rng.chance(1, 3);
            // 0: add a key, 1: remove one, 2: replace one. A pending
            // rotation always adds the key that signs it alone.
            let kind = if pending { 0 } else { rng.range(0, 2) };
            if kind == 0 || kind == 2 || keys.len() < 2 {
                keys.push(unused);
                unused += 1;
            }
            if (kind == 1 || kind == 2) && keys.len() >= 2 {
                let i = usize::try_from(rng.range(0, keys.len() as u64 - 2)).expect("small");
                keys.remove(i);
            }
            keys.sort_unstable();
            let threshold = rng.range(1, keys.len() as u64);
            rotations.push(RotationPlan {
                after,
                keys: keys.clone(),
                threshold,
                pending,
            });
        }

        let mut incidents = Vec::new();
        for q in 0..rng.range(0, 2) {
            let created = rng.range(1, n);
            let updated = rng.chance(1, 2).then(|| rng.range(created, n));
            incidents.push(IncidentPlan {
                id: format!(
                    "incident-{}",
                    ["a", "b"][usize::try_from(q).expect("small")]
                ),
                created,
                updated,
            });
        }

        let undersigned = rng.chance(1, 6).then(|| rng.range(1, n));
        let panic_on = rng.chance(1, 5).then(|| rng.range(1, n));
        let final_on = rng.chance(1, 6).then(|| rng.range(1, n));
        let removed_from = (n >= 2 && rng.chance(1, 4)).then(|| rng.range(2, n));
        let missing_statement = (n >= 2 && rng.chance(1, 4)).then(|| rng.range(1, n - 1));
        let missing_incident = (!incidents.is_empty() && rng.chance(1, 5)).then(|| {
            let q = usize::try_from(rng.range(0, incidents.len() as u64 - 1)).expect("small");
            let top = if incidents[q].updated.is_some() { 2 } else { 1 };
            (q, rng.range(1, top))
        });
        Case {
            seed,
            n,
            genesis_threshold,
            rotations,
            incidents,
            undersigned,
            panic_on,
            final_on,
            removed_from,
            missing_statement,
            missing_incident,
        }
    }

    /// The key set and threshold in force when statement `seq` is signed:
    /// trust version 1 plus every fully signed rotation made before it.
    fn policy_for(&self, seq: u64) -> (Vec<u8>, u64) {
        let mut policy = (vec![0, 1], self.genesis_threshold);
        for r in &self.rotations {
            if r.after < seq && !r.pending {
                policy = (r.keys.clone(), r.threshold);
            }
        }
        policy
    }
}

// ------------------------------------------------------------ documents

fn key(i: u8) -> SigningKey {
    SigningKey::from_seed(&Zeroizing::new([i + 1; 32])).expect("a test key")
}

fn public(i: u8) -> PublicKey {
    *key(i).public_key()
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("a fixed timestamp")
}

fn days(t: Timestamp, d: i64) -> Timestamp {
    t.checked_add(TimeDelta::days(d)).expect("in range")
}

fn hours(t: Timestamp, h: i64) -> Timestamp {
    t.checked_add(TimeDelta::hours(h)).expect("in range")
}

/// When statement `seq` is issued: one per 90 days.
fn issued(seq: u64) -> Timestamp {
    days(
        ts("2026-01-01T00:00:00Z"),
        90 * (i64::try_from(seq).expect("small") - 1),
    )
}

/// The envelope of `doc` signed by the keys `signers`, in the signer's
/// file form (one line).
fn seal<T: Payload>(doc: &T, signers: &[u8]) -> Vec<u8> {
    let (first, rest) = signers.split_first().expect("a signer");
    let mut env = Envelope::sign(
        T::PAYLOAD_TYPE,
        to_payload(doc).expect("a valid document"),
        &key(*first),
    );
    for k in rest {
        env.add_signature(&key(*k));
    }
    let mut bytes = env.to_json();
    bytes.push(b'\n');
    bytes
}

const PROMISES: [(&str, &str); 3] = [
    ("no-warrants", "We have never received a search warrant."),
    (
        "no-gag-orders",
        "We have never been placed under a gag order.",
    ),
    (
        "no-key-disclosure",
        "We have never been compelled to disclose encryption keys.",
    ),
];

/// Version 1 of incident `id`, opened two days before `at`.
fn incident(id: &str, at: Timestamp) -> IncidentRecord {
    let started_at = days(at, -2);
    let updates = vec![IncidentUpdate {
        at: started_at,
        status: IncidentStatus::Investigating,
        body: "The website is down.".to_owned(),
    }];
    IncidentRecord {
        issuer: ISSUER.to_owned(),
        id: id.to_owned(),
        version: 1,
        title: format!("Outage {id}"),
        kind: IncidentKind::Incident,
        impact: Impact::Minor,
        status: IncidentStatus::Investigating,
        started_at,
        resolved_at: None,
        affected: vec!["website".to_owned()],
        what_happened: "A disk filled up.".to_owned(),
        compromised: Compromise {
            summary: "Nothing.".to_owned(),
            data_lost: false,
            data_exposed: false,
        },
        measures: vec![Measure {
            action: "Alert on disk usage.".to_owned(),
            kind: MeasureKind::Prevent,
            done: false,
        }],
        updates,
        previous: None,
    }
}

/// The signers of a document under (`keys`, `threshold`): the first
/// `threshold` keys.
fn signers(keys: &[u8], threshold: u64) -> Vec<u8> {
    keys.iter()
        .copied()
        .take(usize::try_from(threshold).expect("small"))
        .collect()
}

/// Numbered files (sequence or version, then the bytes; `None` marks a
/// missing file).
type Numbered = Vec<(u64, Option<Vec<u8>>)>;

/// Every document of a case, by kind.
struct Documents {
    statements: Numbered,
    incidents: Vec<(String, Numbered)>,
    /// Version, envelope, still being co-signed.
    rotations: Vec<(u64, Vec<u8>, bool)>,
}

fn documents(case: &Case) -> Documents {
    // Incident versions, signed under the policy of the statement that
    // first lists them.
    let mut incident_docs: Vec<Vec<(IncidentRecord, Vec<u8>)>> = Vec::new();
    for plan in &case.incidents {
        let mut versions = Vec::new();
        let (keys, t) = case.policy_for(plan.created);
        let v1 = incident(&plan.id, issued(plan.created));
        let bytes = seal(&v1, &signers(&keys, t));
        versions.push((v1.clone(), bytes));
        if let Some(u) = plan.updated {
            let (keys, t) = case.policy_for(u);
            // The update keeps the first version's updates and adds one,
            // as `incident resolve` does (else the chain itself is broken).
            let mut v2 = v1.clone();
            v2.version = 2;
            v2.previous = Some(Digest::of(&to_payload(&v1).expect("payload")));
            v2.status = IncidentStatus::Resolved;
            v2.resolved_at = Some(days(issued(u), -1));
            v2.updates.push(IncidentUpdate {
                at: days(issued(u), -1),
                status: IncidentStatus::Resolved,
                body: "The website is back.".to_owned(),
            });
            for m in &mut v2.measures {
                m.done = true;
            }
            let bytes = seal(&v2, &signers(&keys, t));
            versions.push((v2, bytes));
        }
        incident_docs.push(versions);
    }

    let mut statements = Vec::new();
    let mut previous = None;
    for seq in 1..=case.n {
        let mut refs = Vec::new();
        for (plan, versions) in case.incidents.iter().zip(&incident_docs) {
            if plan.created > seq {
                continue;
            }
            let v = if plan.updated.is_some_and(|u| u <= seq) {
                2
            } else {
                1
            };
            let record = &versions[usize::try_from(v - 1).expect("small")].0;
            refs.push(IncidentRef {
                id: plan.id.clone(),
                version: v,
                digest: Digest::of(&to_payload(record).expect("payload")),
            });
        }
        let next_due = days(issued(seq), 90);
        let st = Statement {
            issuer: ISSUER.to_owned(),
            sequence: seq,
            issued_at: issued(seq),
            next_due,
            expires_at: days(next_due, 14),
            statements: PROMISES
                .iter()
                .filter(|(id, _)| {
                    !(*id == "no-gag-orders" && case.removed_from.is_some_and(|r| r <= seq))
                })
                .map(|(id, text)| StatementItem {
                    id: (*id).to_owned(),
                    text: (*text).to_owned(),
                })
                .collect(),
            previous,
            incidents: (!refs.is_empty()).then_some(refs),
            freshness: None,
            notes: None,
            is_final: (case.final_on == Some(seq)).then_some(true),
        };
        let (keys, t) = case.policy_for(seq);
        let mut by = signers(&keys, t);
        if case.undersigned == Some(seq) {
            by.pop();
            by.push(OUTSIDER);
        }
        if case.panic_on == Some(seq) {
            by.push(PANIC);
        }
        let bytes = seal(&st, &by);
        previous = Some(Digest::of(&to_payload(&st).expect("payload")));
        let present = case.missing_statement != Some(seq);
        statements.push((seq, present.then_some(bytes)));
    }

    let incidents = case
        .incidents
        .iter()
        .zip(incident_docs)
        .enumerate()
        .map(|(q, (plan, versions))| {
            let files = versions
                .into_iter()
                .enumerate()
                .map(|(i, (_, bytes))| {
                    let v = i as u64 + 1;
                    let present = case.missing_incident != Some((q, v));
                    (v, present.then_some(bytes))
                })
                .collect();
            (plan.id.clone(), files)
        })
        .collect();

    let mut rotations = Vec::new();
    let mut old: Vec<u8> = vec![0, 1];
    for (j, r) in case.rotations.iter().enumerate() {
        let version = j as u64 + 2;
        let doc = KeyRotation {
            issuer: ISSUER.to_owned(),
            version,
            threshold: r.threshold,
            keys: r.keys.iter().map(|k| public(*k)).collect(),
            panic_keys: Some(vec![public(PANIC)]),
            issued_at: hours(issued(r.after), 12),
        };
        let by: Vec<u8> = if r.pending {
            // Only the key it adds: neither the old nor the new threshold.
            vec![
                *r.keys
                    .iter()
                    .find(|k| !old.contains(k))
                    .expect("an added key"),
            ]
        } else {
            let mut all = old.clone();
            all.extend(r.keys.iter().filter(|k| !old.contains(k)));
            all
        };
        rotations.push((version, seal(&doc, &by), r.pending));
        old.clone_from(&r.keys);
    }
    Documents {
        statements,
        incidents,
        rotations,
    }
}

fn key_list(keys: &[u8]) -> String {
    keys.iter()
        .map(|k| format!("\"{}\"", public(*k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The issuer's first trust policy, as a reader pins it.
fn genesis_toml(case: &Case) -> String {
    format!(
        "issuer = \"{ISSUER}\"\nversion = 1\nthreshold = {}\nkeys = [{}]\npanic_keys = [{}]\n",
        case.genesis_threshold,
        key_list(&[0, 1]),
        key_list(&[PANIC])
    )
}

/// The issuer folder's canary.toml: `[trust]` is trust version 1.
fn canary_toml(case: &Case) -> String {
    let mut text = format!(
        "issuer = \"{ISSUER}\"\nname = \"Example\"\ncadence = \"90d\"\ngrace = \"14d\"\n\n\
         [[components]]\nid = \"website\"\nname = \"Website\"\n"
    );
    for (id, t) in PROMISES {
        text.push_str(&format!(
            "\n[[statements]]\nid = \"{id}\"\ntext = \"{t}\"\n"
        ));
    }
    text.push_str(&format!(
        "\n[trust]\nthreshold = {}\nkeys = [{}]\npanic_keys = [{}]\n",
        case.genesis_threshold,
        key_list(&[0, 1]),
        key_list(&[PANIC])
    ));
    text
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

/// The issuer folder (DESIGN §8), rotations still being co-signed included.
fn write_issuer_folder(dir: &Path, case: &Case, docs: &Documents) {
    write(&dir.join("canary.toml"), canary_toml(case).as_bytes());
    // The record of trust version 1 that `sign` writes at the first signature.
    write(&dir.join("trust-v1.toml"), genesis_toml(case).as_bytes());
    for (seq, bytes) in &docs.statements {
        if let Some(b) = bytes {
            write(&dir.join(format!("statements/{seq:06}.json")), b);
        }
    }
    for (id, versions) in &docs.incidents {
        for (v, bytes) in versions {
            if let Some(b) = bytes {
                write(&dir.join(format!("incidents/{id}/{v:06}.json")), b);
            }
        }
    }
    for (v, bytes, _) in &docs.rotations {
        write(&dir.join(format!("rotations/{v:06}.json")), bytes);
    }
}

/// The same documents laid out as DESIGN §9 says, by hand: the latest
/// statement as canary.json, the archive, incidents (each version, and the
/// latest present one as `<id>.json`) and the rotations in force.
fn write_naive_site(dir: &Path, docs: &Documents) {
    let wk = dir.join(".well-known");
    let (_, latest) = docs.statements.last().expect("a statement");
    write(
        &wk.join("canary.json"),
        latest.as_deref().expect("the latest is present"),
    );
    for (seq, bytes) in &docs.statements {
        if let Some(b) = bytes {
            write(&wk.join(format!("canary/statements/{seq:06}.json")), b);
        }
    }
    for (id, versions) in &docs.incidents {
        for (v, bytes) in versions {
            if let Some(b) = bytes {
                write(&wk.join(format!("canary/incidents/{id}/{v:06}.json")), b);
            }
        }
        if let Some(b) = versions.iter().rev().find_map(|(_, b)| b.as_ref()) {
            write(&wk.join(format!("canary/incidents/{id}.json")), b);
        }
    }
    for (v, bytes, pending) in &docs.rotations {
        if !pending {
            write(&wk.join(format!("canary/rotations/{v:06}.json")), bytes);
        }
    }
}

// ------------------------------------------------------------ running

fn show(what: &str, out: &Output) -> String {
    format!(
        "`{what}` exited with {:?}\n--- stdout:\n{}--- stderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What `canary verify` said about a site.
struct Reading {
    /// The verdict word.
    verdict: String,
    /// The reason codes, sorted.
    codes: Vec<String>,
    /// The whole run, for messages.
    shown: String,
}

/// Reason codes whose verdict is not `invalid` (DESIGN §5, §6).
const NOT_INVALID: [&str; 8] = [
    "statement-removed",
    "statement-changed",
    "final",
    "panic-key",
    "expired",
    "too-old",
    "late",
    "expiring",
];

impl Reading {
    /// The history is invalid: the verdict says so, or a more severe
    /// verdict (tripped) hides a finding of the invalid kind.
    fn invalid(&self) -> bool {
        self.verdict == "invalid"
            || self
                .codes
                .iter()
                .any(|c| !NOT_INVALID.contains(&c.as_str()))
    }
}

/// `canary verify SITE --trust genesis.toml --history --incidents --at T
/// --format json`.
fn verdict(root: &Path, site: &str, at: Timestamp) -> Reading {
    let at = at.to_string();
    let args = [
        "verify",
        site,
        "--trust",
        "genesis.toml",
        "--history",
        "--incidents",
        "--at",
        &at,
        "--format",
        "json",
    ];
    let out = Command::new(verifier_bin())
        .current_dir(root)
        .args(args)
        .env("HOME", root.join("home"))
        .env("XDG_STATE_HOME", root.join("home"))
        .env("XDG_CONFIG_HOME", root.join("home"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("canary runs");
    let shown = show(&format!("canary {}", args.join(" ")), &out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON line ({e}): {shown}"));
    let verdict = json["verdict"]
        .as_str()
        .unwrap_or_else(|| panic!("no verdict: {shown}"))
        .to_owned();
    let mut codes: Vec<String> = json["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons: {shown}"))
        .iter()
        .map(|r| r["code"].as_str().expect("a reason code").to_owned())
        .collect();
    codes.sort();
    Reading {
        verdict,
        codes,
        shown,
    }
}

/// Every file under `dir` (none when it does not exist).
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    if !dir.exists() {
        return files;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("inside").to_path_buf();
                files.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

/// Checks one case: the naive site's verdict, and `Err` describing a
/// disagreement.
fn check(case: &Case) -> (String, Result<(), String>) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let root = tmp.path();
    std::fs::create_dir_all(root.join("home")).expect("home");
    let docs = documents(case);
    write(&root.join("genesis.toml"), genesis_toml(case).as_bytes());
    write_issuer_folder(&root.join("f"), case, &docs);
    write_naive_site(&root.join("naive"), &docs);
    let at = days(issued(case.n), 1);

    let naive = verdict(root, "naive", at);
    let at_arg = at.to_string();
    let args = ["publish", "--dir", "f", "--out", "site", "--at", &at_arg];
    let published = Command::new(env!("CARGO_BIN_EXE_canary-sign"))
        .current_dir(root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("canary-sign runs");
    let published_out = show(&format!("canary-sign {}", args.join(" ")), &published);
    let both = || format!("{}\n{published_out}", naive.shown);
    let written = files_under(&root.join("site"));
    // A latest statement that a panic key signed is published as tripped
    // even when readers cannot verify it by the threshold (a maintainer
    // under duress signs alone): the one exception to refusing what
    // readers find invalid, as long as the folder itself is whole.
    let duress = case.panic_on == Some(case.n)
        && case.missing_statement.is_none()
        && case.missing_incident.is_none()
        && naive.codes.iter().any(|c| c == "panic-key")
        && naive.codes.iter().all(|c| {
            NOT_INVALID.contains(&c.as_str()) || c == "bad-signature" || c == "threshold-not-met"
        });
    let expect_refusal = naive.invalid() && !duress;
    let outcome = match published.status.code() {
        Some(1) if !expect_refusal => Err(format!(
            "publish refused, but the naive site is {} with {:?}\n{}",
            naive.verdict,
            naive.codes,
            both()
        )),
        Some(1) if !written.is_empty() => Err(format!(
            "publish refused but wrote {:?}\n{}",
            written.keys().collect::<Vec<_>>(),
            both()
        )),
        Some(1) => Ok(()),
        Some(0) if expect_refusal => Err(format!(
            "publish succeeded, but the naive site is invalid ({} with {:?})\n{}",
            naive.verdict,
            naive.codes,
            both()
        )),
        Some(0) => {
            let site = verdict(root, "site", at);
            if (&site.verdict, &site.codes) == (&naive.verdict, &naive.codes) {
                Ok(())
            } else {
                Err(format!(
                    "the published site is {} with {:?}, the naive one {} with {:?}\n{}\n{}",
                    site.verdict,
                    site.codes,
                    naive.verdict,
                    naive.codes,
                    both(),
                    site.shown
                ))
            }
        }
        other => Err(format!(
            "publish exited with {other:?} (0 or 1 expected); it left {} files in the output\n{}",
            written.len(),
            both()
        )),
    };
    (naive.verdict, outcome)
}

#[test]
fn publish_refuses_exactly_what_the_verifier_finds_invalid() {
    let mut failures = Vec::new();
    let mut verdicts: BTreeMap<String, u64> = BTreeMap::new();
    for i in 0..CASES {
        let case = Case::generate(SEED + i);
        let (verdict, outcome) = check(&case);
        *verdicts.entry(verdict).or_default() += 1;
        if let Err(e) = outcome {
            failures.push(format!("case {i} (seed {:#x}): {case:#?}\n{e}", case.seed));
        }
    }
    eprintln!("verdicts of the naive sites: {verdicts:?}");
    assert!(
        failures.is_empty(),
        "{} of {CASES} histories disagree:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The generator must reach every outcome the property is about.
    for word in ["ok", "invalid", "tripped"] {
        assert!(
            verdicts.get(word).is_some_and(|&n| n > 0),
            "no history was {word}: {verdicts:?}"
        );
    }
}

/// Regression: a seed the random property found. Its incident's second
/// version dropped the first version's update (the generator built it anew),
/// which publish refused while readers, stopped by the panic-signed latest
/// statement, never read it.
#[test]
fn an_updated_incident_keeps_its_first_version_and_agrees() {
    let case = Case::generate(7_003_585_906_530_338_393);
    assert_eq!(case.panic_on, Some(case.n), "{case:#?}");
    assert!(
        case.incidents.iter().any(|i| i.updated.is_some()),
        "{case:#?}"
    );
    let (verdict, outcome) = check(&case);
    assert_eq!(verdict, "tripped");
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 16,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// The same property over random seeds.
    #[test]
    fn random_histories_read_the_same_to_signer_and_verifier(seed in proptest::prelude::any::<u64>()) {
        let case = Case::generate(seed);
        let (_, outcome) = check(&case);
        if let Err(e) = outcome {
            proptest::prop_assert!(false, "seed {:#x}: {:#?}\n{}", case.seed, case, e);
        }
    }
}
