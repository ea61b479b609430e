//! `canary verify URL --history` fetches the archive ahead of the walk, many
//! statements at a time: against a loopback HTTPS server that answers each
//! request after a pause (longer for some statements than others, so the
//! answers arrive out of order), the outcome must be exactly that of the
//! core's sequential walk (`check_history`) over the same files, with a
//! missing file, a broken link, an unauthentic statement and a server error
//! in the middle of the archive.

#![allow(clippy::panic)]

mod net;
mod util;

use std::collections::BTreeMap;
use std::time::Duration;

use canary_core::{TrustChain, TrustPolicy, check_history, verify_archived_statement};
use net::{Reply, Server, TestCa};
use util::*;

/// Statements in each archive.
const N: u64 = 60;

/// Where the publish folder keeps the archive.
const ARCHIVE: &str = ".well-known/canary/";

/// The reason codes and messages the core's sequential walk gives for
/// `files` (a publish folder), the latest statement being statement `N`.
fn sequential(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, String)> {
    let policy = TrustPolicy::from_toml(&trust_toml(1, &["alice", "bob", "carol"], &["panic"]))
        .expect("trust policy");
    let chain = TrustChain::new(policy);
    let latest = verify_archived_statement(&chain, &files[LATEST], N).expect("latest verifies");
    let mut archive: BTreeMap<String, Vec<u8>> = files
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(ARCHIVE)?.to_owned(), v.clone())))
        .collect();
    let walked = check_history(&mut archive, &chain, None, &latest);
    walked
        .findings
        .iter()
        .map(|f| (f.code().to_owned(), f.to_string()))
        .collect()
}

/// Serves `files` over HTTPS, answering statement `n` after `(n * 7) % 11`
/// milliseconds and statements in `failing` with HTTP 500.
fn delaying(ca: &TestCa, files: BTreeMap<String, Vec<u8>>, failing: &'static [u64]) -> Server {
    Server::https(
        move |path| {
            let rel = path.trim_start_matches('/');
            let seq = rel
                .strip_prefix(ARCHIVE)
                .and_then(|r| r.strip_prefix("statements/"))
                .and_then(|r| r.strip_suffix(".json"))
                .and_then(|r| r.parse::<u64>().ok());
            let reply = match files.get(rel) {
                _ if seq.is_some_and(|s| failing.contains(&s)) => Reply::status(500),
                Some(body) => Reply::ok(body.clone()),
                None => Reply::status(404),
            };
            let pause = seq.map_or(0, |s| (s * 7) % 11);
            Reply::Delayed(Duration::from_millis(pause), Box::new(reply))
        },
        ca.server.clone(),
    )
}

/// The reasons of a verification of `server`'s canary with `--history`.
fn remote(s: &Scratch, ca_file: &str, server: &Server) -> Out {
    verify([server.url("/.well-known/canary.json")])
        .args([
            "--trust",
            &s.trust(),
            "--at",
            &fresh_at(N).to_string(),
            "--no-state",
            "--format",
            "json",
            "--history",
            "--ca-cert",
            ca_file,
        ])
        .run()
}

fn reasons(out: &Out) -> Vec<(String, String)> {
    out.json()
        .iter()
        .flat_map(|line| line["reasons"].as_array().cloned().unwrap_or_default())
        .map(|r| {
            (
                r["code"].as_str().unwrap_or_default().to_owned(),
                r["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The highest statement number the server was asked for.
fn highest_asked(server: &Server) -> u64 {
    server
        .requested()
        .iter()
        .filter_map(|p| {
            p.rsplit('/')
                .next()?
                .strip_suffix(".json")?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

/// Asserts the remote walk of `files` gives the sequential walk's outcome.
fn same_as_sequential(s: &Scratch, ca: &TestCa, ca_file: &str, files: BTreeMap<String, Vec<u8>>) {
    let expected = sequential(&files);
    let server = delaying(ca, files, &[]);
    let out = remote(s, ca_file, &server);
    assert_eq!(reasons(&out), expected, "{}", out.stdout);
    if expected.is_empty() {
        out.code(OK);
    }
}

#[test]
fn remote_history_has_the_outcome_of_the_sequential_walk() {
    let s = Scratch::new();
    let ca = TestCa::new();
    let ca_file = s.write("ca.pem", &ca.ca_pem);
    let good = Tree::publish(&chain(N, |_| {}));

    // A whole archive: every statement was fetched, and no finding.
    let server = delaying(&ca, good.files.clone(), &[]);
    let out = remote(&s, &ca_file, &server);
    out.code(OK);
    assert!(sequential(&good.files).is_empty());
    for seq in 1..N {
        let p = format!("/{}", Tree::archived(seq));
        assert!(server.requested().contains(&p), "{p} was not fetched");
    }

    // A file missing in the middle, with worse things after it: the walk
    // stops at the gap, as the sequential one does.
    let mut gap = good.clone();
    gap.remove(&Tree::archived(17));
    gap.put(&Tree::archived(30), b"not an envelope".to_vec());
    gap.remove(&Tree::archived(45));
    let expected = sequential(&gap.files);
    assert_eq!(expected.len(), 1, "{expected:?}");
    assert_eq!(expected[0].0, "history-missing");
    let server = delaying(&ca, gap.files.clone(), &[]);
    let out = remote(&s, &ca_file, &server);
    assert_eq!(reasons(&out), expected, "{}", out.stdout);
    out.code(INVALID);
    // Fetched ahead, but boundedly: nothing far past the gap.
    assert!(
        highest_asked(&server) <= 17 + 64 + 16,
        "{:?}",
        server.requested()
    );

    // A broken link in the middle: statement 23 replaced by another, validly
    // signed statement 23, so 24 no longer links to it; a missing file later.
    let other = chain(N, |st| {
        if st.sequence == 23 {
            st.statements.retain(|i| i.id != "no-warrants");
        }
    });
    let mut broken = good.clone();
    broken.put(&Tree::archived(23), other[22].envelope.clone());
    broken.remove(&Tree::archived(50));
    let expected = sequential(&broken.files);
    assert!(!expected.is_empty());
    same_as_sequential(&s, &ca, &ca_file, broken.files);

    // An unauthentic statement in the middle, a missing one after it.
    let mut forged = good.clone();
    let mut bytes = forged.files[&Tree::archived(35)].clone();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    forged.put(&Tree::archived(35), bytes);
    forged.remove(&Tree::archived(40));
    let expected = sequential(&forged.files);
    assert!(!expected.is_empty());
    same_as_sequential(&s, &ca, &ca_file, forged.files);

    // A server error in the middle is unreachable, named by its statement,
    // and a missing file after it does not change that; a missing file
    // before it does.
    let mut later_gap = good.clone();
    later_gap.remove(&Tree::archived(30));
    let server = delaying(&ca, later_gap.files.clone(), &[12]);
    let out = remote(&s, &ca_file, &server);
    out.code(UNREACHABLE)
        .reason_says("http-status", "statements/000012.json");
    let mut early_gap = good.clone();
    early_gap.remove(&Tree::archived(8));
    let expected = sequential(&early_gap.files);
    let server = delaying(&ca, early_gap.files, &[12]);
    let out = remote(&s, &ca_file, &server);
    assert_eq!(reasons(&out), expected, "{}", out.stdout);
    out.code(INVALID);
}
