//! The published status page (DESIGN §9), end to end: a realistic issuer
//! folder (two keys, threshold 2, three components, three statements, four
//! incidents, one of them still open and one with hostile text) is built and
//! published through the real `canary-sign` binary, then `index.html` is
//! checked as text and, when Chromium is installed, rendered by a real
//! browser: its DOM and its screenshots at desktop and phone widths.
//!
//! Without Chromium the browser part is skipped with a note, except under CI
//! (`CI` set), where a missing browser fails: `.ci/run` must install it.

// Test helpers outside `#[test]` functions report failures by panicking;
// clippy.toml's allow-panic-in-tests does not reach them.
#![allow(clippy::panic)]

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::{Key, OK, Scratch, argv};

const ISSUER: &str = "example.com";
const NAME: &str = "Example";
/// Where the issuer folder lives inside the scratch folder.
const ORG: &str = "org";
/// The moment of publishing: statement 3 is fresh then.
const PUBLISH_AT: &str = "2026-07-02T12:00:00Z";

/// The hostile texts: markup, quotes, an entity, control characters.
const HOSTILE_TITLE: &str = "DNS <script>alert(1)</script> \"quoted\" 'single' &amp; \u{7}bell \u{1b}[31mred \u{202e}desrever";
const HOSTILE_WHAT: &str = "A resolver answered <img src=x onerror=alert(1)> with \u{1b}[31m\"poisoned\"\u{7} records &amp; more.";
const HOSTILE_BODY: &str =
    "Fixed </li></ol><script>alert(2)</script> \u{1b}]0;title\u{7} 'ok' & done.";

/// The notes of statement 3.
const NOTES: &str = "Our servers moved to a new data centre in June; the keys that sign this canary did not change.";

/// The three components of canary.toml: id and display name.
const COMPONENTS: &[(&str, &str)] = &[
    ("app-server", "App & Server"),
    ("push-notifications", "Push Notifications"),
    ("dns-discovery", "DNS Discovery"),
];

/// The four headings every incident shows, as the seed status page has them.
const HEADINGS: &[&str] = &[
    "When & what was affected",
    "What happened",
    "What was compromised/lost",
    "Measures taken to prevent this in the future",
];

/// Chromium may take this long for one page before it is killed.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// The issuer folder

/// The keys and the incidents of the fixture.
struct Fixture {
    scratch: Scratch,
    alice: Key,
    bob: Key,
    /// Incident ids with their titles, in the order they were opened.
    incidents: Vec<(&'static str, &'static str)>,
}

/// Runs `canary-sign ARGS` and expects success.
#[track_caller]
fn ok(s: &Scratch, args: &[&str]) {
    s.run(args).code(OK);
}

/// Drafts statement `seq` at `at` (with `notes`, if any), signs it with
/// alice and co-signs it with bob.
fn statement(f: &Fixture, seq: u64, at: &str, notes: Option<&str>) {
    let s = &f.scratch;
    let draft = format!("draft{seq}.json");
    ok(s, &["new", "--dir", ORG, "--at", at, "--out", &draft]);
    if let Some(notes) = notes {
        let mut json = s.read_json(&draft);
        json["notes"] = notes.into();
        s.write_json(&draft, &json);
    }
    let a = f.alice.args();
    ok(s, &argv(&["sign", &draft, "--dir", ORG, "--at", at], &a));
    let path = format!("{ORG}/statements/{seq:06}.json");
    let b = f.bob.args();
    ok(s, &argv(&["sign", &path, "--dir", ORG, "--at", at], &b));
}

/// Runs `canary-sign incident VERB --id ID ARGS --at AT` with alice, then
/// co-signs the new version with bob.
fn incident(f: &Fixture, verb: &str, id: &str, version: u64, at: &str, args: &[&str]) {
    let s = &f.scratch;
    let mut all = vec!["incident", verb, "--dir", ORG, "--id", id, "--at", at];
    all.extend_from_slice(args);
    let a = f.alice.args();
    ok(s, &argv(&all, &a));
    let path = format!("{ORG}/incidents/{id}/{version:06}.json");
    let b = f.bob.args();
    ok(s, &argv(&["sign", &path, "--dir", ORG, "--at", at], &b));
}

