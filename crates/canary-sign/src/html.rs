//! The status page, `index.html`: one self-contained page (inline CSS, no
//! scripts, no external requests), every document text escaped by maud.
//!
//! The page shows what the signed documents say and nothing else: no clock
//! is read and no id is random, so the same [`Site`] gives the same bytes.
//! Document text goes through the one sanitizer ([`text`], [`prose`]) and
//! is always spliced as text, which maud escapes; the only pre-escaped
//! string is the style sheet below, a constant.

use canary_core::{
    Impact, IncidentKind, IncidentRecord, IncidentStatus, MeasureKind, TimeDelta, Timestamp,
};
use chrono::Timelike as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::common::escape;
use crate::site::{ComponentStatus, DSSE_PROFILE, PLAIN_DIR, Site};

/// Where readers find the signed files, relative to the page.
const CANARY_JSON: &str = canary_core::layout::LATEST;
const TRUST_TOML: &str = canary_core::layout::TRUST_SITE_PATH;

/// Renders the page.
pub fn render(site: &Site) -> String {
    page(site).into_string()
}

fn page(site: &Site) -> Markup {
    let name = text(&site.name);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                meta name="description" content={ "Service status, incident history and warrant canary of " (name) "." };
                meta name="generator" content="canary-sign";
                // No favicon request either: the page loads nothing.
                link rel="icon" href="data:,";
                link rel="alternate" type="application/atom+xml" href="feed.atom" title={ (name) " status and canary" };
                title { (name) " status" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                (header(site, &name))
                main #main .wrap {
                    (components(site))
                    (canary(site, &name))
                    (incidents(site))
                }
                (footer(site, &name))
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Header

fn header(site: &Site, name: &str) -> Markup {
    let tone = impact_tone(site.indicator);
    let open: Vec<&IncidentRecord> = site.open_incidents().collect();
    html! {
        header.top {
            .wrap {
                .brand {
                    h1 { (name) }
                    p.sub { "Service status and warrant canary" span.issuer { " · " (text(&site.issuer)) } }
                }
                nav aria-label="Sections" {
                    a href="#status-heading" { "System status" }
                    a href="#canary-heading" { "Warrant canary" }
                    a href="#incidents-heading" { "Incident history" }
                }
                div class={ "banner tone-" (tone) } {
                    (icon(tone))
                    p.banner-label { (site.overall_label()) }
                }
                @if !open.is_empty() {
                    ul.open-list aria-label="Unresolved incidents" {
                        @for r in &open {
                            li class={ "accent-" (impact_tone(r.impact)) } {
                                span class={ "badge tone-" (status_tone(r.status)) } { (status_word(r.status)) }
                                " "
                                a href={ "#" (incident_anchor(r)) } { (text(&r.title)) }
                                span.open-meta.small.muted { (impact_word(r.impact)) " · since " (time(r.started_at)) }
                            }
                        }
                    }
                }
                @if site.canary.is_tripped() {
                    p.final-top {
                        strong { "Warrant canary tripped." }
                        " Every reader's verifier reports the canary of " (name) " as tripped: "
                        a href="#canary-heading" { "see why" } "."
                    }
                } @else if site.canary.statement.is_final() {
                    p.final-top {
                        strong { "Final warrant canary." }
                        " " (name) " has announced that no further canary will be published."
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// System status

fn components(site: &Site) -> Markup {
    html! {
        section.block aria-labelledby="status-heading" {
            h2 #status-heading { "System status" }
            @if site.components.is_empty() {
                p.card.pad.muted { "No components are listed." }
            } @else {
                ul.card.components {
                    @for c in &site.components {
                        @let tone = component_tone(c.status);
                        li {
                            span.component-name { (text(&c.name)) }
                            span class={ "state tone-" (tone) } {
                                (icon(tone))
                                span { (c.status.label()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Warrant canary

fn canary(site: &Site, name: &str) -> Markup {
    let c = &site.canary;
    let s = &c.statement;
    let signed = c.signers.len();
    let signatures = if signed <= c.threshold {
        format!("{signed} of {} signatures", c.threshold)
    } else {
        format!("{signed} signatures ({} required)", c.threshold)
    };
    let issuer = text(&site.issuer);
    html! {
        section.block #canary aria-labelledby="canary-heading" {
            h2 #canary-heading { "Warrant canary" }
            .card.canary {
                @if c.is_tripped() {
                    .callout.tone-critical {
                        p.callout-title { strong { "This canary is tripped." } }
                        p { "Every reader's verifier reports it as tripped, for these reasons:" }
                        ul {
                            @for reason in &c.tripped {
                                li { (text(reason)) }
                            }
                        }
                        @if !c.panic_signers.is_empty() {
                            p {
                                "It is signed with a panic key: the issuer signals duress or compromise. "
                                "Do not rely on the promises below."
                            }
                        }
                    }
                }
                @if s.is_final() {
                    p.callout.tone-critical {
                        strong { "This is the final statement." }
                        " " (name) " has announced that no further warrant canary will be published."
                    }
                }
                p.lead {
                    "As of " (time(s.issued_at)) ", " strong { (name) } " warrants that:"
                }
                ul.statements {
                    @for item in &s.statements {
                        li {
                            (icon(if c.is_tripped() { "critical" } else { "ok" }))
                            span.statement {
                                span.text { (text(&item.text)) }
                                " "
                                code.slug { (text(&item.id)) }
                            }
                        }
                    }
                }
                @if let Some(notes) = &s.notes {
                    .callout.tone-info {
                        p.callout-title { strong { "Notes" } }
                        (prose(notes))
                    }
                }
                dl.facts {
                    div { dt { "Issued" } dd { (tile_time(s.issued_at)) } }
                    div { dt { "Next statement due" } dd { (tile_time(s.next_due)) } }
                    div { dt { "Expires" } dd { (tile_time(s.expires_at)) } }
                    div { dt { "Signatures" } dd { (signatures) } }
                }
                @if let Some(f) = &s.freshness {
                    h3 { "Freshness proof" }
                    dl.kv {
                        @if let Some(b) = &f.bitcoin {
                            div {
                                dt { "Bitcoin block" }
                                dd {
                                    "No. " (b.height) " "
                                    (hex(&b.hash))
                                }
                            }
                            div {
                                dt { "Header" }
                                dd {
                                    @if b.header_checked() {
                                        "Included and checked offline: it hashes to the block hash, meets its difficulty target, and its time precedes the statement."
                                    } @else {
                                        "Not included: look the block up to confirm it."
                                    }
                                }
                            }
                        }
                        @if let Some(headlines) = &f.headlines {
                            div {
                                dt { "Headlines" }
                                dd {
                                    ul.keys {
                                        @for h in headlines {
                                            li { (text(h)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p.small.muted {
                    "Expect a new statement by the due date. If none has appeared by the expiry date, "
                    "or if a promise above disappears or changes, the canary has stopped speaking: treat that as a signal."
                }

                h3 { "Signature details" }
                dl.kv {
                    div {
                        dt { "Statement" }
                        dd {
                            a href=(statement_path(s.sequence)) { "No. " (s.sequence) }
                        }
                    }
                    div {
                        dt { "Signed by" }
                        dd {
                            ul.keys {
                                @for k in &c.signers {
                                    li { (hex(&k.to_string())) }
                                }
                                @for k in &c.panic_signers {
                                    li { (hex(&k.to_string())) " " strong { "(panic key)" } }
                                }
                            }
                        }
                    }
                    div { dt { "Digest" } dd { (hex(&c.digest.to_string())) } }
                }

                h3 { "Verify it yourself" }
                p {
                    "This page is only a rendering. The signed statement at "
                    a href=(CANARY_JSON) { code { "/" (CANARY_JSON) } }
                    " is authoritative. Pin the trust policy published at "
                    a href=(TRUST_TOML) { code { "/" (TRUST_TOML) } }
                    " once (compare its key fingerprints with the ones above), then check the canary with:"
                }
                pre.cmd { code { "canary trust add " (issuer) "\ncanary verify " (issuer) } }
                ul.files {
                    li { a href=(CANARY_JSON) { "canary.json" } span.muted { " — the signed statement" } }
                    li { a href="canary.txt" { "canary.txt" } span.muted { " — plain text" } }
                    li { a href="feed.atom" { "feed.atom" } span.muted { " — Atom feed of canaries and incidents" } }
                    li { a href="status.json" { "status.json" } span.muted { " — machine-readable status" } }
                    li { a href=(TRUST_TOML) { "trust.toml" } span.muted { " — the trust policy" } }
                }
                (without_canary(site))

                @if !site.history.is_empty() {
                    h3 #history-heading { "Statement history" }
                    .table-scroll {
                        table.history aria-labelledby="history-heading" {
                            thead { tr { th scope="col" { "No." } th scope="col" { "Issued" } th scope="col" { "Digest" } } }
                            tbody {
                                @for (seq, issued, digest) in site.history.iter().rev() {
                                    tr {
                                        td {
                                            a href=(statement_path(*seq)) { (seq) }
                                        }
                                        td { (time(*issued)) }
                                        td { (hex(&digest.to_string())) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// "Verify without canary": stock `ssh-keygen` and `minisign` on the
/// `plain/` files, and the envelope with jq and OpenSSL.
fn without_canary(site: &Site) -> Markup {
    let commands = site.plain_commands();
    let recipe = site.dsse_recipe();
    html! {
        h3 #without-canary { "Verify without canary" }
        @if !commands.is_empty() {
            p {
                "The statement's payload, byte for byte, and its signers' signatures are also published for stock tools in "
                code { "/" (PLAIN_DIR) }
                ". In that folder, for each signer:"
            }
            @for (id, ssh, minisign) in &commands {
                p.small { "Signer " code.hex { (id.short()) } }
                pre.cmd.wraps { code { (ssh) "\n" (minisign) } }
            }
            p.small.muted {
                "Compare the keys in " code { "allowed_signers" } " and " code { "*.minisign.pub" }
                " with the trust policy you pinned first: files from the same server prove nothing by themselves."
            }
        }
        @if let Some(recipe) = recipe {
            p {
                "The signed statement itself, with " code { "jq" } ", " code { "base64" } " and OpenSSL 3, in "
                code { "/.well-known/" } " (the key is the signer's from " code { "trust.toml" } "; repeat for each signer):"
            }
            pre.cmd.wraps { code { (recipe) } }
        }
        p.small.muted { (DSSE_PROFILE) }
    }
}

// ---------------------------------------------------------------------------
// Incident history

fn incidents(site: &Site) -> Markup {
    html! {
        section.block aria-labelledby="incidents-heading" {
            h2 #incidents-heading { "Incident history" }
            @if site.incidents.is_empty() {
                p.card.pad.muted { "No incidents have been recorded." }
            }
            @for r in &site.incidents {
                (incident(site, r))
            }
        }
    }
}

fn incident(site: &Site, r: &IncidentRecord) -> Markup {
    let anchor = incident_anchor(r);
    let heading = format!("{anchor}-title");
    let open = r.status != IncidentStatus::Resolved;
    html! {
        article class={ "card incident" @if open { " open accent-" (impact_tone(r.impact)) } } #(anchor) aria-labelledby=(heading) {
            .incident-head {
                p.badges {
                    span class={ "badge tone-" (status_tone(r.status)) } { (status_word(r.status)) }
                    " "
                    span class={ "badge tone-" (impact_tone(r.impact)) } { (impact_word(r.impact)) }
                    " "
                    span class={ "badge tone-" (kind_tone(r.kind)) } { (kind_word(r.kind)) }
                }
                h3 #(heading) { (text(&r.title)) }
                p.small.muted {
                    code.slug { (text(&r.id)) }
                    " · version " (r.version) " · "
                    a href=(canary_core::ArchivePath::LatestIncident(&r.id).site_path()) { "signed record" }
                }
            }

            .incident-body {
                h4 { "When & what was affected" }
                dl.when {
                    div { dt { "Started" } dd { (time(r.started_at)) } }
                    div {
                        dt { "Resolved" }
                        dd {
                            @match r.resolved_at {
                                Some(end) => {
                                    (time(end))
                                    span.muted { " (" (duration(end.since(r.started_at))) ")" }
                                }
                                None => { strong { "ongoing" } }
                            }
                        }
                    }
                    div {
                        dt { "Affected" }
                        dd {
                            @if r.affected.is_empty() {
                                span.muted { "No components listed" }
                            } @else {
                                ul.chips {
                                    @for id in &r.affected {
                                        li { (component_name(site, id)) }
                                    }
                                }
                            }
                        }
                    }
                }

                h4 { "What happened" }
                @if r.what_happened.trim().is_empty() {
                    p.muted { "Not described yet." }
                } @else {
                    (prose(&r.what_happened))
                }

                h4 { "What was compromised/lost" }
                @if !r.compromised.summary.trim().is_empty() {
                    (prose(&r.compromised.summary))
                }
                ul.verdicts {
                    li.yes[r.compromised.data_lost] { "Data lost: " strong { (r.data_lost().as_str()) } }
                    li.yes[r.compromised.data_exposed] { "Data exposed: " strong { (r.data_exposed().as_str()) } }
                }

                h4 { "Measures taken to prevent this in the future" }
                @if r.measures.is_empty() {
                    p.muted { "None recorded yet." }
                } @else {
                    ul.measures {
                        @for m in &r.measures {
                            li.done[m.done] {
                                @if m.done { (icon("ok")) } @else { (icon("planned")) }
                                span.measure {
                                    span.text { (text(&m.action)) }
                                    " "
                                    span.small.muted { "(" (measure_word(m.kind)) ")" }
                                }
                                " "
                                @if m.done {
                                    span.badge.tone-ok { "done" }
                                } @else {
                                    span.badge.tone-neutral { "planned" }
                                }
                            }
                        }
                    }
                }

                @if !r.updates.is_empty() {
                    h4 { "Updates" }
                    ol.timeline reversed {
                        @for u in r.updates.iter().rev() {
                            li {
                                p.update-head {
                                    strong class={ "tone-text-" (status_tone(u.status)) } { (status_word(u.status)) }
                                    span.muted { " · " (time(u.at)) }
                                }
                                (prose(&u.body))
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Footer

fn footer(site: &Site, name: &str) -> Markup {
    html! {
        footer.bottom {
            .wrap {
                p {
                    "Status page and warrant canary of " (name) ", rendered from statement No. "
                    (site.canary.statement.sequence) ". The signed documents are authoritative; this page is not."
                }
                p.links {
                    a href=(CANARY_JSON) { "canary.json" } " · "
                    a href="canary.txt" { "canary.txt" } " · "
                    a href="feed.atom" { "feed.atom" } " · "
                    a href="status.json" { "status.json" } " · "
                    a href=(TRUST_TOML) { "trust.toml" }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Pieces

/// Document text for the page, on one line: every unsafe character
/// (controls, line separators, bidi controls, noncharacters) is shown as an
/// escape such as `\u{202e}` ([`canary_core::sanitize`]); maud then escapes
/// the markup.
fn text(s: &str) -> String {
    escape(s)
}

/// Document text as paragraphs: blank lines separate paragraphs, single
/// line breaks become `<br>` (the only raw line breaks kept, as markup), the
/// rest goes through [`text`].
fn prose(doc: &str) -> Markup {
    let doc = doc.replace("\r\n", "\n");
    html! {
        @for para in doc.split("\n\n").filter(|p| !p.trim().is_empty()) {
            p.prose {
                @for (i, line) in para.trim_matches('\n').split('\n').enumerate() {
                    @if i > 0 { br; }
                    (text(line))
                }
            }
        }
    }
}

/// A date for people, with the exact instant for machines.
fn time(t: Timestamp) -> Markup {
    html! { time datetime=(t.to_string()) { (human(t)) } }
}

/// Like [`time`], the date on one line and the time of day on the next.
fn tile_time(t: Timestamp) -> Markup {
    let (date, clock) = date_and_clock(t);
    html! {
        time datetime=(t.to_string()) {
            span.date { (date) } span.sep { ", " } span.clock { (clock) }
        }
    }
}

/// `30 September 2026, 09:00 UTC` (seconds only when there are some).
fn human(t: Timestamp) -> String {
    let (date, clock) = date_and_clock(t);
    format!("{date}, {clock}")
}

/// `30 September 2026` and `09:00 UTC`.
fn date_and_clock(t: Timestamp) -> (String, String) {
    let d = t.as_datetime();
    let clock = if d.second() == 0 {
        "%H:%M UTC"
    } else {
        "%H:%M:%S UTC"
    };
    (
        d.format("%-d %B %Y").to_string(),
        d.format(clock).to_string(),
    )
}

/// `2 h 30 min`, `3 days 4 h`, `45 min`.
fn duration(d: TimeDelta) -> String {
    let mins = d.num_minutes().max(0);
    let (days, hours, minutes) = (mins / 1440, mins / 60 % 24, mins % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} {}", if days == 1 { "day" } else { "days" }));
    }
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if minutes > 0 && days == 0 {
        parts.push(format!("{minutes} min"));
    }
    if parts.is_empty() {
        "under a minute".to_owned()
    } else {
        parts.join(" ")
    }
}

/// The archived envelope of statement `seq`.
fn statement_path(seq: u64) -> String {
    canary_core::ArchivePath::Statement(seq).site_path()
}

fn component_name(site: &Site, id: &str) -> String {
    site.components
        .iter()
        .find(|c| c.id == id)
        .map_or_else(|| text(id), |c| text(&c.name))
}

/// A digest, key id or block hash as groups of 16 characters that wrap only
/// between groups (`<wbr>`, which copies as nothing): a line never ends or
/// starts with a stray character. A `sha256:` prefix stays with the first
/// group.
fn hex(value: &str) -> Markup {
    let (prefix, rest) = match value.split_once(':') {
        Some((p, r)) => (format!("{p}:"), r),
        None => (String::new(), value),
    };
    let chars: Vec<char> = rest.chars().collect();
    let groups: Vec<String> = chars.chunks(16).map(|c| c.iter().collect()).collect();
    html! {
        code.hex {
            @for (i, group) in groups.iter().enumerate() {
                @if i > 0 { wbr; }
                span { @if i == 0 { (text(&prefix)) } (text(group)) }
            }
        }
    }
}

fn incident_anchor(r: &IncidentRecord) -> String {
    format!("incident-{}", text(&r.id))
}

/// A status icon: never the only signal, always beside words.
fn icon(tone: &str) -> Markup {
    // Path data for the glyph drawn in white on a filled circle.
    let glyph = match tone {
        "ok" => "M4.6 8.3 7 10.7l4.4-5",
        "minor" => "M8 4.4v4.4M8 11.4v.2",
        "info" => "M8 7.2v4.4M8 4.6v.2",
        "planned" => "",
        _ => "M5.6 5.6l4.8 4.8M10.4 5.6l-4.8 4.8",
    };
    html! {
        svg class={ "icon icon-" (tone) } viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false" {
            @if glyph.is_empty() {
                circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-dasharray="2.2 1.9" {}
            } @else {
                circle cx="8" cy="8" r="8" fill="currentColor" {}
                path d=(glyph) fill="none" stroke="#fff" stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round" {}
            }
        }
    }
}

fn impact_tone(i: Impact) -> &'static str {
    match i {
        Impact::None => "ok",
        Impact::Minor => "minor",
        Impact::Major => "major",
        Impact::Critical => "critical",
    }
}

fn component_tone(s: ComponentStatus) -> &'static str {
    match s {
        ComponentStatus::Operational => "ok",
        ComponentStatus::Degraded => "minor",
        ComponentStatus::Outage => "critical",
    }
}

fn status_tone(s: IncidentStatus) -> &'static str {
    match s {
        IncidentStatus::Investigating => "critical",
        IncidentStatus::Identified => "major",
        IncidentStatus::Monitoring => "info",
        IncidentStatus::Resolved => "ok",
    }
}

fn kind_tone(k: IncidentKind) -> &'static str {
    match k {
        IncidentKind::Maintenance => "info",
        IncidentKind::Incident | IncidentKind::Informational => "neutral",
    }
}

fn status_word(s: IncidentStatus) -> &'static str {
    match s {
        IncidentStatus::Investigating => "Investigating",
        IncidentStatus::Identified => "Identified",
        IncidentStatus::Monitoring => "Monitoring",
        IncidentStatus::Resolved => "Resolved",
    }
}

fn impact_word(i: Impact) -> &'static str {
    match i {
        Impact::None => "No impact",
        Impact::Minor => "Minor impact",
        Impact::Major => "Major impact",
        Impact::Critical => "Critical impact",
    }
}

fn kind_word(k: IncidentKind) -> &'static str {
    match k {
        IncidentKind::Incident => "Incident",
        IncidentKind::Maintenance => "Maintenance",
        IncidentKind::Informational => "Informational",
    }
}

fn measure_word(k: MeasureKind) -> &'static str {
    match k {
        MeasureKind::Mitigate => "mitigation",
        MeasureKind::Prevent => "prevention",
        MeasureKind::Process => "process",
    }
}

/// The whole style sheet. Colours meet WCAG AA (4.5:1 for text) on their
/// backgrounds in both schemes. Kept free of `<` so it cannot end the
/// `<style>` element.
const STYLE: &str = r#"
:root {
  color-scheme: light dark;
  --bg: #f6f8fa; --card: #ffffff; --text: #1f2328; --muted: #59636e;
  --border: #d1d9e0; --soft: #eff2f5; --link: #0969da; --shadow: 0 1px 2px rgba(31,35,40,.06), 0 1px 8px rgba(31,35,40,.04);
  --ok: #1a7f37; --minor: #9a6700; --major: #bc4c00; --critical: #c21c2c; --info: #0969da; --neutral: #59636e;
  --ok-fg: #116329; --ok-bg: #dafbe1;
  --minor-fg: #7d4e00; --minor-bg: #fff8c5;
  --major-fg: #953800; --major-bg: #fff1e5;
  --critical-fg: #a40e26; --critical-bg: #ffebe9;
  --info-fg: #0550ae; --info-bg: #ddf4ff;
  --neutral-fg: #424a53; --neutral-bg: #eff2f5;
  --banner-ok: #1a7f37; --banner-minor: #9a6700; --banner-major: #bc4c00; --banner-critical: #c21c2c;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --card: #161b22; --text: #e6edf3; --muted: #9198a1;
    --border: #30363d; --soft: #212830; --link: #4493f8; --shadow: none;
    --ok: #3fb950; --minor: #d29922; --major: #f0883e; --critical: #f85149; --info: #4493f8; --neutral: #9198a1;
    --ok-fg: #3fb950; --ok-bg: #12261e;
    --minor-fg: #d29922; --minor-bg: #272115;
    --major-fg: #f0883e; --major-bg: #2d1d12;
    --critical-fg: #ff7b72; --critical-bg: #2d1517;
    --info-fg: #58a6ff; --info-bg: #121d2f;
    --neutral-fg: #c9d1d9; --neutral-bg: #212830;
    --banner-ok: #196c2e; --banner-minor: #845306; --banner-major: #9b4215; --banner-critical: #b62324;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif;
}
a { color: var(--link); text-underline-offset: .15em; }
a:focus-visible { outline: 2px solid var(--link); outline-offset: 2px; border-radius: 2px; }
code, pre { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: .875em; }
h1, h2, h3, h4 { line-height: 1.25; }
.wrap { max-width: 56rem; margin: 0 auto; padding: 0 1.25rem; }
.skip { position: absolute; left: -999px; top: .5rem; background: var(--card); padding: .5rem .75rem; border-radius: 6px; z-index: 1; }
.skip:focus { left: .5rem; }
.muted { color: var(--muted); }
.small { font-size: .875rem; }

/* Header */
.top { background: var(--card); border-bottom: 1px solid var(--border); padding: 2rem 0 1.75rem; }
.brand h1 { margin: 0; font-size: 2rem; letter-spacing: -.01em; overflow-wrap: anywhere; }
.brand .sub { margin: .25rem 0 0; color: var(--muted); }
.top nav { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: 1rem 0 1.25rem; font-size: .9375rem; }
.top nav a { text-decoration: none; font-weight: 500; }
.top nav a:hover { text-decoration: underline; }
.banner { display: flex; align-items: center; gap: .75rem; padding: 1rem 1.25rem; border-radius: 8px; color: #fff; }
.banner svg.icon { width: 1.5rem; height: 1.5rem; flex: none; color: #fff; }
.banner .icon path { stroke: var(--banner-ok); }
.banner-label { margin: 0; font-size: 1.25rem; font-weight: 650; }
.banner.tone-ok { background: var(--banner-ok); }
.banner.tone-minor { background: var(--banner-minor); }
.banner.tone-major { background: var(--banner-major); }
.banner.tone-critical { background: var(--banner-critical); }
.banner.tone-minor .icon path { stroke: var(--banner-minor); }
.banner.tone-major .icon path { stroke: var(--banner-major); }
.banner.tone-critical .icon path { stroke: var(--banner-critical); }
.open-list { list-style: none; margin: .75rem 0 0; padding: 0; }
.open-list li { margin: .5rem 0 0; padding: .7rem 1rem; border: 1px solid var(--border); border-left-width: 4px; border-radius: 8px; overflow-wrap: anywhere; }
.open-list a { font-weight: 600; }
.open-meta { display: block; margin-top: .2rem; }
.accent-ok { border-left-color: var(--ok) !important; }
.accent-minor { border-left-color: var(--minor) !important; }
.accent-major { border-left-color: var(--major) !important; }
.accent-critical { border-left-color: var(--critical) !important; }
.final-top { margin: .75rem 0 0; padding: .75rem 1rem; border-radius: 8px; background: var(--critical-bg); color: var(--critical-fg); }

/* Sections and cards */
.block { margin: 2.25rem 0; }
.block h2 { font-size: 1.25rem; margin: 0 0 .75rem; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 10px; box-shadow: var(--shadow); }
.pad { padding: 1rem 1.25rem; margin: 0; }

/* Icons and badges */
.icon { width: 1rem; height: 1rem; flex: none; vertical-align: -.15em; }
.tone-ok .icon, .icon-ok { color: var(--ok); }
.tone-minor .icon, .icon-minor { color: var(--minor); }
.tone-major .icon, .icon-major { color: var(--major); }
.tone-critical .icon, .icon-critical { color: var(--critical); }
.tone-info .icon, .icon-info { color: var(--info); }
.icon-planned { color: var(--muted); }
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 999px; font-size: .8125rem; font-weight: 600; line-height: 1.5; white-space: nowrap; }
.badge.tone-ok { color: var(--ok-fg); background: var(--ok-bg); }
.badge.tone-minor { color: var(--minor-fg); background: var(--minor-bg); }
.badge.tone-major { color: var(--major-fg); background: var(--major-bg); }
.badge.tone-critical { color: var(--critical-fg); background: var(--critical-bg); }
.badge.tone-info { color: var(--info-fg); background: var(--info-bg); }
.badge.tone-neutral { color: var(--neutral-fg); background: var(--neutral-bg); }
.tone-text-ok { color: var(--ok-fg); }
.tone-text-minor { color: var(--minor-fg); }
.tone-text-major { color: var(--major-fg); }
.tone-text-critical { color: var(--critical-fg); }
.tone-text-info { color: var(--info-fg); }

/* Components */
.components { list-style: none; margin: 0; padding: 0; }
.components li { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .25rem 1rem; padding: .9rem 1.25rem; border-top: 1px solid var(--border); }
.components li:first-child { border-top: 0; }
.component-name { font-weight: 600; overflow-wrap: anywhere; }
.state { display: inline-flex; align-items: center; gap: .45rem; font-weight: 500; font-size: .9375rem; }
.state.tone-ok { color: var(--ok-fg); }
.state.tone-minor { color: var(--minor-fg); }
.state.tone-major { color: var(--major-fg); }
.state.tone-critical { color: var(--critical-fg); }

/* Canary */
.canary { padding: 1.25rem 1.5rem 1.5rem; }
.canary h3 { font-size: 1rem; margin: 1.75rem 0 .5rem; }
.lead { font-size: 1.125rem; margin: 0 0 .75rem; }
.statements { list-style: none; margin: 0; padding: 0; }
.statements li { display: flex; gap: .75rem; align-items: flex-start; padding: .6rem 0; border-top: 1px solid var(--border); }
.statements li:first-child { border-top: 0; }
.statements .icon { margin-top: .2rem; }
.statement .text { overflow-wrap: anywhere; }
.slug { color: var(--muted); font-size: .75rem; white-space: nowrap; }
.callout { margin: 1rem 0; padding: .75rem 1rem; border-radius: 8px; border-left: 4px solid; }
.callout.tone-info { background: var(--info-bg); border-color: var(--info); }
.callout.tone-critical { background: var(--critical-bg); border-color: var(--critical); color: var(--critical-fg); }
.callout p { margin: .25rem 0; }
.callout-title { margin-top: 0; }
.facts { display: flex; flex-wrap: wrap; gap: 1px; margin: 1.25rem 0 .75rem; background: var(--border); border: 1px solid var(--border); border-radius: 8px; overflow: hidden; }
.facts div { flex: 1 1 auto; background: var(--soft); padding: .65rem .9rem; }
.facts dt { font-size: .8125rem; color: var(--muted); }
.facts dd { margin: .1rem 0 0; font-weight: 600; }
.facts .date { display: block; }
.facts .sep { display: none; }
.facts .clock { display: block; font-weight: 400; color: var(--muted); font-size: .875rem; }
.kv { margin: 0; }
.kv div { display: grid; grid-template-columns: 8rem 1fr; gap: 1rem; padding: .5rem 0; border-top: 1px solid var(--border); }
.kv div:first-child { border-top: 0; padding-top: 0; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; min-width: 0; }
.keys { list-style: none; margin: 0; padding: 0; }
.keys li + li { margin-top: .35rem; }
.hex { overflow-wrap: normal; word-break: normal; background: var(--soft); padding: .1rem .35rem; border-radius: 4px; font-size: .8125rem; }
.hex span { white-space: nowrap; }
.cmd { background: var(--soft); border: 1px solid var(--border); border-radius: 8px; padding: .75rem 1rem; overflow-x: auto; margin: .5rem 0 1rem; }
.cmd code { font-size: 1em; }
.cmd.wraps { white-space: pre-wrap; overflow-wrap: anywhere; overflow-x: visible; }
.files { margin: 0; padding-left: 1.25rem; }
.files li { margin: .2rem 0; }
.table-scroll { overflow-x: auto; }
.history { width: 100%; border-collapse: collapse; font-size: .875rem; }
.history th { text-align: left; font-size: .8125rem; color: var(--muted); font-weight: 600; padding: .4rem .5rem; border-bottom: 1px solid var(--border); }
.history td { padding: .5rem .4rem; border-bottom: 1px solid var(--border); vertical-align: top; }
.history td:first-child { white-space: nowrap; }
.history td:nth-child(2) { white-space: nowrap; }
.history .hex { font-size: .75rem; }
.history tr:last-child td { border-bottom: 0; }

/* Incidents */
.incident { margin: 0 0 1.25rem; overflow: hidden; }
.incident.open { border-left: 4px solid var(--major); }
.incident-head { padding: 1.1rem 1.5rem .9rem; border-bottom: 1px solid var(--border); }
.incident-head h3 { margin: .5rem 0 .25rem; font-size: 1.1875rem; overflow-wrap: anywhere; }
.incident-head p { margin: 0; }
.badges { display: flex; flex-wrap: wrap; gap: .35rem; }
.incident-body { padding: .25rem 1.5rem 1.25rem; }
.incident-body h4 { font-size: .9375rem; font-weight: 650; margin: 1.25rem 0 .35rem; }
.prose { margin: .35rem 0; overflow-wrap: anywhere; }
.when { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: .3rem 1rem; }
.when div { display: contents; }
.when dt { color: var(--muted); }
.when dd { margin: 0; }
.chips { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .35rem; }
.chips li { background: var(--soft); border: 1px solid var(--border); border-radius: 6px; padding: 0 .5rem; font-size: .875rem; }
.verdicts { list-style: none; margin: .5rem 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: .35rem 1.5rem; }
.verdicts li.yes strong { color: var(--critical-fg); }
.measures { list-style: none; margin: 0; padding: 0; }
.measures li { display: flex; align-items: flex-start; gap: .6rem; padding: .3rem 0; }
.measures .icon { margin-top: .25rem; }
.measures .measure { flex: 1; overflow-wrap: anywhere; }
.timeline { list-style: none; margin: .5rem 0 0 .4rem; padding: 0; border-left: 2px solid var(--border); }
.timeline li { position: relative; padding: 0 0 .9rem 1.25rem; }
.timeline li:last-child { padding-bottom: 0; }
.timeline li::before { content: ""; position: absolute; left: -7px; top: .4rem; width: 12px; height: 12px; border-radius: 50%; background: var(--card); border: 2px solid var(--muted); }
.timeline li:first-child::before { border-color: var(--link); background: var(--link); }
.update-head { margin: 0; }
.timeline .prose { margin: .15rem 0 0; }

/* Footer */
.bottom { border-top: 1px solid var(--border); padding: 1.5rem 0 2.5rem; color: var(--muted); font-size: .875rem; }
.bottom p { margin: .35rem 0; }

@media (max-width: 40rem) {
  .wrap { padding: 0 1rem; }
  .top { padding: 1.25rem 0 1.25rem; }
  .brand h1 { font-size: 1.6rem; }
  .banner { padding: .85rem 1rem; }
  .banner-label { font-size: 1.0625rem; }
  .canary { padding: 1rem 1rem 1.25rem; }
  .incident-head { padding: 1rem 1rem .8rem; }
  .incident-body { padding: .25rem 1rem 1rem; }
  .components li { padding: .8rem 1rem; }
  .kv div { grid-template-columns: 1fr; gap: .15rem; }
  .history td:nth-child(2) { white-space: normal; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::CanaryView;
    use canary_core::{Digest, KeyId, Statement, StatementItem};

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    /// A final statement with notes, no incidents, two components.
    fn final_site() -> Site {
        let statement = Statement {
            issuer: "example.org".to_owned(),
            sequence: 7,
            issued_at: ts("2026-09-30T09:00:00Z"),
            next_due: ts("2026-12-29T09:00:00Z"),
            expires_at: ts("2027-01-12T09:00:00Z"),
            statements: vec![StatementItem {
                id: "no-warrants".to_owned(),
                text: "We have never received a <b>search warrant</b>.".to_owned(),
            }],
            previous: None,
            incidents: None,
            freshness: None,
            notes: Some("We are closing down.\u{7}\n\nThank you <3".to_owned()),
            is_final: Some(true),
        };
        let key: KeyId = "ab".repeat(32).parse().expect("a key id");
        Site::new(
            "example.org".to_owned(),
            "Example \u{1b}[1mOrg".to_owned(),
            vec![
                ("website".to_owned(), "Website".to_owned()),
                ("api".to_owned(), "API".to_owned()),
            ],
            CanaryView {
                statement,
                digest: Digest::of(b"payload"),
                signers: vec![key],
                panic_signers: Vec::new(),
                threshold: 1,
                tripped: Vec::new(),
                state: crate::site::CanaryState::Fresh,
                signer_keys: Vec::new(),
                plain_signers: vec![key],
            },
            vec![(7, ts("2026-09-30T09:00:00Z"), Digest::of(b"payload"))],
            Vec::new(),
            Vec::new(),
        )
    }

    #[test]
    fn final_statement_notes_and_a_quiet_day() {
        let site = final_site();
        let page = render(&site);
        assert_eq!(render(&site), page, "deterministic");
        for needle in [
            "<h1>Example \\u{1b}[1mOrg</h1>",
            "All systems operational",
            "Final warrant canary.",
            "This is the final statement.",
            "We have never received a &lt;b&gt;search warrant&lt;/b&gt;.",
            "<p class=\"prose\">We are closing down.\\u{7}</p><p class=\"prose\">Thank you &lt;3</p>",
            "No incidents have been recorded.",
            "1 of 1 signatures",
            "href=\".well-known/canary/statements/000007.json\"",
            "<time datetime=\"2026-09-30T09:00:00Z\">30 September 2026, 09:00 UTC</time>",
        ] {
            assert!(page.contains(needle), "the page lacks {needle:?}");
        }
        assert!(!page.contains("Unresolved incidents"));
        assert!(page.chars().all(|c| c == '\n' || !c.is_control()));
    }

    #[test]
    fn the_freshness_proof_is_shown() {
        let mut site = final_site();
        site.canary.statement.freshness = Some(canary_core::Freshness {
            bitcoin: Some(canary_core::BitcoinProof {
                height: 0,
                hash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f".to_owned(),
                header: Some("0100".to_owned()),
            }),
            headlines: Some(vec!["Rain <expected>".to_owned()]),
        });
        let page = render(&site);
        for needle in [
            "Freshness proof",
            "No. 0",
            "<span>000000000019d668</span><wbr><span>9c085ae165831e93</span>",
            "Included and checked offline",
            "Rain &lt;expected&gt;",
        ] {
            assert!(page.contains(needle), "the page lacks {needle:?}");
        }
        let text = site.canary_text();
        assert!(text.contains(
            "Bitcoin block 0 (000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f)"
        ));
        assert!(text.contains("was checked offline"));
        assert!(text.contains("Headline: Rain <expected>"));
        if let Some(b) = site
            .canary
            .statement
            .freshness
            .as_mut()
            .and_then(|f| f.bitcoin.as_mut())
        {
            b.header = None;
        }
        assert!(render(&site).contains("Not included: look the block up"));
        assert!(site.canary_text().contains("no header included"));
    }

    #[test]
    fn a_tripped_canary_is_shown_tripped_everywhere() {
        let mut site = final_site();
        let panic = site.canary.signers.remove(0);
        site.canary.panic_signers = vec![panic];
        site.canary.tripped = vec!["a panic key signed this statement (<b>x</b>)".to_owned()];
        site.canary.state = crate::site::CanaryState::Tripped;
        let site = Site::new(
            site.issuer.clone(),
            site.name.clone(),
            Vec::new(),
            site.canary.clone(),
            site.history.clone(),
            Vec::new(),
            Vec::new(),
        );
        let page = render(&site);
        for needle in [
            "Warrant canary tripped.",
            "This canary is tripped.",
            "a panic key signed this statement (&lt;b&gt;x&lt;/b&gt;)",
            "(panic key)",
            "Major outage: the warrant canary is tripped",
        ] {
            assert!(page.contains(needle), "the page lacks {needle:?}");
        }
        assert!(!page.contains("All systems operational"));
        let status = site.status_json();
        assert_eq!(status["indicator"], "critical");
        assert_eq!(status["canary"]["tripped"], true);
        assert_eq!(status["canary"]["panic_signers"][0], panic.to_string());
        let text = site.canary_text();
        assert!(text.contains("TRIPPED: every reader's verifier reports this canary as tripped"));
        assert!(text.contains("(PANIC KEY)"));
    }

    #[test]
    fn style_cannot_close_its_element() {
        assert!(!STYLE.contains('<'));
    }

    #[test]
    fn dates_read_well() {
        let t: Timestamp = "2026-09-30T09:00:00Z".parse().expect("timestamp");
        assert_eq!(human(t), "30 September 2026, 09:00 UTC");
        let t: Timestamp = "2026-02-01T08:05:07Z".parse().expect("timestamp");
        assert_eq!(human(t), "1 February 2026, 08:05:07 UTC");
        assert_eq!(duration(TimeDelta::minutes(150)), "2 h 30 min");
        assert_eq!(
            duration(TimeDelta::minutes(3 * 1440 + 4 * 60 + 5)),
            "3 days 4 h"
        );
        assert_eq!(duration(TimeDelta::seconds(20)), "under a minute");
    }

    #[test]
    fn prose_keeps_paragraphs_and_escapes_the_rest() {
        let p = prose("one\u{7}\nline\r\n\r\n<b>two</b>\u{1b}[31m\u{2028}").into_string();
        assert_eq!(
            p,
            "<p class=\"prose\">one\\u{7}<br>line</p><p class=\"prose\">&lt;b&gt;two&lt;/b&gt;\\u{1b}[31m\\u{2028}</p>"
        );
        assert_eq!(
            text("a\u{202e}b\u{2066}c\u{200f}d\te\u{61c}"),
            "a\\u{202e}b\\u{2066}c\\u{200f}d\\te\\u{61c}"
        );
    }
}
