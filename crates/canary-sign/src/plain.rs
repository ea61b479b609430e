//! Signatures that stock tools check (DESIGN §9, `plain/`): an SSHSIG for
//! `ssh-keygen -Y verify` and a minisign signature for `minisign -V`, both
//! over a statement's exact payload bytes and made with the same Ed25519 key
//! as the envelope's signature.
//!
//! The two formats are small and fixed, so they are written here rather than
//! by a crate that would bring a second generation of the RustCrypto crates
//! into the tree:
//!
//! - SSHSIG (OpenSSH's PROTOCOL.sshsig): the blob `"SSHSIG"`, version 1, the
//!   public key, the namespace, an empty reserved string, the hash algorithm
//!   `sha512` and the signature, armored between `-----BEGIN SSH
//!   SIGNATURE-----` lines in base64 of 70 columns. The key signs
//!   `"SSHSIG" || string(namespace) || string("") || string("sha512") ||
//!   string(SHA-512(message))`, which no DSSE PAE can equal.
//! - minisign, prehashed (`ED`) only: the key signs BLAKE2b-512 of the
//!   message; the global signature covers that signature and the trusted
//!   comment. The 8-byte key number is the first 8 bytes of the canary key
//!   id (SHA-256 of the public key), so it is the same on every machine.
//!
//! Reading back accepts exactly what the writer makes: a file is taken
//! apart, written again from its parts and compared byte for byte before its
//! signatures are checked.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use blake2::{Blake2b512, Digest as _};
use canary_core::{KeyId, PublicKey, SigningKey, Statement};
use sha2::Sha512;

/// The SSHSIG namespace of an issuer's statements.
pub fn namespace(issuer: &str) -> String {
    format!("canary-v1@{issuer}")
}

/// The minisign trusted comment of a statement.
pub fn trusted_comment(statement: &Statement) -> String {
    format!(
        "canary {} #{} expires {}",
        statement.issuer, statement.sequence, statement.expires_at
    )
}

/// True when the issuer can stand in an `allowed_signers` line (as the
/// principal and inside the quoted namespace) and in a trusted comment
/// unchanged: ASCII letters, digits and `.-_:@+`. Other issuers get no plain
/// signatures.
pub fn issuer_fits(issuer: &str) -> bool {
    !issuer.is_empty()
        && issuer.len() <= 253
        && issuer
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:@+".contains(&b))
}

/// The file names of signer `id`'s signatures: `payload.json.<k>.sig` and
/// `payload.json.<k>.minisig`, `<k>` the first 16 hex digits of its key id.
pub fn file_names(id: &KeyId) -> (String, String) {
    let k = id.short();
    (
        format!("payload.json.{k}.sig"),
        format!("payload.json.{k}.minisig"),
    )
}

/// The file name of a key's minisign public key: `<k>.minisign.pub`.
pub fn minisign_pub_name(id: &KeyId) -> String {
    format!("{}.minisign.pub", id.short())
}

/// The two signature files of one signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signatures {
    /// The armored SSHSIG.
    pub sshsig: Vec<u8>,
    /// The minisign signature file.
    pub minisig: Vec<u8>,
}

/// Signs `payload` both ways.
pub fn sign(key: &SigningKey, statement: &Statement, payload: &[u8]) -> Signatures {
    let public = key.public_key();
    let ns = namespace(&statement.issuer);
    let ssh = key.sign(&sshsig_signed_data(&ns, payload));
    let comment = trusted_comment(statement);
    let sig = key.sign(&Blake2b512::digest(payload));
    let mut global_message = sig.to_vec();
    global_message.extend_from_slice(comment.as_bytes());
    let global = key.sign(&global_message);
    Signatures {
        sshsig: sshsig_armored(public, &ns, &ssh).into_bytes(),
        minisig: minisig_file(&public.id(), &sig, &comment, &global).into_bytes(),
    }
}

