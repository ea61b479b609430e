//! `canary verify` over HTTP and HTTPS against real servers on 127.0.0.1
//! port 0 (DESIGN §7): status codes, body caps with and without
//! Content-Length, a trickling body against `--timeout`, redirects (count,
//! loops, schemes, https→http), several sources with mixed verdicts,
//! `--history` and `--incidents` from an in-memory publish tree, state for
//! URLs, and TLS with a test CA passed by `--ca-cert`.

mod net;
mod util;

use std::time::Duration;

use canary_core::Timestamp;
use net::{Reply, Server, TestCa};
use util::*;

/// The request path of the latest statement.
const LATEST_PATH: &str = "/.well-known/canary.json";

/// The statement cap of DESIGN §7.
const CAP: usize = 256 * 1024;

/// Verifies `urls` at `at` without state, in JSON, plus `extra` arguments.
fn run(s: &Scratch, urls: &[&str], at: Timestamp, extra: &[&str]) -> Out {
    verify(urls.iter().copied())
        .args([
            "--trust",
            &s.trust(),
            "--at",
            &at.to_string(),
            "--no-state",
            "--format",
            "json",
        ])
        .args(extra)
        .run()
}

/// A server answering every path with `reply`.
/// Serves `reply` for every path but the key rotations, which are absent.
fn always(reply: Reply) -> Server {
    Server::http(move |path| {
        if path.contains("/canary/rotations/") {
            Reply::status(404)
        } else {
            reply.clone()
        }
    })
}

/// The first rotation a verifier pinned at trust version 1 asks for.
const ROTATION_PATH: &str = "/.well-known/canary/rotations/000002.json";

#[test]
fn valid_canary_over_http_is_ok() {
    let s = Scratch::new();
    let docs = chain(1, |_| {});
    let server = Server::tree(Tree::publish(&docs).files);
    let url = server.url(LATEST_PATH);
    let out = run(&s, &[&url], fresh_at(1), &[]);
    out.code(OK).verdict("ok");
    assert_eq!(out.one()["source"], url.as_str());
    assert_eq!(server.requested(), [LATEST_PATH, ROTATION_PATH]);
    // localhost and [::1]-style loopback names are allowed over http too.
    let by_name = format!("http://localhost:{}{LATEST_PATH}", server.port());
    run(&s, &[&by_name], fresh_at(1), &[]).code(OK);
}

#[test]
fn stale_canary_over_http_is_stale() {
    let s = Scratch::new();
    let doc = Doc::new(statement(1));
    let server = always(Reply::ok(doc.envelope.clone()));
    run(
        &s,
        &[&server.url(LATEST_PATH)],
        doc.statement.expires_at,
        &[],
    )
    .code(STALE)
    .reason("expired");
}

#[test]
fn error_statuses_are_unreachable() {
    let s = Scratch::new();
    for (status, code) in [
        (404, "not-found"),
        (410, "not-found"),
        (500, "http-status"),
        (403, "http-status"),
        (204, "http-status"),
    ] {
        let server = always(Reply::status(status));
        run(&s, &[&server.url(LATEST_PATH)], fresh_at(1), &[])
            .code(UNREACHABLE)
            .verdict("unreachable")
            .reason(code);
    }
}

#[test]
fn connection_refused_is_unreachable() {
    let s = Scratch::new();
    // Bind, note the port, close: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("http://127.0.0.1:{port}{LATEST_PATH}");
    run(&s, &[&url], fresh_at(1), &[])
        .code(UNREACHABLE)
        .reason("fetch-failed");
}

#[test]
fn body_larger_than_the_cap_with_content_length_is_refused() {
    let s = Scratch::new();
    let server = always(Reply::ok(vec![b' '; CAP + 1]));
    run(&s, &[&server.url(LATEST_PATH)], fresh_at(1), &[])
        .code(UNREACHABLE)
        .reason("too-large");
    // Exactly the cap is read (and then found not to be an envelope).
    let server = always(Reply::ok(vec![b' '; CAP]));
    run(&s, &[&server.url(LATEST_PATH)], fresh_at(1), &[])
        .code(INVALID)
        .reason("malformed-envelope");
}