/// Builds the issuer folder with the real binary.
fn fixture() -> Fixture {
    let scratch = Scratch::new();
    let alice = scratch.keygen("alice", None);
    let bob = scratch.keygen("bob", None);
    ok(
        &scratch,
        &[
            "init",
            "--issuer",
            ISSUER,
            "--name",
            NAME,
            "--dir",
            ORG,
            "--threshold",
            "2",
            "--key",
            "keys/alice.pub",
            "--key",
            "keys/bob.pub",
        ],
    );
    let config = scratch.read_string(&format!("{ORG}/canary.toml"));
    let template = "[[components]]\nid = \"website\"\nname = \"Website\"\n";
    assert!(
        config.contains(template),
        "the template's [[components]] section changed:\n{config}"
    );
    let components: String = COMPONENTS
        .iter()
        .map(|(id, name)| format!("[[components]]\nid = \"{id}\"\nname = \"{name}\"\n\n"))
        .collect();
    scratch.write(
        &format!("{ORG}/canary.toml"),
        config.replace(template, components.trim_end()),
    );
    let mut f = Fixture {
        scratch,
        alice,
        bob,
        incidents: Vec::new(),
    };

    statement(&f, 1, "2026-01-05T10:00:00Z", None);

    // The seed's three incidents, resolved ...
    let db = "2026-01-database-upgrade";
    let db_title = "Server outage during a database upgrade";
    incident(
        &f,
        "new",
        db,
        1,
        "2026-01-20T02:10:00Z",
        &[
            "--title",
            db_title,
            "--impact",
            "critical",
            "--affected",
            "app-server",
            "--started-at",
            "2026-01-20T02:00:00Z",
            "--message",
            "The app and the server do not respond. We are investigating.",
        ],
    );
    incident(
        &f,
        "update",
        db,
        2,
        "2026-01-20T02:40:00Z",
        &[
            "--status",
            "identified",
            "--message",
            "A database upgrade is taking much longer than planned; the server waits for it.",
            "--what-happened",
            "A scheduled upgrade of the main database rewrote a large table in place. \
             The rewrite held a lock the server needs for every request, so the app and \
             the server stopped responding for two hours and fifteen minutes.\n\n\
             No data was changed or lost: the upgrade completed and was verified before \
             the server was let back in.",
            "--compromised",
            "Availability only: no messages, accounts or keys were lost or exposed.",
            "--data-lost",
            "false",
            "--data-exposed",
            "false",
        ],
    );
    incident(
        &f,
        "resolve",
        db,
        3,
        "2026-01-20T04:15:00Z",
        &[
            "--message",
            "The upgrade is complete and the server answers normally again.",
            "--done",
            "mitigate:Stopped the upgrade's lock-holding phase and finished it offline",
            "--done",
            "process:Database upgrades are rehearsed on a copy of production first",
            "--measure",
            "prevent:Run schema changes online, without table locks",
        ],
    );
    f.incidents.push((db, db_title));

    let push = "2026-02-push-certificate";
    let push_title = "Push notifications failed: expired certificate";
    incident(
        &f,
        "new",
        push,
        1,
        "2026-02-01T08:00:00Z",
        &[
            "--title",
            push_title,
            "--impact",
            "major",
            "--affected",
            "push-notifications",
            "--message",
            "Push notifications are not delivered; we are investigating.",
        ],
    );
    incident(
        &f,
        "update",
        push,
        2,
        "2026-02-01T09:30:00Z",
        &[
            "--status",
            "monitoring",
            "--message",
            "A renewed certificate is installed; notifications are flowing again.",
            "--what-happened",
            "The Apple Push Notification service certificate expired on 1 February at 06:12 UTC. \
             From then on no push notification reached an iPhone.",
            "--compromised",
            "Notifications sent during the outage were not delivered; messages themselves were not affected.",
            "--done",
            "mitigate:Installed a renewed certificate",
        ],
    );
    incident(
        &f,
        "resolve",
        push,
        3,
        "2026-02-01T11:00:00Z",
        &[
            "--message",
            "Delivery is back to normal.",
            "--measure",
            "prevent:Alert 30 days before any certificate expires",
        ],
    );
    f.incidents.push((push, push_title));

    statement(&f, 2, "2026-04-01T09:00:00Z", None);

    // ... one whose texts are hostile ...
    let hostile = "2026-05-hostile-text";
    incident(
        &f,
        "new",
        hostile,
        1,
        "2026-05-10T12:00:00Z",
        &[
            "--title",
            HOSTILE_TITLE,
            "--kind",
            "informational",
            "--impact",
            "minor",
            "--affected",
            "dns-discovery",
            "--message",
            "Some DNS answers were wrong.",
            "--what-happened",
            HOSTILE_WHAT,
            "--compromised",
            "Nothing <b>bold</b> was lost.",
        ],
    );
    incident(
        &f,
        "resolve",
        hostile,
        2,
        "2026-05-10T13:30:00Z",
        &[
            "--message",
            HOSTILE_BODY,
            "--done",
            "prevent:Sign <em>every</em> DNS zone",
        ],
    );
    f.incidents.push((hostile, "DNS"));

    // ... and one still open: Push Notifications is down right now.
    let open = "2026-06-push-outage";
    let open_title = "Push notifications delayed or not delivered";
    incident(
        &f,
        "new",
        open,
        1,
        "2026-07-01T14:20:00Z",
        &[
            "--title",
            open_title,
            "--impact",
            "major",
            "--affected",
            "push-notifications",
            "--started-at",
            "2026-07-01T14:05:00Z",
            "--message",
            "Push notifications are delayed by up to an hour or not delivered. We are investigating.",
        ],
    );
    incident(
        &f,
        "update",
        open,
        2,
        "2026-07-01T15:05:00Z",
        &[
            "--status",
            "identified",
            "--message",
            "Our push provider is rate-limiting us after a configuration change on their side.",
            "--what-happened",
            "Since 14:05 UTC our push provider rejects most of our notification requests.",
            "--measure",
            "mitigate:Fall back to a second push provider",
        ],
    );
    f.incidents.push((open, open_title));

    statement(&f, 3, "2026-07-02T09:00:00Z", Some(NOTES));
    f
}

