//! `api/v2/*.json` (DESIGN §9): the site's status in the shape of the
//! Statuspage v2 public API, so dashboards, exporters and aggregators that
//! read Statuspage pages read ours unchanged. The canary is the component
//! "Warrant canary": fresh is `operational`, late `degraded_performance`,
//! stale `major_outage`, and tripped `major_outage` with an incident.

use canary_core::{Impact, IncidentKind, IncidentRecord, IncidentStatus, Timestamp};
use serde::Serialize;

use crate::site::{CanaryState, Site};

/// The id of the canary's component (component ids from `canary.toml` are
/// slugs and may not take it).
pub const CANARY_COMPONENT: &str = "warrant-canary";
/// Its name.
const CANARY_COMPONENT_NAME: &str = "Warrant canary";
/// The id of the incident a tripped canary opens.
const TRIPPED_INCIDENT: &str = "warrant-canary-tripped";

#[derive(Serialize)]
struct Page {
    id: String,
    name: String,
    url: String,
    time_zone: &'static str,
    updated_at: String,
}

#[derive(Serialize)]
struct Status {
    indicator: &'static str,
    description: &'static str,
}

#[derive(Serialize, Clone)]
struct Component {
    id: String,
    name: String,
    status: &'static str,
    created_at: String,
    updated_at: String,
    position: usize,
    description: Option<String>,
    showcase: bool,
    start_date: Option<String>,
    group_id: Option<String>,
    page_id: String,
    group: bool,
    only_show_if_degraded: bool,
}

#[derive(Serialize)]
struct Update {
    id: String,
    status: &'static str,
    body: String,
    incident_id: String,
    created_at: String,
    updated_at: String,
    display_at: String,
    affected_components: Option<Vec<serde_json::Value>>,
    deliver_notifications: bool,
    custom_tweet: Option<String>,
    tweet_id: Option<String>,
}

#[derive(Serialize)]
struct Incident {
    id: String,
    name: String,
    status: &'static str,
    created_at: String,
    updated_at: String,
    monitoring_at: Option<String>,
    resolved_at: Option<String>,
    impact: &'static str,
    shortlink: String,
    started_at: String,
    page_id: String,
    incident_updates: Vec<Update>,
    components: Vec<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_for: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_until: Option<String>,
}

/// The Statuspage words for a component's state.
fn component_status(impact: Impact) -> &'static str {
    match impact {
        Impact::None => "operational",
        Impact::Minor => "degraded_performance",
        Impact::Major => "partial_outage",
        Impact::Critical => "major_outage",
    }
}

/// The canary's component state, and the page indicator it implies.
fn canary_status(state: CanaryState) -> (&'static str, Impact) {
    match state {
        CanaryState::Fresh => ("operational", Impact::None),
        CanaryState::Late => ("degraded_performance", Impact::Minor),
        CanaryState::Stale => ("major_outage", Impact::Major),
        CanaryState::Tripped => ("major_outage", Impact::Critical),
    }
}

fn description(indicator: Impact) -> &'static str {
    match indicator {
        Impact::None => "All Systems Operational",
        Impact::Minor => "Minor Service Outage",
        Impact::Major => "Partial System Outage",
        Impact::Critical => "Major System Outage",
    }
}

fn maintenance_status(status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Investigating | IncidentStatus::Identified => "in_progress",
        IncidentStatus::Monitoring => "verifying",
        IncidentStatus::Resolved => "completed",
    }
}

/// The API's view of a site, built once; each file is a part of it.
struct Api {
    page: Page,
    status: Status,
    components: Vec<Component>,
    /// Every incident and the tripped canary's, newest first.
    incidents: Vec<(bool, Incident)>,
    /// Every maintenance record, newest first.
    maintenances: Vec<(bool, Incident)>,
}

fn page_id(site: &Site) -> String {
    site.issuer.clone()
}

