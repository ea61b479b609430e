//! Output of the real `canary` binary (DESIGN §6): JSON Lines fields and
//! order, GitHub annotations and the step summary, control characters from
//! documents escaped, colour only on a terminal and never with `NO_COLOR`,
//! `--quiet`; `canary show` shows only what verified; `completions` and
//! `man`; and no panic on hostile input.

mod util;

use canary_core::{PayloadType, StatementItem};
use util::*;

/// The fields of a JSON line, in the order DESIGN §6 lists them.
const FIELDS: [&str; 10] = [
    "source",
    "verdict",
    "reasons",
    "issuer",
    "sequence",
    "issued_at",
    "next_due",
    "expires_at",
    "statements",
    "signers",
];

/// A scratch folder with an ok, a late, an invalid and a tripped canary.
struct Fx {
    s: Scratch,
    trust: String,
    ok: String,
    late: String,
    invalid: String,
    tripped: String,
}

impl Fx {
    fn new() -> Self {
        let s = Scratch::new();
        let trust = s.trust();
        let ok = s.write(
            "ok.json",
            Doc::signed(statement(1), &["alice", "bob"]).envelope,
        );
        let mut late = statement(1);
        late.next_due = plus_days(late.issued_at, 1);
        let late = s.write("late.json", Doc::new(late).envelope);
        let invalid = s.write(
            "invalid.json",
            Doc::signed(statement(1), &["mallory"]).envelope,
        );
        let mut f = statement(1);
        f.is_final = Some(true);
        let tripped = s.write("final.json", Doc::new(f).envelope);
        Fx {
            s,
            trust,
            ok,
            late,
            invalid,
            tripped,
        }
    }

    fn run(&self, sources: &[&str], extra: &[&str]) -> Run {
        verify(sources.iter().copied())
            .args([
                "--trust",
                &self.trust,
                "--at",
                &fresh_at(1).to_string(),
                "--no-state",
            ])
            .args(extra.iter().copied())
    }
}

/// Asserts no byte of `out`'s standard output is ESC or another control
/// character besides newline.
#[track_caller]
fn no_raw_controls(out: &Out) {
    let bad: Vec<u8> = out
        .stdout_bytes
        .iter()
        .copied()
        .filter(|&b| (b < 0x20 && b != b'\n') || b == 0x7f)
        .collect();
    assert!(
        bad.is_empty(),
        "`canary {}` printed raw control bytes {bad:?}:\n{}",
        out.args,
        out.stdout.escape_debug()
    );
}

