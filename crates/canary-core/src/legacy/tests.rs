use super::*;
use crate::verify::Verdict;

const QUBES: &str = "\
                    ---===[ Qubes Canary 040 ]===---


Statements
-----------

The Qubes security team members who have digitally signed this file [1]
state the following:

1. The date of issue of this canary is September 09, 2024.

2. There have been 103 Qubes security bulletins published so far.

3. The Qubes Master Signing Key fingerprint is:

       427F 11FD 0FAA 4B08 0123  F01C DDFA 1A3E 3687 9494

4. No warrants have ever been served to us with regard to the Qubes OS
   Project (e.g. to hand out the private signing keys or to introduce
   backdoors).

5. We plan to publish the next of these canary statements in the first
   fourteen days of December 2024. Special note should be taken if no new
   canary is published by that time or if the list of statements changes
   without plausible explanation.


Special announcements
----------------------

None.


Disclaimers and notes
----------------------

1. Not a statement.

Footnotes
----------

[1] This file should be signed in two ways.
";

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn trust(extra: &str) -> LegacyTrust {
    LegacyTrust::from_toml(&format!(
        "issuer = \"qubes-os.org\"\nformat = \"openpgp\"\nkeys = [\"a.asc\", \"b.asc\"]\nthreshold = 2\n{extra}"
    ))
    .expect("trust")
}

#[test]
fn qubes_profile_reads_the_canary() {
    let t = trust("profile = \"qubes\"\nsignatures = [\"{url}.sig.a\", \"{url}.sig.b\"]\n");
    let c = t.profile.read(QUBES).expect("read");
    assert_eq!(c.issued, ts("2024-09-09T00:00:00Z"));
    assert_eq!(c.due, Some(ts("2024-12-15T00:00:00Z")));
    let ids: Vec<&str> = c.statements.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    assert_eq!(
        c.statements[2].1,
        "The Qubes Master Signing Key fingerprint is: 427F 11FD 0FAA 4B08 0123 F01C DDFA 1A3E 3687 9494"
    );
    assert!(c.statements[3].1.starts_with(
        "No warrants have ever been served to us with regard to the Qubes OS Project"
    ));
    assert_eq!(
        c.volatile,
        ["1", "2", "5"].iter().map(|s| (*s).to_owned()).collect()
    );
    assert_eq!(c.notes.as_deref(), Some("None."));
    assert_eq!(
        t.signature_locations("https://x/c.txt")[1],
        "https://x/c.txt.sig.b"
    );
}

#[test]
fn verdicts_by_date() {
    let t = trust("profile = \"qubes\"\n");
    let c = t.profile.read(QUBES).expect("read");
    let skew = TimeDelta::minutes(5);
    assert!(check_canary(&t, &c, ts("2024-12-14T23:59:59Z"), skew, None).is_empty());
    let late = check_canary(&t, &c, ts("2024-12-15T00:00:00Z"), skew, None);
    assert_eq!(late[0].code(), "late");
    assert_eq!(late[0].verdict(), Verdict::Warning);
    let stale = check_canary(&t, &c, ts("2024-12-29T00:00:00Z"), skew, None);
    assert_eq!(stale[0].code(), "expired");
    assert_eq!(stale[0].verdict(), Verdict::Stale);
    // Dated September 09: that day begins at 10:00 UTC on the 8th (UTC+14).
    let future = check_canary(&t, &c, ts("2024-09-08T09:54:59Z"), skew, None);
    assert_eq!(future[0].code(), "future");
    assert!(check_canary(&t, &c, ts("2024-09-08T09:55:00Z"), skew, None).is_empty());
    assert!(check_canary(&t, &c, ts("2024-09-08T23:00:00Z"), skew, None).is_empty());
}

#[test]
fn unparsable_names_the_rule() {
    let t = trust("profile = \"qubes\"\n");
    let no_date = QUBES.replace("September 09, 2024", "someday");
    let e = t.profile.read(&no_date).expect_err("no date");
    assert!(
        matches!(&e, Finding::Unparsable { rule, .. } if rule == "issued"),
        "{e}"
    );
    let no_plan = QUBES.replace("fourteen days of December 2024", "days");
    let e = t.profile.read(&no_plan).expect_err("no due");
    assert!(
        matches!(&e, Finding::Unparsable { rule, .. } if rule == "due"),
        "{e}"
    );
    let bad_month = QUBES.replace("December 2024", "Decembruary 2024");
    assert!(t.profile.read(&bad_month).is_err());
    assert!(t.profile.read("").is_err());
    assert!(t.profile.read("\u{0}\u{202e}1. x").is_err());
}

