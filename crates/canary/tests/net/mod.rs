//! Loopback HTTP/1.1 and HTTPS servers for the fetch tests: std
//! `TcpListener` on 127.0.0.1 port 0, one thread per connection, canned
//! responses, the connection closed after each response. The TLS server
//! uses rustls with the ring provider and a certificate for `localhost` and
//! 127.0.0.1 issued by a test CA made with rcgen.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A canned response.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `status` with a body and its `Content-Length`.
    Body(u16, Vec<u8>),
    /// 200 with a chunked body.
    Chunked(Vec<u8>),
    /// 200 with neither length nor chunking: the body ends when the
    /// connection closes.
    CloseDelimited(Vec<u8>),
    /// 200 announcing `len` bytes, then `chunk` bytes every `every`, at most
    /// `len` bytes in all.
    Trickle {
        /// Announced length.
        len: usize,
        /// Bytes per write.
        chunk: usize,
        /// Pause between writes.
        every: Duration,
    },
    /// 302 to `location`.
    Redirect(String),
    /// Nothing at all for this long, then the connection closes.
    Silent(Duration),
    /// `reply` after a pause: a server far away.
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply::Body(200, body.into())
    }

    /// An empty response with `status`.
    pub fn status(status: u16) -> Self {
        Reply::Body(status, b"no\n".to_vec())
    }
}

/// Chooses the response for a request path (`/a/b`, query included).
pub type Handler = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// A running server; stops accepting when dropped.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
    tls: bool,
}

impl Server {
    /// A plain HTTP server on 127.0.0.1.
    pub fn http(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Self {
        Server::start(Arc::new(handler), None)
    }

    /// An HTTPS server on 127.0.0.1 with `config`.
    pub fn https(
        handler: impl Fn(&str) -> Reply + Send + Sync + 'static,
        config: Arc<ServerConfig>,
    ) -> Self {
        Server::start(Arc::new(handler), Some(config))
    }

    /// Serves the files of a tree: `/<rel>` → 200, anything else → 404.
    pub fn tree(files: std::collections::BTreeMap<String, Vec<u8>>) -> Self {
        Server::http(move |path| match files.get(path.trim_start_matches('/')) {
            Some(body) => Reply::ok(body.clone()),
            None => Reply::status(404),
        })
    }

    fn start(handler: Handler, tls: Option<Arc<ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let is_tls = tls.is_some();
        let thread = {
            let (stop, accepted, paths) = (stop.clone(), accepted.clone(), paths.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = conn else { continue };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let (handler, tls, paths) = (handler.clone(), tls.clone(), paths.clone());
                    std::thread::spawn(move || {
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                        let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
                        match tls {
                            None => serve(stream, &handler, &paths),
                            Some(config) => {
                                let Ok(conn) = rustls::ServerConnection::new(config) else {
                                    return;
                                };
                                let mut tls = rustls::StreamOwned::new(conn, stream);
                                serve(&mut tls, &handler, &paths);
                                tls.conn.send_close_notify();
                                let _ = tls.flush();
                            }
                        }
                    });
                }
            })
        };
        Server {
            addr,
            stop,
            accepted,
            paths,
            thread: Some(thread),
            tls: is_tls,
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT<path>` (or `https://localhost:PORT<path>`).
    pub fn url(&self, path: &str) -> String {
        if self.tls {
            format!("https://localhost:{}{path}", self.port())
        } else {
            format!("http://127.0.0.1:{}{path}", self.port())
        }
    }

    /// The paths requested so far.
    pub fn requested(&self) -> Vec<String> {
        self.paths.lock().expect("paths lock").clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request head, answers it, and returns (the caller closes).
fn serve<S: Read + Write>(mut stream: S, handler: &Handler, paths: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    paths.lock().expect("paths lock").push(path.clone());
    let _ = respond(&mut stream, handler(&path));
}

fn respond<S: Write>(stream: &mut S, reply: Reply) -> std::io::Result<()> {
    match reply {
        Reply::Body(status, body) => {
            write!(
                stream,
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reason(status),
                body.len()
            )?;
            stream.write_all(&body)?;
        }
        Reply::Chunked(body) => {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            )?;
            for chunk in body.chunks(8 * 1024) {
                write!(stream, "{:x}\r\n", chunk.len())?;
                stream.write_all(chunk)?;
                stream.write_all(b"\r\n")?;
            }
            stream.write_all(b"0\r\n\r\n")?;
        }
        Reply::CloseDelimited(body) => {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
            )?;
            stream.write_all(&body)?;
        }
        Reply::Trickle { len, chunk, every } => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
            )?;
            stream.flush()?;
            let mut sent = 0;
            while sent < len {
                std::thread::sleep(every);
                let n = chunk.min(len - sent);
                stream.write_all(&vec![b' '; n])?;
                stream.flush()?;
                sent += n;
            }
        }
        Reply::Silent(pause) => std::thread::sleep(pause),
        Reply::Delayed(pause, reply) => {
            std::thread::sleep(pause);
            return respond(stream, *reply);
        }
        Reply::Redirect(location) => {
            write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
        }
    }
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        404 => "Not Found",
        410 => "Gone",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// A test CA and a server configuration with a certificate it issued for
/// `localhost` and 127.0.0.1.
pub struct TestCa {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// rustls server configuration (ring provider).
    pub server: Arc<ServerConfig>,
}

impl TestCa {
    /// Generates the CA and the server certificate.
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "canary test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("self-signed CA");

        let leaf_key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let leaf = params
            .signed_by(&leaf_key, &ca)
            .expect("server certificate");

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), ca.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .expect("server configuration");
        TestCa {
            ca_pem: ca.pem(),
            server: Arc::new(server),
        }
    }
}
