//! The signed documents (DESIGN §3.3–§3.5) and their strict payload parsing.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::digest::{Digest, hex, parse_hex};
use crate::envelope::PayloadType;
use crate::json::{self, JsonError};
use crate::keys::PublicKey;
use crate::time::Timestamp;

/// A document type that travels as a canonical JSON payload.
pub trait Payload: Serialize + DeserializeOwned {
    /// The payloadType its envelopes carry.
    const PAYLOAD_TYPE: PayloadType;

    /// Checks the rules the type system cannot express (ranges, uniqueness,
    /// slugs, date order, fields that go together).
    fn validate(&self) -> Result<(), Vec<FieldError>>;
}

/// One broken rule, naming the field (as a JSON path) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field, e.g. `statements[2].id`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FieldError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Why payload bytes are not an acceptable document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON under the restricted model (duplicate keys, floats, null, ...).
    #[error(transparent)]
    Json(#[from] JsonError),
    /// Valid JSON, but not the canonical bytes of itself.
    #[error(
        "payload is not canonical JSON (RFC 8785): its canonical form has {expected_len} bytes and differs from the {actual_len} bytes received"
    )]
    NotCanonical {
        /// Length of the canonical form.
        expected_len: usize,
        /// Length of the bytes received.
        actual_len: usize,
    },
    /// A field is missing, unknown or of the wrong type.
    #[error("payload does not match the {payload_type} schema: {message}")]
    Schema {
        /// The document type expected.
        payload_type: PayloadType,
        /// The parser's message, naming the field.
        message: String,
    },
    /// The document breaks one or more rules of DESIGN §3.
    #[error("invalid {payload_type}: {}", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The document type.
        payload_type: PayloadType,
        /// Every rule broken.
        errors: Vec<FieldError>,
    },
}

/// Parses payload bytes as `T`: strict JSON, then the canonical-bytes check,
/// then the schema and the document's own rules. The canonical check
/// compares against the bytes received; bytes that are not the payload of
/// the document they decode to (a struct written as an array) are refused
/// too. Canonical payloads take a one-pass fast path; everything else, and
/// every error, the strict path that names the problem, with the same result.
pub fn parse_payload<T: Payload>(bytes: &[u8]) -> Result<T, PayloadError> {
    match parse_payload_fast(bytes) {
        Some(result) => result,
        None => parse_payload_slow(bytes),
    }
}

/// The fast path of [`parse_payload`]: `None` unless the bytes are certainly
/// canonical, read as a `T` and are its own payload; then the same result as
/// [`parse_payload_slow`] (the document, or the rules it breaks). Anything
/// else, including every error before the document's rules, is left to the
/// slow path, which names the problem.
///
/// It reads the bytes once, builds no [`serde_json::Value`] and no canonical
/// copy. Of the slow path's checks only `encodes_as` is done differently. On
/// bytes that are canonical and read as a `T`, it fails only for a struct
/// read from a JSON array (serde's derived `Deserialize` accepts `[field,
/// ...]` for a struct); the rest it compares holds by construction: keys are
/// each field's one name, in canonical order; absent optional fields stay
/// absent and present ones present (there is no `null`); strings are
/// written back with the same canonical escapes; integers have one form;
/// timestamps, digests and keys are parsed strictly and written back in the
/// one form they accept.
///
/// Two guards refuse structs read from arrays here. [`json::from_canonical`]
/// hands a struct only an object. And the document must write as many JSON
/// objects as the bytes hold, which does not depend on how `T` deserializes:
/// in the payload types every JSON object is read as a struct (they hold no
/// maps and no `Value`s, their enums are unit variants, written as strings,
/// and unknown fields are refused, not skipped), and every struct was read
/// from an object or from an array and is written back as an object; so the
/// counts match exactly when no struct came from an array.
fn parse_payload_fast<T: Payload>(bytes: &[u8]) -> Option<Result<T, PayloadError>> {
    let (doc, objects) = json::from_canonical::<T>(bytes)?;
    if json::objects_written(&doc) != Some(objects) {
        return None;
    }
    Some(checked(doc))
}

