//! Ed25519 keys (DESIGN §4): public keys as `ed25519:<base64>`, key ids, and
//! signing keys that are wiped from memory when dropped.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::digest::{hex, parse_hex32};

/// The prefix of every key string.
const KEY_PREFIX: &str = "ed25519:";

/// A trusted Ed25519 public key.
///
/// Construction refuses encodings that are not canonical points and small-order
/// ("weak") keys, so every `PublicKey` is one that `verify_strict` can use.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey {
    key: ed25519_dalek::VerifyingKey,
    id: KeyId,
}

/// The key id: lowercase hex SHA-256 of the 32 raw public-key bytes.
///
/// A key id is a hint for finding a key, never a reason to trust one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; 32]);

/// Why a public key or key id is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The string does not start with `ed25519:`.
    #[error("key {0:?} does not start with \"ed25519:\"")]
    MissingPrefix(String),
    /// The base64 part is not strict standard base64 with padding.
    #[error("key {0:?} is not strict standard base64 (with padding, no whitespace)")]
    Base64(String),
    /// The key does not decode to 32 bytes.
    #[error("key {key:?} is {len} bytes long; an Ed25519 public key is 32 bytes")]
    Length {
        /// The key as given.
        key: String,
        /// Its decoded length.
        len: usize,
    },
    /// The bytes are not the canonical encoding of a curve point.
    #[error("key {0:?} is not a canonical Ed25519 point encoding")]
    NotCanonical(String),
    /// The point has small order: a signature by it could verify for many messages.
    #[error("key {0:?} is a weak (small-order) key and can never be trusted")]
    Weak(String),
    /// A key id that is not 64 lowercase hex digits.
    #[error("key id {0:?} is not 64 lowercase hex digits")]
    KeyId(String),
    /// A public key file whose line is empty.
    #[error("the public key file is empty; expected one line \"ed25519:<base64> [comment]\"")]
    EmptyFile,
    /// A public key file with more than its one line (a second key would be
    /// silently ignored).
    #[error(
        "the public key file has text after its key line; expected one line \
         \"ed25519:<base64> [comment]\": put each key in its own .pub file"
    )]
    ExtraLines,
}

