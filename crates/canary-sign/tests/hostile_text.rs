//! One list of hostile strings through every output (DESIGN §6).
//!
//! An issuer whose name, promises, notes, components and incident carry
//! every unsafe character, Markdown links and images, HTML, a heading after
//! a line break, table breakers and backticks is published with the real
//! `canary-sign`, then read with the real `canary`: `verify` (human, JSON,
//! GitHub annotations and step summary), `watch` (human, JSON, GitHub,
//! Prometheus, Nagios) and `show`, beside sources whose unauthenticated
//! text (a payload type, an unknown field name, a source file name) is just
//! as hostile. No output may carry one of the characters raw, the JSON
//! values stay exact, the feed is well-formed XML, and no Markdown renders a
//! link, an image, HTML or a heading of the document's.

// Test helpers outside `#[test]` functions report failures by panicking;
// clippy.toml's allow-panic-in-tests does not reach them.
#![allow(clippy::panic)]

mod util;

use std::path::Path;
use std::process::{Command, Stdio};

use canary_core::{
    Compromise, Digest, Envelope, Impact, IncidentKind, IncidentRecord, IncidentRef,
    IncidentStatus, IncidentUpdate, Measure, MeasureKind, Payload, PayloadType, SigningKey,
    Statement, StatementItem, Zeroizing, to_payload,
};
use comrak::nodes::{AstNode, NodeValue};
use util::{OK, Scratch, ts};

/// Every character DESIGN §6 names, once each, then the Markdown, HTML and
/// table breakers.
const HOSTILE: &[&str] = &[
    "\u{0}",
    "\u{7}",
    "\u{8}",
    "\t",
    "\u{b}",
    "\u{1b}[31m",
    "\u{1b}]0;title\u{7}",
    "\u{7f}",
    "\u{80}",
    "\u{85}",
    "\u{9b}2J",
    "\u{9f}",
    "\u{2028}",
    "\u{2029}",
    "\u{61c}",
    "\u{200e}",
    "\u{200f}",
    "\u{202a}",
    "\u{202b}",
    "\u{202c}",
    "\u{202d}",
    "\u{202e}",
    "\u{2066}",
    "\u{2067}",
    "\u{2068}",
    "\u{2069}",
    "\u{fdd0}",
    "\u{fffe}",
    "\u{ffff}",
    "\u{1fffe}",
    "[x](https://evil.example/)",
    "![i](https://evil.example/i.png)",
    "<script>alert(1)</script>",
    "</summary>",
    "<img src=x onerror=alert(1)>",
    "\n# heading",
    "\r\n::error::forged",
    "| a | b |",
    "a\\|[l](https://evil.example/pipe)",
    "`code` `` ```",
    "https://evil.example/bare www.evil.example @someone",
    "&#x202e; &lt;b&gt;",
    "*em* _em_ **b** ~~s~~",
];

/// An issuer name: what the issuer rule lets through (no whitespace, no
/// control character), which is still a great deal.
const ISSUER: &str = "evil.example\u{202e}\u{61c}\u{200e}\u{2066}\u{fffe}\u{fdd0}[x](https://evil.example/)![i](https://evil.example/i.png)<b>\\|`";

/// The moment of publishing and verifying: statement 1 is fresh then.
const AT: &str = "2026-01-02T00:00:00Z";

/// True for a character no output may carry raw (DESIGN §6), written out
/// here apart from the sanitizer it checks. Line feeds are allowed: every
/// output is made of lines.
fn dangerous(c: char) -> bool {
    let u = u32::from(c);
    (u < 0x20 && c != '\n')
        || (0x7f..=0x9f).contains(&u)
        || matches!(u, 0x2028 | 0x2029 | 0x061c | 0x200e | 0x200f)
        || (0x202a..=0x202e).contains(&u)
        || (0x2066..=0x2069).contains(&u)
        || (0xfdd0..=0xfdef).contains(&u)
        || u & 0xfffe == 0xfffe
}

/// Asserts that `bytes` (UTF-8) hold no dangerous character.
#[track_caller]
fn clean(what: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    let bad: Vec<char> = text.chars().filter(|&c| dangerous(c)).collect();
    assert!(
        bad.is_empty(),
        "{what} carries raw {bad:?}:\n{}",
        text.escape_debug()
    );
}