/// [`parse_payload`] the long way: every step names its error.
fn parse_payload_slow<T: Payload>(bytes: &[u8]) -> Result<T, PayloadError> {
    let value = json::parse_strict(bytes)?;
    let canonical = json::canonicalize(&value)?;
    if canonical != bytes {
        return Err(PayloadError::NotCanonical {
            expected_len: canonical.len(),
            actual_len: bytes.len(),
        });
    }
    let doc: T = serde_json::from_value(value).map_err(|e| PayloadError::Schema {
        payload_type: T::PAYLOAD_TYPE,
        message: e.to_string(),
    })?;
    if !encodes_as(&doc, bytes) {
        return Err(PayloadError::Schema {
            payload_type: T::PAYLOAD_TYPE,
            message: "objects must be written as JSON objects, not as arrays of their field values"
                .to_owned(),
        });
    }
    checked(doc)
}

/// `doc` if it keeps the rules of its type, else every rule it breaks.
fn checked<T: Payload>(doc: T) -> Result<T, PayloadError> {
    doc.validate().map_err(|errors| PayloadError::Invalid {
        payload_type: T::PAYLOAD_TYPE,
        errors,
    })?;
    Ok(doc)
}

/// True when the canonical payload of `doc` is exactly `bytes`. serde's
/// derived `Deserialize` also reads a struct from a JSON array of its field
/// values in order (`["no-warrants","We have ..."]` for a statement item, or
/// a whole statement as an array), and such bytes can be canonical JSON
/// without being the payload of the document they decode to, which writes
/// every struct as an object: one document would have several signed forms.
fn encodes_as<T: Serialize>(doc: &T, bytes: &[u8]) -> bool {
    serde_json::to_value(doc)
        .ok()
        .and_then(|v| json::canonicalize(&v).ok())
        .is_some_and(|c| c == bytes)
}

/// Parses a draft in any JSON formatting (whitespace, key order), applying
/// every rule except the canonical-bytes check. For signing tools.
pub fn parse_draft<T: Payload>(bytes: &[u8]) -> Result<T, PayloadError> {
    let value = json::parse_strict(bytes)?;
    let doc: T = serde_json::from_value(value).map_err(|e| PayloadError::Schema {
        payload_type: T::PAYLOAD_TYPE,
        message: e.to_string(),
    })?;
    doc.validate().map_err(|errors| PayloadError::Invalid {
        payload_type: T::PAYLOAD_TYPE,
        errors,
    })?;
    Ok(doc)
}

/// The canonical payload bytes of a valid document.
pub fn to_payload<T: Payload>(doc: &T) -> Result<Vec<u8>, PayloadError> {
    doc.validate().map_err(|errors| PayloadError::Invalid {
        payload_type: T::PAYLOAD_TYPE,
        errors,
    })?;
    let value = serde_json::to_value(doc).map_err(|e| PayloadError::Schema {
        payload_type: T::PAYLOAD_TYPE,
        message: e.to_string(),
    })?;
    Ok(json::canonicalize(&value)?)
}

/// A statement id or other identifier: lowercase ASCII letters and digits in
/// groups joined by single hyphens (`no-warrants`), at most 64 characters.
pub fn is_slug(s: &str) -> bool {
    if s.is_empty() || s.len() > 64 {
        return false;
    }
    // No group may be empty: no hyphen first, last or after another.
    let mut after_hyphen = true;
    for b in s.bytes() {
        match b {
            b'-' if after_hyphen => return false,
            b'-' => after_hyphen = true,
            b'a'..=b'z' | b'0'..=b'9' => after_hyphen = false,
            _ => return false,
        }
    }
    !after_hyphen
}

/// One promise in a canary, e.g. `no-warrants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementItem {
    /// Stable slug identifying the promise across statements.
    pub id: String,
    /// What readers read.
    pub text: String,
}

