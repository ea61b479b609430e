//! `canary watch` against a farm of loopback servers: mixed verdicts, a
//! slow issuer that times out alone, equivocating mirrors, every output
//! format, and polite polling (User-Agent, conditional GET).

mod net;
mod util;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use net::{Reply, Server};
use util::*;

const LATEST_PATH: &str = "/.well-known/canary.json";

/// A statement for `issuer`, signed by alice, current at `fresh_at(1)`.
fn doc_for(issuer: &str, edit: impl FnOnce(&mut canary_core::Statement)) -> Doc {
    let mut s = statement(1);
    s.issuer = issuer.to_owned();
    edit(&mut s);
    Doc::new(s)
}

/// A trust policy for `issuer` over alice, written into the scratch folder.
fn policy_for(s: &Scratch, issuer: &str) -> String {
    s.write(
        &format!("{issuer}.toml"),
        trust_toml(1, &["alice"], &[]).replace(ISSUER, issuer),
    )
}

/// The farm: one loopback server answering for several issuers by path.
fn farm() -> (Server, BTreeMap<&'static str, Doc>) {
    let mut docs = BTreeMap::new();
    docs.insert("ok", doc_for("ok.example", |_| {}));
    docs.insert(
        "stale",
        doc_for("stale.example", |st| {
            st.issued_at = plus_days(epoch(), -200);
            st.next_due = plus_days(epoch(), -110);
            st.expires_at = plus_days(epoch(), -96);
        }),
    );
    docs.insert("mirror-a", doc_for("mirrored.example", |_| {}));
    docs.insert(
        "mirror-b",
        doc_for("mirrored.example", |st| {
            st.notes = Some("another view".into())
        }),
    );
    let mut tampered = doc_for("invalid.example", |_| {}).envelope;
    let at = tampered.len() / 3;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let routes: BTreeMap<String, Vec<u8>> = docs
        .iter()
        .map(|(k, d)| (format!("/{k}{LATEST_PATH}"), d.envelope.clone()))
        .chain(std::iter::once((
            format!("/invalid{LATEST_PATH}"),
            tampered,
        )))
        .collect();
    let server = Server::http(move |path| {
        if path.starts_with("/slow/") {
            return Reply::Silent(Duration::from_secs(20));
        }
        match routes.get(path) {
            Some(body) => Reply::ok(body.clone()),
            None => Reply::status(404),
        }
    });
    (server, docs)
}

fn farm_list(s: &Scratch, server: &Server) -> String {
    let entry = |name: &str, path: &str| {
        format!(
            "[[issuer]]\nname = \"{name}\"\nsource = \"{}\"\ntrust = \"{}\"\n\n",
            server.url(&format!("/{path}{LATEST_PATH}")),
            policy_for(s, name)
        )
    };
    let mut list = String::from("[defaults]\nwarn_before = \"7d\"\n\n");
    list.push_str(&entry("ok.example", "ok"));
    list.push_str(&entry("stale.example", "stale"));
    list.push_str(&entry("invalid.example", "invalid"));
    list.push_str(&entry("missing.example", "missing"));
    list.push_str(&entry("slow.example", "slow"));
    list.push_str(&format!(
        "[[issuer]]\nname = \"mirrored.example\"\nsource = \"{}\"\nmirrors = [\"{}\"]\ntrust = \"{}\"\n",
        server.url(&format!("/mirror-a{LATEST_PATH}")),
        server.url(&format!("/mirror-b{LATEST_PATH}")),
        policy_for(s, "mirrored.example")
    ));
    s.write("list.toml", list)
}

fn watch(s: &Scratch, list: &str, extra: &[&str]) -> Out {
    let at = fresh_at(1).to_string();
    let state = s.arg("state");
    canary([
        "watch",
        list,
        "--at",
        &at,
        "--state",
        &state,
        "--timeout",
        "2",
    ])
    .args(extra.iter().copied())
    .run()
}

