//! What `gpgv --status-fd` says about OpenPGP signatures, and which of them
//! count (DESIGN §11). The verifier runs `gpgv` as apt does (a keyring made
//! from the pinned certificates, no home folder); this module only reads its
//! status lines, so the rules stay here and testable.

use chrono::TimeDelta;

use crate::time::Timestamp;

/// One signature as `gpgv` reported it (the lines from one `NEWSIG` to the next).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GpgvSignature {
    /// `GOODSIG`: good, by a key neither expired nor revoked.
    pub good: bool,
    /// `EXPKEYSIG`: good, by a key that has expired (as gpgv's clock sees it).
    pub expired_key: bool,
    /// `REVKEYSIG` or `KEYREVOKED`: by a revoked key.
    pub revoked: bool,
    /// `EXPSIG`: the signature itself has expired.
    pub expired_signature: bool,
    /// `BADSIG`: the signature does not verify.
    pub bad: bool,
    /// `ERRSIG`: it could not be checked (no such key among the pinned ones, ...).
    pub error: bool,
    /// The key id the signature names (`GOODSIG`, `BADSIG`, `ERRSIG`, ...).
    pub keyid: Option<String>,
    /// `KEYEXPIRED`: when the key expired.
    pub key_expired_at: Option<i64>,
    /// From `VALIDSIG`: the fingerprint of the key that signed.
    pub fingerprint: Option<String>,
    /// From `VALIDSIG`: the fingerprint of its primary key (the certificate).
    pub primary: Option<String>,
    /// From `VALIDSIG`: the signature's creation time (seconds since 1970).
    pub created: Option<i64>,
    /// From `VALIDSIG`: the signature class (00 binary, 01 text).
    pub class: Option<String>,
}

/// Everything a run of `gpgv` reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GpgvReport {
    /// The signatures, in order.
    pub signatures: Vec<GpgvSignature>,
    /// `NODATA`, `ERROR`, `FAILURE` or `BADARMOR`: the input itself is at
    /// fault, and nothing of this run counts.
    pub failure: Option<String>,
    /// `PLAINTEXT`: the input carried its own signed text (clearsigned, or a
    /// signed message). A detached signature never does: gpgv would have
    /// checked that text instead of the one given.
    pub plaintext: bool,
}

fn hex_fpr(s: &str) -> Option<String> {
    (s.len() >= 32 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_uppercase())
}

/// Reads the status lines (`[GNUPG:] KEYWORD args`) of one `gpgv` run.
/// Lines that are not status lines are ignored.
pub fn parse_status(text: &str) -> GpgvReport {
    let mut report = GpgvReport::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("[GNUPG:] ") else {
            continue;
        };
        let mut words = rest.split(' ');
        let keyword = words.next().unwrap_or("");
        let args: Vec<&str> = words.collect();
        if keyword == "NEWSIG" || report.signatures.is_empty() {
            if keyword == "NEWSIG" {
                report.signatures.push(GpgvSignature::default());
                continue;
            }
            if matches!(
                keyword,
                "GOODSIG" | "EXPKEYSIG" | "REVKEYSIG" | "EXPSIG" | "BADSIG" | "ERRSIG" | "VALIDSIG"
            ) {
                report.signatures.push(GpgvSignature::default());
            }
        }
        if keyword == "PLAINTEXT" {
            report.plaintext = true;
        }
        let current = report.signatures.last_mut();
        let current = match current {
            Some(s) => {
                if matches!(
                    keyword,
                    "GOODSIG" | "EXPKEYSIG" | "REVKEYSIG" | "EXPSIG" | "BADSIG" | "ERRSIG"
                ) && s.keyid.is_none()
                {
                    s.keyid = args
                        .first()
                        .filter(|k| k.len() >= 16 && k.bytes().all(|b| b.is_ascii_hexdigit()))
                        .map(|k| k.to_ascii_uppercase());
                }
                Some(s)
            }
            None => None,
        };
        match (keyword, current) {
            ("NODATA" | "ERROR" | "FAILURE" | "BADARMOR" | "BADMDC", _) => {
                report
                    .failure
                    .get_or_insert_with(|| rest.chars().take(200).collect());
            }
            ("GOODSIG", Some(s)) => s.good = true,
            ("EXPKEYSIG", Some(s)) => s.expired_key = true,
            ("REVKEYSIG" | "KEYREVOKED", Some(s)) => s.revoked = true,
            ("EXPSIG", Some(s)) => s.expired_signature = true,
            ("BADSIG", Some(s)) => s.bad = true,
            ("ERRSIG", Some(s)) => s.error = true,
            ("KEYEXPIRED", Some(s)) => {
                s.key_expired_at = args.first().and_then(|t| t.parse().ok());
            }
            ("VALIDSIG", Some(s)) => {
                s.fingerprint = args.first().and_then(|f| hex_fpr(f));
                s.created = args.get(2).and_then(|t| t.parse().ok());
                s.class = args.get(8).map(|c| (*c).to_owned());
                s.primary = args.get(9).and_then(|f| hex_fpr(f));
            }
            _ => {}
        }
    }
    report
}

impl GpgvSignature {
    /// The certificate (primary key fingerprint) this signature counts
    /// for, or why it does not count: it must be good and fully reported,
    /// not by a revoked key, not by a key expired at the signature's time
    /// or at `now`, not itself expired, a binary or text signature, and
    /// made no later than `now + max_skew`.
    pub fn counts(&self, now: Timestamp, max_skew: TimeDelta) -> Result<String, String> {
        let who = match (&self.fingerprint, &self.keyid) {
            (Some(f), _) => format!("signature by {f}"),
            (None, Some(k)) => format!("signature by key {k}"),
            (None, None) => "a signature".to_owned(),
        };
        if self.bad {
            return Err(format!("{who} does not verify"));
        }
        if self.revoked {
            return Err(format!("{who}: the key is revoked"));
        }
        if self.expired_signature {
            return Err(format!("{who} has expired"));
        }
        let (Some(primary), Some(created)) = (&self.primary, self.created) else {
            return Err(if self.error {
                "a signature by a key that is not pinned (or that cannot be checked)".to_owned()
            } else {
                format!("{who} was not fully reported by gpgv")
            });
        };
        let created_at = Timestamp::from_unix(created)
            .ok_or_else(|| format!("{who}: its time is out of range"))?;
        if self.expired_key || !self.good {
            // gpgv judges expiry by the system clock; KEYEXPIRED says when.
            let Some(at) = self.key_expired_at else {
                return Err(format!("{who}: the key has expired"));
            };
            if at <= created || at <= now.unix() {
                let when =
                    Timestamp::from_unix(at).map_or_else(|| at.to_string(), |t| t.to_string());
                return Err(format!("{who}: the key expired at {when}"));
            }
            if !self.expired_key {
                return Err(format!("{who} is not a good signature"));
            }
        }
        if let Some(at) = self.key_expired_at
            && (at <= created || at <= now.unix())
        {
            let when = Timestamp::from_unix(at).map_or_else(|| at.to_string(), |t| t.to_string());
            return Err(format!("{who}: the key expired at {when}"));
        }
        if !matches!(self.class.as_deref(), Some("00" | "01")) {
            return Err(format!("{who} is not a signature over a document"));
        }
        if created_at > now.saturating_add(max_skew) {
            return Err(format!("{who} was made at {created_at}, after now ({now})"));
        }
        Ok(primary.clone())
    }
}