/// Checks an SSHSIG file: exactly what [`sign`] writes for `key` and
/// `namespace`, with a signature that verifies over `payload`.
pub fn check_sshsig(
    file: &[u8],
    key: &PublicKey,
    namespace: &str,
    payload: &[u8],
) -> Result<(), String> {
    let text = std::str::from_utf8(file).map_err(|_| "not text".to_owned())?;
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let blob = BASE64
        .decode(body.as_bytes())
        .map_err(|_| "not an SSH signature".to_owned())?;
    let sig: [u8; 64] = blob
        .len()
        .checked_sub(64)
        .and_then(|at| blob.get(at..))
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| "not an SSH signature".to_owned())?;
    if sshsig_armored(key, namespace, &sig).as_bytes() != file {
        return Err(format!(
            "not an SSH signature by key {} in namespace {namespace}",
            key.id().short()
        ));
    }
    if !key.verify_strict(&sshsig_signed_data(namespace, payload), &sig) {
        return Err("the SSH signature does not verify over payload.json".to_owned());
    }
    Ok(())
}

/// Checks a minisign signature file: exactly what [`sign`] writes for
/// `key` and `comment` (prehashed, byte for byte), with both signatures
/// valid over `payload` by the one minisign reader of the core.
pub fn check_minisig(
    file: &[u8],
    key: &PublicKey,
    comment: &str,
    payload: &[u8],
) -> Result<(), String> {
    use canary_core::legacy::minisign::{MinisignKey, MinisignSignature};
    let text = std::str::from_utf8(file).map_err(|_| "not text".to_owned())?;
    let parsed = MinisignSignature::parse(text).map_err(|e| e.to_string())?;
    let id = key.id();
    let ours = parsed.is_prehashed()
        && parsed.keyid == keynum(&id)
        && parsed.trusted_comment == comment
        && minisig_file(&id, parsed.signature(), comment, parsed.global_signature()) == text;
    if !ours {
        return Err(format!(
            "not a prehashed minisign signature by key {} with the trusted comment {comment:?}",
            id.short()
        ));
    }
    let minisign_key = MinisignKey {
        keyid: keynum(&id),
        key: *key,
    };
    if !parsed.verify(&minisign_key, payload) {
        return Err(
            "the minisign signature or its trusted comment signature does not verify over \
             payload.json"
                .to_owned(),
        );
    }
    Ok(())
}

/// `allowed_signers` for `ssh-keygen -Y verify`: one line per key, the
/// issuer as principal, limited to the issuer's namespace.
pub fn allowed_signers<'a>(issuer: &str, keys: impl IntoIterator<Item = &'a PublicKey>) -> String {
    let ns = namespace(issuer);
    keys.into_iter()
        .map(|k| format!("{issuer} namespaces=\"{ns}\" {}\n", ssh_public_key(k)))
        .collect()
}

/// A key in minisign's public key format.
pub fn minisign_pub(key: &PublicKey) -> String {
    let id = key.id();
    let mut blob = b"Ed".to_vec();
    blob.extend_from_slice(&keynum(&id));
    blob.extend_from_slice(key.as_bytes());
    format!(
        "untrusted comment: minisign public key {}\n{}\n",
        minisign_key_id(&id),
        BASE64.encode(blob)
    )
}

/// `ssh-ed25519 <base64>`, as in `authorized_keys`.
fn ssh_public_key(key: &PublicKey) -> String {
    format!("ssh-ed25519 {}", BASE64.encode(ssh_key_blob(key)))
}

/// The key number minisign files carry: the first 8 bytes of the key id.
fn keynum(id: &KeyId) -> [u8; 8] {
    let mut n = [0u8; 8];
    n.copy_from_slice(&id.as_bytes()[..8]);
    n
}