#[test]
fn body_larger_than_the_cap_without_content_length_is_cut_off() {
    let s = Scratch::new();
    for reply in [
        Reply::Chunked(vec![b' '; CAP + 1]),
        Reply::CloseDelimited(vec![b' '; CAP + 1]),
        Reply::Chunked(vec![b' '; 4 * CAP]),
        Reply::CloseDelimited(vec![b' '; 4 * CAP]),
    ] {
        let server = always(reply);
        run(&s, &[&server.url(LATEST_PATH)], fresh_at(1), &[])
            .code(UNREACHABLE)
            .reason("too-large");
    }
    // The same framings carrying a valid canary are read whole.
    let doc = Doc::new(statement(1));
    for reply in [
        Reply::Chunked(doc.envelope.clone()),
        Reply::CloseDelimited(doc.envelope.clone()),
    ] {
        let server = always(reply);
        run(&s, &[&server.url(LATEST_PATH)], fresh_at(1), &[]).code(OK);
    }
}

#[test]
fn trickling_body_times_out() {
    let s = Scratch::new();
    let server = always(Reply::Trickle {
        len: 4096,
        chunk: 4,
        every: Duration::from_millis(200),
    });
    let out = run(
        &s,
        &[&server.url(LATEST_PATH)],
        fresh_at(1),
        &["--timeout", "2"],
    );
    out.code(UNREACHABLE).reason("timeout");
    assert!(
        out.elapsed < Duration::from_secs(10),
        "took {:?} with --timeout 2",
        out.elapsed
    );
    assert!(
        out.elapsed >= Duration::from_millis(1500),
        "gave up after {:?}, before the timeout",
        out.elapsed
    );
}

/// A server where `/rN` redirects to `/r(N-1)` and `/r0` redirects to the
/// latest statement, `/loop` to itself, and `/ftp` to an ftp URL.
fn redirecting(envelope: Vec<u8>) -> Server {
    let port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let p = port.clone();
    let server = Server::http(move |path| {
        let port = *p.get().expect("port set");
        let here = |path: &str| format!("http://127.0.0.1:{port}{path}");
        match path {
            LATEST_PATH => Reply::ok(envelope.clone()),
            "/loop" => Reply::Redirect(here("/loop")),
            "/ftp" => Reply::Redirect(format!("ftp://127.0.0.1:{port}/canary.json")),
            "/outside" => {
                Reply::Redirect("http://example.invalid/.well-known/canary.json".to_owned())
            }
            "/relative" => Reply::Redirect(LATEST_PATH.to_owned()),
            p if p.starts_with("/r") => match p[2..].parse::<u32>() {
                Ok(1) => Reply::Redirect(here(LATEST_PATH)),
                Ok(n) => Reply::Redirect(here(&format!("/r{}", n - 1))),
                Err(_) => Reply::status(404),
            },
            _ => Reply::status(404),
        }
    });
    port.set(server.port()).expect("set once");
    server
}

#[test]
fn redirects_up_to_three_are_followed() {
    let s = Scratch::new();
    let server = redirecting(Doc::new(statement(1)).envelope);
    run(&s, &[&server.url("/relative")], fresh_at(1), &[]).code(OK);
    run(&s, &[&server.url("/r1")], fresh_at(1), &[]).code(OK);
    run(&s, &[&server.url("/r3")], fresh_at(1), &[]).code(OK);
    let before = server.requested().len();
    run(&s, &[&server.url("/r4")], fresh_at(1), &[])
        .code(UNREACHABLE)
        .reason_says("fetch-failed", "redirect");
    let asked: Vec<String> = server.requested()[before..].to_vec();
    assert_eq!(
        asked,
        ["/r4", "/r3", "/r2", "/r1"],
        "the fourth redirect is not followed"
    );
}

#[test]
fn redirect_loop_and_bad_schemes_are_unreachable() {
    let s = Scratch::new();
    let server = redirecting(Doc::new(statement(1)).envelope);
    run(&s, &[&server.url("/loop")], fresh_at(1), &[])
        .code(UNREACHABLE)
        .verdict("unreachable");
    run(&s, &[&server.url("/ftp")], fresh_at(1), &[]).code(UNREACHABLE);
    // Plain http to a host that is not loopback: refused before connecting.
    run(&s, &[&server.url("/outside")], fresh_at(1), &[])
        .code(UNREACHABLE)
        .reason_says("fetch-failed", "loopback");
    assert!(
        server.requested().iter().all(|p| p != LATEST_PATH),
        "no refused redirect reached the statement"
    );
}

