//! `feed.atom`: one entry per statement and per incident version, with ids
//! that never change: `tag:` URIs (RFC 4151) minted by the issuer on the
//! day of its first statement, `tag:<issuer>,<date>:canary/statement/<seq>`
//! and `tag:<issuer>,<date>:canary/incident/<id>/<version>`. Each entry
//! links to its signed document and to its place on the status page.

use atom_syndication::{Entry, Feed, FixedDateTime, Link, Person, Text};
use canary_core::{IncidentRecord, Statement, Timestamp};

use crate::common::{escape, escape_lines};
use crate::site::Site;

fn time(t: Timestamp) -> FixedDateTime {
    t.as_datetime().fixed_offset()
}

fn link(href: String, mime_type: &str) -> Link {
    let mut l = Link::default();
    l.set_href(href);
    l.set_rel("alternate");
    l.set_mime_type(Some(mime_type.to_owned()));
    l
}

/// The links of an entry: the signed document, and its place on the page.
fn links(base: &str, document: String, anchor: &str) -> Vec<Link> {
    vec![
        link(format!("{base}{document}"), "application/json"),
        link(format!("{base}index.html#{anchor}"), "text/html"),
    ]
}

/// The tag URI prefix of the issuer's feed: `tag:<issuer>,<date>:canary/`,
/// with `date` the day of the first statement (which never changes). An
/// issuer that is not a plain host name is percent-encoded.
fn tag_prefix(issuer: &str, first: Timestamp) -> String {
    let authority: String = issuer
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let date = first.to_string();
    format!("tag:{authority},{}:canary/", &date[..10])
}

fn statement_entry(
    issuer: &str,
    tag: &str,
    base: &str,
    s: &Statement,
    tripped: &[String],
) -> Entry {
    let mut e = Entry::default();
    e.set_id(format!("{tag}statement/{}", s.sequence));
    e.set_title(Text::plain(format!(
        "{}Warrant canary {} of {}",
        if tripped.is_empty() { "" } else { "TRIPPED: " },
        s.sequence,
        escape(issuer)
    )));
    e.set_updated(time(s.issued_at));
    e.set_published(Some(time(s.issued_at)));
    let mut body = String::new();
    if !tripped.is_empty() {
        body.push_str("TRIPPED: every reader's verifier reports this canary as tripped:\n");
        for reason in tripped {
            body.push_str(&format!("- {}\n", escape(reason)));
        }
    }
    body.push_str(&format!("As of {}:\n", s.issued_at));
    for item in &s.statements {
        body.push_str(&format!("* {}\n", escape(&item.text)));
    }
    body.push_str(&format!(
        "Next statement due {}; expires {}.",
        s.next_due, s.expires_at
    ));
    if s.is_final() {
        body.push_str("\nThis is the final statement.");
    }
    e.set_summary(Some(Text::plain(body)));
    e.set_links(links(
        base,
        canary_core::ArchivePath::Statement(s.sequence).site_path(),
        "canary",
    ));
    e
}

fn incident_entry(tag: &str, base: &str, r: &IncidentRecord) -> Entry {
    let mut e = Entry::default();
    e.set_id(format!("{tag}incident/{}/{}", r.id, r.version));
    e.set_title(Text::plain(format!(
        "{} ({})",
        escape(&r.title),
        r.status.as_str()
    )));
    let updated = r.updates.last().map_or(r.started_at, |u| u.at);
    e.set_updated(time(updated));
    e.set_published(Some(time(updated)));
    let latest = r
        .updates
        .last()
        .map_or_else(|| escape_lines(&r.what_happened), |u| escape_lines(&u.body));
    e.set_summary(Some(Text::plain(format!(
        "{latest}\nImpact: {}. Affected: {}.",
        r.impact.as_str(),
        escape(&r.affected.join(", "))
    ))));
    e.set_links(links(
        base,
        canary_core::ArchivePath::Incident {
            id: &r.id,
            version: r.version,
        }
        .site_path(),
        &format!("incident-{}", r.id),
    ));
    e
}

/// Renders the feed. `base` is the site's root URL ending in `/`, or empty
/// for links relative to the site. Every text goes through [`escape`] (or
/// [`escape_lines`] for incident bodies, whose line breaks XML keeps as
/// they are), so the feed holds no character XML 1.0 forbids.
pub fn render(site: &Site, statements: &[Statement], base: &str) -> String {
    // The base comes from canary.toml, which nothing else checks for this.
    let base = &escape(base);
    let first = statements
        .first()
        .map_or(site.canary.statement.issued_at, |s| s.issued_at);
    let tag = &tag_prefix(&site.issuer, first);
    let mut entries: Vec<Entry> = statements
        .iter()
        .map(|s| {
            // The latest statement carries what readers make of it.
            let tripped: &[String] = if s.sequence == site.canary.statement.sequence {
                &site.canary.tripped
            } else {
                &[]
            };
            statement_entry(&site.issuer, tag, base, s, tripped)
        })
        .chain(
            site.incident_versions
                .iter()
                .map(|r| incident_entry(tag, base, r)),
        )
        .collect();
    // Newest first; ties in a fixed order so output is reproducible.
    entries.sort_by(|a, b| {
        b.updated()
            .cmp(a.updated())
            .then_with(|| a.id().cmp(b.id()))
    });
    let mut feed = Feed::default();
    feed.set_id(format!("{tag}feed"));
    feed.set_title(Text::plain(format!(
        "{}: warrant canary and incidents",
        escape(&site.name)
    )));
    let updated = entries
        .first()
        .map_or_else(|| time(site.canary.statement.issued_at), |e| *e.updated());
    feed.set_updated(updated);
    let mut author = Person::default();
    author.set_name(escape(&site.name));
    feed.set_authors(vec![author]);
    let mut self_link = Link::default();
    self_link.set_href(format!("{base}feed.atom"));
    self_link.set_rel("self");
    feed.set_links(vec![self_link]);
    feed.set_entries(entries);
    let mut out = feed.to_string();
    out.push('\n');
    out
}
