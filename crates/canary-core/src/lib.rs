//! `canary-core`: warrant canaries as signed, dated, hash-chained documents.
//!
//! This crate holds the formats of the canary project (statements, incident
//! records, key rotations in DSSE envelopes over canonical JSON) and the
//! verification rules. It is pure: no network, no files, no clock. The time
//! to verify at is always a parameter.
//!
//! Sign a statement and verify it:
//!
//! ```
//! use canary_core::{
//!     Envelope, Statement, StatementItem, SigningKey, TrustPolicy, Verdict,
//!     VerifyOptions, Payload, to_payload, verify_statement,
//! };
//! use canary_core::Zeroizing;
//!
//! // A key (in real use the seed comes from an encrypted key file).
//! let key = SigningKey::from_seed(&Zeroizing::new([7u8; 32]))?;
//!
//! let statement = Statement {
//!     issuer: "example.org".into(),
//!     sequence: 1,
//!     issued_at: "2026-10-01T00:00:00Z".parse()?,
//!     next_due: "2026-12-30T00:00:00Z".parse()?,
//!     expires_at: "2027-01-13T00:00:00Z".parse()?,
//!     statements: vec![StatementItem {
//!         id: "no-warrants".into(),
//!         text: "We have never received a warrant.".into(),
//!     }],
//!     previous: None,
//!     incidents: None,
//!     freshness: None,
//!     notes: None,
//!     is_final: None,
//! };
//! let envelope = Envelope::sign(Statement::PAYLOAD_TYPE, to_payload(&statement)?, &key);
//! let bytes = envelope.to_json();
//!
//! // A reader pins the issuer's key and verifies at a given time.
//! let policy = TrustPolicy::new("example.org", 1, 1, [*key.public_key()], [])?;
//! let report = verify_statement(&bytes, &policy, &VerifyOptions::at("2026-10-02T00:00:00Z".parse()?));
//! assert_eq!(report.verdict(false), Verdict::Ok);
//! assert_eq!(report.statement.as_ref().map(|s| s.document().sequence), Some(1));
//!
//! // After expiry the same bytes are stale.
//! let late = verify_statement(&bytes, &policy, &VerifyOptions::at("2027-01-13T00:00:00Z".parse()?));
//! assert_eq!(late.verdict(false), Verdict::Stale);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod archive;
mod digest;
mod document;
mod envelope;
mod history;
pub mod json;
mod keys;
pub mod layout;
pub mod legacy;
mod policy;
mod sanitize;
mod time;
mod trust;
mod verify;

pub use archive::{Walked, check_history, check_incidents, verify_archived_statement};
pub use digest::{Digest, DigestError};
pub use document::{
    Answer, BitcoinProof, Compromise, FieldError, Freshness, Impact, IncidentKind, IncidentRecord,
    IncidentRef, IncidentStatus, IncidentUpdate, KeyRotation, Measure, MeasureKind, Payload,
    PayloadError, Statement, StatementItem, is_slug, parse_draft, parse_payload, to_payload,
};
pub use envelope::{Envelope, EnvelopeError, PayloadType, Signature, pae};
pub use history::{
    HistoryWalk, LinkProblem, State, check_link, compare_mirrors, compare_statements,
    incident_link_problems, statement_link_problems, statement_texts, verify_history,
};
pub use keys::{KeyError, KeyId, PublicKey, SigningKey};
pub use layout::{Archive, ArchivePath};
pub use policy::{PolicyError, TrustChange, TrustPolicy};
pub use sanitize::{Target, is_unsafe, sanitize};
pub use time::{TimeError, Timestamp, format_duration, parse_duration, shorter_max_age};
pub use trust::{FollowError, MAX_ROTATIONS, RememberedTrust, TrustChain};
pub use verify::{
    Finding, HasIssuer, Report, Unreachable, Verdict, Verified, VerifiedStatement, VerifyOptions,
    verify_document, verify_rotation, verify_statement,
};

/// Durations, as used in options and policies.
pub use chrono::TimeDelta;

/// Re-exported so callers can build seeds without naming the crate.
pub use zeroize::Zeroizing;
