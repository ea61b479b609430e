//! Reading a legacy canary's text (DESIGN §11): the "as of" date, the due
//! date, the statements as (id, text), the volatile ids and the notes.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use regex_lite::Regex;
use serde::Deserialize;

use super::{LegacyTrustError, field};
use crate::time::Timestamp;
use crate::verify::Finding;

/// The `[read]` table of a legacy trust file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRead {
    issued: String,
    date_format: String,
    due: Option<String>,
    due_format: Option<String>,
    statement: String,
    #[serde(default)]
    volatile: Vec<String>,
    notes: Option<String>,
}

/// Where a statement's text ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// At the next start or the first blank line (the `[read]` rule).
    BlankLine,
    /// At the next start or the next section heading (the `qubes` profile,
    /// whose statements hold blank lines, as the key fingerprint does).
    Heading,
}

/// How the text of a canary is read: a built-in profile or a `[read]` table.
#[derive(Debug, Clone)]
pub struct Profile {
    name: String,
    issued: Regex,
    date_format: String,
    due: Option<Regex>,
    due_format: String,
    /// The due date is read from the last statement only (`qubes`).
    due_in_last: bool,
    statement: Regex,
    /// The statements are read in this section only (`qubes`: "Statements").
    section: Option<String>,
    end: End,
    volatile: BTreeSet<String>,
    /// The last statement is volatile (the plan, `qubes`).
    last_volatile: bool,
    notes: Option<Regex>,
}

/// What a profile read from a canary's signed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary {
    /// The "as of" date (the start of that day, UTC).
    pub issued: Timestamp,
    /// When the next issue is due, if the text says.
    pub due: Option<Timestamp>,
    /// The statements as (id, text), whitespace normalised, in order.
    pub statements: Vec<(String, String)>,
    /// The ids of statements expected to change every issue.
    pub volatile: BTreeSet<String>,
    /// The notes section, whitespace normalised, if the profile has one and
    /// the text holds it.
    pub notes: Option<String>,
}

fn compile(name: &'static str, re: &str) -> Result<Regex, LegacyTrustError> {
    // Bounded: a trust file is the reader's own, but a huge automaton is
    // still no way to fail.
    regex_lite::RegexBuilder::new(re)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| field(name, e.to_string()))
}

fn needs_group(name: &'static str, re: &Regex, group: &str) -> Result<(), LegacyTrustError> {
    if re.capture_names().flatten().any(|n| n == group) {
        Ok(())
    } else {
        Err(field(
            name,
            format!("the regex has no (?P<{group}>...) group"),
        ))
    }
}

impl Profile {
    /// A built-in profile by name: `qubes`.
    pub fn builtin(name: &str) -> Option<Self> {
        if name != "qubes" {
            return None;
        }
        let re = |s: &str| Regex::new(s).ok();
        Some(Profile {
            name: "qubes".to_owned(),
            issued: re(
                r"[Dd]ate\s+of\s+issue\s+of\s+this\s+canary\s+is\s+(?P<date>[A-Za-z]+\s+\d{1,2},\s+\d{4})",
            )?,
            date_format: "%B %d, %Y".to_owned(),
            // Since 2017 "in the first fourteen days of <Month> <Year>"; the
            // first issues said "two weeks".
            due: Some(re(
                r"first\s+(?:fourteen\s+days|two\s+weeks)\s+of\s+(?P<month>[A-Za-z]+),?\s+(?P<year>\d{4})",
            )?),
            due_format: "%B %d, %Y".to_owned(),
            due_in_last: true,
            statement: re(r"(?m)^(?P<id>\d{1,3})\.[ \t]")?,
            section: Some("Statements".to_owned()),
            end: End::Heading,
            volatile: ["1", "2"].iter().map(|s| (*s).to_owned()).collect(),
            last_volatile: true,
            notes: Some(re(r"Special announcements")?),
        })
    }

