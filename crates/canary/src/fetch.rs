//! Fetching over HTTPS (DESIGN §7): rustls, https only except loopback,
//! at most 3 redirects and never to a weaker scheme, connect and total
//! timeouts, status 200 only, bodies capped before and while reading.

use std::io::Read as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::redirect;

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 3;
/// Connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a fetch failed. All of these mean "unreachable" (exit 4), except
/// [`FetchError::NotFound`], which callers may treat as "absent", and
/// [`FetchError::Client`], a usage error of the reader's own settings.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No HTTP client could be built (a bad `--ca-cert` or `--proxy`):
    /// nothing was sent.
    #[error("{0}")]
    Client(String),
    /// The URL is not acceptable before any request is made.
    #[error("refusing {url}: {reason}")]
    Refused {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// HTTP 404 or 410.
    #[error("{url}: not found (HTTP {status})")]
    NotFound {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// Any status but 200.
    #[error("{url}: HTTP {status}; only 200 is accepted")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// The body is larger than the cap.
    #[error("{url}: the body is larger than {cap} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap.
        cap: u64,
    },
    /// The whole request took longer than the timeout.
    #[error("{url}: no complete answer within {secs} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The limit.
        secs: u64,
    },
    /// DNS, TCP, TLS, redirect or protocol failure.
    #[error("{url}: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// What the client said, with its causes.
        message: String,
    },
}

/// Settings for the HTTP client.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Whole-request timeout (default 30 s).
    pub timeout: Option<Duration>,
    /// `socks5h://host:port` and the like.
    pub proxy: Option<String>,
    /// Extra trusted root certificates (PEM files).
    pub ca_certs: Vec<PathBuf>,
    /// Remember bodies with their ETag / Last-Modified here, and ask the
    /// server with a conditional GET next time (polite polling).
    pub cache_dir: Option<PathBuf>,
}

/// A cached response: validators and the body they stand for.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cached {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    body: String,
}

fn cache_file(dir: &std::path::Path, url: &Url) -> PathBuf {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(url.as_str().as_bytes());
    let name: String = hash.iter().take(16).map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{name}.json"))
}

fn read_cache(dir: &std::path::Path, url: &Url) -> Option<(Cached, Vec<u8>)> {
    use base64::Engine as _;
    let text = std::fs::read(cache_file(dir, url)).ok()?;
    let cached: Cached = serde_json::from_slice(&text).ok()?;
    if cached.url != url.as_str() {
        return None;
    }
    let body = base64::engine::general_purpose::STANDARD
        .decode(&cached.body)
        .ok()?;
    Some((cached, body))
}

/// Best effort: a cache that cannot be written only costs a full fetch.
fn write_cache(
    dir: &std::path::Path,
    url: &Url,
    etag: Option<String>,
    last_modified: Option<String>,
    body: &[u8],
) {
    use base64::Engine as _;
    let cached = Cached {
        url: url.to_string(),
        etag,
        last_modified,
        body: base64::engine::general_purpose::STANDARD.encode(body),
    };
    if let Ok(json) = serde_json::to_vec(&cached) {
        let _ = crate::files::write_atomic(&cache_file(dir, url), &json);
    }
}

/// A lazily built HTTP client: none is built while every source is local.
pub struct Fetcher {
    options: FetchOptions,
    client: Option<reqwest::blocking::Client>,
}

/// True for hosts that may be reached over plain http.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Why `url` may not be fetched at all, if it may not.
pub fn scheme_problem(url: &Url) -> Option<String> {
    match url.scheme() {
        "https" => None,
        "http" if is_loopback(url) => None,
        "http" => Some("plain http is allowed only for loopback hosts; use https://".to_owned()),
        other => Some(format!(
            "the scheme {other}: is not supported; use https://"
        )),
    }
}

fn redirect_policy() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        if let Some(problem) = scheme_problem(attempt.url()) {
            let to = attempt.url().to_string();
            return attempt.error(format!("redirect to {to} refused: {problem}"));
        }
        let was_https = attempt.previous().iter().any(|u| u.scheme() == "https");
        if was_https && attempt.url().scheme() != "https" {
            let to = attempt.url().to_string();
            return attempt.error(format!("redirect from https to {to} refused"));
        }
        attempt.follow()
    })
}

impl Fetcher {
    /// A fetcher; the client is built on first use.
    pub fn new(options: FetchOptions) -> Self {
        Fetcher {
            options,
            client: None,
        }
    }

    pub(crate) fn total_timeout(&self) -> Duration {
        self.options.timeout.unwrap_or(Duration::from_secs(30))
    }

