//! Output formats (DESIGN §6): human, JSON Lines, GitHub annotations.

use std::collections::BTreeMap;
use std::io::Write as _;

use canary_core::{KeyId, Target, TimeDelta, Timestamp, Verdict, format_duration, sanitize};

use crate::check::Outcome;

/// The `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A verdict line per source, then its reasons.
    Human,
    /// One JSON object per source and line.
    Json,
    /// GitHub Actions annotations, and a summary in $GITHUB_STEP_SUMMARY.
    Github,
}

/// Text for the terminal, on one line ([`canary_core::sanitize`]): document
/// text cannot drive the terminal or reorder what is around it.
pub fn escape(s: &str) -> String {
    sanitize(s, Target::Line)
}

/// A JSON value as one line of JSON text, with the characters a terminal
/// would act on written as `\uXXXX` escapes (the value is the same).
pub fn json_line(value: &serde_json::Value) -> String {
    sanitize(&value.to_string(), Target::Json)
}

/// "in 33d" or "5d ago", coarsened to days or hours.
pub fn relative(now: Timestamp, t: Timestamp) -> String {
    let d = t.since(now);
    let abs = if d < TimeDelta::zero() { -d } else { d };
    let coarse = if abs >= TimeDelta::days(2) {
        TimeDelta::days(abs.num_days())
    } else if abs >= TimeDelta::hours(2) {
        TimeDelta::hours(abs.num_hours())
    } else {
        TimeDelta::minutes(abs.num_minutes())
    };
    let words = format_duration(coarse);
    if d < TimeDelta::zero() {
        format!("{words} ago")
    } else {
        format!("in {words}")
    }
}

/// How to print.
pub struct Printer {
    /// The format.
    pub format: Format,
    /// ANSI colours (human format on a terminal, without NO_COLOR).
    pub color: bool,
    /// Only print sources that are not ok.
    pub quiet: bool,
    /// Warnings fail.
    pub deny_warnings: bool,
    /// The run's time.
    pub now: Timestamp,
    /// Key comments from .pub files.
    pub comments: BTreeMap<KeyId, String>,
}

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

fn verdict_color(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "32",
        Verdict::Warning => "33",
        Verdict::Stale | Verdict::Unreachable => "33;1",
        Verdict::Invalid | Verdict::Tripped => "31;1",
    }
}

impl Printer {
    fn signer(&self, id: &KeyId) -> String {
        match self.comments.get(id) {
            Some(c) => format!("{} ({})", id.short(), escape(c)),
            None => id.short(),
        }
    }