/// Publishes the folder to `out` at `at`; returns index.html.
fn publish(f: &Fixture, out: &str, at: &str) -> String {
    ok(
        &f.scratch,
        &["publish", "--dir", ORG, "--out", out, "--at", at],
    );
    f.scratch.read_string(&format!("{out}/index.html"))
}

// ---------------------------------------------------------------------------
// Reading the page

/// The text of a component's row in the "System status" section.
fn component_row<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find("id=\"status-heading\"")
        .expect("a System status section");
    let section = &html[start..];
    let section = &section[..section.find("</section>").expect("the section ends")];
    section
        .split("<li")
        .find(|row| row.contains(name))
        .unwrap_or_else(|| panic!("no component row for {name:?} in:\n{section}"))
}

/// Every value of `attr="..."` in the markup.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            &rest[..rest.find('"').expect("the attribute value ends")]
        })
        .collect()
}

/// What both the file and the browser's DOM must show.
fn assert_shows_everything(html: &str, f: &Fixture, what: &str) {
    for (_, name) in COMPONENTS {
        let name = name.replace('&', "&amp;");
        let row = component_row(html, &name);
        let expected = if name == "Push Notifications" {
            "Outage"
        } else {
            "Operational"
        };
        assert!(
            row.contains(expected),
            "{what}: {name} should show {expected}: {row}"
        );
    }
    for text in [
        "We have never received a search warrant.",
        "We have never been placed under a gag order.",
        "We have never received a National Security Letter.",
        "We have never been compelled to disclose encryption keys.",
        "We have never placed a backdoor in our software or infrastructure.",
    ] {
        assert!(html.contains(text), "{what}: the canary lacks {text:?}");
    }
    for (id, title) in &f.incidents {
        assert!(html.contains(id), "{what}: incident {id} is missing");
        assert!(html.contains(title), "{what}: title {title:?} is missing");
    }
    for heading in HEADINGS {
        let escaped = heading.replace('&', "&amp;");
        assert_eq!(
            html.matches(&format!(">{escaped}</h4>")).count(),
            f.incidents.len(),
            "{what}: every incident has the heading {heading:?}"
        );
    }
    // Key ids and digests are written in groups that wrap only between
    // groups (<span>s joined by <wbr>): read without that markup.
    let joined = html
        .replace("<span>", "")
        .replace("</span>", "")
        .replace("<wbr>", "");
    for key in [&f.alice, &f.bob] {
        let id = key.public.id().to_string();
        assert!(
            joined.contains(&format!(">{id}</code>")),
            "{what}: signer {id} is missing"
        );
    }
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{what}: the hostile title is not shown escaped"
    );
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "{what}: a <script> element"
    );
    assert!(
        !html.to_ascii_lowercase().contains("<img"),
        "{what}: an <img> element from document text"
    );
}

