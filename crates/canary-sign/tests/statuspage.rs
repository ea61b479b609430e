//! What `publish` writes for readers that never run `canary` (DESIGN §9):
//! the Statuspage v2 public-API files, read back through a strict mirror of
//! that API's schema (unknown fields refused, enums exact); `status.json`
//! validated against the published `status.schema.json` by a JSON Schema
//! implementation; and `feed.atom` as a feed reader parses it.
//!
//! The demo is published at three times: fresh, late (after `next_due`)
//! and stale (after `expires_at`); the canary's component and the page
//! indicator follow.

// Helpers outside `#[test]` functions report failures by panicking.
#![allow(clippy::panic)]

mod util;

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Inside the demo's statement 3: fresh.
const FRESH: &str = "2026-11-27T00:00:00Z";
/// After its `next_due` (2026-12-30T09:00:00Z): late.
const LATE: &str = "2027-01-02T00:00:00Z";
/// After its `expires_at` (2027-01-13T09:00:00Z): stale.
const STALE: &str = "2027-01-20T00:00:00Z";

// ---------------------------------------------------------------------------
// A strict mirror of the Statuspage v2 public API (the fields its page,
// component, incident, incident update and scheduled maintenance objects
// carry; nothing else accepted).

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Page {
    id: String,
    name: String,
    url: String,
    time_zone: String,
    updated_at: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Indicator {
    None,
    Minor,
    Major,
    Critical,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Status {
    indicator: Indicator,
    description: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum ComponentStatus {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
    UnderMaintenance,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Component {
    id: String,
    name: String,
    status: ComponentStatus,
    created_at: String,
    updated_at: String,
    position: u64,
    description: Option<String>,
    showcase: bool,
    start_date: Option<String>,
    group_id: Option<String>,
    page_id: String,
    group: bool,
    only_show_if_degraded: bool,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Postmortem,
    Scheduled,
    InProgress,
    Verifying,
    Completed,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum IncidentImpact {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AffectedComponent {
    code: String,
    name: String,
    old_status: ComponentStatus,
    new_status: ComponentStatus,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct IncidentUpdate {
    id: String,
    status: IncidentStatus,
    body: String,
    incident_id: String,
    created_at: String,
    updated_at: String,
    display_at: String,
    affected_components: Option<Vec<AffectedComponent>>,
    deliver_notifications: bool,
    custom_tweet: Option<String>,
    tweet_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Incident {
    id: String,
    name: String,
    status: IncidentStatus,
    created_at: String,
    updated_at: String,
    monitoring_at: Option<String>,
    resolved_at: Option<String>,
    impact: IncidentImpact,
    shortlink: String,
    started_at: String,
    page_id: String,
    incident_updates: Vec<IncidentUpdate>,
    components: Vec<Component>,
    #[serde(default)]
    scheduled_for: Option<String>,
    #[serde(default)]
    scheduled_until: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct StatusFile {
    page: Page,
    status: Status,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SummaryFile {
    page: Page,
    components: Vec<Component>,
    incidents: Vec<Incident>,
    scheduled_maintenances: Vec<Incident>,
    status: Status,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ComponentsFile {
    page: Page,
    components: Vec<Component>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct IncidentsFile {
    page: Page,
    incidents: Vec<Incident>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct MaintenancesFile {
    page: Page,
    scheduled_maintenances: Vec<Incident>,
}

fn read<T: serde::de::DeserializeOwned>(site: &Path, rel: &str) -> T {
    let bytes = std::fs::read(site.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{rel} is not Statuspage v2: {e}"))
}

/// The demo issuer folder, copied into `tmp`, published at `at` into
/// `tmp/<name>`.
fn publish_demo(tmp: &Path, name: &str, at: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let folder = tmp.join(format!("{name}-folder"));
    util::copy_dir(&repo.join("canaries/example.org"), &folder);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_canary-sign"))
        .current_dir(tmp)
        .args(["publish", "--dir"])
        .arg(&folder)
        .args(["--out", name, "--at", at])
        .output()
        .expect("canary-sign runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tmp.join(name)
}

/// Reads every API file through the mirror; returns the summary.
fn read_api(site: &Path) -> SummaryFile {
    let status: StatusFile = read(site, "api/v2/status.json");
    let components: ComponentsFile = read(site, "api/v2/components.json");
    let incidents: IncidentsFile = read(site, "api/v2/incidents.json");
    let unresolved: IncidentsFile = read(site, "api/v2/incidents/unresolved.json");
    let maintenances: MaintenancesFile = read(site, "api/v2/scheduled-maintenances.json");
    let summary: SummaryFile = read(site, "api/v2/summary.json");
    // One page, one status, one component list, read from every file.
    for page in [
        &status.page,
        &components.page,
        &incidents.page,
        &unresolved.page,
        &maintenances.page,
    ] {
        assert_eq!(page.id, summary.page.id);
        assert_eq!(page.updated_at, summary.page.updated_at);
    }
    assert_eq!(status.status.indicator, summary.status.indicator);
    assert_eq!(components.components.len(), summary.components.len());
    let open: Vec<&str> = incidents
        .incidents
        .iter()
        .filter(|i| !matches!(i.status, IncidentStatus::Resolved))
        .map(|i| i.id.as_str())
        .collect();
    let listed: Vec<&str> = unresolved.incidents.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        open, listed,
        "unresolved.json is incidents.json's open ones"
    );
    let summary_open: Vec<&str> = summary.incidents.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(summary_open, listed);
    summary
}

fn canary_component(summary: &SummaryFile) -> &Component {
    summary
        .components
        .iter()
        .find(|c| c.name == "Warrant canary")
        .expect("the canary is a component")
}

#[test]
fn the_api_follows_the_canary_from_fresh_to_late_to_stale() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut seen = Vec::new();
    for (name, at, component, indicator, state) in [
        (
            "fresh",
            FRESH,
            ComponentStatus::Operational,
            Indicator::None,
            "fresh",
        ),
        (
            "late",
            LATE,
            ComponentStatus::DegradedPerformance,
            Indicator::Minor,
            "late",
        ),
        (
            "stale",
            STALE,
            ComponentStatus::MajorOutage,
            Indicator::Major,
            "stale",
        ),
    ] {
        let site = publish_demo(tmp.path(), name, at);
        let summary = read_api(&site);
        assert_eq!(canary_component(&summary).status, component, "{name}");
        assert_eq!(summary.status.indicator, indicator, "{name}");
        assert_eq!(summary.page.updated_at, at, "{name}");
        assert_eq!(summary.page.id, "example.org");
        // The demo's own components stay operational (its incidents are
        // resolved), in canary.toml's order, the canary last.
        let names: Vec<&str> = summary.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "App & Server",
                "Push Notifications",
                "DNS Discovery",
                "Warrant canary"
            ]
        );
        let status: serde_json::Value =
            serde_json::from_slice(&std::fs::read(site.join("status.json")).expect("status"))
                .expect("JSON");
        assert_eq!(status["canary"]["state"], state, "{name}");
        assert_eq!(status["generated_at"], at, "{name}");
        seen.push(name);
    }
    assert_eq!(seen, ["fresh", "late", "stale"]);

    // Every incident of the demo is in incidents.json, resolved, with its
    // updates newest first.
    let site = tmp.path().join("fresh");
    let incidents: IncidentsFile = read(&site, "api/v2/incidents.json");
    assert_eq!(incidents.incidents.len(), 3, "{incidents:#?}");
    for i in &incidents.incidents {
        assert_eq!(i.status, IncidentStatus::Resolved, "{}", i.id);
        assert!(i.resolved_at.is_some());
        assert!(i.shortlink.ends_with(&format!("#incident-{}", i.id)));
        let times: Vec<&str> = i
            .incident_updates
            .iter()
            .map(|u| u.created_at.as_str())
            .collect();
        let mut sorted = times.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted, "updates newest first");
    }
}

#[test]
fn status_json_matches_its_published_schema() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let site = publish_demo(tmp.path(), "site", FRESH);
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(site.join("status.schema.json")).expect("the schema is published"),
    )
    .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join("status.json")).expect("status"))
            .expect("JSON");
    let errors: Vec<String> = validator
        .iter_errors(&status)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "status.json breaks its schema: {errors:#?}"
    );

    // The schema is strict: an unknown field, a wrong enum or a missing
    // field is refused.
    let mut extra = status.clone();
    extra["canary"]["unexpected"] = serde_json::json!(1);
    let mut wrong = status.clone();
    wrong["canary"]["state"] = serde_json::json!("healthy");
    let mut missing = status.clone();
    missing
        .as_object_mut()
        .expect("object")
        .remove("generated_at");
    for bad in [extra, wrong, missing] {
        assert!(!validator.is_valid(&bad), "accepted {bad}");
    }
}

#[test]
fn the_feed_reads_as_feed_readers_parse_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let site = publish_demo(tmp.path(), "site", FRESH);
    let feed = feed_rs::parser::parse(
        std::fs::read(site.join("feed.atom"))
            .expect("feed")
            .as_slice(),
    )
    .expect("a feed parser reads it");
    assert_eq!(feed.id, "tag:example.org,2026-04-01:canary/feed");
    assert!(!feed.entries.is_empty());
    let mut statements = 0;
    let mut incidents = 0;
    for entry in &feed.entries {
        assert!(
            entry.id.starts_with("tag:example.org,2026-04-01:canary/"),
            "{}",
            entry.id
        );
        let html: Vec<&feed_rs::model::Link> = entry
            .links
            .iter()
            .filter(|l| {
                l.rel.as_deref() == Some("alternate")
                    && l.media_type.as_deref() == Some("text/html")
            })
            .collect();
        assert_eq!(html.len(), 1, "{}: {:?}", entry.id, entry.links);
        let json = entry
            .links
            .iter()
            .find(|l| l.media_type.as_deref() == Some("application/json"))
            .expect("the signed document");
        if let Some(seq) = entry
            .id
            .strip_prefix("tag:example.org,2026-04-01:canary/statement/")
        {
            statements += 1;
            assert!(
                html[0].href.ends_with("index.html#canary"),
                "{}",
                html[0].href
            );
            assert!(json.href.ends_with(&format!("statements/{:0>6}.json", seq)));
        } else {
            let rest = entry
                .id
                .strip_prefix("tag:example.org,2026-04-01:canary/incident/")
                .expect("a statement or an incident");
            let id = rest.split('/').next().expect("id");
            incidents += 1;
            assert!(
                html[0].href.ends_with(&format!("index.html#incident-{id}")),
                "{}",
                html[0].href
            );
        }
    }
    assert_eq!(statements, 3);
    assert!(incidents >= 3);
    // Every page anchor the feed names exists on the page.
    let page = std::fs::read_to_string(site.join("index.html")).expect("page");
    for entry in &feed.entries {
        for link in &entry.links {
            if let Some((_, anchor)) = link.href.split_once('#') {
                assert!(
                    page.contains(&format!("id=\"{anchor}\"")),
                    "no #{anchor} on the page"
                );
            }
        }
    }
}
