//! The report of a watch run, in each of its formats.

use std::io::Write as _;
use std::process::ExitCode;

use canary_core::{Timestamp, Verdict};

use crate::output::{escape, gh_data, gh_property, json_line, markdown, markdown_cell, relative};

use crate::error::{Error, Result};

use super::job::{Status, Watched};
use super::{Args, WatchFormat};

fn first_problem(w: &Watched, deny_warnings: bool) -> String {
    if let Some(problem) = &w.usage {
        return format!("usage: {problem}");
    }
    w.reasons()
        .find(|r| r.verdict() != Verdict::Ok && (deny_warnings || r.verdict() != Verdict::Warning))
        .or_else(|| w.reasons().next())
        .map(|r| format!("{}: {r}", r.code()))
        .unwrap_or_default()
}

/// Prints the report; the exit status is the most severe entry's, except
/// for Nagios (plugin codes) and Prometheus (the metrics are the product:
/// 0 whenever they were written, so `> f.tmp && mv f.tmp f.prom` keeps the
/// file current exactly when a canary goes bad).
pub fn report(args: &Args, now: Timestamp, watched: &[Watched]) -> Result<ExitCode> {
    let deny = args.deny_warnings;
    let worst = watched
        .iter()
        .map(|w| w.status(deny))
        .fold(Status::Verdict(Verdict::Ok), Status::worst);
    let mut out = String::new();
    match args.format {
        WatchFormat::Human => {
            let rows: Vec<[String; 6]> = watched
                .iter()
                .map(|w| {
                    let s = w.dates();
                    let s = s.as_ref();
                    [
                        escape(&w.name),
                        w.status(deny).as_str().to_owned(),
                        s.and_then(|s| s.sequence)
                            .map_or("-".into(), |q| q.to_string()),
                        s.map_or("-".into(), |s| s.issued_at.to_string()),
                        s.and_then(|s| s.next_due)
                            .map_or("-".into(), |d| relative(now, d)),
                        escape(&first_problem(w, deny)),
                    ]
                })
                .collect();
            let header = ["ISSUER", "VERDICT", "SEQ", "AS OF", "DUE", "REASON"].map(String::from);
            let mut widths = [0usize; 5];
            for row in std::iter::once(&header).chain(rows.iter()) {
                for (w, cell) in widths.iter_mut().zip(row.iter()) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            for row in std::iter::once(&header).chain(rows.iter()) {
                for (i, cell) in row.iter().enumerate() {
                    if i < 5 {
                        out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
                    } else {
                        out.push_str(cell);
                    }
                }
                out = out.trim_end().to_owned() + "\n";
            }
        }
        WatchFormat::Json => {
            for w in watched {
                let s = w.dates();
                let s = s.as_ref();
                let line = serde_json::json!({
                    "issuer": w.name,
                    "verdict": w.status(deny).as_str(),
                    "reasons": w.reasons().map(|r| serde_json::json!({"code": r.code(), "message": r.to_string()})).collect::<Vec<_>>(),
                    "sequence": s.and_then(|s| s.sequence),
                    "issued_at": s.map(|s| s.issued_at.to_string()),
                    "next_due": s.and_then(|s| s.next_due).map(|d| d.to_string()),
                    "expires_at": s.and_then(|s| s.expires_at).map(|d| d.to_string()),
                    "sources": w.outcomes.iter().map(|o| serde_json::json!({
                        "source": o.source,
                        "verdict": o.verdict(deny).as_str(),
                        "sequence": o.statement.as_ref().map(|s| s.document().sequence),
                    })).collect::<Vec<_>>(),
                });
                out.push_str(&json_line(&line));
                out.push('\n');
            }
        }
        WatchFormat::Github => {
            for w in watched {
                let v = w.status(deny);
                if v == Status::Verdict(Verdict::Ok) {
                    continue;
                }
                let level = if v == Status::Verdict(Verdict::Warning) {
                    "warning"
                } else {
                    "error"
                };
                out.push_str(&format!(
                    "::{level} title={}::{}\n",
                    gh_property(&format!("canary {}", markdown(&w.name))),
                    gh_data(&format!(
                        "{} {}: {}",
                        markdown(&w.name),
                        v,
                        markdown(&first_problem(w, deny))
                    ))
                ));
            }
            let mut md = String::from(
                "## canary watch\n\n| issuer | verdict | sequence | as of | reason |\n|---|---|---|---|---|\n",
            );
            for w in watched {
                let s = w.dates();
                let s = s.as_ref();
                md.push_str(&format!(
                    "| {} | **{}** | {} | {} | {} |\n",
                    markdown_cell(&w.name),
                    w.status(deny),
                    s.and_then(|s| s.sequence)
                        .map_or(String::new(), |q| q.to_string()),
                    s.map_or(String::new(), |s| s.issued_at.to_string()),
                    markdown_cell(&first_problem(w, deny))
                ));
            }
            crate::output::append_step_summary(&md)?;
        }
        WatchFormat::Prometheus => {
            let mut stdout = std::io::stdout().lock();
            return match stdout.write_all(prometheus(now, watched, deny).as_bytes()) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => Err(Error::usage(format!("cannot write the metrics: {e}"))),
            };
        }
        WatchFormat::Nagios => {
            let code = nagios_code(worst);
            let word = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][usize::from(code)];
            let bad: Vec<String> = watched
                .iter()
                .filter(|w| w.status(true) != Status::Verdict(Verdict::Ok))
                .map(|w| format!("{} {}", escape(&w.name), w.status(true)))
                .collect();
            let detail = if bad.is_empty() {
                format!("{} canaries ok", watched.len())
            } else {
                bad.join(", ")
            };
            let ok = watched
                .iter()
                .filter(|w| w.status(deny) == Status::Verdict(Verdict::Ok))
                .count();
            out = format!(
                "CANARY {word} - {detail} | ok={ok};;;0;{} total={}\n",
                watched.len(),
                watched.len()
            );
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            return Ok(ExitCode::from(code));
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    Ok(ExitCode::from(worst.exit_code()))
}

/// Nagios plugin codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
fn nagios_code(v: Status) -> u8 {
    match v {
        Status::Verdict(Verdict::Ok) => 0,
        Status::Verdict(Verdict::Warning) => 1,
        Status::Verdict(Verdict::Stale | Verdict::Invalid | Verdict::Tripped) => 2,
        Status::Verdict(Verdict::Unreachable) | Status::Usage => 3,
    }
}

/// A Prometheus label value: the text on one line ([`escape`]), then
/// backslash, quote and newline escaped.
fn label(s: &str) -> String {
    escape(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn prometheus(now: Timestamp, watched: &[Watched], deny: bool) -> String {
    let mut out = String::new();
    out.push_str("# HELP canary_verdict_code Exit code of the verdict (0 ok, 1 invalid, 3 stale, 4 unreachable, 5 tripped, 6 warning).\n# TYPE canary_verdict_code gauge\n");
    for w in watched {
        out.push_str(&format!(
            "canary_verdict_code{{issuer=\"{}\",verdict=\"{}\"}} {}\n",
            label(&w.name),
            w.status(deny),
            w.status(deny).exit_code()
        ));
    }
    out.push_str(
        "# HELP canary_ok 1 when the canary verifies ok, else 0.\n# TYPE canary_ok gauge\n",
    );
    for w in watched {
        out.push_str(&format!(
            "canary_ok{{issuer=\"{}\"}} {}\n",
            label(&w.name),
            u8::from(w.status(deny) == Status::Verdict(Verdict::Ok))
        ));
    }
    out.push_str("# HELP canary_expiry_seconds Seconds until the newest authentic statement expires (negative once expired).\n# TYPE canary_expiry_seconds gauge\n");
    for w in watched {
        if let Some(expires) = w.dates().and_then(|d| d.expires_at) {
            out.push_str(&format!(
                "canary_expiry_seconds{{issuer=\"{}\"}} {}\n",
                label(&w.name),
                expires.since(now).num_seconds()
            ));
        }
    }
    out.push_str("# HELP canary_sequence Sequence of the newest authentic statement.\n# TYPE canary_sequence gauge\n");
    for w in watched {
        if let Some(s) = w.newest() {
            out.push_str(&format!(
                "canary_sequence{{issuer=\"{}\"}} {}\n",
                label(&w.name),
                s.document().sequence
            ));
        }
    }
    out
}
