//! The DSSE v1 envelope (DESIGN §3.1).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::keys::{KeyId, SigningKey};

/// The document kinds, each with its own payloadType. A signature made for
/// one type never verifies as another, because the type is inside the PAE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadType {
    /// A canary statement, `application/vnd.canary.statement.v1+json`.
    Statement,
    /// An incident record, `application/vnd.canary.incident.v1+json`.
    Incident,
    /// A key rotation, `application/vnd.canary.rotation.v1+json`.
    Rotation,
}

impl PayloadType {
    /// The media type string carried in the envelope.
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadType::Statement => "application/vnd.canary.statement.v1+json",
            PayloadType::Incident => "application/vnd.canary.incident.v1+json",
            PayloadType::Rotation => "application/vnd.canary.rotation.v1+json",
        }
    }
}

impl fmt::Display for PayloadType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PayloadType {
    type Err = EnvelopeError;

    fn from_str(s: &str) -> Result<Self, EnvelopeError> {
        [
            PayloadType::Statement,
            PayloadType::Incident,
            PayloadType::Rotation,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| EnvelopeError::UnknownPayloadType(s.to_owned()))
    }
}

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`:
/// the exact bytes every signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// One signature in an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Which key claims to have signed (a hint only).
    pub keyid: KeyId,
    /// The 64-byte Ed25519 signature over the PAE.
    pub sig: [u8; 64],
}

/// A parsed DSSE envelope. The payload is kept as the exact bytes received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    payload: Vec<u8>,
    payload_type: PayloadType,
    signatures: Vec<Signature>,
}

/// Why bytes are not an acceptable envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not JSON, not an object of the envelope's shape, or has duplicate or
    /// unknown fields.
    #[error("malformed envelope: {0}")]
    Malformed(String),
    /// A base64 field is not strict standard base64 with padding.
    #[error("envelope field {field} is not strict standard base64 (with padding, no whitespace)")]
    Base64 {
        /// Which field (`payload` or `signatures[i].sig`).
        field: String,
    },
    /// A signature that does not decode to 64 bytes.
    #[error("signatures[{index}].sig is {len} bytes; an Ed25519 signature is 64 bytes")]
    SignatureLength {
        /// Position in the signatures array.
        index: usize,
        /// Decoded length.
        len: usize,
    },
    /// A keyid that is not 64 lowercase hex digits.
    #[error("signatures[{index}].keyid {keyid:?} is not 64 lowercase hex digits")]
    KeyId {
        /// Position in the signatures array.
        index: usize,
        /// The keyid as found.
        keyid: String,
    },
    /// The envelope carries no signature at all.
    #[error("the envelope has no signatures")]
    NoSignatures,
    /// The payloadType is none of the canary types.
    #[error("unknown payloadType {0:?}")]
    UnknownPayloadType(String),
}

/// The wire form, read with duplicate and unknown fields refused. Strings
/// borrow from the input when they hold no escapes (they never do when
/// well-formed), so reading copies nothing.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEnvelope<'a> {
    #[serde(borrow)]
    payload: Cow<'a, str>,
    #[serde(rename = "payloadType", borrow)]
    payload_type: Cow<'a, str>,
    #[serde(borrow)]
    signatures: Vec<WireSignature<'a>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSignature<'a> {
    #[serde(borrow)]
    keyid: Cow<'a, str>,
    #[serde(borrow)]
    sig: Cow<'a, str>,
}

impl Envelope {
    /// Parses envelope bytes strictly: JSON object with exactly `payload`,
    /// `payloadType` and `signatures`, no duplicates, strict base64, at least
    /// one signature, each with a well-formed keyid and a 64-byte signature.
    pub fn parse(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        // serde's derived visitor refuses duplicate fields; deny_unknown_fields
        // refuses the rest.
        let wire: WireEnvelope =
            serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        let payload_type = wire.payload_type.parse()?;
        let payload =
            BASE64
                .decode(wire.payload.as_bytes())
                .map_err(|_| EnvelopeError::Base64 {
                    field: "payload".to_owned(),
                })?;
        if wire.signatures.is_empty() {
            return Err(EnvelopeError::NoSignatures);
        }
        let mut signatures = Vec::with_capacity(wire.signatures.len());
        for (index, s) in wire.signatures.into_iter().enumerate() {
            let keyid = s.keyid.parse().map_err(|_| EnvelopeError::KeyId {
                index,
                keyid: s.keyid.clone().into_owned(),
            })?;
            let raw = BASE64
                .decode(s.sig.as_bytes())
                .map_err(|_| EnvelopeError::Base64 {
                    field: format!("signatures[{index}].sig"),
                })?;
            let sig = <[u8; 64]>::try_from(raw.as_slice()).map_err(|_| {
                EnvelopeError::SignatureLength {
                    index,
                    len: raw.len(),
                }
            })?;
            signatures.push(Signature { keyid, sig });
        }
        Ok(Envelope {
            payload,
            payload_type,
            signatures,
        })
    }

    /// Creates an envelope over `payload` with one signature by `key`.
    pub fn sign(payload_type: PayloadType, payload: Vec<u8>, key: &SigningKey) -> Self {
        let mut env = Envelope {
            payload,
            payload_type,
            signatures: Vec::new(),
        };
        env.add_signature(key);
        env
    }

    /// Adds a signature by `key` (co-signing); the payload is untouched.
    /// Returns false, adding nothing, when `key` has signed already.
    pub fn add_signature(&mut self, key: &SigningKey) -> bool {
        let keyid = key.public_key().id();
        if self.signatures.iter().any(|s| s.keyid == keyid) {
            return false;
        }
        let sig = key.sign(&self.pae());
        self.signatures.push(Signature { keyid, sig });
        true
    }

    /// The payload bytes exactly as received or signed.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload bytes, taking them out of the envelope.
    pub(crate) fn into_payload(self) -> Vec<u8> {
        self.payload
    }

    /// The payloadType.
    pub fn payload_type(&self) -> PayloadType {
        self.payload_type
    }

    /// The signatures in envelope order.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// The bytes every signature covers.
    pub fn pae(&self) -> Vec<u8> {
        pae(self.payload_type.as_str(), &self.payload)
    }

    /// Serializes compactly with keys in the order `payload`, `payloadType`,
    /// `signatures` and, in each signature, `keyid`, `sig`.
    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireEnvelope {
            payload: BASE64.encode(&self.payload).into(),
            payload_type: self.payload_type.as_str().into(),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.to_string().into(),
                    sig: BASE64.encode(s.sig).into(),
                })
                .collect(),
        };
        // Only strings and arrays of them: serialization cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_seed(&Zeroizing::new([seed; 32])).expect("valid seed")
    }

    #[test]
    fn pae_matches_the_published_vector() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn round_trip_and_field_order() {
        let mut env = Envelope::sign(PayloadType::Statement, b"{}".to_vec(), &key(1));
        assert!(env.add_signature(&key(2)));
        assert!(!env.add_signature(&key(2)), "same key twice");
        let json = String::from_utf8(env.to_json()).expect("utf8");
        assert!(json.starts_with(
            r#"{"payload":"e30=","payloadType":"application/vnd.canary.statement.v1+json","signatures":[{"keyid":""#
        ));
        assert!(!json.contains(' '));
        assert_eq!(Envelope::parse(json.as_bytes()), Ok(env));
    }

    fn sample() -> serde_json::Value {
        serde_json::from_slice(
            &Envelope::sign(PayloadType::Statement, b"{}".to_vec(), &key(1)).to_json(),
        )
        .expect("json")
    }

    fn parse_value(v: &serde_json::Value) -> Result<Envelope, EnvelopeError> {
        Envelope::parse(&serde_json::to_vec(v).expect("json"))
    }

    #[test]
    fn rejects_unknown_and_missing_fields() {
        let mut v = sample();
        v["extra"] = 1.into();
        assert!(matches!(parse_value(&v), Err(EnvelopeError::Malformed(_))));
        let mut v = sample();
        v["signatures"][0]["extra"] = "x".into();
        assert!(matches!(parse_value(&v), Err(EnvelopeError::Malformed(_))));
        let mut v = sample();
        v.as_object_mut().expect("object").remove("payloadType");
        assert!(matches!(parse_value(&v), Err(EnvelopeError::Malformed(_))));
    }

    #[test]
    fn rejects_duplicate_fields() {
        let json = String::from_utf8(
            Envelope::sign(PayloadType::Statement, b"{}".to_vec(), &key(1)).to_json(),
        )
        .expect("utf8");
        let dup = json.replacen(
            r#"{"payload":"e30=","#,
            r#"{"payload":"e30=","payload":"e30=","#,
            1,
        );
        assert!(matches!(
            Envelope::parse(dup.as_bytes()),
            Err(EnvelopeError::Malformed(m)) if m.contains("duplicate")
        ));
    }

    #[test]
    fn rejects_lax_base64_bad_lengths_and_keyids() {
        let mut v = sample();
        v["payload"] = "e30".into();
        assert!(matches!(parse_value(&v), Err(EnvelopeError::Base64 { .. })));
        let mut v = sample();
        v["payload"] = "e31=".into(); // non-canonical trailing bits
        assert!(matches!(parse_value(&v), Err(EnvelopeError::Base64 { .. })));
        let mut v = sample();
        v["payload"] = "e3 0=".into();
        assert!(matches!(parse_value(&v), Err(EnvelopeError::Base64 { .. })));
        let mut v = sample();
        v["signatures"][0]["sig"] = BASE64.encode([0u8; 63]).into();
        assert!(matches!(
            parse_value(&v),
            Err(EnvelopeError::SignatureLength { index: 0, len: 63 })
        ));
        let mut v = sample();
        let upper = v["signatures"][0]["keyid"]
            .as_str()
            .expect("str")
            .to_uppercase();
        v["signatures"][0]["keyid"] = upper.into();
        assert!(matches!(parse_value(&v), Err(EnvelopeError::KeyId { .. })));
        let mut v = sample();
        v["signatures"] = serde_json::json!([]);
        assert_eq!(parse_value(&v), Err(EnvelopeError::NoSignatures));
        let mut v = sample();
        v["payloadType"] = "application/vnd.canary.statement.v2+json".into();
        assert!(matches!(
            parse_value(&v),
            Err(EnvelopeError::UnknownPayloadType(_))
        ));
    }
}