#[test]
fn a_farm_of_issuers_each_gets_its_verdict_and_the_worst_wins() {
    let s = Scratch::new();
    let (server, _) = farm();
    let list = farm_list(&s, &server);
    let started = Instant::now();
    let out = watch(&s, &list, &["--format", "json"]);
    let elapsed = started.elapsed();
    out.code(INVALID);
    let lines = out.json();
    let verdicts: BTreeMap<String, String> = lines
        .iter()
        .map(|l| {
            (
                l["issuer"].as_str().expect("issuer").to_owned(),
                l["verdict"].as_str().expect("verdict").to_owned(),
            )
        })
        .collect();
    let expected: BTreeMap<String, String> = [
        ("ok.example", "ok"),
        ("stale.example", "stale"),
        ("invalid.example", "invalid"),
        ("missing.example", "unreachable"),
        ("slow.example", "unreachable"),
        ("mirrored.example", "invalid"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(verdicts, expected);
    let mirrored = lines
        .iter()
        .find(|l| l["issuer"] == "mirrored.example")
        .expect("mirrored");
    assert!(
        reason_codes(mirrored).contains(&"equivocation".to_owned()),
        "{mirrored}"
    );
    assert_eq!(mirrored["sources"].as_array().map(Vec::len), Some(2));
    // The slow issuer held one worker for its own timeout, nobody else.
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn the_human_summary_is_a_table() {
    let s = Scratch::new();
    let (server, _) = farm();
    let list = farm_list(&s, &server);
    let out = watch(&s, &list, &[]);
    out.code(INVALID);
    let table: Vec<&str> = out.stdout.lines().collect();
    assert!(table[0].starts_with("ISSUER"), "{}", out.stdout);
    assert!(table[0].contains("VERDICT") && table[0].contains("REASON"));
    assert_eq!(
        table.len(),
        7,
        "a header and one row per issuer:\n{}",
        out.stdout
    );
    let ok = table
        .iter()
        .find(|l| l.starts_with("ok.example"))
        .expect("ok row");
    assert!(ok.contains(" ok ") && ok.contains(" 1 "), "{ok}");
    let stale = table
        .iter()
        .find(|l| l.starts_with("stale.example"))
        .expect("row");
    assert!(
        stale.contains("stale") && stale.contains("expired"),
        "{stale}"
    );
}

#[test]
fn prometheus_output_parses() {
    let s = Scratch::new();
    let (server, _) = farm();
    let list = farm_list(&s, &server);
    let out = watch(&s, &list, &["--format", "prometheus"]);
    // The metrics are the product: exit 0 whenever they were written, so
    // `> f.tmp && mv f.tmp f.prom` keeps the file current when a canary goes bad.
    out.code(OK);
    let mut samples = BTreeMap::new();
    for line in out.stdout.lines() {
        if line.starts_with('#') {
            assert!(
                line.starts_with("# HELP ") || line.starts_with("# TYPE "),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("series value");
        let value: f64 = value.parse().expect("a number");
        let (name, labels) = series.split_once('{').expect("labels");
        assert!(labels.ends_with('}'), "{line}");
        assert!(
            name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{line}"
        );
        samples.insert(series.to_owned(), value);
    }
    assert_eq!(samples["canary_ok{issuer=\"ok.example\"}"], 1.0);
    assert_eq!(samples["canary_ok{issuer=\"stale.example\"}"], 0.0);
    assert_eq!(
        samples["canary_verdict_code{issuer=\"invalid.example\",verdict=\"invalid\"}"],
        1.0
    );
    assert_eq!(samples["canary_sequence{issuer=\"ok.example\"}"], 1.0);
    assert!(samples["canary_expiry_seconds{issuer=\"ok.example\"}"] > 0.0);
    assert!(samples["canary_expiry_seconds{issuer=\"stale.example\"}"] < 0.0);
}

#[test]
fn nagios_is_one_line_with_plugin_codes() {
    let s = Scratch::new();
    let (server, _) = farm();
    let list = farm_list(&s, &server);
    let out = watch(&s, &list, &["--format", "nagios"]);
    out.code(2);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(
        out.stdout.starts_with("CANARY CRITICAL - "),
        "{}",
        out.stdout
    );

    let only_ok = s.write(
        "ok.toml",
        format!(
            "[[issuer]]\nname = \"ok.example\"\nsource = \"{}\"\ntrust = \"{}\"\n",
            server.url(&format!("/ok{LATEST_PATH}")),
            policy_for(&s, "ok.example")
        ),
    );
    let out = watch(&s, &only_ok, &["--format", "nagios"]);
    out.code(0);
    assert!(
        out.stdout.starts_with("CANARY OK - 1 canaries ok"),
        "{}",
        out.stdout
    );
}

#[test]
fn github_format_annotates_and_summarizes() {
    let s = Scratch::new();
    let (server, _) = farm();
    let list = farm_list(&s, &server);
    let summary = s.path("summary.md");
    let at = fresh_at(1).to_string();
    let out = canary([
        "watch",
        &list,
        "--at",
        &at,
        "--no-state",
        "--timeout",
        "2",
        "--format",
        "github",
    ])
    .env("GITHUB_STEP_SUMMARY", summary.as_os_str())
    .run();
    out.code(INVALID);
    assert!(
        out.stdout.lines().any(|l| l.starts_with("::error ")),
        "{}",
        out.stdout
    );
    let md = std::fs::read_to_string(&summary).expect("summary written");
    assert!(md.contains("| issuer | verdict |"), "{md}");
    assert!(
        md.contains("ok.example") && md.contains("**stale**"),
        "{md}"
    );
}

#[test]
fn bad_lists_are_usage_errors() {
    let s = Scratch::new();
    let at = fresh_at(1).to_string();
    // A list that cannot be used at all: a usage error of the run, and no report.
    for (name, text) in [
        ("empty.toml", String::new()),
        (
            "unknown.toml",
            "[[issuer]]\nname = \"a\"\ncolour = \"red\"\n".to_owned(),
        ),
        (
            "twice.toml",
            format!(
                "[[issuer]]\nname = \"a.example\"\ntrust = \"{t}\"\n[[issuer]]\nname = \"a.example\"\ntrust = \"{t}\"\n",
                t = policy_for(&s, "a.example")
            ),
        ),
    ] {
        let list = s.write(name, text);
        let out = canary(["watch", &list, "--at", &at, "--no-state"]).run();
        out.code(USAGE);
        assert!(out.stdout.is_empty(), "{name}: {}", out.stdout);
    }

    // A problem of one entry is that entry's verdict (`usage`), said on
    // stderr too; the other entries are still verified.
    let good = s.write("good.json", doc_for("good.example", |_| {}).envelope);
    let good_entry = format!(
        "[[issuer]]\nname = \"good.example\"\nsource = {good:?}\ntrust = {:?}\n",
        policy_for(&s, "good.example")
    );
    let a_source = s.write("a.json", doc_for("a.example", |_| {}).envelope);
    for (name, bad, needle) in [
        (
            "http.toml",
            format!(
                "[[issuer]]\nname = \"a.example\"\nsource = \"http://example.net/c.json\"\ntrust = \"{}\"\n",
                policy_for(&s, "a.example")
            ),
            "http://",
        ),
        (
            "notrust.toml",
            "[[issuer]]\nname = \"nobody.example\"\n".to_owned(),
            "no trust",
        ),
        (
            // threshold beside trust: never silently dropped.
            "threshold.toml",
            format!(
                "[[issuer]]\nname = \"a.example\"\nsource = {a_source:?}\ntrust = \"{}\"\nthreshold = 2\n",
                policy_for(&s, "a.example")
            ),
            "threshold",
        ),
        (
            // A name that is not the trust policy's issuer.
            "wrong-name.toml",
            format!(
                "[[issuer]]\nname = \"b.example\"\nsource = {a_source:?}\ntrust = \"{}\"\n",
                policy_for(&s, "a.example")
            ),
            "not for \"b.example\"",
        ),
        (
            // Two entries whose issuers share one state file: the second
            // is refused.
            "same-issuer.toml",
            format!(
                "[[issuer]]\nname = \"a.example\"\nsource = {a_source:?}\ntrust = \"{t}\"\n[[issuer]]\nname = \"A.EXAMPLE\"\nsource = {a_source:?}\ntrust = \"{u}\"\n",
                t = policy_for(&s, "a.example"),
                u = policy_for(&s, "A.EXAMPLE"),
            ),
            "mirrors",
        ),
    ] {
        let list = s.write(name, format!("{good_entry}{bad}"));
        let out = canary([
            "watch",
            &list,
            "--at",
            &at,
            "--no-state",
            "--format",
            "json",
        ])
        .run();
        out.code(USAGE);
        assert!(out.stderr.contains(needle), "{name}: {}", out.stderr);
        let lines: Vec<serde_json::Value> = out
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines[0]["issuer"], "good.example", "{name}: {}", out.stdout);
        assert_eq!(lines[0]["verdict"], "ok", "{name}: {}", out.stdout);
        assert!(
            lines[1..].iter().any(|l| l["verdict"] == "usage"),
            "{name}: {}",
            out.stdout
        );
    }
}

/// A server that answers with an ETag and honours If-None-Match, and
/// records each request's headers.
struct Conditional {
    port: u16,
    requests: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
}

fn conditional_server(body: Vec<u8>) -> Conditional {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut headers = BTreeMap::new();
            headers.insert(
                ":path".to_owned(),
                request_line.split(' ').nth(1).unwrap_or("").to_owned(),
            );
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.insert(k.to_ascii_lowercase(), v.trim().to_owned());
                }
            }
            let path = headers[":path"].clone();
            let fresh = headers.get("if-none-match").is_some_and(|e| e == "\"v1\"");
            seen.lock().expect("lock").push(headers);
            let response = if path != LATEST_PATH {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            } else if fresh {
                b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n".to_vec()
            } else {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            };
            let _ = stream.write_all(&response);
            let _ = stream.flush();
            let mut rest = [0u8; 64];
            let _ = stream.read(&mut rest);
        }
    });
    Conditional { port, requests }
}

