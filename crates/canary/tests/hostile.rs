//! The real `canary` binary against hostile servers and garbage input.
//!
//! Hostile servers (raw TCP on 127.0.0.1 port 0, nothing else): a gzip bomb
//! the verifier must not inflate (no compression support is compiled in), a
//! header block that never ends, a server that accepts and never answers, a
//! status line followed by header bytes trickled one at a time, a redirect
//! chain ending at a slow server, and a 256 KiB + 1 byte body behind a
//! lying, small `Content-Length`. Each run uses `--timeout 2`, must end
//! within [`ELAPSED_LIMIT`] with the expected exit code, and the child's
//! peak resident memory (VmHWM, polled from `/proc/<pid>/status` while it
//! runs) must stay below [`RSS_LIMIT_KIB`].
//!
//! Garbage: every subcommand with garbage arguments and garbage files
//! (empty, binary, one huge line, invalid UTF-8 paths and arguments, folders
//! where files are expected, missing paths, `--at` and duration garbage,
//! negative and huge numbers) exits 1 or 2, never 101 and never by a signal,
//! says why, and never panics.
//!
//! Tests never read the clock (always `--at`) and never leave loopback.

// Test helpers outside `#[test]` functions report failures by panicking;
// clippy.toml's allow-panic-in-tests does not reach them.
#![allow(clippy::panic)]

mod util;

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use util::{Doc, Scratch, chain, fresh_at, statement};

/// The request path of the latest statement.
const LATEST_PATH: &str = "/.well-known/canary.json";

/// Peak resident memory allowed to the child, in KiB.
const RSS_LIMIT_KIB: u64 = 50 * 1024;

/// `--timeout 2` plus generous slack for a loaded machine.
const ELAPSED_LIMIT: Duration = Duration::from_secs(15);

/// Any run is killed after this.
const KILL_AFTER: Duration = Duration::from_secs(60);

/// How long a hostile connection keeps misbehaving at most.
const HOSTILE_FOR: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- running

/// One finished run of the binary.
#[derive(Debug)]
struct Ran {
    shown: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    /// Peak resident set (VmHWM) in KiB; `None` without /proc.
    peak_kib: Option<u64>,
}

impl Ran {
    fn explain(&self) -> String {
        format!(
            "`canary {}`: exit {:?} after {:?}, peak RSS {:?} KiB\n--- stdout:\n{}\n--- stderr:\n{}",
            self.shown, self.code, self.elapsed, self.peak_kib, self.stdout, self.stderr
        )
    }

    /// Exit code in `codes`, within the time limit, below the memory limit,
    /// no panic.
    #[track_caller]
    fn bounded(&self, codes: &[i32]) -> &Self {
        assert!(
            self.code.is_some_and(|c| codes.contains(&c)),
            "expected exit {codes:?}: {}",
            self.explain()
        );
        assert!(
            self.elapsed < ELAPSED_LIMIT,
            "took too long: {}",
            self.explain()
        );
        match self.peak_kib {
            Some(peak) => assert!(
                peak < RSS_LIMIT_KIB,
                "peak RSS {peak} KiB is over {RSS_LIMIT_KIB} KiB: {}",
                self.explain()
            ),
            // A process can exit before its first sample (a usage error takes
            // a millisecond); anything that ran longer must have been seen.
            None => assert!(
                !cfg!(target_os = "linux") || self.elapsed < Duration::from_millis(100),
                "no memory sample of a {:?} run: {}",
                self.elapsed,
                self.explain()
            ),
        }
        assert!(
            !self.stderr.contains("panicked") && !self.stdout.contains("panicked"),
            "panicked: {}",
            self.explain()
        );
        self
    }
}

/// The peak resident set of a running process, from /proc.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `canary ARGS` with its state and configuration folders in a fresh
/// temporary folder and no proxy settings, polling its peak memory until it
/// exits.
fn canary<I, S>(args: I) -> Ran
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let home = tempfile::tempdir().expect("a temporary HOME");
    let mut child = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(&args)
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("canary starts");
    let started = Instant::now();
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let mut peak_kib = None;
    let status = loop {
        // Read before reaping: a reaped process has no /proc entry, and the
        // high-water mark only grows.
        if let Some(kib) = vm_hwm_kib(pid) {
            peak_kib = peak_kib.max(Some(kib));
        }
        if let Some(status) = child.try_wait().expect("wait for canary") {
            break status;
        }
        if started.elapsed() > KILL_AFTER {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`canary {shown}` ran longer than {KILL_AFTER:?}; killed");
        }
        if started.elapsed() > Duration::from_millis(20) {
            std::thread::sleep(Duration::from_millis(2));
        } else {
            std::thread::yield_now();
        }
    };
    let elapsed = started.elapsed();
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = err_reader.join().expect("stderr reader");
    Ran {
        shown,
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed,
        peak_kib,
    }
}