impl Api {
    fn new(site: &Site, base: &str) -> Self {
        let updated = site.generated_at.to_string();
        let since = site
            .history
            .first()
            .map_or(site.canary.statement.issued_at, |(_, t, _)| *t)
            .to_string();
        let page_id = page_id(site);
        let component = |position: usize, id: &str, name: &str, status: &'static str| Component {
            id: id.to_owned(),
            name: name.to_owned(),
            status,
            created_at: since.clone(),
            updated_at: updated.clone(),
            position,
            description: None,
            showcase: true,
            start_date: None,
            group_id: None,
            page_id: page_id.clone(),
            group: false,
            only_show_if_degraded: false,
        };
        let open: Vec<&IncidentRecord> = site.open_incidents().collect();
        let mut components: Vec<Component> = site
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let impact = open
                    .iter()
                    .filter(|r| r.affected.contains(&c.id))
                    .map(|r| r.impact)
                    .max()
                    .unwrap_or(Impact::None);
                component(i + 1, &c.id, &c.name, component_status(impact))
            })
            .collect();
        let (canary_state, canary_indicator) = canary_status(site.canary.state);
        let canary_component = component(
            components.len() + 1,
            CANARY_COMPONENT,
            CANARY_COMPONENT_NAME,
            canary_state,
        );
        components.push(canary_component.clone());
        let indicator = open
            .iter()
            .map(|r| r.impact)
            .chain([canary_indicator])
            .max()
            .unwrap_or(Impact::None);

        let record = |r: &IncidentRecord| {
            let maintenance = r.kind == IncidentKind::Maintenance;
            let status = if maintenance {
                maintenance_status(r.status)
            } else {
                r.status.as_str()
            };
            let updates: Vec<Update> = r
                .updates
                .iter()
                .enumerate()
                .rev()
                .map(|(i, u)| Update {
                    id: format!("{}-{}", r.id, i + 1),
                    status: if maintenance {
                        maintenance_status(u.status)
                    } else {
                        u.status.as_str()
                    },
                    body: u.body.clone(),
                    incident_id: r.id.clone(),
                    created_at: u.at.to_string(),
                    updated_at: u.at.to_string(),
                    display_at: u.at.to_string(),
                    affected_components: None,
                    deliver_notifications: false,
                    custom_tweet: None,
                    tweet_id: None,
                })
                .collect();
            let at = |t: Timestamp| t.to_string();
            let updated_at = r.updates.last().map_or(r.started_at, |u| u.at);
            let affected = components
                .iter()
                .filter(|c| r.affected.contains(&c.id))
                .cloned()
                .collect();
            let incident = Incident {
                id: r.id.clone(),
                name: r.title.clone(),
                status,
                created_at: at(r.started_at),
                updated_at: at(updated_at),
                monitoring_at: r
                    .updates
                    .iter()
                    .find(|u| u.status == IncidentStatus::Monitoring)
                    .map(|u| at(u.at)),
                resolved_at: r.resolved_at.map(at),
                impact: if maintenance {
                    "maintenance"
                } else {
                    r.impact.as_str()
                },
                shortlink: format!("{base}#incident-{}", r.id),
                started_at: at(r.started_at),
                page_id: page_id.clone(),
                incident_updates: updates,
                components: affected,
                scheduled_for: maintenance.then(|| at(r.started_at)),
                scheduled_until: maintenance.then(|| at(r.resolved_at.unwrap_or(updated_at))),
            };
            (r.status != IncidentStatus::Resolved, maintenance, incident)
        };
        let mut incidents = Vec::new();
        let mut maintenances = Vec::new();
        if site.canary.state == CanaryState::Tripped {
            let s = &site.canary.statement;
            let body = format!(
                "Every reader's verifier reports the warrant canary as tripped: {}",
                site.canary.tripped.join("; ")
            );
            incidents.push((
                true,
                Incident {
                    id: TRIPPED_INCIDENT.to_owned(),
                    name: "Warrant canary tripped".to_owned(),
                    status: "identified",
                    created_at: s.issued_at.to_string(),
                    updated_at: s.issued_at.to_string(),
                    monitoring_at: None,
                    resolved_at: None,
                    impact: "critical",
                    shortlink: format!("{base}#canary"),
                    started_at: s.issued_at.to_string(),
                    page_id: page_id.clone(),
                    incident_updates: vec![Update {
                        id: format!("{TRIPPED_INCIDENT}-1"),
                        status: "identified",
                        body,
                        incident_id: TRIPPED_INCIDENT.to_owned(),
                        created_at: s.issued_at.to_string(),
                        updated_at: s.issued_at.to_string(),
                        display_at: s.issued_at.to_string(),
                        affected_components: None,
                        deliver_notifications: false,
                        custom_tweet: None,
                        tweet_id: None,
                    }],
                    components: vec![canary_component],
                    scheduled_for: None,
                    scheduled_until: None,
                },
            ));
        }
        // The site's incidents are newest first already.
        for r in &site.incidents {
            let (open, maintenance, incident) = record(r);
            if maintenance {
                maintenances.push((open, incident));
            } else {
                incidents.push((open, incident));
            }
        }
        Api {
            page: Page {
                id: page_id,
                name: site.name.clone(),
                url: base.to_owned(),
                time_zone: "Etc/UTC",
                updated_at: updated,
            },
            status: Status {
                indicator: indicator.as_str(),
                description: description(indicator),
            },
            components,
            incidents,
            maintenances,
        }
    }
}

fn open_only(list: &[(bool, Incident)]) -> Vec<&Incident> {
    list.iter().filter(|(o, _)| *o).map(|(_, i)| i).collect()
}

fn all(list: &[(bool, Incident)]) -> Vec<&Incident> {
    list.iter().map(|(_, i)| i).collect()
}

/// The API files, as (path under the site, JSON value), in a fixed order.
/// `base` is the site's root URL ending in `/`, or empty.
pub fn files(site: &Site, base: &str) -> Vec<(&'static str, serde_json::Value)> {
    let api = Api::new(site, base);
    let json = |v: serde_json::Result<serde_json::Value>| v.unwrap_or(serde_json::Value::Null);
    let page = json(serde_json::to_value(&api.page));
    let status = json(serde_json::to_value(&api.status));
    let components = json(serde_json::to_value(&api.components));
    let open_incidents = json(serde_json::to_value(open_only(&api.incidents)));
    let open_maintenances = json(serde_json::to_value(open_only(&api.maintenances)));
    vec![
        (
            "api/v2/status.json",
            serde_json::json!({ "page": page, "status": status }),
        ),
        (
            "api/v2/summary.json",
            serde_json::json!({
                "page": page,
                "components": components,
                "incidents": open_incidents,
                "scheduled_maintenances": open_maintenances,
                "status": status,
            }),
        ),
        (
            "api/v2/components.json",
            serde_json::json!({ "page": page, "components": components }),
        ),
        (
            "api/v2/incidents.json",
            serde_json::json!({
                "page": page,
                "incidents": json(serde_json::to_value(all(&api.incidents))),
            }),
        ),
        (
            "api/v2/incidents/unresolved.json",
            serde_json::json!({ "page": page, "incidents": open_incidents }),
        ),
        (
            "api/v2/scheduled-maintenances.json",
            serde_json::json!({
                "page": page,
                "scheduled_maintenances": json(serde_json::to_value(all(&api.maintenances))),
            }),
        ),
    ]
}
