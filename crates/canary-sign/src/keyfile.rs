//! Secret key files (`*.key`).
//!
//! ```text
//! canary-secret-key v1
//! public ed25519:<base64 of the public key>
//! kdf argon2id v=19 m=<KiB> t=<passes> p=<lanes> salt=<base64, 16 bytes>
//! aead xchacha20poly1305 nonce=<base64, 24 bytes>
//! secret <base64 of the encrypted 32-byte seed and its 16-byte tag>
//! ```
//!
//! The key that encrypts the seed is Argon2id(passphrase, salt) with the
//! parameters written in the file. The first four lines, exactly as written,
//! are the AEAD's associated data: changing any header byte (public key,
//! parameters, salt, nonce) makes decryption fail. An unencrypted file has
//! `kdf none` and `aead none` and the seed itself on the `secret` line; its
//! public line must match the seed.

use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use canary_core::{PublicKey, SigningKey, Zeroizing};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const MAGIC: &str = "canary-secret-key v1";

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

/// The parameters new keys get: 64 MiB, 3 passes, 1 lane (RFC 9106's
/// second recommended option, with one lane as the signer runs one thread).
pub const DEFAULT_KDF: KdfParams = KdfParams {
    m_kib: 64 * 1024,
    t: 3,
    p: 1,
};

/// Upper bounds on parameters read from a file, so a tampered file cannot
/// make loading take gigabytes or hours before the tag check fails.
const MAX_M_KIB: u32 = 2 * 1024 * 1024;
const MAX_T: u32 = 64;
const MAX_P: u32 = 16;

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file is not in the format above.
    #[error("not a canary secret key file ({0})")]
    Malformed(String),
    /// The AEAD tag does not verify.
    #[error("wrong passphrase, or the key file was modified")]
    WrongPassphrase,
    /// The public line does not belong to the secret seed.
    #[error("the key file's public key does not match its secret key (the file was modified)")]
    PublicMismatch,
    /// Group or others may read the file.
    #[error("{path} is readable by other users (mode {mode:04o}); a secret key must be private")]
    Permissions {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The system could not provide random bytes or derive the key.
    #[error("{0}")]
    Crypto(String),
}

/// Serializes `key`, encrypted under `passphrase` when one is given.
pub fn encode(
    key: &SigningKey,
    passphrase: Option<&[u8]>,
    params: KdfParams,
) -> Result<Zeroizing<String>, KeyFileError> {
    let public = key.public_key().to_string();
    let Some(passphrase) = passphrase else {
        return Ok(Zeroizing::new(format!(
            "{MAGIC}\npublic {public}\nkdf none\naead none\nsecret {}\n",
            BASE64.encode(*key.seed())
        )));
    };
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut salt)
        .and_then(|()| getrandom::fill(&mut nonce))
        .map_err(|e| KeyFileError::Crypto(format!("no random numbers from the system: {e}")))?;
    let header = format!(
        "{MAGIC}\npublic {public}\nkdf argon2id v=19 m={} t={} p={} salt={}\naead xchacha20poly1305 nonce={}\n",
        params.m_kib,
        params.t,
        params.p,
        BASE64.encode(salt),
        BASE64.encode(nonce)
    );
    let aead_key = derive(passphrase, &salt, params)?;
    // From the slice: no copy of the key outside its one zeroized place
    // (the cipher zeroizes its own on drop).
    let cipher = XChaCha20Poly1305::new_from_slice(aead_key.as_slice())
        .map_err(|_| KeyFileError::Crypto("key length".to_owned()))?;
    let sealed = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: key.seed().as_slice(),
                aad: header.as_bytes(),
            },
        )
        .map_err(|_| KeyFileError::Crypto("encryption failed".to_owned()))?;
    Ok(Zeroizing::new(format!(
        "{header}secret {}\n",
        BASE64.encode(sealed)
    )))
}

/// What a key file's header says, readable without the passphrase.
pub struct KeyFile {
    text: Zeroizing<String>,
    public: PublicKey,
    kdf: Option<(KdfParams, [u8; 16], [u8; 24])>,
    secret: Zeroizing<Vec<u8>>,
    header_len: usize,
}