#[test]
fn status_page_shows_components_canary_and_incidents_safely() {
    let f = fixture();
    let html = publish(&f, "site", PUBLISH_AT);

    // A page of its own: landmarks, one h1, a viewport for phones, English.
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    for needle in [
        "<html lang=\"en\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<header",
        "<main",
        "<footer",
        "<section class=\"block\" aria-labelledby=\"status-heading\"",
        "aria-labelledby=\"canary-heading\"",
        "aria-labelledby=\"incidents-heading\"",
        "<style>",
    ] {
        assert!(html.contains(needle), "index.html lacks {needle:?}");
    }
    assert_eq!(html.matches("<h1").count(), 1, "exactly one h1");
    assert!(html.contains(&format!("<h1>{NAME}</h1>")));

    // Nothing is loaded from anywhere: no scripts, images, style sheets,
    // fonts or frames, and no link leaves the site.
    let lower = html.to_ascii_lowercase();
    for needle in [
        "<script", "<img", "<iframe", "<object", "<embed", "url(", "@import",
    ] {
        assert!(!lower.contains(needle), "index.html contains {needle:?}");
    }
    assert_eq!(attribute_values(&html, "src"), Vec::<&str>::new());
    for value in attribute_values(&html, "href") {
        let v = value.to_ascii_lowercase();
        assert!(
            !v.contains("http:") && !v.contains("https:") && !v.starts_with("//"),
            "an external link: href={value:?}"
        );
    }
    assert!(!lower.contains("http://") && !lower.contains("https://"));

    // Document text is escaped and has no control characters.
    assert!(
        html.chars().all(|c| c == '\n' || !c.is_control()),
        "a control character in index.html"
    );
    assert!(!html.contains('\u{202e}'), "a bidi override in index.html");
    for needle in [
        "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; 'single' &amp;amp;",
        "&lt;img src=x onerror=alert(1)&gt;",
        "&lt;/li&gt;&lt;/ol&gt;&lt;script&gt;alert(2)&lt;/script&gt;",
        "Nothing &lt;b&gt;bold&lt;/b&gt; was lost.",
        "Sign &lt;em&gt;every&lt;/em&gt; DNS zone",
    ] {
        assert!(html.contains(needle), "index.html lacks {needle:?}");
    }

    // Components, canary, incidents, signers.
    assert_shows_everything(&html, &f, "index.html");
    assert!(
        html.contains("Partial service outage"),
        "the overall banner"
    );
    for needle in [
        // The canary: its date, dates due and expiring, signatures, digest.
        "As of <time datetime=\"2026-07-02T09:00:00Z\">2 July 2026, 09:00 UTC</time>, <strong>Example</strong> warrants that:",
        "<time datetime=\"2026-09-30T09:00:00Z\"><span class=\"date\">30 September 2026</span><span class=\"sep\">, </span><span class=\"clock\">09:00 UTC</span></time>",
        "<time datetime=\"2026-10-14T09:00:00Z\"><span class=\"date\">14 October 2026</span>",
        "2 of 2 signatures",
        NOTES,
        "No. 3",
        "sha256:",
        "canary verify example.com",
        "href=\".well-known/canary/trust.toml\"",
        "href=\".well-known/canary.json\"",
        "href=\"canary.txt\"",
        "href=\"feed.atom\"",
        "href=\"status.json\"",
        // Incidents: dates, ongoing, affected names, measures, timeline.
        "<time datetime=\"2026-01-20T02:00:00Z\">20 January 2026, 02:00 UTC</time>",
        "<time datetime=\"2026-01-20T04:15:00Z\">20 January 2026, 04:15 UTC</time>",
        "(2 h 15 min)",
        "<strong>ongoing</strong>",
        "<li>App &amp; Server</li>",
        "<li>Push Notifications</li>",
        "<li>DNS Discovery</li>",
        "Data lost: <strong>no</strong>",
        "Data exposed: <strong>no</strong>",
        ">done</span>",
        ">planned</span>",
        "<ol class=\"timeline\" reversed>",
    ] {
        assert!(html.contains(needle), "index.html lacks {needle:?}");
    }

    assert_eq!(html.matches("<article ").count(), f.incidents.len());
    // Newest first: the open incident, then the hostile one, then the two
    // oldest, newest first.
    let order: Vec<usize> = [
        "2026-06-push-outage",
        "2026-05-hostile-text",
        "2026-02-push-certificate",
        "2026-01-database-upgrade",
    ]
    .iter()
    .map(|id| {
        html.find(&format!("id=\"incident-{id}\""))
            .unwrap_or_else(|| panic!("no article for {id}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

    // Deterministic, and independent of the moment of publishing.
    assert_eq!(
        publish(&f, "again", PUBLISH_AT),
        html,
        "same input, same page"
    );
    assert_eq!(
        publish(&f, "later", "2026-07-20T00:00:00Z"),
        html,
        "the page does not depend on the clock"
    );

    browser_checks(&f, &f.scratch.path("site/index.html"));
}

// ---------------------------------------------------------------------------
// A real browser

/// Chromium, if installed.
fn chromium() -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// True under CI (`CI` set to anything but empty, `0` or `false`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// A script for the page: for every `code.hex`, the characters that start a
/// new line, which must each start a 16-character group after the
/// `sha256:` prefix; the counts go into the DOM as `WRAP checked=N
/// wrapped=N bad=N ... END`.
const WRAP_PROBE: &str = r#"<script>
(function () {
  var checked = 0, wrapped = 0, bad = 0, where = [];
  document.querySelectorAll('code.hex').forEach(function (el) {
    checked++;
    var tops = [];
    var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    var node;
    while ((node = walker.nextNode())) {
      for (var i = 0; i < node.length; i++) {
        var r = document.createRange();
        r.setStart(node, i);
        r.setEnd(node, i + 1);
        tops.push(r.getBoundingClientRect().top);
      }
    }
    var text = el.textContent;
    var prefix = text.indexOf(':') + 1;
    var lines = 1;
    for (var j = 1; j < tops.length; j++) {
      if (tops[j] > tops[j - 1] + 2) {
        lines++;
        if (j < prefix || (j - prefix) % 16 !== 0) { bad++; where.push(text.slice(0, 12) + 'at' + j); }
      }
    }
    if (lines > 1) { wrapped++; }
  });
  var out = document.createElement('pre');
  out.textContent = 'WRAP checked=' + checked + ' wrapped=' + wrapped + ' bad=' + bad + ' ' + where.join(',') + ' END';
  document.body.appendChild(out);
})();
</script>"#;

/// Runs headless Chromium on `page` with `args`, killing it after
/// [`BROWSER_TIMEOUT`]; returns its standard output.
fn run_chromium(browser: &Path, work: &Path, name: &str, args: &[String], page: &Path) -> String {
    let profile = work.join(format!("profile-{name}"));
    let stdout_path = work.join(format!("{name}.stdout"));
    let stderr_path = work.join(format!("{name}.stderr"));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("create the stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("create the stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium ({name}) did not finish within {BROWSER_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&stdout_path).expect("read chromium's stdout");
    assert!(
        status.success(),
        "chromium ({name}) failed with {status}; stderr:\n{}",
        std::fs::read_to_string(&stderr_path).unwrap_or_default()
    );
    stdout
}

/// A decoded screenshot: width, height and RGB pixels.
struct Image {
    width: u32,
    height: u32,
    rgb: Vec<[u8; 3]>,
}

fn decode_png(path: &Path) -> Image {
    let file = std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane image size")];
    let info = reader.next_frame(&mut buf).expect("PNG pixels");
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| match channels {
            1 | 2 => [p[0], p[0], p[0]],
            _ => [p[0], p[1], p[2]],
        })
        .collect();
    Image {
        width: info.width,
        height: info.height,
        rgb,
    }
}

/// The "Partial service outage" banner: orange, darker in dark mode.
const LIGHT_BANNER: [u8; 3] = [0xbc, 0x4c, 0x00];
const DARK_BANNER: [u8; 3] = [0x9b, 0x42, 0x15];

/// Asserts a screenshot is a rendered page, not a blank or broken one: many
/// pixels away from the background, many colours, and the banner's colour
/// (the style sheet applied, in the expected colour scheme).
fn assert_rendered(image: &Image, width: u32, banner_rgb: [u8; 3], what: &str) {
    assert_eq!(image.width, width, "{what}: width");
    assert!(image.height >= 1000, "{what}: height {}", image.height);
    let mut counts = std::collections::HashMap::new();
    for p in &image.rgb {
        *counts.entry(*p).or_insert(0usize) += 1;
    }
    let (background, _) = counts.iter().max_by_key(|(_, n)| **n).expect("some pixels");
    let differing = image.rgb.iter().filter(|p| *p != background).count();
    assert!(
        differing > 20_000,
        "{what}: only {differing} pixels differ from the background {background:?}"
    );
    assert!(
        counts.len() > 50,
        "{what}: only {} distinct colours",
        counts.len()
    );
    let near = |p: &[u8; 3], q: [u8; 3]| p.iter().zip(q).all(|(a, b)| a.abs_diff(b) <= 6);
    let banner = image.rgb.iter().filter(|p| near(p, banner_rgb)).count();
    assert!(
        banner > 2_000,
        "{what}: the orange banner is missing ({banner} pixels)"
    );
}

/// The workspace's target folder, where CI keeps artifacts.
fn target_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

fn browser_checks(f: &Fixture, page: &Path) {
    let Some(browser) = chromium() else {
        assert!(
            !in_ci(),
            "chromium not found, and CI is set: .ci/run must install it (apt-get install -y chromium) \
             so the status page is checked in a real browser"
        );
        eprintln!(
            "SKIPPED: chromium not found (apt-get install chromium); the status page was checked as text only"
        );
        return;
    };
    let page = page.canonicalize().expect("the page's absolute path");
    let work = f.scratch.path("browser");
    std::fs::create_dir_all(&work).expect("create the browser folder");

    // The DOM the browser built, and screenshots of a desktop, a phone and
    // a desktop in dark mode, all at once.
    let shots = [
        ("wide", 1280, 2000, LIGHT_BANNER),
        ("phone", 390, 1600, LIGHT_BANNER),
        ("dark", 1280, 2000, DARK_BANNER),
    ];
    let mut runs = vec![("dom", vec!["--dump-dom".to_owned()])];
    // The same page with a script that finds, for every key id and digest,
    // the characters that start a new line: each must start a 16-character
    // group (no stray character alone on a line), at desktop and phone
    // widths.
    let measured = work.join("measure.html");
    let html = std::fs::read_to_string(&page).expect("read the page");
    std::fs::write(
        &measured,
        html.replace("</body>", &format!("{WRAP_PROBE}</body>")),
    )
    .expect("write the measured page");
    let wrap_runs = [("wrap-wide", 1280), ("wrap-phone", 390)];
    for (name, width, height, _) in shots {
        let mut args = vec![
            format!(
                "--screenshot={}",
                work.join(format!("{name}.png")).display()
            ),
            format!("--window-size={width},{height}"),
        ];
        if name == "dark" {
            args.push("--force-dark-mode".to_owned());
        }
        runs.push((name, args));
    }
    let wrap_args: Vec<(&str, Vec<String>)> = wrap_runs
        .iter()
        .map(|(name, width)| {
            (
                *name,
                vec![
                    "--dump-dom".to_owned(),
                    format!("--window-size={width},2000"),
                ],
            )
        })
        .collect();
    let outputs: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(name, args)| (name, args, &page))
            .chain(wrap_args.iter().map(|(name, args)| (name, args, &measured)))
            .map(|(name, args, page)| {
                let (browser, work) = (&browser, &work);
                scope.spawn(move || run_chromium(browser, work, name, args, page))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });

    for (i, (name, _)) in wrap_runs.iter().enumerate() {
        let dom = &outputs[runs.len() + i];
        let report = dom
            // The last one: the report, after the script's own text.
            .rsplit_once("WRAP ")
            .and_then(|(_, r)| r.split_once(" END"))
            .map(|(r, _)| r)
            .unwrap_or_else(|| panic!("{name}: the wrap probe did not run:\n{dom}"));
        let field = |key: &str| -> u64 {
            report
                .split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name}: no {key} in {report}"))
        };
        assert!(field("checked=") >= 4, "{name}: {report}");
        assert_eq!(
            field("bad="),
            0,
            "{name}: a group split across lines: {report}"
        );
        if *name == "wrap-phone" {
            assert!(
                field("wrapped=") > 0,
                "{name}: nothing wrapped, so nothing was tested: {report}"
            );
        }
    }
    let dom = &outputs[0];
    assert!(dom.contains("<h1>"), "chromium dumped no page:\n{dom}");
    assert_shows_everything(dom, f, "the rendered DOM");
    for (name, width, _, banner) in shots {
        assert_rendered(
            &decode_png(&work.join(format!("{name}.png"))),
            width,
            banner,
            name,
        );
    }

    let target = target_dir();
    std::fs::create_dir_all(&target).expect("create the target folder");
    for (name, file) in [
        ("wide", "status-page.png"),
        ("phone", "status-page-phone.png"),
        ("dark", "status-page-dark.png"),
    ] {
        std::fs::copy(work.join(format!("{name}.png")), target.join(file))
            .unwrap_or_else(|e| panic!("copy the {name} screenshot to {}: {e}", target.display()));
    }
    eprintln!(
        "screenshots: {} (and -phone, -dark)",
        target.join("status-page.png").display()
    );
}