/// A reference from a statement to the latest version of an incident record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentRef {
    /// The incident's slug.
    pub id: String,
    /// The latest signed version.
    pub version: u64,
    /// Digest of that version's payload.
    pub digest: Digest,
}

/// A Bitcoin block that existed before the statement was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BitcoinProof {
    /// Block height.
    pub height: u64,
    /// Block hash as block explorers show it (64 lowercase hex, byte-reversed).
    pub hash: String,
    /// The 80-byte block header in hex (160 lowercase hex), optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

impl BitcoinProof {
    /// True when the proof carries the block header, which the document
    /// rules have checked offline (it hashes to `hash`, meets its own
    /// difficulty target, and its time precedes `issued_at`); without it
    /// only a block explorer can confirm the hash.
    pub fn header_checked(&self) -> bool {
        self.header.is_some()
    }
}

/// Proof that the text was not written before some date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    /// A recent Bitcoin block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitcoin: Option<BitcoinProof>,
    /// Recent news headlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headlines: Option<Vec<String>>,
}

/// The canary (DESIGN §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Who speaks, normally a domain.
    pub issuer: String,
    /// Strictly increasing per issuer, from 1.
    pub sequence: u64,
    /// The "as of" date.
    pub issued_at: Timestamp,
    /// When the next statement is promised; after it the canary is late.
    pub next_due: Timestamp,
    /// At or after this the canary is stale.
    pub expires_at: Timestamp,
    /// The promises.
    pub statements: Vec<StatementItem>,
    /// Digest of the previous statement's payload; absent only for sequence 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Digest>,
    /// The latest version of every incident record published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incidents: Option<Vec<IncidentRef>>,
    /// Proof the text is not older than a date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness: Option<Freshness>,
    /// Special announcements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// `true`: no further canary will come.
    #[serde(default, rename = "final", skip_serializing_if = "Option::is_none")]
    pub is_final: Option<bool>,
}

impl Statement {
    /// True when the issuer announces that no further canary will come.
    pub fn is_final(&self) -> bool {
        self.is_final == Some(true)
    }

    /// The promise with id `id`.
    pub fn item(&self, id: &str) -> Option<&StatementItem> {
        self.statements.iter().find(|s| s.id == id)
    }
}

fn check_issuer(issuer: &str, errors: &mut Vec<FieldError>) {
    if let Some(problem) = issuer_problem(issuer) {
        errors.push(FieldError::new("issuer", problem));
    }
}

/// What is wrong with an issuer name, if anything: the rule for documents
/// (DESIGN §3.3) and for the trust policies that name them (§4).
pub(crate) fn issuer_problem(issuer: &str) -> Option<&'static str> {
    if issuer.is_empty() {
        Some("must not be empty")
    } else if issuer.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Some("must not contain whitespace or control characters")
    } else {
        None
    }
}

/// `field` names the field; it is built only when the check fails.
fn check_slug(field: impl FnOnce() -> String, id: &str, errors: &mut Vec<FieldError>) {
    if !is_slug(id) {
        errors.push(FieldError::new(
            field(),
            format!("{id:?} is not a slug (lowercase letters and digits joined by single hyphens, at most 64)"),
        ));
    }
}

/// One error for every id of `items` equal to an id before it.
fn check_unique<T>(
    field: &str,
    items: &[T],
    id: impl Fn(&T) -> &str,
    errors: &mut Vec<FieldError>,
) {
    let mut duplicate = |id: &str| {
        errors.push(FieldError::new(field, format!("id {id:?} appears twice")));
    };
    // Documents list a dozen ids or so: comparing each with those before it
    // is quicker than building a set, and finds the same duplicates.
    if items.len() <= 32 {
        for (i, item) in items.iter().enumerate() {
            let this = id(item);
            if items[..i].iter().any(|before| id(before) == this) {
                duplicate(this);
            }
        }
    } else {
        let mut seen = BTreeSet::new();
        for item in items {
            if !seen.insert(id(item)) {
                duplicate(id(item));
            }
        }
    }
}