    /// Writes one source's result.
    pub fn print(&self, outcome: &Outcome) -> std::io::Result<()> {
        let verdict = outcome.verdict(self.deny_warnings);
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Human => {
                if self.quiet && verdict == Verdict::Ok {
                    return Ok(());
                }
                writeln!(out, "{}", self.human_line(outcome, verdict))?;
                if let Some(l) = &outcome.legacy {
                    if let Some(issue) = &l.issue {
                        writeln!(out, "  newest issue {}", escape(issue))?;
                    }
                    let signers: Vec<String> = l.signers.iter().map(|s| escape(s)).collect();
                    writeln!(out, "  signed by {}", signers.join(", "))?;
                }
                if let Some(s) = &outcome.statement {
                    let signers: Vec<String> = s.signers().iter().map(|k| self.signer(k)).collect();
                    writeln!(out, "  signed by {}", signers.join(", "))?;
                    if let Some(n) = outcome.history_checked {
                        writeln!(out, "  history: {n} statements, every link checked")?;
                    }
                    if !outcome.incidents.is_empty() {
                        writeln!(out, "  incidents: {} verified", outcome.incidents.len())?;
                    }
                }
                for r in &outcome.reasons {
                    let label = paint(self.color, verdict_color(r.verdict()), r.code());
                    writeln!(out, "  {label}: {}", escape(&r.to_string()))?;
                }
            }
            Format::Json | Format::Github => {
                if self.format == Format::Github {
                    self.annotations(&mut out, outcome)?;
                } else {
                    writeln!(out, "{}", json_line(&self.json(outcome, verdict)))?;
                }
            }
        }
        Ok(())
    }

    fn human_line(&self, outcome: &Outcome, verdict: Verdict) -> String {
        let word = paint(
            self.color,
            verdict_color(verdict),
            &verdict.as_str().to_uppercase(),
        );
        let source = escape(&outcome.source);
        if let Some(l) = &outcome.legacy {
            let c = &l.canary;
            let mut line = format!(
                "{word} {} ({}) as of {} ({})",
                escape(&l.issuer),
                l.format.as_str(),
                c.issued,
                relative(self.now, c.issued),
            );
            if let Some(due) = c.due {
                line.push_str(&format!(", next due {due} ({})", relative(self.now, due)));
            }
            if let Some(stale) = l.stale_at {
                line.push_str(&format!(", stale {stale} ({})", relative(self.now, stale)));
            }
            line.push_str(&format!(" [{source}]"));
            return line;
        }
        match &outcome.statement {
            None => format!("{word} {source}"),
            Some(s) => {
                let d = s.document();
                format!(
                    "{word} {} #{} as of {} ({}), next due {} ({}), expires {} ({}) [{source}]",
                    escape(&d.issuer),
                    d.sequence,
                    d.issued_at,
                    relative(self.now, d.issued_at),
                    d.next_due,
                    relative(self.now, d.next_due),
                    d.expires_at,
                    relative(self.now, d.expires_at),
                )
            }
        }
    }

    /// The JSON Lines object of DESIGN §6. Fields of the statement are null
    /// unless it is authentic.
    pub fn json(&self, outcome: &Outcome, verdict: Verdict) -> serde_json::Value {
        let reasons: Vec<serde_json::Value> = outcome
            .reasons
            .iter()
            .map(|r| serde_json::json!({ "code": r.code(), "message": r.to_string() }))
            .collect();
        if let Some(l) = &outcome.legacy {
            let c = &l.canary;
            // The same fields; a legacy canary has no sequence, and
            // `expires_at` is when it turns stale (due + grace).
            return serde_json::json!({
                "source": outcome.source,
                "verdict": verdict.as_str(),
                "reasons": reasons,
                "issuer": l.issuer,
                "sequence": null,
                "issued_at": c.issued.to_string(),
                "next_due": c.due.map(|d| d.to_string()),
                "expires_at": l.stale_at.map(|d| d.to_string()),
                "statements": c.statements.iter().map(|(id, text)| serde_json::json!({
                    "id": id,
                    "text": text,
                })).collect::<Vec<_>>(),
                "signers": l.signers,
                "format": l.format.as_str(),
                "notes": c.notes,
                "issue": l.issue,
            });
        }
        let s = outcome.statement.as_ref().map(|s| s.document());
        serde_json::json!({
            "source": outcome.source,
            "verdict": verdict.as_str(),
            "reasons": reasons,
            "issuer": s.map(|s| s.issuer.clone()),
            "sequence": s.map(|s| s.sequence),
            "issued_at": s.map(|s| s.issued_at.to_string()),
            "next_due": s.map(|s| s.next_due.to_string()),
            "expires_at": s.map(|s| s.expires_at.to_string()),
            "statements": s.map(|s| s.statements.iter().map(|i| serde_json::json!({
                "id": i.id,
                "text": i.text,
            })).collect::<Vec<_>>()).unwrap_or_default(),
            "signers": outcome.statement.as_ref().map(|s| s.signers().iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap_or_default(),
        })
    }

    fn annotations(&self, out: &mut impl std::io::Write, outcome: &Outcome) -> std::io::Result<()> {
        let verdict = outcome.verdict(self.deny_warnings);
        for r in &outcome.reasons {
            let level = match r.verdict() {
                Verdict::Ok => continue,
                Verdict::Warning if !self.deny_warnings => "warning",
                _ => "error",
            };
            writeln!(
                out,
                "::{level} title={}::{}",
                gh_property(&format!(
                    "canary {}: {}",
                    markdown(&outcome.source),
                    r.code()
                )),
                gh_data(&format!(
                    "{}: {}",
                    markdown(&outcome.source),
                    markdown(&r.to_string())
                ))
            )?;
        }
        if verdict == Verdict::Ok && !self.quiet {
            writeln!(out, "{}", gh_data(&self.human_line(outcome, verdict)))?;
        }
        Ok(())
    }

    /// The Markdown summary for `$GITHUB_STEP_SUMMARY`.
    pub fn summary(&self, outcomes: &[Outcome]) -> String {
        let mut md = String::from(
            "## canary verify\n\n| source | verdict | issuer | sequence | as of | expires | reasons |\n|---|---|---|---|---|---|---|\n",
        );
        for o in outcomes {
            let s = o.statement.as_ref().map(|s| s.document());
            let legacy = o.legacy.as_ref();
            let reasons: Vec<String> = o
                .reasons
                .iter()
                .map(|r| format!("`{}` {}", r.code(), markdown_cell(&r.to_string())))
                .collect();
            md.push_str(&format!(
                "| {} | **{}** | {} | {} | {} | {} | {} |\n",
                markdown_cell(&o.source),
                o.verdict(self.deny_warnings),
                s.map(|s| markdown_cell(&s.issuer))
                    .or_else(|| legacy.map(|l| markdown_cell(&l.issuer)))
                    .unwrap_or_default(),
                s.map_or(String::new(), |s| s.sequence.to_string()),
                s.map(|s| s.issued_at.to_string())
                    .or_else(|| legacy.map(|l| l.canary.issued.to_string()))
                    .unwrap_or_default(),
                s.map(|s| s.expires_at.to_string())
                    .or_else(|| legacy.and_then(|l| l.stale_at).map(|t| t.to_string()))
                    .unwrap_or_default(),
                reasons.join("<br>")
            ));
        }
        md
    }
}

/// GitHub workflow-command data escaping (after [`escape`] or
/// [`markdown`], which leave no line break).
pub fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub workflow-command property escaping.
pub fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Text that is not ours in an annotation: a Markdown code span, in case
/// GitHub renders the message as Markdown.
pub fn markdown(s: &str) -> String {
    sanitize(s, Target::Markdown)
}

/// Text that is not ours in a cell of the step summary's table: a code
/// span, so it never renders as a link, an image or HTML.
pub fn markdown_cell(s: &str) -> String {
    sanitize(s, Target::MarkdownCell)
}

/// Appends `markdown` to the GitHub step summary, when there is one
/// (`$GITHUB_STEP_SUMMARY`).
pub fn append_step_summary(markdown: &str) -> crate::error::Result<()> {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(markdown.as_bytes()))
        .map_err(|e| crate::error::Error::usage(format!("cannot write GITHUB_STEP_SUMMARY: {e}")))
}