/// The fixture key `name` of canary-core.
fn key(name: &str) -> SigningKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../canary-core/testdata/keys")
        .join(format!("{name}.seed"));
    let hex = std::fs::read_to_string(&path).expect("fixture seed");
    let hex = hex.trim();
    let mut seed = Zeroizing::new([0u8; 32]);
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex seed");
    }
    SigningKey::from_seed(&seed).expect("fixture key")
}

fn seal<T: Payload>(doc: &T, key: &SigningKey) -> Vec<u8> {
    Envelope::sign(
        T::PAYLOAD_TYPE,
        to_payload(doc).expect("a valid document"),
        key,
    )
    .to_json()
}

/// All hostile strings in one text.
fn all() -> String {
    HOSTILE.join(" ")
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn incident() -> IncidentRecord {
    let at = ts("2026-01-01T06:00:00Z");
    IncidentRecord {
        issuer: ISSUER.to_owned(),
        id: "hostile".to_owned(),
        version: 1,
        title: format!("title {}", all()),
        kind: IncidentKind::Incident,
        impact: Impact::Major,
        status: IncidentStatus::Investigating,
        started_at: at,
        resolved_at: None,
        affected: vec!["web".to_owned()],
        what_happened: format!("what happened {}", all()),
        compromised: Compromise {
            summary: format!("compromised {}", all()),
            data_lost: false,
            data_exposed: false,
        },
        measures: vec![Measure {
            action: format!("measure {}", all()),
            kind: MeasureKind::Prevent,
            done: false,
        }],
        updates: vec![IncidentUpdate {
            at,
            status: IncidentStatus::Investigating,
            body: format!("update {}", all()),
        }],
        previous: None,
    }
}

fn statement(incident: &IncidentRecord) -> Statement {
    Statement {
        issuer: ISSUER.to_owned(),
        sequence: 1,
        issued_at: ts("2026-01-01T00:00:00Z"),
        next_due: ts("2026-04-01T00:00:00Z"),
        expires_at: ts("2026-04-15T00:00:00Z"),
        statements: HOSTILE
            .iter()
            .enumerate()
            .map(|(i, s)| StatementItem {
                id: format!("p{i}"),
                text: format!("promise {i} {s} end"),
            })
            .collect(),
        previous: None,
        incidents: Some(vec![IncidentRef {
            id: incident.id.clone(),
            version: 1,
            digest: Digest::of(&to_payload(incident).expect("payload")),
        }]),
        freshness: None,
        notes: Some(format!("notes {}", all())),
        is_final: None,
    }
}

/// What one run printed.
struct Run {
    what: String,
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Run {
    /// Both streams are clean.
    #[track_caller]
    fn clean(&self) -> &Self {
        clean(&format!("stdout of {}", self.what), &self.stdout);
        clean(&format!("stderr of {}", self.what), &self.stderr);
        self
    }

    fn stdout(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("UTF-8")
    }
}

fn run(dir: &Path, bin: &Path, args: &[&str], summary: Option<&Path>) -> Run {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("xdg"))
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .env("XDG_CACHE_HOME", dir.join("xdg"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null());
    if let Some(s) = summary {
        cmd.env("GITHUB_STEP_SUMMARY", s);
    }
    let out = cmd.output().expect("the binary runs");
    let what = format!(
        "{} {}",
        bin.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
        args.join(" ").escape_debug()
    );
    let code = out.status.code().expect("exit code");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{what} panicked"
    );
    Run {
        what,
        code,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// GFM as GitHub reads it: tables, autolinks, strikethrough.
fn gfm() -> comrak::Options<'static> {
    let mut o = comrak::Options::default();
    o.extension.table = true;
    o.extension.autolink = true;
    o.extension.strikethrough = true;
    o
}

/// Asserts that `md` renders no link, no image, no HTML but `<br>`, and no
/// heading but `allowed`; returns the text of its code spans.
#[track_caller]
fn inert_markdown(what: &str, md: &str, allowed: &[&str]) -> Vec<String> {
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, md, &gfm());
    let mut code = Vec::new();
    for node in root.descendants() {
        let value = &node.data.borrow().value;
        match value {
            NodeValue::Link(l) => panic!("{what}: a live link to {:?}:\n{md}", l.url),
            NodeValue::Image(l) => panic!("{what}: a live image {:?}:\n{md}", l.url),
            NodeValue::HtmlBlock(h) => panic!("{what}: an HTML block {:?}:\n{md}", h.literal),
            NodeValue::HtmlInline(h) if h != "<br>" => {
                panic!("{what}: inline HTML {h:?}:\n{md}")
            }
            NodeValue::Heading(_) => {
                let text = plain(node);
                assert!(
                    allowed.contains(&text.as_str()),
                    "{what}: a heading {text:?}:\n{md}"
                );
            }
            NodeValue::Code(c) => code.push(c.literal.clone()),
            _ => {}
        }
    }
    code
}

fn plain<'a>(node: &'a AstNode<'a>) -> String {
    node.descendants()
        .filter_map(|n| match &n.data.borrow().value {
            NodeValue::Text(t) => Some(t.to_string()),
            _ => None,
        })
        .collect()
}