fn check_chain_start(
    number_field: &str,
    number: u64,
    previous: bool,
    errors: &mut Vec<FieldError>,
) {
    if number == 0 {
        errors.push(FieldError::new(number_field, "must be at least 1"));
    } else if number == 1 && previous {
        errors.push(FieldError::new(
            "previous",
            format!("must be absent when {number_field} is 1"),
        ));
    } else if number > 1 && !previous {
        errors.push(FieldError::new(
            "previous",
            format!("is required when {number_field} is above 1 (the digest of the previous one)"),
        ));
    }
}

impl Payload for Statement {
    const PAYLOAD_TYPE: PayloadType = PayloadType::Statement;

    fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        check_issuer(&self.issuer, &mut errors);
        check_chain_start(
            "sequence",
            self.sequence,
            self.previous.is_some(),
            &mut errors,
        );
        if self.next_due <= self.issued_at {
            errors.push(FieldError::new("next_due", "must be after issued_at"));
        }
        if self.expires_at < self.next_due {
            errors.push(FieldError::new("expires_at", "must not be before next_due"));
        }
        for (i, item) in self.statements.iter().enumerate() {
            check_slug(|| format!("statements[{i}].id"), &item.id, &mut errors);
            if item.text.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("statements[{i}].text"),
                    "must not be empty",
                ));
            }
        }
        check_unique("statements", &self.statements, |s| &s.id, &mut errors);
        if let Some(incidents) = &self.incidents {
            for (i, r) in incidents.iter().enumerate() {
                check_slug(|| format!("incidents[{i}].id"), &r.id, &mut errors);
                if r.version == 0 {
                    errors.push(FieldError::new(
                        format!("incidents[{i}].version"),
                        "must be at least 1",
                    ));
                }
            }
            check_unique("incidents", incidents, |r| &r.id, &mut errors);
        }
        if let Some(f) = &self.freshness {
            check_freshness(f, self.issued_at, &mut errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn check_freshness(f: &Freshness, issued_at: Timestamp, errors: &mut Vec<FieldError>) {
    if f.bitcoin.is_none() && f.headlines.is_none() {
        errors.push(FieldError::new(
            "freshness",
            "must carry bitcoin and/or headlines",
        ));
    }
    if let Some(h) = &f.headlines
        && (h.is_empty() || h.iter().any(|s| s.trim().is_empty()))
    {
        errors.push(FieldError::new(
            "freshness.headlines",
            "must be a non-empty list of non-empty strings",
        ));
    }
    if let Some(b) = &f.bitcoin
        && let Err(reason) = check_bitcoin(b, issued_at)
    {
        errors.push(FieldError::new("freshness.bitcoin", reason));
    }
}

/// Checks a Bitcoin proof offline: the hash is well formed and, when the
/// header is given, is the header's double SHA-256, meets the header's own
/// difficulty target, and the block time precedes `issued_at`.
fn check_bitcoin(b: &BitcoinProof, issued_at: Timestamp) -> Result<(), String> {
    let hash = parse_hex::<32>(&b.hash).ok_or("hash must be 64 lowercase hex digits")?;
    let Some(header_hex) = &b.header else {
        return Ok(());
    };
    let header = parse_hex::<80>(header_hex).ok_or("header must be 160 lowercase hex digits")?;
    let mut computed: [u8; 32] = Sha256::digest(Sha256::digest(header)).into();
    computed.reverse(); // explorers show the hash byte-reversed
    if computed != hash {
        return Err(format!(
            "hash does not match the header (the header hashes to {})",
            hex(&computed)
        ));
    }
    let le_u32 = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let target = compact_target(le_u32(72)).ok_or("header has an invalid difficulty target")?;
    // Both big-endian: compare byte-wise.
    if hash > target {
        return Err("hash does not meet the header's difficulty target".to_owned());
    }
    let block_time =
        Timestamp::from_unix(i64::from(le_u32(68))).ok_or("header time out of range")?;
    // DESIGN §3.3: the block time precedes issued_at (strictly).
    if block_time >= issued_at {
        return Err(format!(
            "block time {block_time} is not before issued_at {issued_at}"
        ));
    }
    Ok(())
}

/// Expands Bitcoin's compact difficulty (`nBits`) into a big-endian 256-bit target.
fn compact_target(bits: u32) -> Option<[u8; 32]> {
    let exponent = (bits >> 24) as usize;
    let mantissa = bits & 0x007f_ffff;
    if bits & 0x0080_0000 != 0 || mantissa == 0 || exponent > 32 {
        return None;
    }
    let mut target = [0u8; 32];
    // target = mantissa * 256^(exponent - 3): the mantissa's most significant
    // byte lands at big-endian index 32 - exponent; bytes past the end are
    // shifted out, as Bitcoin does for exponents below 3.
    for (i, byte) in mantissa.to_be_bytes()[1..].iter().enumerate() {
        let idx = 32 + i - exponent;
        if idx < 32 {
            target[idx] = *byte;
        }
    }
    Some(target)
}

/// What an incident record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentKind {
    /// Something broke.
    Incident,
    /// Planned work.
    Maintenance,
    /// A notice.
    Informational,
}

impl IncidentKind {
    /// The word documents use for it.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::Incident => "incident",
            IncidentKind::Maintenance => "maintenance",
            IncidentKind::Informational => "informational",
        }
    }
}