/// `canary verify URL --trust T --at AT --no-state --timeout 2 --format json`.
fn verify_url(s: &Scratch, url: &str) -> Ran {
    canary([
        "verify",
        url,
        "--trust",
        &s.trust(),
        "--at",
        &fresh_at(1).to_string(),
        "--no-state",
        "--timeout",
        "2",
        "--format",
        "json",
    ])
}

// ---------------------------------------------------------------- servers

/// A raw TCP server on 127.0.0.1: reads one request head per connection and
/// hands the stream and the request path to `behave`, which may misbehave
/// as it likes but must end once `stop` is set or [`HOSTILE_FOR`] passed.
struct Hostile {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

type Behaviour = dyn Fn(&mut TcpStream, &str, &AtomicBool) + Send + Sync;

impl Hostile {
    fn start(behave: impl Fn(&mut TcpStream, &str, &AtomicBool) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let behave: Arc<Behaviour> = Arc::new(behave);
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut stream) = conn else { continue };
                    let (behave, stop) = (behave.clone(), stop.clone());
                    std::thread::spawn(move || {
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                        let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
                        if let Some(path) = read_head(&mut stream) {
                            behave(&mut stream, &path, &stop);
                        }
                    });
                }
            })
        };
        Hostile {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads a request head; returns its path.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    let head = String::from_utf8_lossy(&head);
    head.split_whitespace().nth(1).map(str::to_owned)
}

/// Keeps the connection open without a word until the client leaves, `stop`
/// is set or [`HOSTILE_FOR`] passed.
fn hold(stream: &mut TcpStream, stop: &AtomicBool) {
    let started = Instant::now();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = [0u8; 256];
    while !stop.load(Ordering::SeqCst) && started.elapsed() < HOSTILE_FOR {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Writes `piece()` again and again, `every` apart, until the client leaves,
/// `stop` is set or [`HOSTILE_FOR`] passed.
fn drip(
    stream: &mut TcpStream,
    stop: &AtomicBool,
    every: Duration,
    piece: impl Fn(usize) -> Vec<u8>,
) {
    let started = Instant::now();
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) && started.elapsed() < HOSTILE_FOR {
        if stream
            .write_all(&piece(i))
            .and_then(|()| stream.flush())
            .is_err()
        {
            return;
        }
        i += 1;
        if !every.is_zero() {
            std::thread::sleep(every);
        }
    }
}

fn not_found(stream: &mut TcpStream) {
    let _ = stream
        .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

// ---------------------------------------------------------------- gzip bomb

/// CRC-32 (IEEE, reflected) multiplication modulo the polynomial, as in
/// zlib's `multmodp`.
fn multmodp(a: u32, mut b: u32) -> u32 {
    const POLY: u32 = 0xedb8_8320;
    let mut m = 1u32 << 31;
    let mut p = 0u32;
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                break;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    p
}

/// x^(8n) modulo the CRC-32 polynomial (reflected).
fn x8n(mut n: u64) -> u32 {
    let mut power = 1u32 << 30; // x^1
    // x^8: square three times.
    for _ in 0..3 {
        power = multmodp(power, power);
    }
    let mut p = 1u32 << 31; // x^0
    while n != 0 {
        if n & 1 != 0 {
            p = multmodp(power, p);
        }
        power = multmodp(power, power);
        n >>= 1;
    }
    p
}

/// CRC-32 of `n` zero bytes, without touching them.
fn crc32_of_zeros(n: u64) -> u32 {
    !multmodp(x8n(n), 0xffff_ffff)
}

/// CRC-32, byte by byte (to check [`crc32_of_zeros`]).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A gzip member of `repeats` back-references of 258 zero bytes after one
/// literal zero byte: one dynamic-Huffman DEFLATE block in which the length
/// code 258 and the distance code 1 take one bit each, so every compressed
/// byte inflates to 1032 bytes.
fn gzip_bomb(repeats: u64) -> (Vec<u8>, u64) {
    struct Bits {
        out: Vec<u8>,
        pos: u64,
    }
    impl Bits {
        /// `len` bits of `value`, least significant first (header fields).
        fn put(&mut self, value: u32, len: u32) {
            for i in 0..len {
                self.bit(value >> i & 1 == 1);
            }
        }
        /// A Huffman code, most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            for i in (0..len).rev() {
                self.bit(code >> i & 1 == 1);
            }
        }
        fn bit(&mut self, one: bool) {
            let byte = (self.pos / 8) as usize;
            if byte >= self.out.len() {
                self.out.resize(byte + 1, 0);
            }
            if one {
                self.out[byte] |= 1 << (self.pos % 8);
            }
            self.pos += 1;
        }
    }
    let mut b = Bits {
        out: Vec::new(),
        pos: 0,
    };
    b.put(1, 1); // BFINAL
    b.put(2, 2); // BTYPE: dynamic Huffman
    b.put(29, 5); // HLIT: 286 literal/length codes
    b.put(0, 5); // HDIST: 1 distance code
    b.put(14, 4); // HCLEN: 18 code length codes
    // Code length code lengths, in the DEFLATE order 16 17 18 0 8 7 9 6 10
    // 5 11 4 12 3 13 2 14 1: symbol 18 gets 1 bit, symbols 1 and 2 get 2.
    for len in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] {
        b.put(len, 3);
    }
    // Canonical codes of the code length alphabet: 18 → 0, 1 → 10, 2 → 11.
    let (cl1, cl2, cl18) = ((0b10, 2), (0b11, 2), (0b0, 1));
    // Literal/length lengths: 0 → 2 bits, 1..=255 unused, 256 → 2 bits,
    // 257..=284 unused, 285 (length 258) → 1 bit; distance 0 (1) → 1 bit.
    b.code(cl2.0, cl2.1);
    b.code(cl18.0, cl18.1);
    b.put(138 - 11, 7);
    b.code(cl18.0, cl18.1);
    b.put(117 - 11, 7);
    b.code(cl2.0, cl2.1);
    b.code(cl18.0, cl18.1);
    b.put(28 - 11, 7);
    b.code(cl1.0, cl1.1);
    b.code(cl1.0, cl1.1);
    // Canonical codes: 285 → 0, literal 0 → 10, end of block → 11,
    // distance 1 → 0.
    b.code(0b10, 2);
    // Every (length 258, distance 1) pair is two zero bits: skip ahead.
    b.pos += 2 * repeats;
    b.code(0b11, 2);
    let deflate = b.out;
    let size = 1 + 258 * repeats;
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    gz.extend_from_slice(&deflate);
    gz.extend_from_slice(&crc32_of_zeros(size).to_le_bytes());
    gz.extend_from_slice(&((size & 0xffff_ffff) as u32).to_le_bytes());
    (gz, size)
}