/// Asserts that every table row of `md` has `columns` cells.
#[track_caller]
fn rows_intact(what: &str, md: &str, columns: usize) -> usize {
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, md, &gfm());
    let mut rows = 0;
    for node in root.descendants() {
        if let NodeValue::TableRow(_) = node.data.borrow().value {
            assert_eq!(
                node.children().count(),
                columns,
                "{what}: a row broke:\n{md}"
            );
            rows += 1;
        }
    }
    rows
}

/// Asserts that the issuer's name and a quoted list of the hostile strings
/// each stayed whole in one code span: a table cell that broke early (a
/// GFM table drops the cells its header has no column for) would cut them.
#[track_caller]
fn whole_in_code_spans(what: &str, md: &str, code: &[String]) {
    // The issuer ends in `<b>\|` and a backtick; readers differ on whether
    // `\\|` in a cell shows one backslash or two.
    assert!(
        code.iter().any(|c| c.starts_with("evil.example\\u{202e}")
            && c.contains("![i](https://evil.example/i.png)<b>\\")
            && c.ends_with("|`")),
        "{what}: the issuer is not whole in a code span:\n{md}"
    );
    assert!(
        code.iter().any(|c| c.contains("| a | b | a\\")
            && c.contains("|[l](https://evil.example/pipe)")
            && c.contains("~~s~~")),
        "{what}: the hostile strings are not whole in a code span:\n{md}"
    );
}

/// The annotations of a GitHub-format run: each line starting with `::`
/// is one, its title and message read as Markdown must be inert.
#[track_caller]
fn annotations(r: &Run) -> usize {
    let mut n = 0;
    for line in r.stdout().lines().filter(|l| l.starts_with("::")) {
        assert!(
            line.starts_with("::error title=") || line.starts_with("::warning title="),
            "{}: a forged workflow command: {line}",
            r.what
        );
        let decode = |s: &str| {
            s.replace("%0A", "\n")
                .replace("%0D", "\r")
                .replace("%3A", ":")
                .replace("%2C", ",")
                .replace("%25", "%")
        };
        let rest = line.split_once(" title=").map_or("", |(_, t)| t);
        let (title, message) = rest.split_once("::").expect("title::message");
        inert_markdown(&r.what, &decode(title), &[]);
        inert_markdown(&r.what, &decode(message), &[]);
        n += 1;
    }
    n
}