#[test]
fn state_rules() {
    let t = trust("profile = \"qubes\"\n");
    let c = t.profile.read(QUBES).expect("read");
    let now = ts("2024-09-10T00:00:00Z");
    let d = Digest::of(QUBES.as_bytes());
    let state = LegacyState::record("qubes-os.org", &c, d, now);
    assert!(state.check(&c, d, now).is_empty());

    // Same date, other bytes.
    let other = Digest::of(b"x");
    assert_eq!(state.check(&c, other, now)[0].code(), "equivocation");

    // Next quarter: volatile statements change, a promise is removed.
    let next = QUBES
        .replace("September 09, 2024", "December 02, 2024")
        .replace("103 Qubes", "104 Qubes")
        .replace("December 2024", "March 2025");
    let n = t.profile.read(&next).expect("next");
    assert!(state.check(&n, Digest::of(next.as_bytes()), now).is_empty());
    let removed = next.replace(
        "4. No warrants have ever been served to us",
        "   No warrants have ever been served to us",
    );
    let r = t.profile.read(&removed).expect("removed");
    let f = state.check(&r, Digest::of(removed.as_bytes()), now);
    // Statement 4 now runs on inside statement 3.
    assert!(
        f.iter().any(|f| f.code() == "statement-removed"
            && f.verdict() == Verdict::Tripped
            && f.to_string().contains("No warrants have ever been served")),
        "{f:?}"
    );

    // Statement 4 dropped and the plan renumbered onto its number: the
    // plan is volatile now, but 4 was a promise in the issue remembered,
    // so its loss trips (DESIGN §11).
    let dropped = next.replace(
        "4. No warrants have ever been served to us with regard to the Qubes OS
   Project (e.g. to hand out the private signing keys or to introduce
   backdoors).

5. We plan",
        "4. We plan",
    );
    assert_ne!(dropped, next);
    let r = t.profile.read(&dropped).expect("dropped");
    let f = state.check(&r, Digest::of(dropped.as_bytes()), now);
    assert!(
        f.iter().any(|f| f.verdict() == Verdict::Tripped
            && f.to_string().contains("No warrants have ever been served")),
        "{f:?}"
    );
    // And the plan moving up when a promise is added before it is no
    // rewording: 5 was volatile in the issue remembered.
    let added = next.replace(
        "5. We plan",
        "5. No national security letters have been served to us.

6. We plan",
    );
    let a = t.profile.read(&added).expect("added");
    assert!(
        state
            .check(&a, Digest::of(added.as_bytes()), now)
            .is_empty()
    );

    // Older date: rollback.
    let new_state = LegacyState::record("qubes-os.org", &n, Digest::of(next.as_bytes()), now);
    let f = new_state.check(&c, d, now);
    assert_eq!(f[0].code(), "rollback");
    assert_eq!(f[0].verdict(), Verdict::Invalid);

    // Announcements: a warning.
    let noted = next.replace("\nNone.\n", "\nWe moved.\n");
    let m = t.profile.read(&noted).expect("noted");
    let f = state.check(&m, Digest::of(noted.as_bytes()), now);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code(), "notes-changed");
    assert_eq!(f[0].verdict(), Verdict::Warning);
}