    pub(super) fn from_raw(raw: RawRead) -> Result<Self, LegacyTrustError> {
        let issued = compile("read.issued", &raw.issued)?;
        needs_group("read.issued", &issued, "date")?;
        check_format("read.date_format", &raw.date_format)?;
        let due = raw
            .due
            .as_deref()
            .map(|d| compile("read.due", d))
            .transpose()?;
        if let Some(d) = &due {
            let names: BTreeSet<&str> = d.capture_names().flatten().collect();
            let by_month = names.contains("month") && names.contains("year");
            if !by_month && !names.contains("date") {
                return Err(field(
                    "read.due",
                    "the regex needs (?P<date>...), or (?P<month>...) and (?P<year>...)",
                ));
            }
        }
        let due_format = raw.due_format.unwrap_or_else(|| raw.date_format.clone());
        check_format("read.due_format", &due_format)?;
        let statement = compile("read.statement", &raw.statement)?;
        needs_group("read.statement", &statement, "id")?;
        let notes = raw
            .notes
            .as_deref()
            .map(|n| compile("read.notes", n))
            .transpose()?;
        Ok(Profile {
            name: "[read]".to_owned(),
            issued,
            date_format: raw.date_format,
            due,
            due_format,
            due_in_last: false,
            statement,
            section: None,
            end: End::BlankLine,
            volatile: raw.volatile.into_iter().collect(),
            last_volatile: false,
            notes,
        })
    }

    /// The profile's name (`qubes`, or `[read]`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when the profile reads a due date.
    pub fn reads_due(&self) -> bool {
        self.due.is_some()
    }

    /// Reads a canary's signed text. A rule that does not match is
    /// [`Finding::Unparsable`], naming the rule.
    pub fn read(&self, text: &str) -> Result<Canary, Finding> {
        let unparsable = |rule: &str, reason: String| Finding::Unparsable {
            rule: rule.to_owned(),
            reason,
        };
        let issued_caps = self
            .issued
            .captures(text)
            .ok_or_else(|| unparsable("issued", "no date of issue found".to_owned()))?;
        let issued_text = issued_caps.name("date").map_or("", |m| m.as_str());
        let issued = parse_day(issued_text, &self.date_format).ok_or_else(|| {
            unparsable(
                "issued",
                format!(
                    "{:?} is not a date of the form {:?}",
                    clip(issued_text),
                    self.date_format
                ),
            )
        })?;
        let issued = start_of(issued)
            .ok_or_else(|| unparsable("issued", "the date is out of range".to_owned()))?;

        let region = match &self.section {
            Some(name) => section(text, name)
                .ok_or_else(|| unparsable("statement", format!("no {name:?} section")))?,
            None => text,
        };
        let statements = self.statements(region)?;
        let mut volatile = self.volatile.clone();
        if self.last_volatile
            && let Some((id, _)) = statements.last()
        {
            volatile.insert(id.clone());
        }

        let due = match &self.due {
            None => None,
            Some(re) => {
                let haystack = if self.due_in_last {
                    statements.last().map_or("", |(_, t)| t.as_str())
                } else {
                    text
                };
                let caps = re.captures(haystack).ok_or_else(|| {
                    unparsable(
                        "due",
                        if self.due_in_last {
                            "the last statement names no month for the next canary".to_owned()
                        } else {
                            "no due date found".to_owned()
                        },
                    )
                })?;
                let day = match (caps.name("month"), caps.name("year"), caps.name("date")) {
                    (Some(m), Some(y), _) => {
                        let s = format!("{} 14, {}", normalise(m.as_str()), y.as_str());
                        NaiveDate::parse_from_str(&s, "%B %d, %Y")
                            .ok()
                            .ok_or_else(|| {
                                unparsable("due", format!("{:?} is not a month and year", clip(&s)))
                            })?
                    }
                    (_, _, Some(d)) => {
                        parse_day(d.as_str(), &self.due_format).ok_or_else(|| {
                            unparsable(
                                "due",
                                format!(
                                    "{:?} is not a date of the form {:?}",
                                    clip(d.as_str()),
                                    self.due_format
                                ),
                            )
                        })?
                    }
                    _ => return Err(unparsable("due", "the date group did not match".to_owned())),
                };
                // Due at the end of the day named.
                let next = day
                    .succ_opt()
                    .and_then(start_of)
                    .ok_or_else(|| unparsable("due", "the date is out of range".to_owned()))?;
                Some(next)
            }
        };
        if let Some(d) = due
            && d <= issued
        {
            return Err(unparsable(
                "due",
                format!("the due date {d} is not after the date of issue {issued}"),
            ));
        }

        let notes = match &self.notes {
            None => None,
            Some(re) => notes_section(text, re),
        };
        Ok(Canary {
            issued,
            due,
            statements,
            volatile,
            notes,
        })
    }