#[test]
fn the_crc_of_zeros_is_the_crc_of_zero_bytes() {
    for n in [0, 1, 2, 3, 7, 258, 1000, 4097] {
        assert_eq!(crc32_of_zeros(n), crc32(&vec![0; n as usize]), "{n} zeros");
    }
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
}

#[test]
fn a_gzip_bomb_is_never_inflated() {
    let s = Scratch::new();
    // 128 KiB on the wire (under the statement cap), 135 MB inflated.
    let (bomb, inflated) = gzip_bomb(4 * 128 * 1024);
    assert!(bomb.len() < 140 * 1024, "{} bytes", bomb.len());
    assert!(inflated > 100_000_000);
    let bomb = Arc::new(bomb);
    for framing in ["content-length", "chunked"] {
        let body = bomb.clone();
        let server = Hostile::start(move |stream, path, _| {
            if path != LATEST_PATH {
                return not_found(stream);
            }
            let head = if framing == "chunked" {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_owned()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
            };
            let _ = stream.write_all(head.as_bytes());
            if framing == "chunked" {
                for chunk in body.chunks(16 * 1024) {
                    let _ = write!(stream, "{:x}\r\n", chunk.len());
                    let _ = stream.write_all(chunk);
                    let _ = stream.write_all(b"\r\n");
                }
                let _ = stream.write_all(b"0\r\n\r\n");
            } else {
                let _ = stream.write_all(&body);
            }
            let _ = stream.flush();
        });
        let ran = verify_url(&s, &server.url(LATEST_PATH));
        // Not inflated: the compressed bytes are not an envelope (1). Inflated
        // and capped after decoding: too large (4).
        ran.bounded(&[1, 4]);
        println!(
            "gzip bomb ({framing}): exit {:?} in {:?}, peak RSS {:?} KiB",
            ran.code, ran.elapsed, ran.peak_kib
        );
    }
}