#[test]
fn read_table() {
    let t = LegacyTrust::from_toml(
        r#"
issuer = "example.org"
format = "signify"
keys = ["a.pub"]
threshold = 1
signatures = ["{url}.sig"]
max_age = "120d"
[read]
issued = 'As of (?P<date>\d{4}-\d{2}-\d{2})'
date_format = "%Y-%m-%d"
statement = '(?m)^\* (?P<id>[a-z]+): '
volatile = ["date"]
notes = 'Notes:'
"#,
    )
    .expect("trust");
    let c = t
        .profile
        .read("As of 2025-01-02\n\n* date: today\n* warrants: none\n  at all\n\nother\n\nNotes:\nhello\n  world\n")
        .expect("read");
    assert_eq!(c.issued, ts("2025-01-02T00:00:00Z"));
    assert_eq!(c.due, None);
    assert_eq!(
        c.statements,
        vec![
            ("date".into(), "today".into()),
            ("warrants".into(), "none at all".into())
        ]
    );
    assert_eq!(c.notes.as_deref(), Some("hello world"));
    let old = check_canary(
        &t,
        &c,
        ts("2025-06-01T00:00:00Z"),
        TimeDelta::minutes(5),
        None,
    );
    assert_eq!(old[0].code(), "too-old");
}

#[test]
fn trust_file_errors() {
    let bad = [
        "issuer = \"x\"\nformat = \"pgp\"\nkeys = [\"a\"]\nthreshold = 1\nprofile = \"qubes\"",
        "issuer = \"x\"\nformat = \"openpgp\"\nkeys = [\"a\"]\nthreshold = 2\nprofile = \"qubes\"",
        "issuer = \"x\"\nformat = \"openpgp\"\nkeys = [\"a\"]\nthreshold = 1\nprofile = \"nope\"",
        "issuer = \"x\"\nformat = \"signify\"\nkeys = [\"a\"]\nthreshold = 1\nprofile = \"qubes\"",
        "issuer = \"x\"\nformat = \"openpgp\"\nkeys = [\"a\"]\nthreshold = 1\nprofile = \"qubes\"\nsignatures = [\"x.sig\"]",
        "issuer = \"x\"\nformat = \"openpgp\"\nkeys = [\"a\"]\nthreshold = 1\n[read]\nissued = '(?P<date>.*)'\ndate_format = \"%Y\"\nstatement = '(?P<id>x)'",
        "issuer = \"x\"\nformat = \"openpgp\"\nkeys = [\"a\"]\nthreshold = 1\nmax_age = \"9d\"\n[read]\nissued = '(.*)'\ndate_format = \"%Y\"\nstatement = '(?P<id>x)'",
        "issuer = \"x\"\nformat = \"openpgp\"\nkeys = [\"a\"]\nthreshold = 1\nprofile = \"qubes\"\nextra = 1",
    ];
    for b in bad {
        assert!(LegacyTrust::from_toml(b).is_err(), "{b}");
    }
    assert!(LegacyTrust::is_legacy("format = \"openpgp\""));
    assert!(!LegacyTrust::is_legacy("issuer = \"x\""));
    // Quoted keys and spacing count; a `format` under a table, or inside a
    // string, does not.
    assert!(LegacyTrust::is_legacy(
        "# c\n  \"format\"   = \"minisign\"\n"
    ));
    assert!(LegacyTrust::is_legacy(
        "issuer = 'x'\n'format'='signify'\n[read]\nx = 1\n"
    ));
    assert!(!LegacyTrust::is_legacy(
        "issuer = \"x\"\n[read]\nformat = \"openpgp\"\n"
    ));
    assert!(!LegacyTrust::is_legacy(
        "notes = \"\"\"\nformat = 1\n\"\"\"\n"
    ));
    assert!(!LegacyTrust::is_legacy("formats = \"openpgp\""));
}