    fn statements(&self, text: &str) -> Result<Vec<(String, String)>, Finding> {
        let starts: Vec<(String, usize, usize)> = self
            .statement
            .captures_iter(text)
            .filter_map(|c| {
                let all = c.get(0)?;
                let id = c.name("id")?.as_str().trim().to_owned();
                Some((id, all.start(), all.end()))
            })
            .collect();
        if starts.is_empty() {
            return Err(Finding::Unparsable {
                rule: "statement".to_owned(),
                reason: "no statement found".to_owned(),
            });
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, (id, _, body_start)) in starts.iter().enumerate() {
            let next = starts.get(i + 1).map_or(text.len(), |s| s.1);
            let body = text.get(*body_start..next).unwrap_or("");
            let body = match self.end {
                End::BlankLine => until_blank_line(body),
                End::Heading => until_heading(body),
            };
            if id.is_empty() || !seen.insert(id.clone()) {
                return Err(Finding::Unparsable {
                    rule: "statement".to_owned(),
                    reason: format!("statement {:?} appears twice", clip(id)),
                });
            }
            out.push((id.clone(), normalise(body)));
        }
        Ok(out)
    }
}

fn check_format(name: &'static str, format: &str) -> Result<(), LegacyTrustError> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Err(field(
            name,
            format!("{format:?} is not a chrono date format"),
        ));
    }
    Ok(())
}

/// Runs of whitespace made single spaces, ends trimmed.
fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text quoted in a reason, at most 80 characters.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().nth(80).is_some() {
        out.push('…');
    }
    out
}

fn parse_day(s: &str, format: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&normalise(s), format).ok()
}

fn start_of(day: NaiveDate) -> Option<Timestamp> {
    Timestamp::from_datetime(day.and_hms_opt(0, 0, 0)?.and_utc())
}

fn is_underline(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 3 && (t.bytes().all(|b| b == b'-') || t.bytes().all(|b| b == b'='))
}

/// The lines of `text`, each with its byte offset.
fn lines_at(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0usize, |at, line| {
        let start = *at;
        *at += line.len();
        Some((start, line))
    })
}

/// The body of the section headed `name` (a line, underlined with `-` or
/// `=`), to the next heading.
fn section<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let lines: Vec<(usize, &str)> = lines_at(text).collect();
    let start = lines.windows(2).find_map(|w| {
        (w[0].1.trim().eq_ignore_ascii_case(name) && is_underline(w[1].1))
            .then(|| w[1].0 + w[1].1.len())
    })?;
    let rest = text.get(start..)?;
    Some(until_heading(rest))
}

fn until_blank_line(text: &str) -> &str {
    let mut seen_text = false;
    for (at, line) in lines_at(text) {
        if line.trim().is_empty() {
            if seen_text {
                return text.get(..at).unwrap_or(text);
            }
        } else {
            seen_text = true;
        }
    }
    text
}

fn until_heading(text: &str) -> &str {
    let lines: Vec<(usize, &str)> = lines_at(text).collect();
    for w in lines.windows(2) {
        if !w[0].1.trim().is_empty() && !is_underline(w[0].1) && is_underline(w[1].1) {
            return text.get(..w[0].0).unwrap_or(text);
        }
    }
    text
}

/// The notes: the section whose heading matches `re`, to the next heading
/// (or, without an underline, to the first blank line after its text).
fn notes_section(text: &str, re: &Regex) -> Option<String> {
    let m = re.find(text)?;
    let after = text.get(m.end()..)?;
    // Skip the rest of the heading's line and its underline, if any.
    let mut lines = lines_at(after);
    let mut start = lines.next().map_or(after.len(), |(at, l)| at + l.len());
    if let Some(rest) = after.get(start..)
        && let Some((_, l)) = lines_at(rest).next()
        && is_underline(l)
    {
        start += l.len();
    }
    let body = after.get(start..)?;
    Some(normalise(until_heading(body)))
}