#[test]
fn a_header_block_that_never_ends_is_unreachable() {
    let s = Scratch::new();
    let server = Hostile::start(|stream, _, stop| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
        let filler = "a".repeat(1000);
        drip(stream, stop, Duration::ZERO, |i| {
            format!("X-Filler-{i}: {filler}\r\n").into_bytes()
        });
    });
    let ran = verify_url(&s, &server.url(LATEST_PATH));
    ran.bounded(&[4]);
    println!(
        "endless headers: exit {:?} in {:?}, peak RSS {:?} KiB",
        ran.code, ran.elapsed, ran.peak_kib
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let s = Scratch::new();
    let server = Hostile::start(|stream, _, stop| hold(stream, stop));
    let ran = verify_url(&s, &server.url(LATEST_PATH));
    ran.bounded(&[4]);
    assert!(
        ran.elapsed >= Duration::from_millis(1500),
        "gave up before the timeout: {}",
        ran.explain()
    );
    println!(
        "silent server: exit {:?} in {:?}, peak RSS {:?} KiB",
        ran.code, ran.elapsed, ran.peak_kib
    );
}

#[test]
fn header_bytes_trickled_after_the_status_line_time_out() {
    let s = Scratch::new();
    let server = Hostile::start(|stream, _, stop| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
        let header = b"X-Slow: abcdefghijklmnopqrstuvwxyz";
        drip(stream, stop, Duration::from_millis(50), |i| {
            vec![header[i % header.len()]]
        });
    });
    let ran = verify_url(&s, &server.url(LATEST_PATH));
    ran.bounded(&[4]);
    assert!(
        ran.elapsed >= Duration::from_millis(1500),
        "gave up before the timeout: {}",
        ran.explain()
    );
    println!(
        "trickled headers: exit {:?} in {:?}, peak RSS {:?} KiB",
        ran.code, ran.elapsed, ran.peak_kib
    );
}