#[test]
fn several_sources_most_severe_wins() {
    let s = Scratch::new();
    let ok = Doc::new(statement(1));
    let mut f = statement(1);
    f.is_final = Some(true);
    let tripped = Doc::new(f);
    let server = Server::http(move |path| match path {
        "/ok/.well-known/canary.json" => Reply::ok(ok.envelope.clone()),
        "/final/.well-known/canary.json" => Reply::ok(tripped.envelope.clone()),
        _ => Reply::status(404),
    });
    let urls = [
        server.url("/ok/.well-known/canary.json"),
        server.url("/gone/.well-known/canary.json"),
        server.url("/final/.well-known/canary.json"),
    ];
    let out = run(
        &s,
        &urls.iter().map(String::as_str).collect::<Vec<_>>(),
        fresh_at(1),
        &[],
    );
    out.code(TRIPPED);
    let lines = out.json();
    assert_eq!(lines.len(), urls.len(), "{}", out.stdout);
    let verdicts: Vec<&str> = lines
        .iter()
        .map(|l| l["verdict"].as_str().expect("verdict"))
        .collect();
    assert_eq!(verdicts, ["ok", "unreachable", "tripped"]);
    for (line, url) in lines.iter().zip(&urls) {
        assert_eq!(line["source"], url.as_str());
    }
    // Without the tripped one, unreachable is the worst.
    run(&s, &[&urls[0], &urls[1]], fresh_at(1), &[]).code(UNREACHABLE);
}

#[test]
fn history_over_http() {
    let s = Scratch::new();
    let good = chain(3, |_| {});
    let server = Server::tree(Tree::publish(&good).files);
    let url = server.url(LATEST_PATH);
    run(&s, &[&url], fresh_at(3), &["--history"]).code(OK);
    let asked = server.requested();
    for seq in 1..=2 {
        let p = format!("/{}", Tree::archived(seq));
        assert!(asked.contains(&p), "{p} was fetched: {asked:?}");
    }

    let removed = chain(3, |st| {
        if st.sequence == 3 {
            st.statements.retain(|i| i.id != "no-warrants");
        }
    });
    let server = Server::tree(Tree::publish(&removed).files);
    run(&s, &[&server.url(LATEST_PATH)], fresh_at(3), &["--history"])
        .code(TRIPPED)
        .reason_says("statement-removed", "at sequence 3");

    let mut missing = Tree::publish(&good);
    missing.remove(&Tree::archived(1));
    let server = Server::tree(missing.files);
    run(&s, &[&server.url(LATEST_PATH)], fresh_at(3), &["--history"])
        .code(INVALID)
        .reason("history-missing");

    // An archive that errors is unreachable, not "missing".
    let files = Tree::publish(&good).files;
    let server = Server::http(move |path| {
        if path.ends_with("000002.json") {
            Reply::status(500)
        } else {
            match files.get(path.trim_start_matches('/')) {
                Some(b) => Reply::ok(b.clone()),
                None => Reply::status(404),
            }
        }
    });
    run(&s, &[&server.url(LATEST_PATH)], fresh_at(3), &["--history"])
        .code(UNREACHABLE)
        .reason("http-status");
}

