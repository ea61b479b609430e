//! The server of the remote history benchmark (`scripts/bench`) and of the
//! watch benchmark (`scripts/bench-watch`): serves the files of a folder
//! over HTTPS (or plain HTTP with `http`) on 127.0.0.1, each response after
//! a fixed pause (a server far away), with keep-alive, one thread per
//! connection. The certificate, for `localhost` and 127.0.0.1, is issued by
//! a CA made at start; the CA's PEM goes to `OUT/ca.pem` and the port to
//! `OUT/port`. It stops by itself after `LIFETIME` seconds.
//!
//! Usage: history_server DIR DELAY_MS OUT LIFETIME [http]

use std::io::{BufRead as _, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

fn tls() -> Result<(String, Arc<rustls::ServerConfig>), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let ca_key = KeyPair::generate().map_err(|e| err(&e))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| err(&e))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(|e| err(&e))?;
    let leaf_key = KeyPair::generate().map_err(|e| err(&e))?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(|e| err(&e))?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf = params.signed_by(&leaf_key, &ca).map_err(|e| err(&e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(&e))?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .map_err(|e| err(&e))?;
    Ok((ca.pem(), Arc::new(config)))
}

/// Answers requests on one connection until the client closes it.
fn serve<S: Read + Write>(stream: S, root: &Path, delay: Duration) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    loop {
        let mut request = String::new();
        if stream.read_line(&mut request)? == 0 {
            return Ok(());
        }
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
        }
        let path = request.split_whitespace().nth(1).unwrap_or("/");
        let rel = path.trim_start_matches('/');
        let body = if rel.split('/').any(|p| p == "..") {
            None
        } else {
            std::fs::read(root.join(rel)).ok()
        };
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let out = stream.get_mut();
        match body {
            Some(body) => {
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )?;
                out.write_all(&body)?;
            }
            None => out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?,
        }
        out.flush()?;
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (plain, args) = match args.as_slice() {
        [rest @ .., last] if last == "http" => (true, rest),
        all => (false, all),
    };
    let [dir, delay, out, lifetime] = args else {
        return Err("usage: history_server DIR DELAY_MS OUT LIFETIME [http]".into());
    };
    let root = PathBuf::from(dir);
    let delay = Duration::from_millis(delay.parse().map_err(|e| format!("DELAY_MS: {e}"))?);
    let lifetime = Duration::from_secs(lifetime.parse().map_err(|e| format!("LIFETIME: {e}"))?);
    let (ca_pem, config) = tls()?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let out = Path::new(out);
    std::fs::write(out.join("ca.pem"), ca_pem).map_err(|e| e.to_string())?;
    std::fs::write(out.join("port"), port.to_string()).map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        std::thread::sleep(lifetime);
        std::process::exit(0);
    });
    for conn in listener.incoming() {
        let Ok(stream): Result<TcpStream, _> = conn else {
            continue;
        };
        let (config, root) = (config.clone(), root.clone());
        std::thread::spawn(move || {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
            let _ = stream.set_nodelay(true);
            if plain {
                let _ = serve(stream, &root, delay);
                return;
            }
            let Ok(conn) = rustls::ServerConnection::new(config) else {
                return;
            };
            let _ = serve(rustls::StreamOwned::new(conn, stream), &root, delay);
        });
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("history_server: {e}");
            ExitCode::FAILURE
        }
    }
}