#[test]
fn json_lines_have_the_stable_fields() {
    let fx = Fx::new();
    let out = fx
        .run(&[&fx.ok, &fx.invalid, &fx.late], &["--format", "json"])
        .run();
    out.code(INVALID);
    assert_eq!(
        out.stdout.lines().count(),
        3,
        "one line per source:\n{}",
        out.stdout
    );
    for line in out.stdout.lines() {
        // Field order as listed in DESIGN §6.
        let positions: Vec<usize> = FIELDS
            .iter()
            .map(|f| {
                line.find(&format!("\"{f}\":"))
                    .unwrap_or_else(|| panic!("{f} missing in {line}"))
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "field order: {line}"
        );
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort_unstable();
        let mut sorted_fields = FIELDS.to_vec();
        sorted_fields.sort_unstable();
        assert_eq!(sorted_keys, sorted_fields, "exactly the documented fields");
        for r in v["reasons"].as_array().expect("reasons array") {
            assert!(r["code"].is_string() && r["message"].is_string(), "{r}");
            assert_eq!(r.as_object().expect("reason object").len(), 2);
        }
    }
    let lines = out.json();

    let ok = &lines[0];
    assert_eq!(ok["source"], fx.ok.as_str());
    assert_eq!(ok["verdict"], "ok");
    assert_eq!(ok["issuer"], ISSUER);
    assert_eq!(ok["sequence"], 1);
    assert_eq!(ok["issued_at"], "2026-01-01T00:00:00Z");
    assert_eq!(ok["next_due"], "2026-04-01T00:00:00Z");
    assert_eq!(ok["expires_at"], "2026-04-15T00:00:00Z");
    assert_eq!(
        ok["statements"][0],
        serde_json::json!({"id": "no-warrants", "text": "We have never received a search warrant."})
    );
    assert_eq!(
        ok["statements"].as_array().map(Vec::len),
        Some(items().len())
    );
    let mut signers = vec![
        public("alice").id().to_string(),
        public("bob").id().to_string(),
    ];
    signers.sort();
    assert_eq!(ok["signers"], serde_json::json!(signers));

    // Nothing unverified is shown: an invalid source has no statement fields.
    let invalid = &lines[1];
    assert_eq!(invalid["verdict"], "invalid");
    assert_eq!(reason_codes(invalid), ["bad-signature"]);
    for f in ["issuer", "sequence", "issued_at", "next_due", "expires_at"] {
        assert!(invalid[f].is_null(), "{f}: {}", invalid[f]);
    }
    assert_eq!(invalid["statements"], serde_json::json!([]));
    assert_eq!(invalid["signers"], serde_json::json!([]));

    // A warning alone is ok, with the reason listed.
    assert_eq!(lines[2]["verdict"], "ok");
    assert_eq!(reason_codes(&lines[2]), ["late"]);
}

#[test]
fn github_annotations_and_step_summary() {
    let fx = Fx::new();
    let summary = fx.s.path("summary.md");
    std::fs::write(&summary, "# earlier step\n").expect("write summary");
    let out = fx
        .run(
            &[&fx.ok, &fx.late, &fx.invalid, &fx.tripped],
            &["--format", "github"],
        )
        .env("GITHUB_STEP_SUMMARY", &summary)
        .run();
    out.code(TRIPPED);
    let errors: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    let warnings: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::warning "))
        .collect();
    assert_eq!(errors.len(), 2, "{}", out.stdout);
    assert!(
        errors.iter().any(|l| l.contains("bad-signature")),
        "{}",
        out.stdout
    );
    assert!(errors.iter().any(|l| l.contains("final")), "{}", out.stdout);
    assert_eq!(warnings.len(), 1, "{}", out.stdout);
    assert!(warnings[0].contains("late"), "{}", warnings[0]);
    for l in errors.iter().chain(&warnings) {
        assert!(l.contains(" title=") && l.contains("::"), "{l}");
    }
    no_raw_controls(&out);

    let md = std::fs::read_to_string(&summary).expect("summary written");
    assert!(
        md.starts_with("# earlier step\n"),
        "appended, not replaced:\n{md}"
    );
    assert!(md.contains("## canary verify"), "{md}");
    for word in ["**ok**", "**invalid**", "**tripped**"] {
        assert!(md.contains(word), "{word} missing:\n{md}");
    }
    assert!(
        md.contains("`bad-signature`") && md.contains("`final`"),
        "{md}"
    );
    let rows = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| source"))
        .count();
    assert_eq!(rows, 4, "one row per source:\n{md}");

    // A second run appends again.
    fx.run(&[&fx.ok], &["--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .run()
        .code(OK);
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert_eq!(md.matches("## canary verify").count(), 2, "{md}");

    // Other formats leave the summary alone.
    let untouched = fx.s.path("untouched.md");
    for format in ["human", "json"] {
        fx.run(&[&fx.ok], &["--format", format])
            .env("GITHUB_STEP_SUMMARY", &untouched)
            .run()
            .code(OK);
    }
    assert!(
        !untouched.exists(),
        "summary written outside --format github"
    );

    // With --deny-warnings the late canary is an error.
    let out = fx
        .run(&[&fx.late], &["--format", "github", "--deny-warnings"])
        .run();
    out.code(WARNING);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("::error ") && l.contains("late")),
        "{}",
        out.stdout
    );
}

/// A statement whose text and notes carry terminal escapes and a fake
/// annotation line.
fn hostile_statement() -> canary_core::Statement {
    let mut s = statement(1);
    s.statements.push(StatementItem {
        id: "no-raids".to_owned(),
        text: "We have never been raided.\u{1b}[31m\u{1b}]0;pwned\u{7}\r\n::error::fake".to_owned(),
    });
    s.notes = Some("Notes\u{1b}[2J with escapes".to_owned());
    s
}

#[test]
fn control_characters_from_documents_are_escaped() {
    let fx = Fx::new();
    let hostile =
        fx.s.write("hostile.json", Doc::new(hostile_statement()).envelope);
    for format in ["human", "json", "github"] {
        let out = fx.run(&[&hostile], &["--format", format]).run();
        out.code(OK);
        no_raw_controls(&out);
    }
    // The texts appear escaped in the JSON and in `show`.
    let out = fx.run(&[&hostile], &["--format", "json"]).run();
    assert_eq!(
        out.one()["statements"][3]["text"],
        hostile_statement().statements[3].text.as_str(),
        "JSON carries the exact text, escaped as JSON"
    );
    let out = canary([
        "show",
        hostile.as_str(),
        "--trust",
        &fx.trust,
        "--at",
        &fresh_at(1).to_string(),
    ])
    .run();
    out.code(OK)
        .stdout_has("We have never been raided.\\u{1b}[31m")
        .stdout_has("Notes\\u{1b}[2J");
    no_raw_controls(&out);
    assert!(
        !out.stdout.lines().any(|l| l.starts_with("::error")),
        "a document forged an annotation line:\n{}",
        out.stdout
    );

    // Text in error messages comes from documents too: an unknown field
    // whose name is an escape sequence, in the payload and in the envelope.
    let mut v = serde_json::to_value(statement(1)).expect("JSON");
    v["\u{1b}[31mred\n::error::fake"] = "x".into();
    let payload = canary_core::json::canonicalize(&v).expect("canonical");
    let evil_payload = fx.s.write(
        "evil-payload.json",
        seal_raw(PayloadType::Statement, payload, &["alice"]),
    );
    let evil_envelope = fx.s.write(
        "evil-envelope.json",
        "{\"\\u001b[2J\\n::error::fake\":1,\"payload\":\"e30=\"}",
    );
    let summary = fx.s.path("summary.md");
    for format in ["human", "json", "github"] {
        let out = fx
            .run(&[&evil_payload, &evil_envelope], &["--format", format])
            .env("GITHUB_STEP_SUMMARY", &summary)
            .run();
        out.code(INVALID);
        no_raw_controls(&out);
        assert!(
            !out.stdout.lines().any(|l| l.starts_with("::error::fake")),
            "a document forged an annotation line:\n{}",
            out.stdout
        );
    }
    let md = std::fs::read(&summary).expect("summary");
    assert!(!md.contains(&0x1b), "raw ESC in the step summary");
}

#[test]
fn no_colour_off_a_terminal_or_with_no_color() {
    let fx = Fx::new();
    let sources = [
        fx.ok.as_str(),
        fx.late.as_str(),
        fx.invalid.as_str(),
        fx.tripped.as_str(),
    ];
    let piped = fx.run(&sources, &[]).run();
    piped.code(TRIPPED);
    assert!(
        !piped.stdout_bytes.contains(&0x1b),
        "ANSI on a pipe:\n{}",
        piped.stdout.escape_debug()
    );
    let no_color = fx.run(&sources, &[]).env("NO_COLOR", "1").run();
    no_color.code(TRIPPED);
    assert!(!no_color.stdout_bytes.contains(&0x1b));
    assert_eq!(piped.stdout, no_color.stdout);
    piped
        .stdout_has("OK example.org #1")
        .stdout_has("INVALID ")
        .stdout_has("TRIPPED example.org #1")
        .stdout_has("  bad-signature: ")
        .stdout_has("  late: ");
}

/// Runs `canary ARGS` on a pseudo-terminal through util-linux `script`;
/// `None` when that tool is not available.
fn on_a_terminal(args: &[&str], no_color: bool) -> Option<Vec<u8>> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let line = std::iter::once(env!("CARGO_BIN_EXE_canary"))
        .chain(args.iter().copied())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    let xdg = tempfile::tempdir().expect("temp XDG_STATE_HOME");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env("XDG_STATE_HOME", xdg.path())
        .env("HOME", xdg.path())
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null());
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().ok()?;
    (out.status.code() == Some(TRIPPED)).then_some(out.stdout)
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let fx = Fx::new();
    let at = fresh_at(1).to_string();
    let args = [
        "verify",
        &fx.ok,
        &fx.tripped,
        "--trust",
        &fx.trust,
        "--at",
        &at,
        "--no-state",
    ];
    let Some(coloured) = on_a_terminal(&args, false) else {
        eprintln!("skipped: util-linux `script` is not available to provide a terminal");
        return;
    };
    assert!(
        coloured.contains(&0x1b),
        "no colour on a terminal: {}",
        String::from_utf8_lossy(&coloured)
    );
    let plain = on_a_terminal(&args, true).expect("script ran before");
    assert!(
        !plain.contains(&0x1b),
        "colour despite NO_COLOR: {}",
        String::from_utf8_lossy(&plain).escape_debug()
    );
}