impl std::fmt::Display for IncidentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    /// No user-visible effect.
    None,
    /// Degraded.
    Minor,
    /// Partly down.
    Major,
    /// Down.
    Critical,
}

impl Impact {
    /// The word documents use for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::Minor => "minor",
            Impact::Major => "major",
            Impact::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Impact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the work on an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    /// Looking into it.
    Investigating,
    /// Cause known.
    Identified,
    /// Fix in place, watching.
    Monitoring,
    /// Over.
    Resolved,
}

impl IncidentStatus {
    /// The word documents use for it.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Identified => "identified",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Resolved => "resolved",
        }
    }
}

impl std::fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was compromised or lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compromise {
    /// In words.
    pub summary: String,
    /// Whether data was lost.
    pub data_lost: bool,
    /// Whether data was exposed to someone who should not have it.
    pub data_exposed: bool,
}

/// The kind of a measure taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeasureKind {
    /// Limits the damage now.
    Mitigate,
    /// Keeps it from happening again.
    Prevent,
    /// Changes how people work.
    Process,
}

impl MeasureKind {
    /// The word documents use for it.
    pub fn as_str(self) -> &'static str {
        match self {
            MeasureKind::Mitigate => "mitigate",
            MeasureKind::Prevent => "prevent",
            MeasureKind::Process => "process",
        }
    }
}

impl std::fmt::Display for MeasureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A measure taken or planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// What is done.
    pub action: String,
    /// Its kind.
    pub kind: MeasureKind,
    /// Whether it is done already.
    pub done: bool,
}

/// One entry in an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentUpdate {
    /// When.
    pub at: Timestamp,
    /// The status from then on.
    pub status: IncidentStatus,
    /// What was said.
    pub body: String,
}

/// An incident record (DESIGN §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentRecord {
    /// Who speaks.
    pub issuer: String,
    /// Slug, stable across versions.
    pub id: String,
    /// From 1, +1 per update.
    pub version: u64,
    /// Headline.
    pub title: String,
    /// What it is.
    pub kind: IncidentKind,
    /// How bad.
    pub impact: Impact,
    /// Where it stands.
    pub status: IncidentStatus,
    /// When it began.
    pub started_at: Timestamp,
    /// When it ended; present exactly when resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// Component ids affected.
    pub affected: Vec<String>,
    /// What happened.
    pub what_happened: String,
    /// What was compromised or lost.
    pub compromised: Compromise,
    /// Measures taken.
    pub measures: Vec<Measure>,
    /// The timeline.
    pub updates: Vec<IncidentUpdate>,
    /// Digest of version - 1; absent for version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Digest>,
}

