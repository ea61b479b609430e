//! Crash safety of the signer (DESIGN §8–§9, SECURITY "Half-written
//! files"): `sign` (a new statement, and a co-signature in place),
//! `incident new`, `incident update` and `publish` (over an older site and
//! into an empty folder) are each started [`RUNS`] times on a real issuer
//! folder and killed with SIGKILL at a random moment (a seeded PRNG picks
//! 0–30 ms, 0–120 ms for the longer `publish`; `Child::kill` is SIGKILL on
//! unix). The kills run four at a time.
//!
//! After every kill, every file in the folder and in the publish output is
//! either as it was before (absent or the old version) or exactly the
//! complete new version, byte for byte what an uninterrupted run of the same
//! command produces on a copy of the folder: never partial. Temporary files
//! (`.canary-sign-*`) may remain after SIGKILL, but never under a document's
//! name and never in the published site (`publish` stages its files in a
//! folder beside it). The folder still works: `canary-sign lint` of the latest statement
//! exits 0, the verifier accepts the published site whenever
//! `.well-known/canary.json` exists, and running the command again completes
//! the job to exactly the uninterrupted result.
//!
//! Every date comes from `--at`; keys are unencrypted, so nothing prompts.

mod util;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::{OK, Scratch, snapshot, verifier_bin as verifier};

/// Killed runs per command.
const RUNS: usize = 40;

/// Kills land uniformly within this after the start.
const KILL_WITHIN: Duration = Duration::from_millis(30);

/// A publish writes a dozen files with an fsync each, for about 50–120 ms
/// in a debug build: its kills are spread wider, to land while it writes.
const PUBLISH_KILL_WITHIN: Duration = Duration::from_millis(120);

/// Seed of the kill timing.
const SEED: u64 = 0x6b69_6c6c_2026;

/// Statement 1, the incident and the first publish.
const T1: &str = "2026-01-05T10:00:00Z";
const T_INCIDENT: &str = "2026-01-10T08:00:00Z";
const T_SITE: &str = "2026-01-11T00:00:00Z";
/// Statement 2 and everything the killed commands do.
const T2: &str = "2026-03-01T09:00:00Z";
const T_PUBLISH: &str = "2026-03-01T10:00:00Z";

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

type Snapshot = BTreeMap<PathBuf, Option<Vec<u8>>>;

