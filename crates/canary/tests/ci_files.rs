//! The CI integrations shipped in the repository parse as YAML and say what
//! the README promises: the composite action, the scheduled workflows (with
//! the keepalive note), the GitLab template (a warning is an allowed failure)
//! and the publisher's `canary-sign due` job. `.ci/run` also lints the
//! GitHub workflows with actionlint.

// Test helpers outside `#[test]` functions report failures by panicking;
// clippy.toml's allow-panic-in-tests does not reach them.
#![allow(clippy::panic)]

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn load(rel: &str) -> (String, Yaml) {
    let text = std::fs::read_to_string(root().join(rel)).expect(rel);
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(docs.len(), 1, "{rel}: one document");
    (text, docs.remove(0))
}

fn str_of<'a>(y: &'a Yaml, what: &str) -> &'a str {
    y.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {y:?}"))
}

#[test]
fn the_action_is_composite_with_the_promised_inputs() {
    let (_, action) = load("action.yml");
    assert_eq!(str_of(&action["runs"]["using"], "runs.using"), "composite");
    for input in ["source", "trust", "warn-before", "deny-warnings"] {
        assert!(!action["inputs"][input].is_badvalue(), "input {input}");
    }
    assert!(action["inputs"]["source"]["required"].as_bool() == Some(true));
    assert_eq!(
        str_of(&action["inputs"]["warn-before"]["default"], "default"),
        "14d"
    );
    assert!(!action["inputs"]["version"].is_badvalue(), "input version");
    let steps = action["runs"]["steps"].as_vec().expect("steps");
    let scripts: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    // The release is installed with its signature checked; cargo only when
    // that cannot be done, with a notice.
    let install = scripts
        .iter()
        .find(|s| s.contains("scripts/install"))
        .expect("an install step");
    assert!(install.contains("cargo install --locked") && install.contains("crates/canary"));
    assert!(install.contains("::notice"), "{install}");
    assert!(steps.iter().any(|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/cache"))
    }));
    let verify = scripts.last().expect("the verify step");
    assert!(verify.contains("canary verify") && verify.contains("--format github"));
    for step in steps.iter().filter(|s| !s["run"].is_badvalue()) {
        assert_eq!(
            str_of(&step["shell"], "shell"),
            "bash",
            "composite steps name a shell"
        );
    }
    // Inputs reach the scripts through the environment, never pasted into them.
    for script in &scripts {
        assert!(!script.contains("${{"), "{script}");
    }
}

#[test]
fn the_scheduled_workflow_runs_the_action_with_state_and_says_keepalive() {
    let (text, wf) = load("examples/ci/github-verify.yml");
    assert!(text.contains("60 days"), "the keepalive note");
    let cron = str_of(&wf["on"]["schedule"][0]["cron"], "cron");
    assert_eq!(cron.split_whitespace().count(), 5, "{cron}");
    let steps = wf["jobs"]["verify"]["steps"].as_vec().expect("steps");
    assert!(steps.iter().any(|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/cache"))
    }));
    let verify = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("/canary@")))
        .expect("the canary action");
    assert_eq!(str_of(&verify["with"]["source"], "source"), "example.org");
}

#[test]
fn the_publisher_job_runs_due() {
    let (_, wf) = load("examples/ci/github-publisher-due.yml");
    let steps = wf["jobs"]["due"]["steps"].as_vec().expect("steps");
    assert!(steps.iter().any(|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.starts_with("canary-sign due"))
    }));
}

#[test]
fn the_gitlab_template_allows_only_the_warning_exit_code() {
    let (_, ci) = load("examples/ci/gitlab-ci.yml");
    let job = &ci["canary"];
    let codes: Vec<i64> = job["allow_failure"]["exit_codes"]
        .as_vec()
        .expect("exit codes")
        .iter()
        .filter_map(Yaml::as_i64)
        .collect();
    assert_eq!(codes, [6]);
    let script: Vec<&str> = job["script"]
        .as_vec()
        .expect("script")
        .iter()
        .map(|s| str_of(s, "line"))
        .collect();
    assert!(
        script
            .iter()
            .any(|l| l.contains("canary verify") && l.contains("--deny-warnings"))
    );
    // Both jobs install the signed release through scripts/install.
    let install = &ci[".canary-install"]["before_script"];
    assert!(
        install
            .as_vec()
            .expect("before_script")
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains("scripts/install")))
    );
    for job in ["canary", "canary-due"] {
        assert_eq!(str_of(&ci[job]["extends"], "extends"), ".canary-install");
    }
    let due = &ci["canary-due"]["script"];
    assert!(
        due.as_vec()
            .expect("script")
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.starts_with("canary-sign due")))
    );
}
