//! What a signer sees before signing: a summary of the document (every
//! promise and what changed, an incident's changes, a rotation's keys and
//! thresholds) printed before any passphrase is asked, and on a terminal a
//! question that only "y" answers (`--yes` for scripts). Terminal runs use
//! util-linux `script` for a real pseudo-terminal.

mod util;

use serde_json::Value;
use util::{Key, OK, REFUSED, Scratch, argv, assert_unchanged, snapshot};

const T1: &str = "2026-01-05T10:00:00Z";
const T2: &str = "2026-03-01T09:00:00Z";
const T3: &str = "2026-03-02T09:00:00Z";

fn sign(s: &Scratch, input: &str, key: &Key, at: &str, extra: &[&str]) -> util::Out {
    let mut args: Vec<String> = ["sign", input, "--dir", "org", "--at", at]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    args.extend(key.args());
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    s.run(&argv(&[], &args))
}

/// Runs `canary-sign ARGS` on a pseudo-terminal (util-linux `script`; the
/// BSD `script` of macOS takes other options, so these runs are Linux's),
/// typing `input`. Returns the exit code and everything the terminal showed.
#[cfg(target_os = "linux")]
fn on_terminal(s: &Scratch, args: &[&str], input: &str) -> (Option<i32>, String) {
    let which = std::process::Command::new("script")
        .arg("--version")
        .output();
    assert!(
        which.is_ok_and(|o| o.status.success()),
        "these tests need `script` (Debian package bsdutils)"
    );
    let bin = env!("CARGO_BIN_EXE_canary-sign");
    let command = std::iter::once(bin)
        .chain(args.iter().copied())
        .inspect(|a| {
            assert!(
                a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-:=".contains(c)),
                "argument {a:?} needs no quoting"
            );
        })
        .collect::<Vec<_>>()
        .join(" ");
    let output = assert_cmd::Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .current_dir(s.root())
        .write_stdin(input.to_owned())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("script runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn a_statement_summary_lists_every_promise_and_what_changed() {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    s.init_org(&["keys/alice.pub"], 1);
    s.draft(T1, "draft1.json");
    sign(&s, "draft1.json", &alice, T1, &[]).code(OK);

    let mut draft = s.draft(T2, "draft2.json");
    let items = draft["statements"].as_array_mut().expect("promises");
    let removed = items.remove(0);
    let reworded_id = items[0]["id"].as_str().expect("id").to_owned();
    let reworded_before = items[0]["text"].as_str().expect("text").to_owned();
    items[0]["text"] = Value::from("We have received one National Security Letter.");
    items.push(serde_json::json!({"id": "no-new-promise", "text": "A promise made today."}));
    let kept = items[1]["text"].as_str().expect("text").to_owned();
    draft["notes"] = Value::from("Our office moved.");
    s.write_json("draft2.json", &draft);

    let out = sign(&s, "draft2.json", &alice, T2, &["--allow-statement-change"]);
    out.code(OK)
        .stderr_has("You are about to sign:")
        .stderr_has("statement 2 of example.org")
        .stderr_has(&format!("issued     {T2}"))
        .stderr_has("follows    statement 1 (sha256:")
        .stderr_has(&format!("= [{}] {kept}", items_id(&draft, 1)))
        .stderr_has(&format!(
            "~ [{reworded_id}] REWORDED: We have received one National Security Letter."
        ))
        .stderr_has(&format!("was: {reworded_before}"))
        .stderr_has(&format!(
            "- [{}] REMOVED: {}",
            removed["id"].as_str().expect("id"),
            removed["text"].as_str().expect("text")
        ))
        .stderr_has("+ [no-new-promise] NEW: A promise made today.")
        .stderr_has("WARNING: a promise is removed or reworded")
        .stderr_has("notes      Our office moved.")
        .stderr_has("freshness  none")
        .stderr_has("with the key in keys/alice.key: ");
    // The summary comes before the result.
    let summary = out.stderr.find("You are about to sign:").expect("summary");
    assert!(out.stdout.contains("signed statement 2"), "{}", out.stdout);
    assert_eq!(
        summary, 0,
        "the summary is the first thing said: {}",
        out.stderr
    );
}

fn items_id(draft: &Value, i: usize) -> String {
    draft["statements"][i]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[test]
fn a_cosigner_sees_what_a_rotation_does_to_his_key_and_the_threshold() {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    let bob = s.keygen("bob", None);
    let carol = s.keygen("carol", None);
    s.init_org(&["keys/alice.pub", "keys/bob.pub"], 2);
    let mut args = vec![
        "rotate",
        "--dir",
        "org",
        "--at",
        T1,
        "--remove",
        "keys/bob.pub",
        "--add",
        "keys/carol.pub",
        "--threshold",
        "1",
    ];
    let alice_args = alice.args();
    args.extend(alice_args.iter().map(String::as_str));
    s.run(&args).code(OK);

    let out = sign(&s, "org/rotations/000002.json", &bob, T1, &[]);
    out.code(OK);
    let (a, b, c) = (
        alice.public.id().short(),
        bob.public.id().short(),
        carol.public.id().short(),
    );
    out.stderr_has("key rotation of example.org: trust version 1 -> 2")
        .stderr_has(&format!(
            "+ adds signing key     {c} (carol)  {}",
            carol.public
        ))
        .stderr_has(&format!(
            "- REMOVES signing key  {b} (bob, YOUR KEY)  {}",
            bob.public
        ))
        .stderr_has(&format!("= keeps signing key    {a} (alice)"))
        .stderr_has("threshold  2 of 2 keys -> 1 of 2 keys (LOWERED")
        .stderr_has("WARNING: this rotation REMOVES YOUR KEY")
        .stderr_has(&format!("already signed by: {a} (alice)"))
        .stderr_has("panic keys unchanged");

    // lint shows the same reading of the rotation.
    s.run(&[
        "lint",
        "org/rotations/000002.json",
        "--dir",
        "org",
        "--at",
        T1,
    ])
    .stdout_has(&format!("- REMOVES signing key  {b}  {}", bob.public))
    .stdout_has("threshold  2 of 2 keys -> 1 of 2 keys (LOWERED");
}

#[test]
fn an_incident_summary_says_what_changed_since_the_last_version() {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    s.init_org(&["keys/alice.pub"], 1);
    let key = alice.args();
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
        T1,
    ];
    let out = s.run(&argv(&new, &key));
    out.code(OK)
        .stderr_has("incident push version 1 of example.org")
        .stderr_has("new incident: the first version");
    let update = [
        "incident",
        "update",
        "--dir",
        "org",
        "--id",
        "push",
        "--status",
        "identified",
        "--message",
        "A certificate expired.",
        "--at",
        T3,
    ];
    s.run(&argv(&update, &key))
        .code(OK)
        .stderr_has("incident push version 2 of example.org")
        .stderr_has("since version 1:")
        .stderr_has("changed status: investigating -> identified")
        .stderr_has(&format!(
            "new update {T3} [identified] A certificate expired."
        ));
}

#[test]
fn checks_on_the_public_key_come_before_the_passphrase() {
    let s = Scratch::new();
    s.keygen("alice", None);
    let mallory = s.keygen("mallory", Some("mallory's passphrase"));
    s.init_org(&["keys/alice.pub"], 1);
    s.draft(T1, "draft1.json");
    let before = snapshot(&s.path("org"));
    // No passphrase file and no terminal: had the passphrase come first,
    // this would fail for want of a terminal.
    s.run(&[
        "sign",
        "draft1.json",
        "--dir",
        "org",
        "--at",
        T1,
        "--key",
        "keys/mallory.key",
    ])
    .code(REFUSED)
    .stderr_has("is not one of the signing keys")
    .never_says("passphrase");
    assert_unchanged(&s.path("org"), &before, "untrusted key");
    let _ = mallory;
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_nothing_is_signed_without_a_yes() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some("alice's passphrase"));
    s.init_org(&["keys/alice.pub"], 1);
    s.draft(T1, "draft1.json");
    let before = snapshot(&s.path("org"));
    let args = [
        "sign",
        "draft1.json",
        "--dir",
        "org",
        "--at",
        T1,
        "--key",
        "keys/alice.key",
    ];

    for answer in ["n\n", "\n", "yes please\n"] {
        let (code, screen) = on_terminal(&s, &args, answer);
        assert_eq!(code, Some(REFUSED), "{answer:?}: {screen}");
        assert!(screen.contains("You are about to sign:"), "{screen}");
        assert!(screen.contains("Sign this? [y/N]"), "{screen}");
        assert!(
            screen.contains("not signed: the summary was not confirmed"),
            "{screen}"
        );
        assert!(
            !screen.contains("Passphrase"),
            "the passphrase is asked only after the summary is confirmed: {screen}"
        );
        assert_unchanged(&s.path("org"), &before, answer);
    }

    // "y", then the passphrase at its prompt, which names the key.
    let (code, screen) = on_terminal(&s, &args, "y\nalice's passphrase\n");
    assert_eq!(code, Some(OK), "{screen}");
    let question = screen.find("Sign this? [y/N]").expect("asked");
    let prompt = screen
        .find(&format!(
            "Passphrase for alice.key ({}):",
            alice.public.id().short()
        ))
        .expect("the prompt names the key");
    assert!(question < prompt, "{screen}");
    assert!(screen.contains("signed statement 1"), "{screen}");
}

#[cfg(target_os = "linux")]
#[test]
fn yes_skips_the_question_on_a_terminal() {
    let s = Scratch::new();
    s.keygen("alice", None);
    s.init_org(&["keys/alice.pub"], 1);
    s.draft(T1, "draft1.json");
    let (code, screen) = on_terminal(
        &s,
        &[
            "sign",
            "draft1.json",
            "--dir",
            "org",
            "--at",
            T1,
            "--key",
            "keys/alice.key",
            "--yes",
        ],
        "",
    );
    assert_eq!(code, Some(OK), "{screen}");
    assert!(screen.contains("You are about to sign:"), "{screen}");
    assert!(!screen.contains("Sign this?"), "{screen}");
    assert!(s.exists("org/statements/000001.json"));
}
