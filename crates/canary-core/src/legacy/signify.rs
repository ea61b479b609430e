//! signify (OpenBSD): `Ed` public keys and detached signatures, checked
//! with strict Ed25519 verification (DESIGN §11).

use base64::Engine as _;

use crate::keys::PublicKey;

/// A signify or minisign key or signature file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigFileError {
    /// The file is not `untrusted comment: ...` then a base64 line.
    #[error("not a {kind} file: {reason}")]
    Malformed {
        /// What the file should be.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An algorithm this verifier does not accept.
    #[error("{kind}: unsupported algorithm {algorithm:?}")]
    Algorithm {
        /// What the file is.
        kind: &'static str,
        /// The two-byte algorithm tag, as read.
        algorithm: String,
    },
    /// The key is not a valid Ed25519 public key (or a weak one).
    #[error("{0}")]
    Key(String),
}

/// A signify public key: its key number and Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignifyKey {
    /// The 8-byte key number signatures name.
    pub keynum: [u8; 8],
    /// The key.
    pub key: PublicKey,
}

/// The base64 line after `untrusted comment: ...`, decoded.
pub(super) fn comment_then_base64<'t>(
    text: &'t str,
    kind: &'static str,
) -> Result<(Vec<u8>, Vec<&'t str>), SigFileError> {
    let malformed = |reason: &str| SigFileError::Malformed {
        kind,
        reason: reason.to_owned(),
    };
    let mut lines = text.lines();
    let first = lines.next().ok_or_else(|| malformed("empty"))?;
    if !first.starts_with("untrusted comment: ") {
        return Err(malformed(
            "the first line is not \"untrusted comment: ...\"",
        ));
    }
    let b64 = lines.next().ok_or_else(|| malformed("no base64 line"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim_end_matches('\r'))
        .map_err(|e| malformed(&format!("bad base64: {e}")))?;
    Ok((bytes, lines.collect()))
}

fn algorithm(kind: &'static str, tag: &[u8]) -> SigFileError {
    SigFileError::Algorithm {
        kind,
        algorithm: String::from_utf8_lossy(tag).into_owned(),
    }
}

impl SignifyKey {
    /// Parses a signify public key file (`*.pub`).
    pub fn parse(text: &str) -> Result<Self, SigFileError> {
        const KIND: &str = "signify public key";
        let (bytes, _) = comment_then_base64(text, KIND)?;
        if bytes.len() != 42 {
            return Err(SigFileError::Malformed {
                kind: KIND,
                reason: format!("{} bytes, expected 42", bytes.len()),
            });
        }
        if &bytes[..2] != b"Ed" {
            return Err(algorithm(KIND, &bytes[..2]));
        }
        let mut keynum = [0u8; 8];
        keynum.copy_from_slice(&bytes[2..10]);
        let mut raw = [0u8; 32];
        raw.copy_from_slice(&bytes[10..42]);
        let key = PublicKey::from_bytes(&raw).map_err(|e| SigFileError::Key(e.to_string()))?;
        Ok(SignifyKey { keynum, key })
    }
}

/// A detached signify signature (`*.sig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignifySignature {
    /// The key number of the key that made it.
    pub keynum: [u8; 8],
    sig: [u8; 64],
}

impl SignifySignature {
    /// Parses a detached signify signature file.
    pub fn parse(text: &str) -> Result<Self, SigFileError> {
        const KIND: &str = "signify signature";
        let (bytes, rest) = comment_then_base64(text, KIND)?;
        if rest.iter().any(|l| !l.trim().is_empty()) {
            return Err(SigFileError::Malformed {
                kind: KIND,
                reason: "text after the signature (an embedded signature is not detached)"
                    .to_owned(),
            });
        }
        if bytes.len() != 74 {
            return Err(SigFileError::Malformed {
                kind: KIND,
                reason: format!("{} bytes, expected 74", bytes.len()),
            });
        }
        if &bytes[..2] != b"Ed" {
            return Err(algorithm(KIND, &bytes[..2]));
        }
        let mut keynum = [0u8; 8];
        keynum.copy_from_slice(&bytes[2..10]);
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&bytes[10..74]);
        Ok(SignifySignature { keynum, sig })
    }

    /// True when `key` made this signature over `message` (key number
    /// first, then strict verification).
    pub fn verify(&self, key: &SignifyKey, message: &[u8]) -> bool {
        self.keynum == key.keynum && key.key.verify_strict(message, &self.sig)
    }
}