/// The key id as minisign prints it (the key number as a little-endian
/// integer, in upper-case hex).
fn minisign_key_id(id: &KeyId) -> String {
    keynum(id)
        .iter()
        .rev()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn minisig_file(id: &KeyId, sig: &[u8; 64], comment: &str, global: &[u8; 64]) -> String {
    let mut blob = b"ED".to_vec();
    blob.extend_from_slice(&keynum(id));
    blob.extend_from_slice(sig);
    format!(
        "untrusted comment: signature from canary key {}\n{}\ntrusted comment: {comment}\n{}\n",
        id.short(),
        BASE64.encode(blob),
        BASE64.encode(global)
    )
}

/// An SSH wire-format string: a 4-byte big-endian length, then the bytes.
fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    // Every string here is short (a key, a namespace, a digest, a signature).
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn ssh_key_blob(key: &PublicKey) -> Vec<u8> {
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-ed25519");
    put_string(&mut blob, key.as_bytes());
    blob
}

const SSHSIG_MAGIC: &[u8] = b"SSHSIG";
const SSHSIG_HASH: &[u8] = b"sha512";

fn sshsig_signed_data(namespace: &str, message: &[u8]) -> Vec<u8> {
    let mut data = SSHSIG_MAGIC.to_vec();
    put_string(&mut data, namespace.as_bytes());
    put_string(&mut data, b"");
    put_string(&mut data, SSHSIG_HASH);
    put_string(&mut data, &Sha512::digest(message));
    data
}

fn sshsig_armored(key: &PublicKey, namespace: &str, sig: &[u8; 64]) -> String {
    let mut blob = SSHSIG_MAGIC.to_vec();
    blob.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut blob, &ssh_key_blob(key));
    put_string(&mut blob, namespace.as_bytes());
    put_string(&mut blob, b"");
    put_string(&mut blob, SSHSIG_HASH);
    let mut signature = Vec::new();
    put_string(&mut signature, b"ssh-ed25519");
    put_string(&mut signature, sig);
    put_string(&mut blob, &signature);
    let encoded = BASE64.encode(blob);
    let mut out = String::from("-----BEGIN SSH SIGNATURE-----\n");
    // Base64 is ASCII, so every 70-byte chunk is a whole line of text.
    for line in encoded.as_bytes().chunks(70) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END SSH SIGNATURE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_core::Zeroizing;

    fn key() -> SigningKey {
        SigningKey::from_seed(&Zeroizing::new([7u8; 32])).expect("key")
    }

    fn statement() -> Statement {
        canary_core::parse_draft(
            br#"{"issuer":"example.org","sequence":3,"issued_at":"2026-01-01T00:00:00Z",
            "next_due":"2026-04-01T00:00:00Z","expires_at":"2026-04-15T00:00:00Z",
            "statements":[{"id":"no-warrants","text":"No warrants."}],
            "previous":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}"#,
        )
        .expect("statement")
    }

    #[test]
    fn what_is_written_reads_back_and_nothing_else_does() {
        let k = key();
        let s = statement();
        let payload = b"{\"hello\":1}";
        let sigs = sign(&k, &s, payload);
        let ns = namespace(&s.issuer);
        let tc = trusted_comment(&s);
        assert_eq!(tc, "canary example.org #3 expires 2026-04-15T00:00:00Z");
        let pk = k.public_key();
        assert_eq!(check_sshsig(&sigs.sshsig, pk, &ns, payload), Ok(()));
        assert_eq!(check_minisig(&sigs.minisig, pk, &tc, payload), Ok(()));
        assert!(check_sshsig(&sigs.sshsig, pk, &ns, b"{\"hello\":2}").is_err());
        assert!(check_minisig(&sigs.minisig, pk, &tc, b"{\"hello\":2}").is_err());
        assert!(check_sshsig(&sigs.sshsig, pk, "canary-v1@example.com", payload).is_err());
        assert!(check_minisig(&sigs.minisig, pk, "other", payload).is_err());
        assert!(check_sshsig(&sigs.minisig, pk, &ns, payload).is_err());
        assert!(check_minisig(&sigs.sshsig, pk, &tc, payload).is_err());
        let other = SigningKey::from_seed(&Zeroizing::new([8u8; 32])).expect("key");
        assert!(check_sshsig(&sigs.sshsig, other.public_key(), &ns, payload).is_err());
        assert!(check_minisig(&sigs.minisig, other.public_key(), &tc, payload).is_err());
        // The SSH armor wraps at 70 columns.
        let text = String::from_utf8(sigs.sshsig).expect("text");
        assert!(text.lines().all(|l| l.len() <= 70));
        assert!(text.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
    }

    #[test]
    fn issuers_that_fit_a_line() {
        assert!(issuer_fits("example.org"));
        assert!(issuer_fits("status.example-1.org:8443"));
        for bad in [
            "",
            "a\"b",
            "a,b",
            "a*",
            "ex ample",
            "ex\u{202e}ample",
            "é.org",
        ] {
            assert!(!issuer_fits(bad), "{bad:?}");
        }
    }
}