/// The largest key file read: a real one is a few hundred bytes.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// True when the file at `path` starts like a public key file
/// (`ed25519:<base64> comment`).
fn looks_public(path: &Path) -> bool {
    use std::io::Read as _;
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"ed25519:")
}

impl KeyFile {
    /// Reads `path`, refusing files that group or others can read.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        if meta.is_dir() {
            anyhow::bail!(
                "{} is a folder, not a key file: pass the secret key file (NAME.key) that \
                 `canary-sign keygen` wrote",
                path.display()
            );
        }
        if !meta.is_file() {
            anyhow::bail!(
                "{} is not a regular file: pass the secret key file (NAME.key)",
                path.display()
            );
        }
        if meta.len() > MAX_KEY_FILE {
            anyhow::bail!(
                "{} is {} bytes, too large for a key file (at most {MAX_KEY_FILE}): pass the \
                 secret key file (NAME.key)",
                path.display(),
                meta.len()
            );
        }
        if looks_public(path) {
            anyhow::bail!(
                "{} is a public key: sign with the secret key file beside it (NAME.key, \
                 not NAME.pub)",
                path.display()
            );
        }
        if let Some(mode) = crate::fsutil::mode_of(path)
            && mode & 0o077 != 0
        {
            return Err(KeyFileError::Permissions {
                path: path.display().to_string(),
                mode,
            }
            .into());
        }
        let bytes = Zeroizing::new(
            std::fs::read(path)
                .with_context(|| format!("cannot read key file {}", path.display()))?,
        );
        let text = Zeroizing::new(
            String::from_utf8(bytes.to_vec())
                .map_err(|_| KeyFileError::Malformed("not UTF-8 text".to_owned()))?,
        );
        Self::parse(text).with_context(|| format!("key file {}", path.display()))
    }

    /// Parses the text of a key file.
    pub fn parse(text: Zeroizing<String>) -> Result<Self, KeyFileError> {
        let bad = |what: &str| KeyFileError::Malformed(what.to_owned());
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        if lines.len() != 5 || !text.ends_with('\n') {
            return Err(bad("expected exactly five lines"));
        }
        let field = |i: usize, prefix: &str| -> Result<&str, KeyFileError> {
            lines[i]
                .strip_suffix('\n')
                .and_then(|l| l.strip_prefix(prefix))
                .ok_or_else(|| bad(&format!("line {} must start with {prefix:?}", i + 1)))
        };
        if lines[0] != format!("{MAGIC}\n") {
            return Err(bad("first line must be \"canary-secret-key v1\""));
        }
        let public: PublicKey = field(1, "public ")?
            .parse()
            .map_err(|e| KeyFileError::Malformed(format!("public key: {e}")))?;
        let kdf_line = field(2, "kdf ")?;
        let aead_line = field(3, "aead ")?;
        let secret = Zeroizing::new(
            BASE64
                .decode(field(4, "secret ")?)
                .map_err(|_| bad("secret is not strict base64"))?,
        );
        let header_len = lines[..4].iter().map(|l| l.len()).sum();
        let kdf = match (kdf_line, aead_line) {
            ("none", "none") => {
                if secret.len() != 32 {
                    return Err(bad("an unencrypted secret must be 32 bytes"));
                }
                None
            }
            _ => {
                let (params, salt) = parse_kdf(kdf_line)?;
                let nonce = aead_line
                    .strip_prefix("xchacha20poly1305 nonce=")
                    .and_then(|n| BASE64.decode(n).ok())
                    .and_then(|n| <[u8; 24]>::try_from(n).ok())
                    .ok_or_else(|| bad("aead must be \"xchacha20poly1305 nonce=<24 bytes>\""))?;
                if secret.len() != 48 {
                    return Err(bad("an encrypted secret must be 48 bytes"));
                }
                Some((params, salt, nonce))
            }
        };
        Ok(KeyFile {
            text,
            public,
            kdf,
            secret,
            header_len,
        })
    }

    /// True when a passphrase is needed.
    pub fn is_encrypted(&self) -> bool {
        self.kdf.is_some()
    }

    /// The public key the header names: not proven to match until
    /// [`KeyFile::unlock`], which refuses a seed of another key. Checks
    /// that need only the public key run on it before the passphrase.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Decrypts the seed and checks it matches the public key.
    pub fn unlock(&self, passphrase: Option<&[u8]>) -> Result<SigningKey, KeyFileError> {
        let seed: Zeroizing<[u8; 32]> = match (&self.kdf, passphrase) {
            (None, _) => Zeroizing::new(
                <[u8; 32]>::try_from(self.secret.as_slice())
                    .map_err(|_| KeyFileError::Malformed("secret length".to_owned()))?,
            ),
            (Some(_), None) => return Err(KeyFileError::WrongPassphrase),
            (Some((params, salt, nonce)), Some(pass)) => {
                let aead_key = derive(pass, salt, *params)?;
                // From the slice: no copy of the key outside its one zeroized place
                // (the cipher zeroizes its own on drop).
                let cipher = XChaCha20Poly1305::new_from_slice(aead_key.as_slice())
                    .map_err(|_| KeyFileError::Crypto("key length".to_owned()))?;
                let plain = Zeroizing::new(
                    cipher
                        .decrypt(
                            &XNonce::from(*nonce),
                            Payload {
                                msg: &self.secret,
                                aad: &self.text.as_bytes()[..self.header_len],
                            },
                        )
                        .map_err(|_| KeyFileError::WrongPassphrase)?,
                );
                Zeroizing::new(
                    <[u8; 32]>::try_from(plain.as_slice())
                        .map_err(|_| KeyFileError::Malformed("secret length".to_owned()))?,
                )
            }
        };
        let key =
            SigningKey::from_seed(&seed).map_err(|e| KeyFileError::Malformed(e.to_string()))?;
        if key.public_key() != &self.public {
            return Err(KeyFileError::PublicMismatch);
        }
        Ok(key)
    }
}

