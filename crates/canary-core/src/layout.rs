//! The publishing layout (DESIGN §8 and §9): one definition of every path.
//!
//! An issuer folder and a published site hold the same archive: a site's
//! `.well-known/canary/` folder has the issuer folder's `statements/`,
//! `incidents/` and `rotations/`, under the same names. Paths here are
//! relative to that archive root, `/`-separated.

/// Where a site publishes its latest statement, relative to the site root.
pub const LATEST: &str = ".well-known/canary.json";

/// Where a site's archive lives, relative to the site root (no trailing `/`).
pub const ARCHIVE_ROOT: &str = ".well-known/canary";

/// The published trust policy, relative to the archive root.
pub const TRUST: &str = "trust.toml";

/// The published trust policy, relative to the site root.
pub const TRUST_SITE_PATH: &str = ".well-known/canary/trust.toml";

/// Largest statement envelope a reader accepts (DESIGN §7).
pub const STATEMENT_CAP: u64 = 256 * 1024;

/// Largest incident record or rotation envelope a reader accepts (DESIGN §7).
pub const DOCUMENT_CAP: u64 = 1024 * 1024;

/// The most bytes a reader accepts for an envelope of `payload_type`.
#[must_use]
pub fn cap_for(payload_type: crate::envelope::PayloadType) -> u64 {
    match payload_type {
        crate::envelope::PayloadType::Statement => STATEMENT_CAP,
        _ => DOCUMENT_CAP,
    }
}

/// About how many bytes one more signature adds to an envelope (a key id of
/// 64 hex digits, a signature of 88 base64 characters, and the JSON around
/// them), for estimating the size of an envelope still being co-signed.
pub const SIGNATURE_BYTES: u64 = 180;

/// One document of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArchivePath<'a> {
    /// `statements/<seq>.json`
    Statement(u64),
    /// `incidents/<id>/<version>.json`
    Incident {
        /// The incident's slug.
        id: &'a str,
        /// The version.
        version: u64,
    },
    /// `incidents/<id>.json`: the latest version of an incident.
    LatestIncident(&'a str),
    /// `rotations/<version>.json`: the rotation to trust version `version`.
    Rotation(u64),
}

impl ArchivePath<'_> {
    /// The path relative to the archive root, e.g. `statements/000001.json`.
    #[must_use]
    pub fn to_path(&self) -> String {
        match self {
            ArchivePath::Statement(seq) => format!("statements/{}", numbered(*seq)),
            ArchivePath::Incident { id, version } => {
                format!("incidents/{id}/{}", numbered(*version))
            }
            ArchivePath::LatestIncident(id) => format!("incidents/{id}.json"),
            ArchivePath::Rotation(version) => format!("rotations/{}", numbered(*version)),
        }
    }

    /// The path relative to a published site's root.
    #[must_use]
    pub fn site_path(&self) -> String {
        format!("{ARCHIVE_ROOT}/{}", self.to_path())
    }

    /// The most bytes a reader accepts for this document.
    #[must_use]
    pub fn cap(&self) -> u64 {
        match self {
            ArchivePath::Statement(_) => STATEMENT_CAP,
            _ => DOCUMENT_CAP,
        }
    }

    /// True for files that, once published, never change (the archive);
    /// false for `incidents/<id>.json`, which moves to each new version.
    #[must_use]
    pub fn is_immutable(&self) -> bool {
        !matches!(self, ArchivePath::LatestIncident(_))
    }
}

impl std::fmt::Display for ArchivePath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_path())
    }
}

/// File name of sequence or version `n`: zero-padded to 6 digits.
#[must_use]
pub fn numbered(n: u64) -> String {
    format!("{n:06}.json")
}

/// The number of a file named like [`numbered`] (`000042.json` → 42);
/// `None` for any other name, for 0, and above the largest sequence a
/// document can carry (2^53 - 1).
#[must_use]
pub fn parse_numbered(name: &str) -> Option<u64> {
    name.strip_suffix(".json")
        .filter(|d| d.len() >= 6 && d.bytes().all(|b| b.is_ascii_digit()))
        .filter(|d| d.len() == 6 || !d.starts_with('0'))
        .and_then(|d| d.parse::<u64>().ok())
        .filter(|&n| (1..=crate::json::MAX_SAFE_INTEGER).contains(&n) && numbered(n) == name)
}

/// Where a document can be read from: an issuer folder, a publish folder,
/// a web server, or files held in memory. The one I/O boundary of history
/// checks: the core opens no file or socket itself.
pub trait Archive {
    /// Why a document could not be read (other than being absent).
    type Error;

    /// The bytes of `path`, at most `path.cap()` of them; `Ok(None)` when
    /// the archive has no such document (404, no such file).
    fn fetch(&mut self, path: ArchivePath<'_>) -> Result<Option<Vec<u8>>, Self::Error>;
}

/// An archive held in memory, keyed by [`ArchivePath::to_path`].
impl Archive for std::collections::BTreeMap<String, Vec<u8>> {
    type Error = std::convert::Infallible;

    fn fetch(&mut self, path: ArchivePath<'_>) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.get(&path.to_path()).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_the_layout() {
        assert_eq!(
            ArchivePath::Statement(1).to_path(),
            "statements/000001.json"
        );
        assert_eq!(
            ArchivePath::Incident {
                id: "db-upgrade",
                version: 12
            }
            .site_path(),
            ".well-known/canary/incidents/db-upgrade/000012.json"
        );
        assert_eq!(
            ArchivePath::LatestIncident("x").to_path(),
            "incidents/x.json"
        );
        assert_eq!(ArchivePath::Rotation(2).to_path(), "rotations/000002.json");
        assert_eq!(numbered(1_234_567), "1234567.json");
        assert_eq!(TRUST_SITE_PATH, format!("{ARCHIVE_ROOT}/{TRUST}"));
    }

    #[test]
    fn numbered_names_round_trip() {
        for n in [1, 9, 999_999, 1_000_000, crate::json::MAX_SAFE_INTEGER] {
            assert_eq!(parse_numbered(&numbered(n)), Some(n));
        }
        for bad in [
            "000000.json",
            "1.json",
            "00001.json",
            "0000001.json",
            "000001.JSON",
            "a00001.json",
            "000001.json.tmp",
        ] {
            assert_eq!(parse_numbered(bad), None, "{bad}");
        }
    }
}