#[test]
fn incidents_over_http() {
    let s = Scratch::new();
    let v1 = incident("email-sandbox", 1, None, false);
    let v2 = incident("email-sandbox", 2, Some(digest(&v1)), true);
    let mut st = statement(1);
    st.incidents = Some(vec![incident_ref(&v2)]);
    let doc = Doc::new(st);
    let mut tree = Tree::publish(std::slice::from_ref(&doc));
    tree.put(
        &Tree::incident_path("email-sandbox", 1),
        seal(&v1, &["alice"]),
    );
    tree.put(
        &Tree::incident_path("email-sandbox", 2),
        seal(&v2, &["alice"]),
    );
    let server = Server::tree(tree.files.clone());
    run(
        &s,
        &[&server.url(LATEST_PATH)],
        fresh_at(1),
        &["--incidents", "--history"],
    )
    .code(OK);
    assert!(
        server
            .requested()
            .contains(&"/.well-known/canary/incidents/email-sandbox/000002.json".to_owned()),
        "{:?}",
        server.requested()
    );

    let mut tampered = tree.clone();
    let mut other = v2.clone();
    other.title = "Something else".to_owned();
    tampered.put(
        &Tree::incident_path("email-sandbox", 2),
        seal(&other, &["alice"]),
    );
    let server = Server::tree(tampered.files);
    run(
        &s,
        &[&server.url(LATEST_PATH)],
        fresh_at(1),
        &["--incidents"],
    )
    .code(INVALID)
    .reason_says("incident", "differs");

    let mut missing = tree;
    missing.remove(&Tree::incident_path("email-sandbox", 1));
    let server = Server::tree(missing.files);
    run(
        &s,
        &[&server.url(LATEST_PATH)],
        fresh_at(1),
        &["--incidents"],
    )
    .code(INVALID)
    .reason_says("incident", "missing");
}

#[test]
fn state_for_urls_only_where_asked() {
    let s = Scratch::new();
    let docs = chain(2, |_| {});
    let server1 = Server::tree(Tree::publish(&docs[..1]).files);
    let server2 = Server::tree(Tree::publish(&docs).files);
    let state = s.arg("state");
    let with_state = |url: &str, at: Timestamp| {
        verify([
            url,
            "--trust",
            &s.trust(),
            "--at",
            &at.to_string(),
            "--state",
            &state,
            "--format",
            "json",
        ])
        .run()
    };
    with_state(&server2.url(LATEST_PATH), fresh_at(2)).code(OK);
    assert!(s.path("state/example.org.json").is_file());
    // A server rolled back to statement 1 is caught.
    with_state(&server1.url(LATEST_PATH), plus_days(fresh_at(2), 1))
        .code(INVALID)
        .reason("rollback");
    // --at alone implies --no-state for URLs: the runner checks that the
    // default state folder stays empty.
    verify([
        server1.url(LATEST_PATH).as_str(),
        "--trust",
        &s.trust(),
        "--at",
        &fresh_at(1).to_string(),
    ])
    .run()
    .code(OK);
}

#[test]
fn https_with_the_test_ca() {
    let s = Scratch::new();
    let ca = TestCa::new();
    let ca_file = s.write("ca.pem", &ca.ca_pem);
    let doc = Doc::new(statement(1));
    let body = doc.envelope.clone();
    let server = Server::https(
        move |path| {
            if path.contains("/canary/rotations/") {
                Reply::status(404)
            } else {
                Reply::ok(body.clone())
            }
        },
        ca.server.clone(),
    );
    let url = server.url(LATEST_PATH);
    assert!(url.starts_with("https://localhost:"));
    run(&s, &[&url], fresh_at(1), &["--ca-cert", &ca_file])
        .code(OK)
        .verdict("ok");
    let by_ip = format!("https://127.0.0.1:{}{LATEST_PATH}", server.port());
    run(&s, &[&by_ip], fresh_at(1), &["--ca-cert", &ca_file]).code(OK);

    // Without the CA the certificate is not trusted.
    let before = server.requested().len();
    run(&s, &[&url], fresh_at(1), &[])
        .code(UNREACHABLE)
        .verdict("unreachable")
        .reason("fetch-failed");
    assert_eq!(
        server.requested().len(),
        before,
        "no request over an untrusted connection"
    );

    // Another CA does not help.
    let other = TestCa::new();
    let other_file = s.write("other.pem", &other.ca_pem);
    run(&s, &[&url], fresh_at(1), &["--ca-cert", &other_file]).code(UNREACHABLE);
}

#[test]
fn bad_ca_cert_is_a_usage_error() {
    let s = Scratch::new();
    let ca = TestCa::new();
    let server = Server::https(|_| Reply::status(404), ca.server.clone());
    let url = server.url(LATEST_PATH);
    let garbage = s.write("garbage.pem", "not a certificate\n");
    run(&s, &[&url], fresh_at(1), &["--ca-cert", &garbage]).code(USAGE);
    run(
        &s,
        &[&url],
        fresh_at(1),
        &["--ca-cert", &s.arg("missing.pem")],
    )
    .code(USAGE)
    .stderr_has("missing.pem");
}