fn parse_kdf(line: &str) -> Result<(KdfParams, [u8; 16]), KeyFileError> {
    let bad = || {
        KeyFileError::Malformed(
            "kdf must be \"argon2id v=19 m=<KiB> t=<passes> p=<lanes> salt=<16 bytes>\"".to_owned(),
        )
    };
    let parts: Vec<&str> = line.split(' ').collect();
    let [alg, v, m, t, p, salt] = parts.as_slice() else {
        return Err(bad());
    };
    let num = |s: &str, prefix: &str| -> Result<u32, KeyFileError> {
        s.strip_prefix(prefix)
            .filter(|d| !d.starts_with('0') && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
            .ok_or_else(bad)
    };
    if *alg != "argon2id" || *v != "v=19" {
        return Err(bad());
    }
    let params = KdfParams {
        m_kib: num(m, "m=")?,
        t: num(t, "t=")?,
        p: num(p, "p=")?,
    };
    if params.m_kib > MAX_M_KIB
        || params.t > MAX_T
        || params.p > MAX_P
        || params.m_kib < 8 * params.p
    {
        return Err(KeyFileError::Malformed(format!(
            "kdf parameters out of range (m at most {MAX_M_KIB} KiB, t at most {MAX_T}, p at most {MAX_P})"
        )));
    }
    let salt = salt
        .strip_prefix("salt=")
        .and_then(|s| BASE64.decode(s).ok())
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
        .ok_or_else(bad)?;
    Ok((params, salt))
}

/// How much of the stack [`clear_stack`] overwrites: more than the deepest
/// chain of calls that handles a secret (Argon2 and the AEAD work on the
/// heap), with room to spare in unoptimised builds.
const STACK_TO_CLEAR: usize = 256 * 1024;

/// Overwrites the stack below the caller's frame with zeros. A move in
/// Rust copies and never clears its source, so the frames of finished
/// calls can still hold a seed that was moved through them (the `Zeroizing`
/// places zero only themselves); once a command is done, this wipes them,
/// as libsodium's `sodium_stackzero` does. A test reads the process memory
/// at exit to check that no seed and no derived key remain
/// (tests/memory.rs).
#[inline(never)]
pub fn clear_stack() {
    let mut area = [0u8; STACK_TO_CLEAR];
    // Volatile writes: not removed as dead stores.
    zeroize::Zeroize::zeroize(&mut area);
    std::hint::black_box(&area);
}

fn derive(
    passphrase: &[u8],
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let argon_params = argon2::Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|e| KeyFileError::Crypto(format!("argon2 parameters: {e}")))?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase, salt, out.as_mut_slice())
        .map_err(|e| KeyFileError::Crypto(format!("key derivation failed: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    fn key() -> SigningKey {
        SigningKey::from_seed(&Zeroizing::new([9u8; 32])).expect("seed")
    }

    #[test]
    fn encrypted_round_trip() {
        let text = encode(&key(), Some(b"correct horse"), FAST).expect("encode");
        let file = KeyFile::parse(text).expect("parse");
        assert!(file.is_encrypted());
        assert_eq!(file.public_key(), key().public_key());
        let k = file.unlock(Some(b"correct horse")).expect("unlock");
        assert_eq!(k.public_key(), key().public_key());
        assert!(matches!(
            file.unlock(Some(b"wrong horse")),
            Err(KeyFileError::WrongPassphrase)
        ));
    }

    #[test]
    fn unencrypted_round_trip_and_public_check() {
        let text = encode(&key(), None, FAST).expect("encode");
        assert!(text.contains("kdf none"));
        let k = KeyFile::parse(text.clone())
            .expect("parse")
            .unlock(None)
            .expect("unlock");
        assert_eq!(k.public_key(), key().public_key());
        let other = SigningKey::from_seed(&Zeroizing::new([8u8; 32])).expect("seed");
        let swapped = text.replace(
            &key().public_key().to_string(),
            &other.public_key().to_string(),
        );
        assert!(matches!(
            KeyFile::parse(Zeroizing::new(swapped))
                .expect("parse")
                .unlock(None),
            Err(KeyFileError::PublicMismatch)
        ));
    }

    #[test]
    fn every_header_byte_is_authenticated() {
        let text = encode(&key(), Some(b"pw"), FAST).expect("encode");
        let other = SigningKey::from_seed(&Zeroizing::new([8u8; 32])).expect("seed");
        let tampered = [
            text.replace(
                &key().public_key().to_string(),
                &other.public_key().to_string(),
            ),
            text.replace("t=1 ", "t=2 "),
            text.replace("m=64 ", "m=128 "),
        ];
        for t in tampered {
            assert_ne!(t, *text);
            let file = KeyFile::parse(Zeroizing::new(t)).expect("still parses");
            assert!(matches!(
                file.unlock(Some(b"pw")),
                Err(KeyFileError::WrongPassphrase)
            ));
        }
        // Flip one bit of the salt, nonce and ciphertext in turn.
        for prefix in ["salt=", "nonce=", "secret "] {
            let at = text.find(prefix).expect("field") + prefix.len();
            let mut bytes = text.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(bytes).expect("utf8");
            match KeyFile::parse(Zeroizing::new(t)) {
                Ok(file) => assert!(file.unlock(Some(b"pw")).is_err(), "{prefix}"),
                Err(KeyFileError::Malformed(_)) => {}
                Err(e) => panic!("{prefix}: {e}"),
            }
        }
    }

    #[test]
    fn refuses_malformed_files_and_absurd_parameters() {
        for bad in [
            "",
            "canary-secret-key v2\n",
            "canary-secret-key v1\npublic x\nkdf none\naead none\nsecret AA==\n",
        ] {
            assert!(
                KeyFile::parse(Zeroizing::new(bad.to_owned())).is_err(),
                "{bad}"
            );
        }
        let text = encode(&key(), Some(b"pw"), FAST).expect("encode");
        let huge = text.replace("m=64 ", "m=99999999 ");
        assert!(matches!(
            KeyFile::parse(Zeroizing::new(huge)),
            Err(KeyFileError::Malformed(_))
        ));
        let trailing = format!("{}extra\n", *text);
        assert!(KeyFile::parse(Zeroizing::new(trailing)).is_err());
    }
}
