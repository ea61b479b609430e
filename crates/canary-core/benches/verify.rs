//! Library benchmarks (criterion): strict envelope and canonical payload
//! parsing, payload digest and PAE, `verify_strict`, whole-statement
//! verification and its signature check alone, and history
//! verification per link, over the ~2 KB statements of `scripts/bench`.
//!
//! ```text
//! cargo bench -p canary-core --bench verify
//! ```
//!
//! Timings only: nothing here asserts a duration, so `cargo test` (which runs
//! each benchmark once, untimed, under `--all-targets`) cannot fail on a slow
//! machine.

#[path = "support/chain.rs"]
mod chain;

use std::hint::black_box;

use canary_core::{
    Digest, Envelope, Statement, TrustPolicy, VerifiedStatement, VerifyOptions, check_link, json,
    parse_payload, verify_document, verify_history, verify_statement,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Statements in the history benchmarks.
const CHAIN: u64 = 1000;

fn verified_chain(envelopes: &[Vec<u8>], policy: &TrustPolicy) -> Vec<VerifiedStatement> {
    envelopes
        .iter()
        .map(|e| verify_document::<Statement>(e, policy).expect("the chain verifies"))
        .collect()
}

fn parsing(c: &mut Criterion) {
    let key = chain::key();
    let envelope = chain::envelopes(2, chain::SIZE, &key).remove(1);
    let parsed = Envelope::parse(&envelope).expect("a valid envelope");
    let payload = parsed.payload().to_vec();

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(envelope.len() as u64));
    g.bench_function("envelope", |b| {
        b.iter(|| Envelope::parse(black_box(&envelope)))
    });
    g.throughput(Throughput::Bytes(payload.len() as u64));
    g.bench_function("json_strict", |b| {
        b.iter(|| json::parse_strict(black_box(&payload)))
    });
    g.bench_function("canonical_check", |b| {
        b.iter(|| json::is_canonical(black_box(&payload)))
    });
    g.bench_function("statement_payload", |b| {
        b.iter(|| parse_payload::<Statement>(black_box(&payload)))
    });
    // The strict path parse_payload takes for anything the fast path
    // declines, composed from public parts: what the fast path saves.
    g.bench_function("statement_payload_strict_path", |b| {
        b.iter(|| {
            let bytes = black_box(&payload);
            let value = json::parse_strict(bytes).expect("strict");
            let canonical = json::canonicalize(&value).expect("canonical");
            assert_eq!(&canonical, bytes);
            let doc: Statement = serde_json::from_value(value).expect("a statement");
            assert_eq!(&canary_core::to_payload(&doc).expect("payload"), bytes);
            doc
        })
    });
    g.bench_function("digest", |b| b.iter(|| Digest::of(black_box(&payload))));
    g.bench_function("pae", |b| b.iter(|| black_box(&parsed).pae()));
    g.finish();

    let toml = chain::policy_toml(&key);
    c.bench_function("policy/from_toml", |b| {
        b.iter(|| TrustPolicy::from_toml(black_box(&toml)))
    });
}

fn signatures(c: &mut Criterion) {
    let key = chain::key();
    let envelope = Envelope::parse(&chain::envelopes(1, chain::SIZE, &key)[0]).expect("valid");
    let pae = envelope.pae();
    let sig = envelope.signatures()[0].sig;
    let public = *key.public_key();
    c.bench_function("ed25519/verify_strict", |b| {
        b.iter(|| assert!(public.verify_strict(black_box(&pae), black_box(&sig))))
    });
}

fn statements(c: &mut Criterion) {
    let key = chain::key();
    let policy = chain::policy(&key);
    let envelope = chain::envelopes(2, chain::SIZE, &key).remove(1);
    let options = VerifyOptions::at(chain::fresh_at(2));
    c.bench_function("statement/verify", |b| {
        b.iter(|| verify_statement(black_box(&envelope), &policy, &options))
    });
    // Steps 3-6 alone: envelope, signature, payload, issuer, digest.
    c.bench_function("statement/verify_document", |b| {
        b.iter(|| verify_document::<Statement>(black_box(&envelope), &policy))
    });
    // The signature check of that same statement alone (verify_strict time
    // varies a little with the signature): verify_document minus this is
    // what parsing, digests and key lookup cost.
    let parsed = Envelope::parse(&envelope).expect("a valid envelope");
    let (pae, sig) = (parsed.pae(), parsed.signatures()[0].sig);
    let public = *key.public_key();
    c.bench_function("statement/verify_strict", |b| {
        b.iter(|| assert!(public.verify_strict(black_box(&pae), black_box(&sig))))
    });
}

fn history(c: &mut Criterion) {
    let key = chain::key();
    let policy = chain::policy(&key);
    let envelopes = chain::envelopes(CHAIN, chain::SIZE, &key);
    let verified = verified_chain(&envelopes, &policy);

    let mut g = c.benchmark_group("history");
    g.throughput(Throughput::Elements(1));
    g.bench_function("check_link", |b| {
        b.iter(|| check_link(black_box(&verified[0]), black_box(&verified[1])))
    });
    g.throughput(Throughput::Elements(CHAIN));
    g.bench_function("links_only", |b| {
        b.iter(|| verify_history(None, black_box(&verified)))
    });
    // What `canary verify --history` does per link, minus reading files:
    // authenticate every envelope, then check every link.
    g.sample_size(20);
    g.bench_function("verify_and_link", |b| {
        b.iter(|| verify_history(None, &verified_chain(black_box(&envelopes), &policy)))
    });
    g.finish();
}

criterion_group!(benches, parsing, signatures, statements, history);
criterion_main!(benches);
