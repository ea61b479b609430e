//! minisign: `Ed` public keys and detached signatures, prehashed (`ED`,
//! BLAKE2b-512) or legacy (`Ed`), with the trusted comment's global
//! signature checked, all with strict Ed25519 verification (DESIGN §11).

use base64::Engine as _;
use blake2::{Blake2b512, Digest as _};

use super::signify::{SigFileError, comment_then_base64};
use crate::keys::PublicKey;

/// A minisign public key: its key id and Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinisignKey {
    /// The 8-byte key id signatures name.
    pub keyid: [u8; 8],
    /// The key.
    pub key: PublicKey,
}

impl MinisignKey {
    /// Parses a minisign public key file (`*.pub`), or the bare base64
    /// line `minisign -P` takes.
    pub fn parse(text: &str) -> Result<Self, SigFileError> {
        const KIND: &str = "minisign public key";
        let bytes = if text.starts_with("untrusted comment: ") {
            comment_then_base64(text, KIND)?.0
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| SigFileError::Malformed {
                    kind: KIND,
                    reason: format!("bad base64: {e}"),
                })?
        };
        if bytes.len() != 42 {
            return Err(SigFileError::Malformed {
                kind: KIND,
                reason: format!("{} bytes, expected 42", bytes.len()),
            });
        }
        if &bytes[..2] != b"Ed" {
            return Err(SigFileError::Algorithm {
                kind: KIND,
                algorithm: String::from_utf8_lossy(&bytes[..2]).into_owned(),
            });
        }
        let mut keyid = [0u8; 8];
        keyid.copy_from_slice(&bytes[2..10]);
        let mut raw = [0u8; 32];
        raw.copy_from_slice(&bytes[10..42]);
        let key = PublicKey::from_bytes(&raw).map_err(|e| SigFileError::Key(e.to_string()))?;
        Ok(MinisignKey { keyid, key })
    }
}

/// A detached minisign signature (`*.minisig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinisignSignature {
    prehashed: bool,
    /// The key id of the key that made it.
    pub keyid: [u8; 8],
    sig: [u8; 64],
    /// The trusted comment (covered by the global signature).
    pub trusted_comment: String,
    global: [u8; 64],
}

impl MinisignSignature {
    /// Parses a minisign signature file.
    pub fn parse(text: &str) -> Result<Self, SigFileError> {
        const KIND: &str = "minisign signature";
        let malformed = |reason: &str| SigFileError::Malformed {
            kind: KIND,
            reason: reason.to_owned(),
        };
        let (bytes, rest) = comment_then_base64(text, KIND)?;
        if bytes.len() != 74 {
            return Err(malformed(&format!("{} bytes, expected 74", bytes.len())));
        }
        let prehashed = match &bytes[..2] {
            b"ED" => true,
            b"Ed" => false,
            other => {
                return Err(SigFileError::Algorithm {
                    kind: KIND,
                    algorithm: String::from_utf8_lossy(other).into_owned(),
                });
            }
        };
        let mut keyid = [0u8; 8];
        keyid.copy_from_slice(&bytes[2..10]);
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&bytes[10..74]);
        let mut rest = rest.into_iter();
        let comment = rest
            .next()
            .and_then(|l| l.trim_end_matches('\r').strip_prefix("trusted comment: "))
            .ok_or_else(|| malformed("no \"trusted comment: ...\" line"))?;
        let global_line = rest
            .next()
            .ok_or_else(|| malformed("no global signature"))?;
        if rest.any(|l| !l.trim().is_empty()) {
            return Err(malformed("text after the global signature"));
        }
        let global_bytes = base64::engine::general_purpose::STANDARD
            .decode(global_line.trim_end_matches('\r'))
            .map_err(|e| malformed(&format!("bad base64 in the global signature: {e}")))?;
        let global: [u8; 64] = global_bytes
            .try_into()
            .map_err(|_| malformed("the global signature is not 64 bytes"))?;
        Ok(MinisignSignature {
            prehashed,
            keyid,
            sig,
            trusted_comment: comment.to_owned(),
            global,
        })
    }

    /// True when `key` made this signature over `message` and over its
    /// trusted comment (key id first, then strict verification of both).
    pub fn verify(&self, key: &MinisignKey, message: &[u8]) -> bool {
        if self.keyid != key.keyid {
            return false;
        }
        let signed = if self.prehashed {
            key.key
                .verify_strict(&Blake2b512::digest(message)[..], &self.sig)
        } else {
            key.key.verify_strict(message, &self.sig)
        };
        if !signed {
            return false;
        }
        let mut global = Vec::with_capacity(64 + self.trusted_comment.len());
        global.extend_from_slice(&self.sig);
        global.extend_from_slice(self.trusted_comment.as_bytes());
        key.key.verify_strict(&global, &self.global)
    }

    /// The signature over the message (or its BLAKE2b-512 when prehashed).
    pub fn signature(&self) -> &[u8; 64] {
        &self.sig
    }

    /// The global signature over the signature and the trusted comment.
    pub fn global_signature(&self) -> &[u8; 64] {
        &self.global
    }

    /// True for a prehashed (`ED`) signature, false for a legacy (`Ed`) one.
    pub fn is_prehashed(&self) -> bool {
        self.prehashed
    }

    /// The `timestamp:<seconds>` the trusted comment holds, as minisign
    /// writes it by default.
    pub fn timestamp(&self) -> Option<i64> {
        let rest = self.trusted_comment.split("timestamp:").nth(1)?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }
}