#[test]
fn quiet_prints_only_sources_that_are_not_ok() {
    let fx = Fx::new();
    let out = fx.run(&[&fx.ok, &fx.invalid], &["--quiet"]).run();
    out.code(INVALID).stdout_lacks("OK ").stdout_has("INVALID ");
    let out = fx.run(&[&fx.ok], &["-q"]).run();
    out.code(OK);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn show_prints_only_verified_texts() {
    let fx = Fx::new();
    let at = fresh_at(1).to_string();
    let out = canary(["show", fx.ok.as_str(), "--trust", &fx.trust, "--at", &at]).run();
    out.code(OK)
        .stdout_has("Warrant canary of example.org (statement 1)");
    for item in items() {
        out.stdout_has(&item.text);
    }

    // Signature tampered: alice's keyid, a signature over another payload.
    let doc = Doc::new(statement(1));
    let mut other = statement(1);
    other.notes = Some("other".to_owned());
    let other: serde_json::Value = serde_json::from_slice(&Doc::new(other).envelope).expect("JSON");
    let mut v: serde_json::Value = serde_json::from_slice(&doc.envelope).expect("JSON");
    v["signatures"][0]["sig"] = other["signatures"][0]["sig"].clone();
    let tampered =
        fx.s.write("tampered.json", serde_json::to_vec(&v).expect("JSON"));
    let out = canary(["show", tampered.as_str(), "--trust", &fx.trust, "--at", &at]).run();
    out.code(INVALID).stdout_has("Nothing is shown");
    for item in items() {
        out.stdout_lacks(&item.text);
    }
    out.stdout_lacks("no-warrants");

    // Stale but authentic: shown, under a warning.
    let out = canary([
        "show",
        fx.ok.as_str(),
        "--trust",
        &fx.trust,
        "--at",
        &doc.statement.expires_at.to_string(),
    ])
    .run();
    out.code(STALE).stdout_has("STALE: read the reasons below");

    // Incidents are shown once verified.
    let v1 = incident("email-sandbox", 1, None, true);
    let mut st = statement(1);
    st.incidents = Some(vec![incident_ref(&v1)]);
    let mut tree = Tree::publish(&[Doc::new(st)]);
    tree.put(
        &Tree::incident_path("email-sandbox", 1),
        seal(&v1, &["alice"]),
    );
    let site = fx.s.tree("site", &tree);
    canary(["show", site.as_str(), "--trust", &fx.trust, "--at", &at])
        .run()
        .code(OK)
        .stdout_has("Email delivery in sandbox mode [email-sandbox]")
        .stdout_has("What was compromised/lost: Nothing.");
}

#[test]
fn completions_and_man_page() {
    let out = canary(["completions", "bash"]).run();
    out.code(OK).stdout_has("canary");
    assert!(out.stdout.len() > 100, "{}", out.stdout);
    let out = canary(["man"]).run();
    out.code(OK).stdout_has(".TH");
    let out = canary(["completions", "tcsh-or-so"]).run();
    out.code(USAGE);
    let out = canary(["--version"]).run();
    out.code(OK).stdout_has("canary");
    canary(["--help"]).run().code(OK).stdout_has("Exit status");
    canary(["verify", "--help"])
        .run()
        .code(OK)
        .stdout_has("--deny-warnings")
        .stdout_has("5 > 1 > 3 > 4 > 6 > 0");
    // A watch entry that cannot be checked is usage, ranked after invalid
    // (DESIGN §6).
    canary(["watch", "--help"])
        .run()
        .code(OK)
        .stdout_has("5 > 1 > 2 > 3 > 4 > 6 > 0");
}

#[test]
fn hostile_input_never_panics() {
    let fx = Fx::new();
    let deep_array = "[".repeat(200_000);
    let deep_envelope = format!("{{\"payload\":{}", "{\"a\":".repeat(40_000));
    let mut inputs: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("whitespace", b"  \n\t ".to_vec()),
        ("binary", (0..=255u8).cycle().take(4096).collect()),
        ("zero-bytes", vec![0u8; 1000]), // not "nul": a reserved file name on Windows
        ("bad-utf8", b"{\"payload\":\"\xff\xfe\"}".to_vec()),
        ("deep-array", deep_array.into_bytes()),
        ("deep-object", deep_envelope.into_bytes()),
        ("huge-number", b"{\"payload\":1e99999999999,\"payloadType\":99999999999999999999999999999999,\"signatures\":[]}".to_vec()),
        ("long-string", format!("{{\"payload\":\"{}\"}}", "A".repeat(200_000)).into_bytes()),
        ("null", b"null".to_vec()),
        ("array", b"[]".to_vec()),
        ("many-signatures", format!(
            "{{\"payload\":\"e30=\",\"payloadType\":\"application/vnd.canary.statement.v1+json\",\"signatures\":[{}]}}",
            vec![format!("{{\"keyid\":\"{}\",\"sig\":\"{}\"}}", public("alice").id(), "A".repeat(86) + "==" ); 1000].join(",")
        ).into_bytes()),
    ];
    // Validly signed payloads that are hostile after the signature check.
    let signed = |p: &[u8]| seal_raw(PayloadType::Statement, p.to_vec(), &["alice"]);
    let mut v = serde_json::to_value(statement(1)).expect("JSON");
    v["sequence"] = serde_json::Value::Null;
    let huge_seq = serde_json::to_string(&v).expect("JSON").replace(
        "\"sequence\":null",
        "\"sequence\":123456789012345678901234567890123456789",
    );
    inputs.push(("signed-huge-integer", signed(huge_seq.as_bytes())));
    inputs.push((
        "signed-float",
        signed(
            huge_seq
                .replace("123456789012345678901234567890123456789", "1e400")
                .as_bytes(),
        ),
    ));
    inputs.push((
        "signed-deep",
        signed(format!("{}{}", "[".repeat(50_000), "]".repeat(50_000)).as_bytes()),
    ));
    inputs.push(("signed-empty", signed(b"")));
    inputs.push(("signed-binary", signed(&[0xff, 0x00, 0x1b, 0x9b])));
    let mut max_date = statement(1);
    max_date.issued_at = ts("9999-12-30T00:00:00Z");
    max_date.next_due = ts("9999-12-31T00:00:00Z");
    max_date.expires_at = ts("9999-12-31T23:59:59Z");
    inputs.push(("signed-far-future", Doc::new(max_date).envelope));
    let mut min_date = statement(1);
    min_date.issued_at = ts("0000-01-01T00:00:00Z");
    min_date.next_due = ts("0000-01-02T00:00:00Z");
    min_date.expires_at = ts("0000-01-03T00:00:00Z");
    inputs.push(("signed-year-zero", Doc::new(min_date).envelope));

    for (name, bytes) in &inputs {
        let file = fx.s.write(&format!("hostile/{name}.json"), bytes);
        for format in ["human", "json"] {
            let out = fx.run(&[&file], &["--format", format]).run();
            let expected = match *name {
                "signed-year-zero" => STALE,
                _ => INVALID,
            };
            out.code(expected);
            no_raw_controls(&out);
        }
        canary([
            "show",
            file.as_str(),
            "--trust",
            &fx.trust,
            "--at",
            &fresh_at(1).to_string(),
        ])
        .run();
    }
    // Extreme times on the command line.
    let ok = fx.ok.clone();
    for at in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
        let out = verify([
            ok.as_str(),
            "--trust",
            &fx.trust,
            "--at",
            at,
            "--no-state",
            "--format",
            "json",
        ])
        .run();
        assert!(matches!(out.code, Some(INVALID) | Some(STALE)), "{out:?}");
    }
    verify([
        ok.as_str(),
        "--trust",
        &fx.trust,
        "--at",
        "2026-01-02T00:00:00Z",
        "--no-state",
        "--max-age",
        "999999999w",
        "--max-skew",
        "999999999w",
        "--warn-before",
        "999999999w",
    ])
    .run();
}

#[test]
fn absurd_durations_are_usage_errors() {
    let s = Scratch::new();
    let file = s.write("canary.json", Doc::new(statement(1)).envelope);
    let absurd = "999999999w".repeat(16);
    for option in ["--max-age", "--warn-before", "--max-skew", "--timeout"] {
        verify([
            file.as_str(),
            "--trust",
            &s.trust(),
            "--at",
            "2026-01-02T00:00:00Z",
            "--no-state",
            option,
            &absurd,
        ])
        .run()
        .code(USAGE);
    }
    // The same text as a trust policy's max_age.
    let trust = s.write(
        "aged.toml",
        format!("{}max_age = \"{absurd}\"\n", trust_toml(1, &["alice"], &[])),
    );
    verify([
        file.as_str(),
        "--trust",
        &trust,
        "--at",
        "2026-01-02T00:00:00Z",
        "--no-state",
    ])
    .run()
    .code(USAGE);
}