#[test]
fn https_to_http_redirect_is_refused() {
    let s = Scratch::new();
    let ca = TestCa::new();
    let ca_file = s.write("ca.pem", &ca.ca_pem);
    let doc = Doc::new(statement(1));
    let plain = Server::tree(Tree::publish(&[doc]).files);
    let target = plain.url(LATEST_PATH);
    let secure = Server::https(move |_| Reply::Redirect(target.clone()), ca.server.clone());
    run(
        &s,
        &[&secure.url("/old")],
        fresh_at(1),
        &["--ca-cert", &ca_file],
    )
    .code(UNREACHABLE)
    .reason_says("fetch-failed", "redirect");
    assert!(
        plain.requested().is_empty(),
        "the http server was contacted: {:?}",
        plain.requested()
    );
    assert_eq!(secure.requested(), ["/old"]);
}

#[test]
fn silent_server_times_out() {
    let s = Scratch::new();
    let server = always(Reply::Silent(Duration::from_secs(8)));
    let out = run(
        &s,
        &[&server.url(LATEST_PATH)],
        fresh_at(1),
        &["--timeout", "1s"],
    );
    out.code(UNREACHABLE).reason("timeout");
    assert!(
        out.elapsed < Duration::from_secs(6),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn long_timeouts_are_accepted_without_overflow() {
    let s = Scratch::new();
    let server = always(Reply::ok(Doc::new(statement(1)).envelope));
    let url = server.url(LATEST_PATH);
    for t in ["9223372036854", "999999999w", "30s"] {
        run(&s, &[&url], fresh_at(1), &["--timeout", t]).code(OK);
    }
    // Beyond what a duration can hold: a usage error, not a crash.
    run(&s, &[&url], fresh_at(1), &["--timeout", "9999999999999999"])
        .code(USAGE)
        .stderr_has("too long");
}

#[test]
fn proxy_is_used_when_given() {
    let s = Scratch::new();
    let envelope = Doc::new(statement(1)).envelope;
    // An HTTP proxy answers requests in absolute form; port 1 of the target
    // has nothing listening, so an answer proves the proxy was used.
    let proxy = Server::http(move |path| {
        if path.contains("/canary/rotations/") {
            Reply::status(404)
        } else if path.starts_with("http://127.0.0.1:1/") {
            Reply::ok(envelope.clone())
        } else {
            Reply::status(502)
        }
    });
    let target = format!("http://127.0.0.1:1{LATEST_PATH}");
    run(
        &s,
        &[&target],
        fresh_at(1),
        &["--proxy", &format!("http://127.0.0.1:{}", proxy.port())],
    )
    .code(OK);
    let rotation = format!("http://127.0.0.1:1{ROTATION_PATH}");
    assert_eq!(proxy.requested(), [target.as_str(), rotation.as_str()]);
    run(&s, &[&target], fresh_at(1), &["--proxy", "::not a proxy::"]).code(USAGE);
}

#[test]
fn incidents_have_a_larger_cap() {
    let s = Scratch::new();
    let build = |size: usize| {
        let mut v1 = incident("big", 1, None, true);
        v1.what_happened = "x".repeat(size);
        let mut st = statement(1);
        st.incidents = Some(vec![incident_ref(&v1)]);
        let mut tree = Tree::publish(&[Doc::new(st)]);
        tree.put(&Tree::incident_path("big", 1), seal(&v1, &["alice"]));
        tree
    };
    // 300 KiB of text: above the statement cap, below the incident cap.
    let server = Server::tree(build(300 * 1024).files);
    run(
        &s,
        &[&server.url(LATEST_PATH)],
        fresh_at(1),
        &["--incidents"],
    )
    .code(OK);
    // 900 KiB of text is more than 1 MiB once in base64.
    let server = Server::tree(build(900 * 1024).files);
    run(
        &s,
        &[&server.url(LATEST_PATH)],
        fresh_at(1),
        &["--incidents"],
    )
    .code(UNREACHABLE)
    .reason("too-large");
}
