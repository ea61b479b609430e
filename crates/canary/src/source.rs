//! Where a canary comes from (DESIGN §5 step 2), and where its archive is.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;

use crate::fetch::{FetchError, Fetcher};

/// A source as given on the command line, resolved.
#[derive(Debug, Clone)]
pub enum Source {
    /// A statement envelope file.
    File(PathBuf),
    /// A publish folder (`.well-known/canary.json` inside) or an issuer
    /// folder (`statements/` inside).
    Dir(PathBuf),
    /// An https:// (or loopback http://) URL of a statement envelope.
    Url(Url),
}

/// True for an argument written as an `https://` or `http://` URL, in any
/// case (schemes are case-insensitive, RFC 3986; the parsed URL has them in
/// lowercase).
pub fn is_web_url(arg: &str) -> bool {
    arg.split_once("://").is_some_and(|(scheme, _)| {
        scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")
    })
}

impl Source {
    /// Resolves an argument: an existing path is local; `http(s)://...` is a
    /// URL; a bare domain means `https://<domain>/.well-known/canary.json`.
    pub fn parse(arg: &str) -> Result<Self, String> {
        if is_web_url(arg) {
            let url = Url::parse(arg).map_err(|e| format!("{arg}: not a valid URL: {e}"))?;
            return Ok(Source::Url(url));
        }
        if let Some((scheme, _)) = arg.split_once("://") {
            return Err(format!(
                "{arg}: the scheme {scheme}: is not supported; use https://"
            ));
        }
        let path = Path::new(arg);
        if path.is_dir() {
            return Ok(Source::Dir(path.to_path_buf()));
        }
        if path.exists() {
            return Ok(Source::File(path.to_path_buf()));
        }
        // `canary.json` that is not there is a missing file, not a domain.
        let domain_like = !arg.ends_with(".json")
            && arg.contains('.')
            && !arg.contains(['/', '\\', ' '])
            && arg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':');
        if domain_like {
            let url = Url::parse(&format!("https://{arg}/.well-known/canary.json"))
                .map_err(|e| format!("{arg}: not a valid domain: {e}"))?;
            return Ok(Source::Url(url));
        }
        Err(format!(
            "{arg}: no such file or folder, and not a domain or https:// URL"
        ))
    }

    /// The domain of a network source.
    pub fn domain(&self) -> Option<&str> {
        match self {
            Source::Url(url) => url.host_str(),
            _ => None,
        }
    }

    /// The URL of a network source.
    pub fn url(&self) -> Option<&Url> {
        match self {
            Source::Url(url) => Some(url),
            _ => None,
        }
    }

    /// True for network sources.
    pub fn is_remote(&self) -> bool {
        matches!(self, Source::Url(_))
    }
}

/// Where a source's documents are: the latest statement and the archive of
/// statements, incidents and rotations.
#[derive(Debug, Clone)]
pub enum Location {
    /// On disk: the latest statement file and the archive folder, holding
    /// `statements/NNNNNN.json`, `incidents/<id>/NNNNNN.json`, ...
    Local {
        /// The latest statement envelope.
        latest: PathBuf,
        /// The archive folder, if one is known.
        archive: Option<PathBuf>,
    },
    /// Over HTTP(S): the latest statement and the archive base URL.
    Remote {
        /// The latest statement envelope.
        latest: Url,
        /// The archive base (ends in `/`).
        archive: Url,
    },
}

/// A failure to read a document: absent, or unreadable.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// No such document (404, or no such file).
    #[error("{0} does not exist")]
    Absent(String),
    /// Could not be fetched.
    #[error(transparent)]
    Fetch(FetchError),
    /// A local file that cannot be read.
    #[error("{0}")]
    Local(String),
    /// A local file larger than the cap for its kind of document.
    #[error("{0}")]
    TooLarge(String),
    /// The HTTP client could not be built (a bad `--ca-cert` or
    /// `--proxy`): the reader's own settings are at fault.
    #[error("{0}")]
    Client(String),
}

impl Location {
    /// Finds the latest statement and the archive of a source.
    pub fn of(source: &Source) -> Result<Self, String> {
        match source {
            Source::Url(url) => {
                let archive = url
                    .join("canary/")
                    .map_err(|e| format!("{url}: cannot derive the archive location: {e}"))?;
                Ok(Location::Remote {
                    latest: url.clone(),
                    archive,
                })
            }
            Source::File(path) => {
                let parent = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                // In an issuer folder the file sits in statements/ itself;
                // in a publish folder the archive is canary/ beside canary.json.
                let archive = if parent.file_name().is_some_and(|n| n == "statements") {
                    parent.parent().map(Path::to_path_buf)
                } else {
                    Some(parent.join("canary")).filter(|p| p.is_dir())
                };
                Ok(Location::Local {
                    latest: path.clone(),
                    archive,
                })
            }
            Source::Dir(dir) => {
                let published = dir.join(canary_core::layout::LATEST);
                if published.is_file() {
                    return Ok(Location::Local {
                        latest: published,
                        archive: Some(dir.join(canary_core::layout::ARCHIVE_ROOT)),
                    });
                }
                let statements = dir.join("statements");
                if statements.is_dir() {
                    let latest = latest_numbered(&statements)?.ok_or_else(|| {
                        format!(
                            "{}: no statement in {}",
                            dir.display(),
                            statements.display()
                        )
                    })?;
                    return Ok(Location::Local {
                        latest,
                        archive: Some(dir.clone()),
                    });
                }
                Err(format!(
                    "{}: neither a publish folder (.well-known/canary.json) nor an issuer folder (statements/)",
                    dir.display()
                ))
            }
        }
    }