#[test]
fn a_redirect_chain_to_a_slow_server_times_out_as_a_whole() {
    let s = Scratch::new();
    // The slow end: headers at once, then one body byte every 100 ms.
    let slow = Hostile::start(|stream, _, stop| {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n",
        );
        drip(stream, stop, Duration::from_millis(100), |_| b" ".to_vec());
    });
    // The silent end: accepts and says nothing.
    let silent = Hostile::start(|stream, _, stop| hold(stream, stop));
    for end in [slow.url(LATEST_PATH), silent.url(LATEST_PATH)] {
        // Two hops, each answering after 400 ms: the chain itself eats into
        // the one timeout.
        let hop2 = Hostile::start({
            let end = end.clone();
            move |stream, _, _| {
                std::thread::sleep(Duration::from_millis(400));
                let _ = write!(
                    stream,
                    "HTTP/1.1 302 Found\r\nLocation: {end}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        let to_hop2 = hop2.url("/next");
        let hop1 = Hostile::start(move |stream, _, _| {
            std::thread::sleep(Duration::from_millis(400));
            let _ = write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: {to_hop2}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        });
        let ran = verify_url(&s, &hop1.url(LATEST_PATH));
        ran.bounded(&[4]);
        assert!(
            ran.elapsed < Duration::from_secs(6),
            "the timeout covers the whole redirect chain: {}",
            ran.explain()
        );
        println!(
            "redirects to {end}: exit {:?} in {:?}, peak RSS {:?} KiB",
            ran.code, ran.elapsed, ran.peak_kib
        );
    }
}

#[test]
fn a_body_longer_than_its_small_content_length_is_not_read_past_it() {
    let s = Scratch::new();
    let cap = 256 * 1024;
    let valid = Doc::new(statement(1)).envelope;
    let len = valid.len();
    // (announced length, what follows the head): 256 KiB + 1 bytes either way.
    let cases: Vec<(usize, Vec<u8>, &[i32])> = vec![
        (1024, vec![b' '; cap + 1], &[1, 4]),
        (
            16,
            [valid.clone(), vec![b' '; cap + 1 - len]].concat(),
            &[1, 4],
        ),
        // The announced bytes are a valid canary; what follows is not the
        // body and must be ignored, not read.
        (
            len,
            [valid.clone(), vec![b'x'; cap + 1 - len]].concat(),
            &[0],
        ),
    ];
    for (announced, body, codes) in cases {
        let body = Arc::new(body);
        let server = Hostile::start(move |stream, path, _| {
            if path != LATEST_PATH {
                return not_found(stream);
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(&body);
            let _ = stream.flush();
        });
        let ran = verify_url(&s, &server.url(LATEST_PATH));
        ran.bounded(codes);
        println!(
            "Content-Length {announced} over {} bytes: exit {:?} in {:?}, peak RSS {:?} KiB",
            cap + 1,
            ran.code,
            ran.elapsed,
            ran.peak_kib
        );
    }
}

#[test]
fn a_valid_canary_over_http_for_reference() {
    let s = Scratch::new();
    let docs = chain(1, |_| {});
    let envelope = Arc::new(docs[0].envelope.clone());
    let server = Hostile::start(move |stream, path, _| {
        if path != LATEST_PATH {
            return not_found(stream);
        }
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            envelope.len()
        );
        let _ = stream.write_all(&envelope);
    });
    let ran = verify_url(&s, &server.url(LATEST_PATH));
    ran.bounded(&[0]);
    println!(
        "valid canary: exit {:?} in {:?}, peak RSS {:?} KiB",
        ran.code, ran.elapsed, ran.peak_kib
    );
}

#[test]
fn the_largest_timeouts_do_not_overflow() {
    let s = Scratch::new();
    let envelope = Arc::new(Doc::new(statement(1)).envelope);
    let server = Hostile::start(move |stream, path, _| {
        if path != LATEST_PATH {
            return not_found(stream);
        }
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            envelope.len()
        );
        let _ = stream.write_all(&envelope);
    });
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    // The largest whole seconds --timeout takes (about 292 million years),
    // in both spellings.
    let weeks = "999999999w".repeat(15);
    for timeout in ["9223372036854775", "999999999w", &weeks] {
        for (url, code) in [
            (server.url(LATEST_PATH), 0),
            (format!("http://127.0.0.1:{closed}{LATEST_PATH}"), 4),
        ] {
            let ran = canary([
                "verify",
                &url,
                "--trust",
                &s.trust(),
                "--at",
                &fresh_at(1).to_string(),
                "--no-state",
                "--timeout",
                timeout,
            ]);
            ran.bounded(&[code]);
        }
    }
}

// ---------------------------------------------------------------- garbage

/// Files no command should accept, by name, under the scratch folder.
fn garbage_files(s: &Scratch) -> Vec<OsString> {
    let mut files: Vec<OsString> = vec![
        s.write("empty.json", b"").into(),
        s.write(
            "binary.json",
            (0..=255u8).cycle().take(4096).collect::<Vec<_>>(),
        )
        .into(),
        s.write("huge-line.json", vec![b'a'; 200 * 1024]).into(),
        s.write("huge.json", vec![b'a'; 2 * 1024 * 1024]).into(),
        s.write("nul.toml", b"\0\0\0\0").into(),
        s.write("bom.toml", b"\xef\xbb\xbfissuer = \"example.org\"\n")
            .into(),
        s.write("not-utf8.toml", b"issuer = \"\xff\xfe\"\nthreshold = 1\n")
            .into(),
        s.write("deep.json", "[".repeat(100_000)).into(),
        s.write(
            "almost.toml",
            "issuer = \"example.org\"\nthreshold = 18446744073709551616\nkeys = []\n",
        )
        .into(),
        s.write(
            "negative.toml",
            "issuer = \"example.org\"\nthreshold = -1\nkeys = [\"ed25519:AAAA\"]\n",
        )
        .into(),
        s.write(
            "weak.pub",
            "ed25519:AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= weak\n",
        )
        .into(),
    ];
    std::fs::create_dir_all(s.path("a-folder")).expect("folder");
    files.push(s.arg("a-folder").into());
    files.push(s.arg("missing/nothing.json").into());
    files.push(s.arg("empty.json/below-a-file").into());
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt as _;
        let mut bad = s.root().as_os_str().to_owned().into_vec();
        bad.extend_from_slice(b"/\xff\xfe-not-utf8.json");
        let bad = OsString::from_vec(bad);
        std::fs::write(&bad, b"{}").expect("a file with a non-UTF-8 name");
        files.push(bad);
    }
    files
}

/// Values no time or number option should accept.
const BAD_TIMES: &[&str] = &[
    "",
    "yesterday",
    "now",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:60Z",
    "2026-01-01t00:00:00z",
    "2026-01-01T00:00:00+01:00",
    "2026-01-01T00:00:00.5Z",
    "99999-01-01T00:00:00Z",
    "-2026-01-01T00:00:00Z",
    "1767225600",
    "-1",
    "99999999999999999999999999999999",
];

const BAD_DURATIONS: &[&str] = &[
    "",
    "-1d",
    "1x",
    "d",
    "1.5d",
    "1d-1h",
    "99999999999999999999d",
    "18446744073709551615w",
    "9223372036854775807s",
    "106751991167301d",
    "0x10s",
];

const BAD_TIMEOUTS: &[&str] = &[
    "0",
    "-1",
    "",
    "1e3",
    "99999999999999999999",
    "18446744073709551616",
    "-9223372036854775808",
    "0s",
    "1.5",
];

/// Asserts a garbage run failed cleanly: exit 1 or 2, an explanation, no
/// panic, no signal.
#[track_caller]
fn refused_cleanly(ran: &Ran) {
    refused_with(ran, &[1, 2]);
}

/// Like [`refused_cleanly`], with the exit codes allowed.
#[track_caller]
fn refused_with(ran: &Ran, codes: &[i32]) {
    assert!(
        ran.code.is_some_and(|c| codes.contains(&c)),
        "expected exit {codes:?}: {}",
        ran.explain()
    );
    // Usage errors explain themselves on stderr; a verdict (invalid,
    // unreachable) is the report itself, on stdout.
    assert!(
        !ran.stderr.trim().is_empty() || (ran.code != Some(2) && !ran.stdout.trim().is_empty()),
        "no explanation: {}",
        ran.explain()
    );
    assert!(
        !ran.stderr.contains("panicked") && !ran.stdout.contains("panicked"),
        "panicked: {}",
        ran.explain()
    );
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

#[test]
fn garbage_arguments_are_refused_cleanly() {
    let s = Scratch::new();
    let trust = s.trust();
    let good = s.write("good.json", Doc::new(statement(1)).envelope);
    let at = fresh_at(1).to_string();
    let mut runs: Vec<Vec<OsString>> = vec![
        os(&[]),
        os(&["frobnicate"]),
        os(&["--no-such-flag"]),
        os(&["verify"]),
        os(&["verify", &good]),
        os(&["verify", &good, "--trust"]),
        os(&["verify", &good, "--trust", &trust, "--key", &good]),
        os(&["verify", &good, "--key", &good]),
        os(&["verify", &good, "--threshold", "2"]),
        os(&["verify", &good, "--trust", &trust, "--format", "yaml"]),
        os(&[
            "verify",
            &good,
            "--trust",
            &trust,
            "--state",
            &good,
            "--no-state",
        ]),
        os(&["verify", "", "--trust", &trust, "--at", &at]),
        os(&[
            "verify",
            "ftp://127.0.0.1/x",
            "--trust",
            &trust,
            "--at",
            &at,
        ]),
        os(&["verify", "http://", "--trust", &trust, "--at", &at]),
        os(&["verify", "https://[::1", "--trust", &trust, "--at", &at]),
        os(&[
            "verify",
            "http://example.invalid/c.json",
            "--trust",
            &trust,
            "--at",
            &at,
        ]),
        os(&[
            "verify",
            "file:///etc/passwd",
            "--trust",
            &trust,
            "--at",
            &at,
        ]),
        os(&[
            "verify",
            "no such file.json",
            "--trust",
            &trust,
            "--at",
            &at,
        ]),
        os(&["show"]),
        os(&["show", &good, &good, "--trust", &trust]),
        os(&["show", "", "--trust", &trust, "--at", &at]),
        os(&["trust"]),
        os(&["trust", "frobnicate"]),
        os(&["trust", "remove"]),
        os(&["trust", "remove", "example.org"]),
        os(&["trust", "remove", ""]),
        os(&["trust", "remove", "../../../../etc/passwd"]),
        os(&["trust", "remove", &"x".repeat(5000)]),
        os(&["trust", "add"]),
        os(&["trust", "add", &trust, "--fingerprint", "xyz"]),
        os(&["trust", "add", &trust, "--fingerprint", &"A".repeat(64)]),
        os(&["trust", "add", &trust, "--fingerprint", &"0".repeat(64)]),
        os(&["trust", "add", &trust]),
        os(&["trust", "add", "no such folder/trust.toml"]),
        os(&["trust", "add", "./missing.toml"]),
        os(&["completions"]),
        os(&["completions", "cmd.exe"]),
        os(&["man", "extra"]),
        os(&["watch"]),
        os(&["watch", &trust, "--jobs", "0"]),
        os(&["watch", &trust, "--jobs", "257"]),
        os(&["watch", &trust, "--jobs", "-1"]),
        os(&["watch", &trust, "--format", "yaml"]),
        os(&["watch", &trust, "--state", &good, "--no-state"]),
    ];
    for t in BAD_TIMES {
        runs.push(os(&["verify", &good, "--trust", &trust, "--at", t]));
        runs.push(os(&["show", &good, "--trust", &trust, "--at", t]));
    }
    for d in BAD_DURATIONS {
        for opt in ["--max-age", "--warn-before", "--max-skew", "--timeout"] {
            runs.push(os(&[
                "verify", &good, "--trust", &trust, "--at", &at, opt, d,
            ]));
        }
        runs.push(os(&[
            "show",
            &good,
            "--trust",
            &trust,
            "--at",
            &at,
            "--max-age",
            d,
        ]));
    }
    for t in BAD_TIMEOUTS {
        runs.push(os(&[
            "verify",
            &good,
            "--trust",
            &trust,
            "--at",
            &at,
            "--timeout",
            t,
        ]));
    }
    let key = s.pub_file("alice");
    for n in ["-1", "0", "2", "18446744073709551616", "abc", ""] {
        runs.push(os(&[
            "verify",
            &good,
            "--key",
            &key,
            "--issuer",
            "example.org",
            "--threshold",
            n,
            "--at",
            &at,
        ]));
    }
    for issuer in ["", "other.org", "\u{202e}gro.elpmaxe"] {
        runs.push(os(&[
            "verify", &good, "--key", &key, "--issuer", issuer, "--at", &at,
        ]));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt as _;
        let bad = OsString::from_vec(b"\xff\xfe".to_vec());
        for cmd in [
            vec![OsString::from("verify"), bad.clone()],
            vec![
                "verify".into(),
                good.clone().into(),
                "--at".into(),
                bad.clone(),
            ],
            vec!["trust".into(), "remove".into(), bad.clone()],
            vec!["trust".into(), "add".into(), bad.clone()],
            vec![
                "show".into(),
                bad.clone(),
                "--trust".into(),
                trust.clone().into(),
            ],
            vec![bad.clone()],
        ] {
            runs.push(cmd);
        }
    }
    for args in runs {
        refused_cleanly(&canary(args));
    }
}

#[test]
fn trust_add_of_a_missing_file_is_not_looked_up_as_a_domain() {
    // Before the fix, these became https://missing/... and the like: a DNS
    // lookup of a mistyped path, and "unreachable" instead of a usage error.
    let s = Scratch::new();
    for path in [
        s.arg("missing/trust.toml"),
        "./trust.toml".to_owned(),
        "trust.toml".to_owned(),
        "missing/site".to_owned(),
    ] {
        let ran = canary(["trust", "add", &path]);
        refused_with(&ran, &[2]);
        assert!(
            ran.stderr.contains("no such file or folder"),
            "{}",
            ran.explain()
        );
    }
}

#[test]
fn garbage_watch_lists_are_refused_cleanly() {
    let s = Scratch::new();
    let trust = s.trust();
    let good = s.write("good.json", Doc::new(statement(1)).envelope);
    let at = fresh_at(1).to_string();
    let entry = |body: &str| format!("[[issuer]]\nname = \"example.org\"\n{body}\n");
    let source = format!("source = {good:?}");
    // Only local sources, or URLs refused before any connection.
    let lists = [
        String::new(),
        "[defaults]\n".to_owned(),
        entry(""),
        "[[issuer]]\nname = \"\"\n".to_owned(),
        entry(&format!("{source}\ntrust = \"missing.toml\"")),
        entry(&format!("{source}\nkeys = [\"missing.pub\"]")),
        // Both a policy file and keys: once silently used the file.
        entry(&format!(
            "{source}\ntrust = {trust:?}\nkeys = [\"alice.pub\"]"
        )),
        entry(&format!("{source}\nkeys = [\"alice.pub\"]\nthreshold = 0")),
        entry(&format!("{source}\nkeys = [\"alice.pub\"]\nthreshold = 2")),
        entry(&format!("{source}\nkeys = [\"alice.pub\"]\nthreshold = -1")),
        entry(&format!(
            "{source}\ntrust = {trust:?}\nwarn_before = \"-1d\""
        )),
        entry(&format!(
            "{source}\ntrust = {trust:?}\nmax_age = \"forever\""
        )),
        entry(&format!("{source}\ntrust = {trust:?}\nunknown = 1")),
        entry(&format!("{source}\ntrust = {trust:?}\nhistory = \"yes\"")),
        entry(&format!(
            "{source}\ntrust = {trust:?}\nmirrors = [\"ftp://127.0.0.1/x\"]"
        )),
        entry(&format!(
            "{source}\ntrust = {trust:?}\nmirrors = [\"http://example.invalid/x\"]"
        )),
        entry(&format!(
            "source = \"ftp://127.0.0.1/x\"\ntrust = {trust:?}"
        )),
        entry(&format!(
            "source = \"http://example.invalid/x\"\ntrust = {trust:?}"
        )),
        entry(&format!(
            "source = \"missing/nothing.json\"\ntrust = {trust:?}"
        )),
        entry(&format!(
            "source = {:?}\ntrust = {trust:?}",
            s.write("empty.json", b"")
        )),
        entry(&format!(
            "source = {:?}\ntrust = {trust:?}",
            s.write("binary.json", [0xffu8; 64])
        )),
        format!(
            "[defaults]\nwarn_before = \"1x\"\n{}",
            entry(&format!("{source}\ntrust = {trust:?}"))
        ),
        "issuer = 7\n".to_owned(),
        "[[issuer]]\n".repeat(3),
    ];
    s.pub_file("alice");
    for (i, list) in lists.iter().enumerate() {
        let path = s.write(&format!("list{i}.toml"), list);
        refused_cleanly(&canary(["watch", &path, "--no-state", "--at", &at]));
    }
    for file in garbage_files(&s) {
        refused_cleanly(&canary([
            OsString::from("watch"),
            file,
            "--no-state".into(),
            "--at".into(),
            at.clone().into(),
        ]));
    }
}

#[test]
fn garbage_files_are_refused_cleanly() {
    let s = Scratch::new();
    let trust = s.trust();
    let key = s.pub_file("alice");
    let good = s.write("good.json", Doc::new(statement(1)).envelope);
    let at = fresh_at(1).to_string();
    for file in garbage_files(&s) {
        let runs: Vec<Vec<OsString>> = vec![
            // As the source.
            vec![
                "verify".into(),
                file.clone(),
                "--trust".into(),
                trust.clone().into(),
                "--at".into(),
                at.clone().into(),
            ],
            vec![
                "verify".into(),
                file.clone(),
                "--trust".into(),
                trust.clone().into(),
                "--at".into(),
                at.clone().into(),
                "--history".into(),
                "--incidents".into(),
                "--format".into(),
                "json".into(),
            ],
            vec![
                "show".into(),
                file.clone(),
                "--trust".into(),
                trust.clone().into(),
                "--at".into(),
                at.clone().into(),
            ],
            // As the trust policy.
            vec![
                "verify".into(),
                good.clone().into(),
                "--trust".into(),
                file.clone(),
                "--at".into(),
                at.clone().into(),
            ],
            vec!["trust".into(), "add".into(), file.clone()],
            // As a key.
            vec![
                "verify".into(),
                good.clone().into(),
                "--key".into(),
                file.clone(),
                "--key".into(),
                key.clone().into(),
                "--issuer".into(),
                "example.org".into(),
                "--at".into(),
                at.clone().into(),
            ],
        ];
        let mut runs = runs;
        if std::path::Path::new(&file).is_file() {
            // As the state folder: a file where a folder belongs.
            runs.push(vec![
                "verify".into(),
                good.clone().into(),
                "--trust".into(),
                trust.clone().into(),
                "--state".into(),
                file.clone(),
                "--at".into(),
                at.clone().into(),
            ]);
        }
        // A source over the statement cap is "too large": unreachable (4),
        // as DESIGN §6 says, and read no further than the cap.
        let oversize = std::fs::metadata(&file).is_ok_and(|m| m.is_file() && m.len() > 256 * 1024);
        for (i, args) in runs.into_iter().enumerate() {
            let ran = canary(args);
            if oversize && i < 3 {
                refused_with(&ran, &[4]);
                assert!(
                    ran.stdout.contains("too-large") || ran.stdout.contains("larger"),
                    "{}",
                    ran.explain()
                );
            } else {
                refused_cleanly(&ran);
            }
        }
    }
}

#[test]
fn a_damaged_state_file_is_refused_cleanly() {
    let s = Scratch::new();
    let trust = s.trust();
    let good = s.write("good.json", Doc::new(statement(1)).envelope);
    let at = fresh_at(1).to_string();
    for (i, damage) in [
        &b""[..],
        b"\xff\xfe",
        b"{",
        b"null",
        b"{\"sequence\":-1}",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    ]
    .iter()
    .enumerate()
    {
        let dir = format!("state{i}");
        s.write(&format!("{dir}/example.org.json"), damage);
        let ran = canary([
            "verify",
            &good,
            "--trust",
            &trust,
            "--state",
            &s.arg(&dir),
            "--at",
            &at,
        ]);
        refused_cleanly(&ran);
    }
}