#[test]
fn gpgv_status() {
    let out = "[GNUPG:] NEWSIG a@x\n[GNUPG:] GOODSIG 6B4A0FCB5721E889 Alice <a@x>\n[GNUPG:] VALIDSIG 231B4B5D3E96505BE7AAC0946B4A0FCB5721E889 2026-12-07 1796605062 0 4 0 22 8 00 231B4B5D3E96505BE7AAC0946B4A0FCB5721E889\n[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG 6B4A0FCB5721E880 22 8 00 1796605062 9 -\n[GNUPG:] NO_PUBKEY 6B4A0FCB5721E880\n";
    let r = gpgv::parse_status(out);
    assert_eq!(r.signatures.len(), 2);
    let now = Timestamp::from_unix(1_796_605_062).expect("t");
    let skew = TimeDelta::minutes(5);
    assert_eq!(
        r.signatures[0].counts(now, skew).as_deref(),
        Ok("231B4B5D3E96505BE7AAC0946B4A0FCB5721E889")
    );
    assert!(r.signatures[1].counts(now, skew).is_err());
    let earlier = Timestamp::from_unix(1_796_605_062 - 3600).expect("t");
    assert!(r.signatures[0].counts(earlier, skew).is_err());
    let revoked = out.replace("GOODSIG", "REVKEYSIG");
    assert!(
        gpgv::parse_status(&revoked).signatures[0]
            .counts(now, skew)
            .is_err()
    );
    let expired = out.replace("GOODSIG", "EXPKEYSIG") + "";
    let mut e = gpgv::parse_status(&expired);
    assert!(e.signatures[0].counts(now, skew).is_err());
    e.signatures[0].key_expired_at = Some(1_796_605_062 + 10);
    assert!(e.signatures[0].counts(now, skew).is_ok());
    e.signatures[0].key_expired_at = Some(1_796_605_062);
    assert!(e.signatures[0].counts(now, skew).is_err());
    assert!(gpgv::parse_status("[GNUPG:] NODATA 1\n").failure.is_some());
}

#[test]
fn read_regexes_without_unicode_case_tables() {
    let table = |issued: &str| {
        LegacyTrust::from_toml(&format!(
            "issuer = \"x\"\nformat = \"openpgp\"\nkeys = [\"a\"]\nthreshold = 1\nmax_age = \"9d\"\n[read]\nissued = '{issued}'\ndate_format = \"%Y-%m-%d\"\nstatement = '(?m)^(?P<id>\\d+)\\. '\n"
        ))
    };
    // Case-insensitive rules match ASCII case-insensitively, written
    // `(?i)` or `(?i-u)`, in every build (regex-lite has no Unicode tables).
    for flag in ["(?i)", "(?i-u)"] {
        let t = table(&format!(
            r"{flag}as\s+of\s+(?P<date>\d{{4}}-\d{{2}}-\d{{2}})"
        ))
        .expect("ascii (?i)");
        let c = t.profile.read("AS OF 2025-01-02\n\n1. x\n").expect("read");
        assert_eq!(c.issued, ts("2025-01-02T00:00:00Z"));
    }
}

#[test]
fn hostile_signature_and_key_files_are_errors() {
    use super::minisign::{MinisignKey, MinisignSignature};
    use super::signify::{SignifyKey, SignifySignature};
    let inputs = [
        "",
        "\n",
        "untrusted comment: x",
        "untrusted comment: x\n",
        "untrusted comment: x\n!!!",
        "untrusted comment: x\nRWQ=",
        "untrusted comment: x\nAAAA\ntrusted comment: t\nAAAA",
        "\u{202e}untrusted comment: x\nAAAA",
    ];
    for i in inputs {
        assert!(SignifyKey::parse(i).is_err(), "{i:?}");
        assert!(SignifySignature::parse(i).is_err(), "{i:?}");
        assert!(MinisignKey::parse(i).is_err(), "{i:?}");
        assert!(MinisignSignature::parse(i).is_err(), "{i:?}");
    }
    // A signify key in minisign's clothes: the right length, the wrong tag.
    let b64 = |bytes: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let mut key = b"Xx".to_vec();
    key.extend([1u8; 40]);
    let text = format!("untrusted comment: x\n{}\n", b64(&key));
    assert!(SignifyKey::parse(&text).is_err());
    assert!(MinisignKey::parse(&text).is_err());
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn reading_any_text(text in "(?s)\\PC{0,400}|[0-9. \\n\\-=a-zA-Z,]{0,400}") {
            let t = trust("profile = \"qubes\"\n");
            let _ = t.profile.read(&text);
            let _ = gpgv::parse_status(&text);
            let _ = super::super::signify::SignifySignature::parse(&text);
            let _ = super::super::minisign::MinisignSignature::parse(&text);
        }

        #[test]
        fn reading_qubes_with_noise(cut in 0usize..2000, noise in "\\PC{0,20}") {
            let t = trust("profile = \"qubes\"\n");
            let mut text = QUBES.to_owned();
            let at = cut.min(text.len());
            if text.is_char_boundary(at) {
                text.insert_str(at, &noise);
            }
            let _ = t.profile.read(&text);
        }
    }
}