    /// True for an issuer folder (its archive holds `canary.toml`), where
    /// the newest rotation may still be being co-signed.
    pub fn is_issuer_folder(&self) -> bool {
        matches!(self, Location::Local { archive: Some(dir), .. } if dir.join("canary.toml").is_file())
    }

    /// The sequence the latest statement's file name promises, for a file in
    /// an archive's `statements/` folder (an issuer folder's newest file).
    pub fn latest_number(&self) -> Option<u64> {
        match self {
            Location::Local { latest, .. } => {
                let in_statements = latest
                    .parent()
                    .and_then(Path::file_name)
                    .is_some_and(|n| n == "statements");
                latest
                    .file_name()
                    .and_then(|n| n.to_str())
                    .filter(|_| in_statements)
                    .and_then(canary_core::layout::parse_numbered)
            }
            Location::Remote { .. } => None,
        }
    }

    /// A readable name of the latest statement's location.
    pub fn latest_name(&self) -> String {
        match self {
            Location::Local { latest, .. } => latest.display().to_string(),
            Location::Remote { latest, .. } => latest.to_string(),
        }
    }

    /// Reads the latest statement.
    pub fn read_latest(&self, fetcher: &mut Fetcher, cap: u64) -> Result<Vec<u8>, ReadError> {
        match self {
            Location::Local { latest, .. } => read_named_file(latest, cap, fetcher.total_timeout()),
            Location::Remote { latest, .. } => fetch(fetcher, latest, cap),
        }
    }

    /// Reads `rel` (e.g. `statements/000001.json`) from the archive.
    pub fn read_archive(
        &self,
        fetcher: &mut Fetcher,
        rel: &str,
        cap: u64,
    ) -> Result<Vec<u8>, ReadError> {
        match self {
            Location::Local { archive: None, .. } => Err(ReadError::Absent(format!(
                "archive of {} ({rel})",
                self.latest_name()
            ))),
            Location::Local {
                archive: Some(dir), ..
            } => read_file(&dir.join(rel), cap),
            Location::Remote { archive, .. } => fetch(fetcher, &remote_url(archive, rel)?, cap),
        }
    }
}

/// `rel` (e.g. `statements/000001.json`) in the remote archive `archive`.
pub fn remote_url(archive: &Url, rel: &str) -> Result<Url, ReadError> {
    archive.join(rel).map_err(|e| {
        ReadError::Fetch(FetchError::Refused {
            url: format!("{archive}{rel}"),
            reason: e.to_string(),
        })
    })
}

fn fetch(fetcher: &mut Fetcher, url: &Url, cap: u64) -> Result<Vec<u8>, ReadError> {
    fetched(fetcher.get(url, cap))
}

/// A fetch's result as a read's: not found is absent.
pub fn fetched(result: Result<Vec<u8>, FetchError>) -> Result<Vec<u8>, ReadError> {
    match result {
        Ok(body) => Ok(body),
        Err(FetchError::NotFound { url, .. }) => Err(ReadError::Absent(url)),
        Err(FetchError::Client(e)) => Err(ReadError::Client(e)),
        Err(e) => Err(ReadError::Fetch(e)),
    }
}

/// [`read_file`] for the file a user named, which may be a named pipe or a
/// device rather than a regular file: that one is read by a thread given
/// `timeout` (the fetch timeout), so a pipe no one writes to cannot hang the
/// run.
fn read_named_file(path: &Path, cap: u64, timeout: Duration) -> Result<Vec<u8>, ReadError> {
    let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir());
    if !special {
        return read_file(path, cap);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(read_file(&owned, cap));
    });
    rx.recv_timeout(timeout).unwrap_or_else(|_| {
        Err(ReadError::Local(format!(
            "{} gave no complete document within {} s (a pipe or device that is not written to?)",
            path.display(),
            timeout.as_secs()
        )))
    })
}

fn read_file(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ReadError::Absent(path.display().to_string()));
        }
        Err(e) => {
            return Err(ReadError::Local(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    // Documents are a few KiB: with room for 8 KiB up front one read fills
    // the buffer and one more sees the end (not a read per doubling).
    let mut bytes = Vec::with_capacity(8 * 1024);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Local(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge(format!(
            "{} is larger than {cap} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// The file `NNNNNN.json` with the highest number in `dir`.
fn latest_numbered(dir: &Path) -> Result<Option<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(n) = name.to_str().and_then(canary_core::layout::parse_numbered) else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| n > *b) {
            best = Some((n, entry.path()));
        }
    }
    Ok(best.map(|(_, p)| p))
}

#[cfg(test)]
mod tests {
    use super::Source;

    #[test]
    fn url_schemes_are_case_insensitive() {
        for (arg, scheme) in [
            ("HTTPS://example.org/c.json", "https"),
            ("Https://example.org/c.json", "https"),
            ("HTTP://127.0.0.1:8080/c.json", "http"),
        ] {
            match Source::parse(arg) {
                Ok(Source::Url(url)) => assert_eq!(url.scheme(), scheme, "{arg}"),
                other => panic!("{arg}: {other:?}"),
            }
        }
        let refused = Source::parse("ftp://example.org/c.json").expect_err("ftp");
        assert!(refused.contains("is not supported"), "{refused}");
        // The one test every command uses (verify, legacy canaries, trust add).
        for yes in [
            "https://a.example/",
            "HtTp://127.0.0.1/",
            "HTTPS://a.example",
        ] {
            assert!(super::is_web_url(yes), "{yes}");
        }
        for no in [
            "ftp://a.example/",
            "https:/a.example",
            "a.example",
            "site/canary.json",
        ] {
            assert!(!super::is_web_url(no), "{no}");
        }
    }
}