#[test]
fn polling_is_polite_user_agent_and_conditional_get() {
    let s = Scratch::new();
    let doc = doc_for("polite.example", |_| {});
    let server = conditional_server(doc.envelope.clone());
    let list = s.write(
        "list.toml",
        format!(
            "[[issuer]]\nname = \"polite.example\"\nsource = \"http://127.0.0.1:{}{LATEST_PATH}\"\ntrust = \"{}\"\n",
            server.port,
            policy_for(&s, "polite.example")
        ),
    );
    watch(&s, &list, &["--format", "json"])
        .code(OK)
        .verdict("ok");
    watch(&s, &list, &["--format", "json"])
        .code(OK)
        .verdict("ok");
    let requests = server.requests.lock().expect("lock").clone();
    let latest: Vec<&BTreeMap<String, String>> = requests
        .iter()
        .filter(|h| h[":path"] == LATEST_PATH)
        .collect();
    assert_eq!(latest.len(), 2, "{requests:?}");
    assert!(
        latest[0].get("if-none-match").is_none(),
        "first fetch is plain"
    );
    assert_eq!(
        latest[1].get("if-none-match").map(String::as_str),
        Some("\"v1\""),
        "second fetch is conditional"
    );
    for h in &requests {
        assert!(
            h.get("user-agent")
                .is_some_and(|ua| ua.starts_with("canary/")),
            "{h:?}"
        );
    }
}