#[test]
fn hostile_text_never_leaves_raw_or_live() {
    let s = Scratch::new();
    let dir = s.root();
    let alice = key("alice");
    let signer = Path::new(env!("CARGO_BIN_EXE_canary-sign"));
    let verifier = util::verifier_bin();

    // The issuer folder, with documents built and signed here.
    let record = incident();
    let statement = statement(&record);
    s.write(
        "org/canary.toml",
        format!(
            "issuer = {}\nname = {}\ncadence = \"90d\"\ngrace = \"14d\"\n\n\
             [[components]]\nid = \"web\"\nname = {}\n\n\
             [trust]\nthreshold = 1\nkeys = [\"{}\"]\n",
            toml_string(ISSUER),
            toml_string(&format!("name {}", all())),
            toml_string(&format!("component {}", all())),
            alice.public_key()
        ),
    );
    // The record of trust version 1 that `sign` writes at the first signature.
    s.write(
        "org/trust-v1.toml",
        format!(
            "issuer = {}\nthreshold = 1\nkeys = [\"{}\"]\n",
            toml_string(ISSUER),
            alice.public_key()
        ),
    );
    s.write("org/statements/000001.json", seal(&statement, &alice));
    s.write("org/incidents/hostile/000001.json", seal(&record, &alice));

    // Unauthenticated text: a payload type, an unknown field name, and a
    // source file name, all hostile.
    let forged_name = "forged\u{202e}\u{61c}[x](https:evil.example)![i](x.png)<b>|`.json";
    s.write(
        forged_name,
        serde_json::json!({
            "payloadType": all(),
            "payload": "e30=",
            "signatures": [{"keyid": all(), "sig": "AAAA"}],
        })
        .to_string(),
    );
    let mut unknown = serde_json::to_value(&statement).expect("JSON");
    unknown[all()] = serde_json::Value::from(all());
    let payload = canary_core::json::canonicalize(&unknown).expect("canonical");
    s.write(
        "unknown.json",
        Envelope::sign(PayloadType::Statement, payload, &alice).to_json(),
    );

    // The signer's own messages.
    let publish = run(
        dir,
        signer,
        &["publish", "--dir", "org", "--out", "site", "--at", AT],
        None,
    );
    assert_eq!(
        publish.code,
        OK,
        "{}",
        String::from_utf8_lossy(&publish.stderr)
    );
    publish.clean();
    for args in [
        &["due", "--dir", "org", "--at", AT][..],
        &["due", "--dir", "org", "--at", AT, "--format", "json"],
        &["lint", "unknown.json", "--dir", "org", "--at", AT],
        &["lint", forged_name, "--dir", "org", "--at", AT],
        &["new", "--dir", "org", "--at", AT],
    ] {
        run(dir, signer, args, None).clean();
    }

    // The published pages.
    let page = s.read("site/index.html");
    clean("index.html", &page);
    let html = String::from_utf8(page).expect("UTF-8").to_ascii_lowercase();
    for needle in [
        "<script",
        "<img",
        "href=\"http",
        "href=\"https",
        "evil.example/\"",
    ] {
        assert!(!html.contains(needle), "index.html holds {needle:?}");
    }
    assert!(
        html.contains("promise 21 \\u{202e} end") && html.contains("\\u{2028}"),
        "index.html shows the escapes"
    );

    let txt = s.read("site/canary.txt");
    clean("canary.txt", &txt);
    assert!(String::from_utf8_lossy(&txt).contains("promise 21 \\u{202e} end"));

    let feed = s.read("site/feed.atom");
    clean("feed.atom", &feed);
    let mut reader = quick_xml::Reader::from_reader(feed.as_slice());
    let mut buf = Vec::new();
    let mut texts = String::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Text(t)) => {
                texts.push_str(&t.decode().expect("text decodes"));
            }
            Ok(quick_xml::events::Event::GeneralRef(r)) => {
                let name = r.decode().expect("a reference");
                match r.resolve_char_ref() {
                    Ok(Some(c)) => texts.push(c),
                    _ => texts.push_str(
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .unwrap_or_else(|| panic!("feed.atom: an unknown entity &{name};")),
                    ),
                }
            }
            Ok(_) => {}
            Err(e) => panic!("feed.atom is not well-formed XML: {e}"),
        }
        buf.clear();
    }
    assert!(
        texts.contains("<script>alert(1)</script>"),
        "text, not markup"
    );
    assert!(
        !texts.chars().any(dangerous),
        "feed.atom's text decodes raw"
    );

    let status = s.read("site/status.json");
    clean("status.json", &status);
    let status: serde_json::Value = serde_json::from_slice(&status).expect("status.json");
    for (i, text) in HOSTILE.iter().enumerate() {
        assert_eq!(
            status["canary"]["statements"][i]["text"],
            format!("promise {i} {text} end"),
            "status.json keeps the exact text"
        );
    }
    assert_eq!(status["issuer"], ISSUER);

    // The verifier, on the site and on the forged sources.
    let trust = "site/.well-known/canary/trust.toml";
    let sources = ["site", forged_name, "unknown.json"];
    let verify = |format: &str, summary: Option<&Path>| {
        let mut args = vec!["verify"];
        args.extend(sources);
        args.extend([
            "--trust",
            trust,
            "--at",
            AT,
            "--incidents",
            "--format",
            format,
        ]);
        run(dir, &verifier, &args, summary)
    };
    let human = verify("human", None);
    assert_eq!(human.code, 1, "{}", human.stdout());
    human.clean();
    assert!(human.stdout().contains("\\u{202e}"), "{}", human.stdout());

    let json = verify("json", None);
    json.clean();
    let lines: Vec<serde_json::Value> = json
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), sources.len());
    assert_eq!(lines[0]["verdict"], "ok", "{}", json.stdout());
    assert_eq!(lines[0]["issuer"], ISSUER);
    for (i, text) in HOSTILE.iter().enumerate() {
        assert_eq!(
            lines[0]["statements"][i]["text"],
            format!("promise {i} {text} end"),
            "JSON keeps the exact text"
        );
    }
    assert!(
        lines[1..].iter().all(|l| l["verdict"] == "invalid"),
        "{}",
        json.stdout()
    );
    assert!(json.stdout().contains("\\u202e"), "escaped as JSON");

    let summary = s.path("verify-summary.md");
    let github = verify("github", Some(&summary));
    github.clean();
    assert!(annotations(&github) >= 2, "{}", github.stdout());
    let md = std::fs::read(&summary).expect("the step summary");
    clean("the verify step summary", &md);
    let md = String::from_utf8(md).expect("UTF-8");
    let code = inert_markdown("the verify step summary", &md, &["canary verify"]);
    assert_eq!(
        rows_intact("the verify step summary", &md, 7),
        1 + sources.len()
    );
    whole_in_code_spans("the verify step summary", &md, &code);

    let show = run(
        dir,
        &verifier,
        &["show", "site", "--trust", trust, "--at", AT],
        None,
    );
    assert_eq!(show.code, OK, "{}", show.stdout());
    show.clean();
    assert!(
        show.stdout().contains("promise 21 \\u{202e} end"),
        "{}",
        show.stdout()
    );
    run(
        dir,
        &verifier,
        &["show", "unknown.json", "--trust", trust, "--at", AT],
        None,
    )
    .clean();

    // watch, with the forged sources as mirrors named by the list.
    s.write(
        "list.toml",
        format!(
            "[[issuer]]\nname = {}\nsource = \"site\"\nmirrors = [{}, \"unknown.json\"]\n\
             trust = \"{trust}\"\nincidents = true\n",
            toml_string(ISSUER),
            toml_string(forged_name)
        ),
    );
    let summary = s.path("watch-summary.md");
    for format in ["human", "json", "github", "prometheus", "nagios"] {
        let r = run(
            dir,
            &verifier,
            &[
                "watch",
                "list.toml",
                "--no-state",
                "--at",
                AT,
                "--format",
                format,
            ],
            (format == "github").then_some(summary.as_path()),
        );
        r.clean();
        assert!(!r.stdout.is_empty(), "{} printed nothing", r.what);
        match format {
            "json" => {
                let line: serde_json::Value =
                    serde_json::from_str(r.stdout().trim_end()).expect("one JSON line");
                assert_eq!(line["issuer"], ISSUER);
            }
            "github" => assert!(annotations(&r) >= 1, "{}", r.stdout()),
            _ => {}
        }
    }
    let md = std::fs::read(&summary).expect("the watch step summary");
    clean("the watch step summary", &md);
    let md = String::from_utf8(md).expect("UTF-8");
    let code = inert_markdown("the watch step summary", &md, &["canary watch"]);
    assert_eq!(rows_intact("the watch step summary", &md, 5), 2);
    whole_in_code_spans("the watch step summary", &md, &code);
}