/// Runs `canary-sign ARGS` in `dir` to completion.
fn sign_cli(dir: &Path, args: &[&str]) -> util::Out {
    let out = Command::new(env!("CARGO_BIN_EXE_canary-sign"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("canary-sign runs");
    util::Out {
        args: args.join(" "),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The states the killed commands start from, built once per test.
struct Fixture {
    scratch: Scratch,
}

impl Fixture {
    /// `base/`: keys alice and bob (unencrypted), issuer folder `org/` with
    /// both keys and threshold 1, statement 1 signed by alice and co-signed
    /// by bob, incident `db-upgrade` version 1, the site published from
    /// that as `site/`, and the draft of statement 2 as `draft2.json`.
    /// `with2/`: the same with statement 2 signed by alice.
    fn new() -> Self {
        let s = Scratch::new();
        let base = s.path("base");
        std::fs::create_dir_all(&base).expect("mkdir");
        let run = |args: &[&str]| {
            sign_cli(&base, args).code(OK);
        };
        for name in ["alice", "bob"] {
            run(&["keygen", "--name", name, "--dir", "keys", "--unencrypted"]);
        }
        run(&[
            "init",
            "--issuer",
            "example.org",
            "--dir",
            "org",
            "--key",
            "keys/alice.pub",
            "--key",
            "keys/bob.pub",
            "--threshold",
            "1",
        ]);
        run(&["new", "--dir", "org", "--at", T1, "--out", "draft1.json"]);
        run(&[
            "sign",
            "draft1.json",
            "--dir",
            "org",
            "--key",
            "keys/alice.key",
            "--at",
            T1,
        ]);
        run(&[
            "sign",
            "org/statements/000001.json",
            "--dir",
            "org",
            "--key",
            "keys/bob.key",
            "--at",
            T1,
        ]);
        run(&[
            "incident",
            "new",
            "--dir",
            "org",
            "--id",
            "db-upgrade",
            "--title",
            "Outage during a database upgrade",
            "--impact",
            "major",
            "--affected",
            "website",
            "--message",
            "The website is down while the database is upgraded.",
            "--key",
            "keys/alice.key",
            "--at",
            T_INCIDENT,
        ]);
        run(&["publish", "--dir", "org", "--out", "site", "--at", T_SITE]);
        run(&["new", "--dir", "org", "--at", T2, "--out", "draft2.json"]);

        let with2 = s.path("with2");
        util::copy_dir(&base, &with2);
        sign_cli(
            &with2,
            &[
                "sign",
                "draft2.json",
                "--dir",
                "org",
                "--key",
                "keys/alice.key",
                "--at",
                T2,
            ],
        )
        .code(OK);
        Fixture { scratch: s }
    }

    fn state(&self, name: &str) -> PathBuf {
        self.scratch.path(name)
    }
}

/// Temporary files of the signer's atomic writes.
fn is_temporary(path: &Path) -> bool {
    path.file_name()
        .and_then(OsStr::to_str)
        .is_some_and(|n| n.starts_with(".canary-sign-"))
}

/// A name a document or site file could have.
fn is_document_name(path: &Path) -> bool {
    let name = path.file_name().and_then(OsStr::to_str).unwrap_or_default();
    [".json", ".toml", ".html", ".txt", ".atom", ".key", ".pub"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Compares `now` with `before` and `after`, file by file: each must be as
/// before or as after, except temporary files (never under a document's
/// name) and folders made on the way. Returns what is wrong.
fn judge(before: &Snapshot, after: &Snapshot, now: &Snapshot) -> Vec<String> {
    let mut wrong = Vec::new();
    let paths: std::collections::BTreeSet<&PathBuf> = before
        .keys()
        .chain(after.keys())
        .chain(now.keys())
        .collect();
    for path in paths {
        let (b, a, n) = (before.get(path), after.get(path), now.get(path));
        if n == b || n == a {
            continue;
        }
        if is_temporary(path) {
            if is_document_name(path) {
                wrong.push(format!(
                    "temporary file with a document name: {}",
                    path.display()
                ));
            }
            continue;
        }
        // A folder created on the way to a file is harmless.
        if n == Some(&None) && a.is_none() {
            continue;
        }
        let describe = |x: Option<&Option<Vec<u8>>>| match x {
            None => "absent".to_owned(),
            Some(None) => "a folder".to_owned(),
            Some(Some(bytes)) => format!("{} bytes", bytes.len()),
        };
        wrong.push(format!(
            "{}: is {}, was {}, would be {}",
            path.display(),
            describe(n),
            describe(b),
            describe(a)
        ));
    }
    wrong
}

/// The temporary files of `s` under `out`.
fn temporaries_in<'a>(s: &'a Snapshot, out: &str) -> Vec<&'a PathBuf> {
    s.keys()
        .filter(|p| p.starts_with(out) && is_temporary(p))
        .collect()
}

/// `now` without temporary files.
fn without_temporaries(s: &Snapshot) -> Snapshot {
    s.iter()
        .filter(|(p, _)| !is_temporary(p))
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect()
}

/// The statement with the highest sequence in `org/statements/`.
fn latest_statement(dir: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("org/statements"))
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names.pop().map(|n| format!("org/statements/{n}"))
}

/// What the kills hit.
#[derive(Default, Debug)]
struct Outcomes {
    /// Nothing written yet.
    untouched: usize,
    /// Some files new, some old (publish), or temporary files left.
    midway: usize,
    /// Everything written.
    finished: usize,
    /// The process had exited before the kill.
    exited_first: usize,
    /// Temporary files left behind.
    temporaries: usize,
}

/// Kills run in this many threads at once: most of a run's time is spent
/// waiting (the kill delay, fsync), not computing.
const WORKERS: u64 = 4;

/// Starts `args` in a fresh copy of `start` [`RUNS`] times, kills each run
/// after a random delay uniform in `0..=window`, and checks what is on disk
/// each time.
fn crash_test(
    name: &str,
    start: &Path,
    args: &[&str],
    publish_out: Option<&str>,
    window: Duration,
    stream: u64,
) {
    let work = tempfile::tempdir().expect("work folder");
    // What an uninterrupted run writes.
    let reference = work.path().join("reference");
    util::copy_dir(start, &reference);
    let before = snapshot(&reference);
    let started = Instant::now();
    sign_cli(&reference, args).code(OK);
    let uninterrupted = started.elapsed();
    let after = snapshot(&reference);
    assert_ne!(before, after, "{name}: the command changes something");

    let outcomes = std::sync::Mutex::new(Outcomes::default());
    let verifier = verifier();
    std::thread::scope(|scope| {
        for worker in 0..WORKERS {
            let (work, before, after, outcomes, verifier) =
                (work.path(), &before, &after, &outcomes, &verifier);
            scope.spawn(move || {
                let mut rng = Rng((SEED
                    ^ (stream * WORKERS + worker).wrapping_mul(0x9e37_79b9_7f4a_7c15))
                    | 1);
                for i in (worker..RUNS as u64).step_by(WORKERS as usize) {
                    let delay = Duration::from_micros(rng.next() % (window.as_micros() as u64 + 1));
                    let outcome = kill_once(
                        name,
                        start,
                        args,
                        publish_out,
                        &work.join(format!("run{i}")),
                        delay,
                        (before, after),
                        verifier,
                    );
                    let mut o = outcomes.lock().expect("outcomes");
                    o.add(outcome);
                }
            });
        }
    });
    println!(
        "{name}: uninterrupted run {uninterrupted:?}, kills within {window:?}; {RUNS} kills: {:?}",
        outcomes.into_inner().expect("outcomes")
    );
}

/// What one kill left.
struct Outcome {
    exited_first: bool,
    temporaries: bool,
    /// 0 untouched, 1 midway, 2 finished.
    progress: u8,
}

impl Outcomes {
    fn add(&mut self, o: Outcome) {
        self.exited_first += usize::from(o.exited_first);
        self.temporaries += usize::from(o.temporaries);
        match o.progress {
            0 => self.untouched += 1,
            1 => self.midway += 1,
            _ => self.finished += 1,
        }
    }
}

/// One run of `args` in a fresh copy of `start` at `dir`, killed after
/// `delay`, and every check on what it left.
#[allow(clippy::too_many_arguments)]
fn kill_once(
    name: &str,
    start: &Path,
    args: &[&str],
    publish_out: Option<&str>,
    dir: &Path,
    delay: Duration,
    (before, after): (&Snapshot, &Snapshot),
    verifier: &Path,
) -> Outcome {
    util::copy_dir(start, dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_canary-sign"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("canary-sign starts");
    std::thread::sleep(delay);
    let exited_first = child.try_wait().expect("poll").is_some();
    // SIGKILL; an error only means it had exited already.
    let _ = child.kill();
    let status = child.wait().expect("reap");
    let context = format!(
        "{name}, {}, killed after {delay:?} ({status})",
        dir.display()
    );

    let now = snapshot(dir);
    let wrong = judge(before, after, &now);
    assert!(wrong.is_empty(), "{context}:\n  {}", wrong.join("\n  "));
    // publish stages its files beside the site: even a kill leaves no
    // temporary file where a web server serves the site (DESIGN §9).
    if let Some(out) = publish_out {
        let served = temporaries_in(&now, out);
        assert!(
            served.is_empty(),
            "{context}: temporary files left in the published site: {served:?}"
        );
    }
    let clean = without_temporaries(&now);
    let progress = if &clean == before {
        0
    } else if &clean == after {
        2
    } else {
        1
    };

    // The folder still works.
    let latest = latest_statement(dir).expect("a statement");
    sign_cli(dir, &["lint", &latest, "--dir", "org", "--at", T_PUBLISH])
        .code(OK)
        .stdout_has(": ok");
    if let Some(out) = publish_out
        && dir.join(out).join(".well-known/canary.json").exists()
    {
        let verified = Command::new(verifier)
            .args([
                "verify",
                out,
                "--key",
                "keys/alice.pub",
                "--key",
                "keys/bob.pub",
                "--issuer",
                "example.org",
                "--history",
                "--incidents",
                "--no-state",
                "--at",
                T_PUBLISH,
            ])
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("canary runs");
        assert_eq!(
            verified.status.code(),
            Some(0),
            "{context}: the site does not verify:\n{}{}",
            String::from_utf8_lossy(&verified.stdout),
            String::from_utf8_lossy(&verified.stderr)
        );
    }

    // Running the command again finishes the job, exactly; a publish run
    // again (always: it is idempotent) first removes the temporary files a
    // killed one left, so none stays where a web server would serve it.
    if &clean != after || publish_out.is_some() {
        sign_cli(dir, args).code(OK);
        let again = snapshot(dir);
        assert!(
            &without_temporaries(&again) == after,
            "{context}: running it again does not give the uninterrupted result"
        );
        if let Some(out) = publish_out {
            let left = temporaries_in(&again, out);
            assert!(
                left.is_empty(),
                "{context}: temporary files left in the published site after running it again: {left:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    Outcome {
        exited_first,
        temporaries: clean.len() < now.len(),
        progress,
    }
}

#[test]
fn killed_signing_of_a_new_statement_leaves_nothing_partial() {
    let fx = Fixture::new();
    crash_test(
        "sign (new statement)",
        &fx.state("base"),
        &[
            "sign",
            "draft2.json",
            "--dir",
            "org",
            "--key",
            "keys/alice.key",
            "--at",
            T2,
        ],
        None,
        KILL_WITHIN,
        1,
    );
}

#[test]
fn killed_cosigning_in_place_leaves_the_old_or_the_new_envelope() {
    let fx = Fixture::new();
    crash_test(
        "sign (co-sign in place)",
        &fx.state("with2"),
        &[
            "sign",
            "org/statements/000002.json",
            "--dir",
            "org",
            "--key",
            "keys/bob.key",
            "--at",
            T2,
        ],
        None,
        KILL_WITHIN,
        2,
    );
}

#[test]
fn killed_incident_commands_leave_nothing_partial() {
    let fx = Fixture::new();
    crash_test(
        "incident new",
        &fx.state("base"),
        &[
            "incident",
            "new",
            "--dir",
            "org",
            "--id",
            "cert-expiry",
            "--title",
            "Push certificate expired",
            "--impact",
            "minor",
            "--affected",
            "website",
            "--message",
            "Push notifications are not delivered.",
            "--key",
            "keys/alice.key",
            "--at",
            T2,
        ],
        None,
        KILL_WITHIN,
        3,
    );
    crash_test(
        "incident update",
        &fx.state("base"),
        &[
            "incident",
            "update",
            "--dir",
            "org",
            "--id",
            "db-upgrade",
            "--status",
            "identified",
            "--message",
            "A migration locked the largest table.",
            "--done",
            "mitigate:Stopped the migration",
            "--key",
            "keys/alice.key",
            "--at",
            T2,
        ],
        None,
        KILL_WITHIN,
        4,
    );
}

#[test]
fn killed_publishing_leaves_a_site_that_verifies() {
    let fx = Fixture::new();
    crash_test(
        "publish (over an older site)",
        &fx.state("with2"),
        &[
            "publish", "--dir", "org", "--out", "site", "--at", T_PUBLISH,
        ],
        Some("site"),
        PUBLISH_KILL_WITHIN,
        5,
    );
    crash_test(
        "publish (into an empty folder)",
        &fx.state("with2"),
        &[
            "publish", "--dir", "org", "--out", "fresh", "--at", T_PUBLISH,
        ],
        Some("fresh"),
        PUBLISH_KILL_WITHIN,
        6,
    );
}