    fn client(&mut self) -> anyhow::Result<&reqwest::blocking::Client> {
        if self.client.is_none() {
            // One process-wide provider; a second install attempt is harmless.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let mut builder = reqwest::blocking::Client::builder()
                .tls_backend_rustls()
                .https_only(false) // checked per URL and per redirect instead
                .redirect(redirect_policy())
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(self.total_timeout())
                .user_agent(concat!("canary/", env!("CARGO_PKG_VERSION")))
                .no_proxy();
            // Static builds resolve names without glibc's NSS (see system_dns).
            #[cfg(target_feature = "crt-static")]
            {
                builder = builder
                    .dns_resolver(std::sync::Arc::new(crate::system_dns::SystemDns::default()));
            }
            for path in &self.options.ca_certs {
                let pem = std::fs::read(path).map_err(|e| {
                    anyhow::anyhow!("cannot read --ca-cert {}: {e}", path.display())
                })?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                    anyhow::anyhow!("--ca-cert {}: not a PEM certificate: {e}", path.display())
                })?;
                if certs.is_empty() {
                    anyhow::bail!("--ca-cert {}: no certificate found", path.display());
                }
                for cert in certs {
                    builder = builder.add_root_certificate(cert);
                }
            }
            if let Some(proxy) = &self.options.proxy {
                let proxy = reqwest::Proxy::all(proxy)
                    .map_err(|e| anyhow::anyhow!("--proxy {proxy}: {e}"))?;
                builder = builder.proxy(proxy);
            }
            let client = builder
                .build()
                .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {}", chain(&e)))?;
            self.client = Some(client);
        }
        self.client
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no HTTP client"))
    }

    /// GETs `url` and returns its body, at most `cap` bytes.
    ///
    /// Errors in building the client (bad `--ca-cert` or `--proxy`) are
    /// [`FetchError::Client`]: usage errors, not unreachable.
    pub fn get(&mut self, url: &Url, cap: u64) -> Result<Vec<u8>, FetchError> {
        if let Some(reason) = scheme_problem(url) {
            return Err(FetchError::Refused {
                url: url.to_string(),
                reason,
            });
        }
        self.shared()?.get(url, cap)
    }

    /// A handle on this fetcher's client that threads can share: requests
    /// made through clones of it go over the same pool of connections.
    pub fn shared(&mut self) -> Result<SharedFetcher, FetchError> {
        let client = self
            .client()
            .map_err(|e| FetchError::Client(format!("{e:#}")))?
            .clone();
        Ok(SharedFetcher {
            client,
            total: self.total_timeout(),
            cache_dir: self.options.cache_dir.clone(),
        })
    }
}

/// A built client with the settings [`Fetcher::get`] applies: cheap to
/// clone, and usable from several threads at once.
#[derive(Clone)]
pub struct SharedFetcher {
    client: reqwest::blocking::Client,
    total: Duration,
    cache_dir: Option<PathBuf>,
}

impl SharedFetcher {
    /// GETs `url` and returns its body, at most `cap` bytes (see
    /// [`Fetcher::get`]).
    pub fn get(&self, url: &Url, cap: u64) -> Result<Vec<u8>, FetchError> {
        let shown = url.to_string();
        if let Some(reason) = scheme_problem(url) {
            return Err(FetchError::Refused { url: shown, reason });
        }
        let total = self.total;
        let started = Instant::now();
        let cache_dir = self.cache_dir.as_deref();
        let cached = cache_dir.and_then(|d| read_cache(d, url));
        let mut request = self.client.get(url.clone());
        if let Some((c, _)) = &cached {
            if let Some(etag) = &c.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &c.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut response = request.send().map_err(|e| transport(&shown, &e, total))?;
        let status = response.status().as_u16();
        if status == 304
            && let Some((_, body)) = cached
        {
            // Not modified: the cached bytes are verified like fresh ones.
            return Ok(body);
        }
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let validators = (
            header(reqwest::header::ETAG),
            header(reqwest::header::LAST_MODIFIED),
        );
        if status == 404 || status == 410 {
            return Err(FetchError::NotFound { url: shown, status });
        }
        if status != 200 {
            return Err(FetchError::Status { url: shown, status });
        }
        if response.content_length().is_some_and(|n| n > cap) {
            return Err(FetchError::TooLarge { url: shown, cap });
        }
        let mut body = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            if started.elapsed() > total {
                return Err(FetchError::Timeout {
                    url: shown,
                    secs: total.as_secs(),
                });
            }
            let n = match response.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let timed_out =
                        started.elapsed() >= total || e.kind() == std::io::ErrorKind::TimedOut;
                    return Err(if timed_out {
                        FetchError::Timeout {
                            url: shown,
                            secs: total.as_secs(),
                        }
                    } else {
                        FetchError::Transport {
                            url: shown,
                            message: format!("reading the body: {e}"),
                        }
                    });
                }
            };
            if body.len() as u64 + n as u64 > cap {
                return Err(FetchError::TooLarge { url: shown, cap });
            }
            body.extend_from_slice(&buf[..n]);
        }
        if let Some(dir) = cache_dir
            && (validators.0.is_some() || validators.1.is_some())
        {
            write_cache(dir, url, validators.0, validators.1, &body);
        }
        Ok(body)
    }
}

fn transport(url: &str, e: &reqwest::Error, total: Duration) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout {
            url: url.to_owned(),
            secs: total.as_secs(),
        };
    }
    FetchError::Transport {
        url: url.to_owned(),
        message: chain(e),
    }
}

/// An error with its causes, `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