/// What an incident record answers to a yes/no question (was data lost?
/// exposed?): a "no" on a record still open is not an answer yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Yes.
    Yes,
    /// No, on a resolved record.
    No,
    /// No on a record still open: the investigation may change it.
    NotYetKnown,
}

impl Answer {
    fn of(flag: bool, status: IncidentStatus) -> Self {
        match (flag, status) {
            (true, _) => Answer::Yes,
            (false, IncidentStatus::Resolved) => Answer::No,
            (false, _) => Answer::NotYetKnown,
        }
    }

    /// `yes`, `no` or `not yet known`.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::NotYetKnown => "not yet known",
        }
    }
}

impl IncidentRecord {
    /// Whether data was lost, as readers should be told.
    pub fn data_lost(&self) -> Answer {
        Answer::of(self.compromised.data_lost, self.status)
    }

    /// Whether data was exposed, as readers should be told.
    pub fn data_exposed(&self) -> Answer {
        Answer::of(self.compromised.data_exposed, self.status)
    }
}

impl Payload for IncidentRecord {
    const PAYLOAD_TYPE: PayloadType = PayloadType::Incident;

    fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        check_issuer(&self.issuer, &mut errors);
        check_slug(|| "id".to_owned(), &self.id, &mut errors);
        check_chain_start(
            "version",
            self.version,
            self.previous.is_some(),
            &mut errors,
        );
        if self.title.trim().is_empty() {
            errors.push(FieldError::new("title", "must not be empty"));
        }
        for (i, c) in self.affected.iter().enumerate() {
            check_slug(|| format!("affected[{i}]"), c, &mut errors);
        }
        check_unique("affected", &self.affected, |c| c, &mut errors);
        match (self.status, self.resolved_at) {
            (IncidentStatus::Resolved, None) => {
                errors.push(FieldError::new(
                    "resolved_at",
                    "is required when status is resolved",
                ));
            }
            (IncidentStatus::Resolved, Some(r)) if r < self.started_at => {
                errors.push(FieldError::new(
                    "resolved_at",
                    "must not be before started_at",
                ));
            }
            (s, Some(_)) if s != IncidentStatus::Resolved => {
                errors.push(FieldError::new(
                    "resolved_at",
                    "must be absent unless status is resolved",
                ));
            }
            _ => {}
        }
        for (i, pair) in self.updates.windows(2).enumerate() {
            if pair[1].at < pair[0].at {
                errors.push(FieldError::new(
                    format!("updates[{}].at", i + 1),
                    "must not be before the update above it",
                ));
            }
        }
        if let Some(last) = self.updates.last()
            && last.status != self.status
        {
            errors.push(FieldError::new(
                "status",
                "must equal the status of the last update",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// A key rotation (DESIGN §3.5): the next version of the issuer's trust policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRotation {
    /// Who speaks.
    pub issuer: String,
    /// Exactly the previous version + 1; the first policy is version 1.
    pub version: u64,
    /// Signatures the new key set needs.
    pub threshold: u64,
    /// The new key set.
    pub keys: Vec<PublicKey>,
    /// The new panic keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic_keys: Option<Vec<PublicKey>>,
    /// When it was made.
    pub issued_at: Timestamp,
}

impl Payload for KeyRotation {
    const PAYLOAD_TYPE: PayloadType = PayloadType::Rotation;

    fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        check_issuer(&self.issuer, &mut errors);
        if self.version < 2 {
            errors.push(FieldError::new(
                "version",
                "must be at least 2 (version 1 is the first trust policy)",
            ));
        }
        let distinct: BTreeSet<_> = self.keys.iter().map(|k| k.id()).collect();
        if distinct.len() != self.keys.len() {
            errors.push(FieldError::new("keys", "lists a key twice"));
        }
        if self.threshold == 0 || self.threshold > distinct.len() as u64 {
            errors.push(FieldError::new(
                "threshold",
                format!(
                    "must be between 1 and the number of keys ({})",
                    distinct.len()
                ),
            ));
        }
        if let Some(panic) = &self.panic_keys
            && panic.iter().any(|p| distinct.contains(&p.id()))
        {
            errors.push(FieldError::new(
                "panic_keys",
                "a panic key must not also be a signing key",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bitcoin's genesis block: its header hashes to the well-known hash,
    /// meets its target (nBits 0x1d00ffff) and was mined on 2009-01-03.
    const GENESIS_HEADER: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
    const GENESIS_HASH: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

    #[test]
    fn a_bitcoin_header_is_checked_offline() {
        let at = |s: &str| s.parse::<Timestamp>().expect("time");
        let proof = |hash: &str, header: Option<String>| BitcoinProof {
            height: 0,
            hash: hash.to_owned(),
            header,
        };
        let good = proof(GENESIS_HASH, Some(GENESIS_HEADER.to_owned()));
        assert_eq!(check_bitcoin(&good, at("2026-01-01T00:00:00Z")), Ok(()));
        assert!(good.header_checked());
        assert!(!proof(GENESIS_HASH, None).header_checked());
        // Mined after the statement: refused.
        let early = check_bitcoin(&good, at("2009-01-01T00:00:00Z"));
        assert!(early.is_err_and(|e| e.contains("not before issued_at")));
        // The block time must precede issued_at: the same second does not.
        let same = check_bitcoin(&good, at("2009-01-03T18:15:05Z"));
        assert!(same.is_err_and(|e| e.contains("not before issued_at")));
        assert_eq!(check_bitcoin(&good, at("2009-01-03T18:15:06Z")), Ok(()));
        // Another hash, or a header with its nonce changed: refused.
        let other = GENESIS_HASH.replace("6f", "70");
        let refused = check_bitcoin(
            &proof(&other, Some(GENESIS_HEADER.to_owned())),
            at("2026-01-01T00:00:00Z"),
        );
        assert!(refused.is_err_and(|e| e.contains("does not match the header")));
        let mut nonce = GENESIS_HEADER.to_owned();
        nonce.replace_range(152..154, "1e");
        let refused = check_bitcoin(
            &proof(GENESIS_HASH, Some(nonce)),
            at("2026-01-01T00:00:00Z"),
        );
        assert!(refused.is_err_and(|e| e.contains("does not match the header")));
    }

    /// Regression (found with the `payload` fuzz target's round-trip check):
    /// serde reads a struct from an array of its field values, so canonical
    /// JSON with arrays in place of objects decoded to a valid document whose
    /// own payload is different bytes. Both the fast and the slow path must
    /// refuse it.
    #[test]
    fn refuses_structs_written_as_arrays() {
        let statement = |statements: serde_json::Value, freshness: Option<serde_json::Value>| {
            let mut v = serde_json::json!({
                "issuer": "example.org", "sequence": 1,
                "issued_at": "2026-10-01T00:00:00Z", "next_due": "2026-12-30T00:00:00Z",
                "expires_at": "2027-01-13T00:00:00Z", "statements": statements,
            });
            if let Some(f) = freshness {
                v["freshness"] = f;
            }
            json::canonicalize(&v).expect("canonical")
        };
        let hash = "0".repeat(64);
        let object = statement(
            serde_json::json!([{"id": "no-warrants", "text": "No."}]),
            Some(serde_json::json!({"bitcoin": {"hash": hash, "height": 1}, "headlines": ["h"]})),
        );
        let doc = parse_payload::<Statement>(&object).expect("object form");
        assert_eq!(to_payload(&doc).expect("payload"), object);

        let refused = [
            // A statement item as [id, text].
            statement(serde_json::json!([["no-warrants", "No."]]), None),
            // Freshness and its Bitcoin proof as arrays.
            statement(
                serde_json::json!([]),
                Some(serde_json::json!([[1, hash], ["h"]])),
            ),
            // The whole statement as an array of its fields.
            br#"["example.org",1,"2026-10-01T00:00:00Z","2026-12-30T00:00:00Z","2027-01-13T00:00:00Z",[]]"#.to_vec(),
        ];
        for bytes in &refused {
            assert!(json::is_canonical(bytes));
            let result = parse_payload::<Statement>(bytes);
            assert!(
                matches!(&result, Err(PayloadError::Schema { message, .. }) if message.contains("arrays")),
                "{}: {result:?}",
                String::from_utf8_lossy(bytes),
            );
        }
    }

    /// The fast path answers for canonical documents (valid or not), never
    /// for structs written as arrays, and whenever it answers it answers as
    /// the slow path: over the valid statement, the arrays of the test above
    /// and every single-byte mutation of a statement.
    #[test]
    fn fast_path_answers_only_as_the_slow_path() {
        let statement = Statement {
            issuer: "example.org".into(),
            sequence: 2,
            issued_at: "2026-10-01T00:00:00Z".parse().expect("timestamp"),
            next_due: "2026-12-30T00:00:00Z".parse().expect("timestamp"),
            expires_at: "2027-01-13T00:00:00Z".parse().expect("timestamp"),
            statements: vec![StatementItem {
                id: "no-warrants".into(),
                text: "We \"never\" got one.\n\u{1}".into(),
            }],
            previous: Some(Digest::of(b"1")),
            incidents: Some(vec![IncidentRef {
                id: "x".into(),
                version: 1,
                digest: Digest::of(b"x"),
            }]),
            freshness: Some(Freshness {
                bitcoin: None,
                headlines: Some(vec!["h".into()]),
            }),
            notes: Some("n".into()),
            is_final: Some(false),
        };
        let valid = to_payload(&statement).expect("valid");
        assert_eq!(
            parse_payload_fast::<Statement>(&valid),
            Some(Ok(statement.clone()))
        );
        // Canonical and of the schema, but breaking a rule: answered too.
        let mut value = json::parse_strict(&valid).expect("strict");
        value["sequence"] = 1.into();
        let invalid = json::canonicalize(&value).expect("canonical");
        let answer = parse_payload_fast::<Statement>(&invalid);
        assert!(matches!(answer, Some(Err(PayloadError::Invalid { .. }))));
        assert_eq!(answer, Some(parse_payload_slow::<Statement>(&invalid)));
        // Structs as arrays: left to the slow path.
        value["sequence"] = 2.into();
        value["statements"] = serde_json::json!([["no-warrants", "No."]]);
        let arrays = json::canonicalize(&value).expect("canonical");
        assert_eq!(parse_payload_fast::<Statement>(&arrays), None);
        assert!(parse_payload_slow::<Statement>(&arrays).is_err());

        let alphabet = b"\"\\{}[],:019azbtnu -.eE\n\x00\x1f\x7f\xc3\xa9\xff";
        let mut answered = 0;
        for i in 0..=valid.len() {
            let mut variants = Vec::new();
            if i < valid.len() {
                let mut d = valid.clone();
                d.remove(i);
                variants.push(d);
            }
            for &b in alphabet {
                let mut ins = valid.clone();
                ins.insert(i, b);
                variants.push(ins);
                if i < valid.len() {
                    let mut rep = valid.clone();
                    rep[i] = b;
                    variants.push(rep);
                }
            }
            for v in &variants {
                if let Some(fast) = parse_payload_fast::<Statement>(v) {
                    answered += 1;
                    assert_eq!(
                        fast,
                        parse_payload_slow::<Statement>(v),
                        "{}",
                        String::from_utf8_lossy(v)
                    );
                }
            }
        }
        assert!(
            answered > 300,
            "the fast path answered only {answered} times"
        );
    }
}
