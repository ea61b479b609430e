//! Incident records that do not mislead: an open record says "not yet
//! known" about data lost and exposed (never "no"), "What happened" holds
//! only what the maintainer wrote as such, and a record written up after
//! the fact carries the real start and end times.

mod util;

use util::{OK, REFUSED, Scratch, argv};

/// When the outage began.
const STARTED: &str = "2026-02-01T08:00:00Z";
/// When it ended: three hours later.
const RESOLVED: &str = "2026-02-01T11:00:00Z";
/// When it was written up: a week later.
const WRITTEN: &str = "2026-02-08T10:00:00Z";

fn setup() -> (Scratch, Vec<String>) {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    s.init_org(&["keys/alice.pub"], 1);
    s.draft(STARTED, "d1.json");
    let key = alice.args();
    s.run(&argv(
        &["sign", "d1.json", "--dir", "org", "--at", STARTED],
        &key,
    ))
    .code(OK);
    (s, key)
}

fn publish_page(s: &Scratch, at: &str) -> String {
    s.run(&["publish", "--dir", "org", "--out", "site", "--at", at])
        .code(OK);
    s.read_string("site/index.html")
}

/// Publishes after listing the incident in a new statement at `at`.
fn list_and_publish(s: &Scratch, key: &[String], at: &str, name: &str) -> String {
    s.draft(at, name);
    s.run(&argv(&["sign", name, "--dir", "org", "--at", at], key))
        .code(OK);
    publish_page(s, at)
}

#[test]
fn an_open_record_says_not_yet_known_and_invents_no_what_happened() {
    let (s, key) = setup();
    let new = [
        "incident",
        "new",
        "--dir",
        "org",
        "--id",
        "push",
        "--title",
        "Push failed",
        "--impact",
        "major",
        "--message",
        "We are investigating.",
        "--at",
        STARTED,
    ];
    s.run(&argv(&new, &key)).code(OK);
    let record = util::payload_json(&s.read("org/incidents/push/000001.json"));
    assert_eq!(
        record["what_happened"], "",
        "the first update is not what happened"
    );
    assert_eq!(record["compromised"]["data_lost"], false);

    let page = list_and_publish(&s, &key, "2026-02-01T09:00:00Z", "d2.json");
    assert!(
        page.contains("Data lost: <strong>not yet known</strong>"),
        "{page}"
    );
    assert!(page.contains("Data exposed: <strong>not yet known</strong>"));
    assert!(!page.contains("Data lost: <strong>no</strong>"));
    assert!(page.contains("Not described yet."));
    assert!(!page.contains("<p class=\"prose\">We are investigating.</p>\n"));

    // Resolved with the flags left false: now "no" is an answer.
    let resolve = [
        "incident",
        "resolve",
        "--dir",
        "org",
        "--id",
        "push",
        "--message",
        "Fixed.",
        "--what-happened",
        "A certificate expired.",
        "--at",
        "2026-02-01T10:00:00Z",
    ];
    s.run(&argv(&resolve, &key)).code(OK);
    let page = list_and_publish(&s, &key, "2026-02-01T10:00:00Z", "d3.json");
    assert!(page.contains("Data lost: <strong>no</strong>"), "{page}");
    assert!(page.contains("A certificate expired."));
    assert!(!page.contains("not yet known"));
}

#[test]
fn a_record_written_after_the_fact_shows_the_real_times() {
    let (s, key) = setup();
    let new = [
        "incident",
        "new",
        "--dir",
        "org",
        "--id",
        "outage",
        "--title",
        "Outage",
        "--impact",
        "critical",
        "--message",
        "Written up after the fact.",
        "--started-at",
        STARTED,
        "--at",
        WRITTEN,
    ];
    s.run(&argv(&new, &key)).code(OK);
    // The end cannot come before the start or after now.
    for (bad, why) in [
        (
            "2026-02-01T07:00:00Z",
            "resolved_at: must not be before started_at",
        ),
        ("2026-02-09T00:00:00Z", "resolved_at: is in the future"),
    ] {
        let resolve = [
            "incident",
            "resolve",
            "--dir",
            "org",
            "--id",
            "outage",
            "--message",
            "Resolved.",
            "--resolved-at",
            bad,
            "--at",
            WRITTEN,
        ];
        s.run(&argv(&resolve, &key)).code(REFUSED).stderr_has(why);
    }
    let resolve = [
        "incident",
        "resolve",
        "--dir",
        "org",
        "--id",
        "outage",
        "--message",
        "Resolved.",
        "--resolved-at",
        RESOLVED,
        "--at",
        WRITTEN,
    ];
    s.run(&argv(&resolve, &key)).code(OK);
    let record = util::payload_json(&s.read("org/incidents/outage/000002.json"));
    assert_eq!(record["started_at"], STARTED);
    assert_eq!(record["resolved_at"], RESOLVED);
    assert_eq!(
        record["updates"][1]["at"], WRITTEN,
        "the update is dated --at"
    );

    let page = list_and_publish(&s, &key, WRITTEN, "d2.json");
    assert!(
        page.contains("(3 h)"),
        "the outage lasted three hours: {page}"
    );
    assert!(!page.contains("(7 days"), "{page}");

    // A start after the update's own time is refused.
    let early = [
        "incident",
        "new",
        "--dir",
        "org",
        "--id",
        "later",
        "--title",
        "Later",
        "--impact",
        "minor",
        "--message",
        "m",
        "--started-at",
        WRITTEN,
        "--at",
        STARTED,
    ];
    s.run(&argv(&early, &key))
        .code(REFUSED)
        .stderr_has("started_at: is in the future");
}