impl PublicKey {
    /// Accepts 32 raw bytes if they are a canonical, non-weak point encoding.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let shown = || format!("{KEY_PREFIX}{}", BASE64.encode(bytes));
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| KeyError::NotCanonical(shown()))?;
        // Decompression accepts some non-canonical encodings (y >= p, or a
        // negative zero x); re-compressing exposes them.
        if key.to_edwards().compress().to_bytes() != *bytes {
            return Err(KeyError::NotCanonical(shown()));
        }
        if key.is_weak() {
            return Err(KeyError::Weak(shown()));
        }
        Ok(PublicKey {
            key,
            id: KeyId(Sha256::digest(bytes).into()),
        })
    }

    /// Parses one line of a `*.pub` file: `ed25519:<base64> [comment]`.
    /// Returns the key and the comment (empty when absent).
    pub fn from_pub_file(text: &str) -> Result<(Self, String), KeyError> {
        let mut lines = text.lines();
        let line = lines.next().unwrap_or("").trim_end();
        if line.is_empty() {
            return Err(KeyError::EmptyFile);
        }
        // One line (DESIGN §4); blank lines after it are harmless.
        if lines.any(|l| !l.trim().is_empty()) {
            return Err(KeyError::ExtraLines);
        }
        let (key, comment) = line.split_once(' ').unwrap_or((line, ""));
        Ok((key.parse()?, comment.trim().to_owned()))
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// The key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// Strict Ed25519 verification (`verify_strict`): refuses non-canonical
    /// `S`, small-order `R` and weak keys. The only verification this crate does.
    pub fn verify_strict(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let sig = ed25519_dalek::Signature::from_bytes(signature);
        self.key.verify_strict(message, &sig).is_ok()
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        let b64 = s
            .strip_prefix(KEY_PREFIX)
            .ok_or_else(|| KeyError::MissingPrefix(s.to_owned()))?;
        let bytes = BASE64
            .decode(b64)
            .map_err(|_| KeyError::Base64(s.to_owned()))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| KeyError::Length {
            key: s.to_owned(),
            len: b.len(),
        })?;
        PublicKey::from_bytes(&bytes)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{KEY_PREFIX}{}", BASE64.encode(self.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl KeyId {
    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 16 hex digits, for display next to the full id.
    pub fn short(&self) -> String {
        hex(&self.0[..8])
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        parse_hex32(s)
            .map(KeyId)
            .ok_or_else(|| KeyError::KeyId(s.to_owned()))
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signing key. Its secret bytes are zeroized when it is dropped
/// and never printed.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    public: PublicKey,
}

impl SigningKey {
    /// Builds the key from its 32-byte seed (the form stored in `*.key` files).
    ///
    /// Fails only if the seed yields a weak public key, which happens with
    /// negligible probability.
    pub fn from_seed(seed: &Zeroizing<[u8; 32]>) -> Result<Self, KeyError> {
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = PublicKey::from_bytes(key.verifying_key().as_bytes())?;
        Ok(SigningKey { key, public })
    }

    /// The 32-byte seed, for storing the key (encrypted) on disk.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `message` (deterministic Ed25519).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(public: {}, secret: <redacted>)", self.public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_seed(&Zeroizing::new([seed; 32])).expect("valid seed")
    }

    #[test]
    fn key_string_round_trip_and_key_id() {
        let k = key(1);
        let s = k.public_key().to_string();
        assert!(s.starts_with("ed25519:"));
        let parsed: PublicKey = s.parse().expect("round trip");
        assert_eq!(&parsed, k.public_key());
        assert_eq!(
            parsed.id().to_string(),
            hex(&Sha256::digest(parsed.as_bytes()))
        );
        assert_eq!(parsed.id().to_string().parse::<KeyId>(), Ok(parsed.id()));
    }

    #[test]
    fn pub_file_line_with_and_without_comment() {
        let k = key(2);
        let (p, c) = PublicKey::from_pub_file(&format!("{} alice laptop\n", k.public_key()))
            .expect("parses");
        assert_eq!(&p, k.public_key());
        assert_eq!(c, "alice laptop");
        let (_, c) = PublicKey::from_pub_file(&k.public_key().to_string()).expect("parses");
        assert_eq!(c, "");
        assert_eq!(PublicKey::from_pub_file("\n"), Err(KeyError::EmptyFile));
        // One line: a second key (or anything) after it is refused, blank
        // lines are not.
        let other = key(4).public_key().to_string();
        assert_eq!(
            PublicKey::from_pub_file(&format!("{}\n{other}\n", k.public_key())),
            Err(KeyError::ExtraLines)
        );
        assert_eq!(
            PublicKey::from_pub_file(&format!("{} a\ngarbage", k.public_key())),
            Err(KeyError::ExtraLines)
        );
        let (p, _) = PublicKey::from_pub_file(&format!("{} a\r\n\n  \n", k.public_key()))
            .expect("blank lines after the key");
        assert_eq!(&p, k.public_key());
    }

    #[test]
    fn rejects_malformed_keys() {
        let good = key(3).public_key().to_string();
        let b64 = good.trim_start_matches("ed25519:");
        assert!(matches!(
            b64.parse::<PublicKey>(),
            Err(KeyError::MissingPrefix(_))
        ));
        assert!(matches!(
            format!("ed25519:{}", &b64[..b64.len() - 1]).parse::<PublicKey>(),
            Err(KeyError::Base64(_))
        ));
        assert!(matches!(
            format!("ed25519: {b64}").parse::<PublicKey>(),
            Err(KeyError::Base64(_))
        ));
        assert!(matches!(
            format!("ed25519:{}", BASE64.encode([7u8; 31])).parse::<PublicKey>(),
            Err(KeyError::Length { len: 31, .. })
        ));
        assert!(matches!(
            format!("ed25519:{}", BASE64.encode([7u8; 33])).parse::<PublicKey>(),
            Err(KeyError::Length { len: 33, .. })
        ));
    }

    #[test]
    fn rejects_weak_keys() {
        // The identity (y = 1) and the order-2 point (y = -1) have small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            PublicKey::from_bytes(&identity),
            Err(KeyError::Weak(_))
        ));
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        assert!(matches!(
            PublicKey::from_bytes(&minus_one),
            Err(KeyError::Weak(_))
        ));
    }

    #[test]
    fn rejects_non_canonical_encodings() {
        // y = p + 1 encodes the identity non-canonically.
        let mut y = [0xffu8; 32];
        y[0] = 0xee;
        y[31] = 0x7f;
        assert!(matches!(
            PublicKey::from_bytes(&y),
            Err(KeyError::NotCanonical(_))
        ));
        // The identity with the sign bit set: x = 0 has no negative.
        let mut neg_zero = [0u8; 32];
        neg_zero[0] = 1;
        neg_zero[31] = 0x80;
        assert!(matches!(
            PublicKey::from_bytes(&neg_zero),
            Err(KeyError::NotCanonical(_))
        ));
    }

    #[test]
    fn rejects_uppercase_key_ids() {
        let id = key(4).public_key().id().to_string().to_uppercase();
        assert!(id.parse::<KeyId>().is_err());
    }

    #[test]
    fn signs_and_verifies_strictly() {
        let k = key(5);
        let sig = k.sign(b"message");
        assert!(k.public_key().verify_strict(b"message", &sig));
        assert!(!k.public_key().verify_strict(b"messagE", &sig));
        assert!(!key(6).public_key().verify_strict(b"message", &sig));
        assert!(format!("{k:?}").contains("redacted"));
    }
}
