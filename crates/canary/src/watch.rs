//! `canary watch`: verify many canaries at once, each with the full rules
//! of `canary verify` and its own state, and report them together.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, mpsc};

use canary_core::{TimeDelta, Timestamp, TrustPolicy, Verdict, parse_duration};
use serde::Deserialize;

use crate::check::{Outcome, Reason, Settings, UsageError, verify_source};
use crate::output::{escape, gh_data, gh_property, json_line, markdown, markdown_cell, relative};
use crate::source::{Location, Source};
use crate::trust::TrustArgs;
use crate::{PolicyArgs, usage_error};

/// Verify every canary of a watch list and print one summary.
#[derive(Debug, clap::Args)]
#[command(after_help = concat!("\
The watch list (TOML):

  [defaults]                      # optional, for every issuer
  warn_before = \"14d\"
  max_age = \"120d\"

  [[issuer]]
  name = \"example.org\"            # the issuer its statements must name
  source = \"example.org\"          # domain, https:// URL or local path (default: name)
  mirrors = [\"https://mirror.example.net/.well-known/canary.json\"]
  trust = \"example.org.toml\"      # a trust policy file, relative to the list; or
  # keys = [\"alice.pub\", \"bob.pub\"], threshold = 2
  # or neither: the policy pinned with `canary trust add`
  history = false                 # also walk the archive
  incidents = false               # also verify the incident records

Examples:
  canary watch canaries.toml
  canary watch canaries.toml --format prometheus > /var/lib/node_exporter/canary.prom
  canary watch canaries.toml --format nagios        (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)

Mirrors are all fetched; two that serve different statements with the same
sequence are reported as equivocation. Each issuer keeps its own state (on by
default) and a small HTTP cache for conditional requests.

", exit_codes!()))]
pub struct Args {
    /// The watch list.
    #[arg(value_name = "LIST")]
    pub list: PathBuf,
    /// How many issuers to verify at once.
    #[arg(long, short, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: WatchFormat,
    /// Keep state (and the HTTP cache) in this folder.
    #[arg(long, value_name = "DIR", conflicts_with = "no_state")]
    pub state: Option<PathBuf>,
    /// Neither read nor write state.
    #[arg(long)]
    pub no_state: bool,
    /// Late or expiring soon fails (exit 6).
    #[arg(long)]
    pub deny_warnings: bool,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

/// The formats of `watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WatchFormat {
    /// A table.
    Human,
    /// One JSON object per issuer and line.
    Json,
    /// GitHub Actions annotations and step summary.
    Github,
    /// Prometheus text exposition.
    Prometheus,
    /// One status line, exit 0/1/2/3 (OK, WARNING, CRITICAL, UNKNOWN).
    Nagios,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    issuer: Vec<Entry>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    warn_before: Option<String>,
    max_age: Option<String>,
    history: Option<bool>,
    incidents: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    source: Option<String>,
    #[serde(default)]
    mirrors: Vec<String>,
    trust: Option<PathBuf>,
    #[serde(default)]
    keys: Vec<PathBuf>,
    threshold: Option<u64>,
    warn_before: Option<String>,
    max_age: Option<String>,
    history: Option<bool>,
    incidents: Option<bool>,
}

/// One issuer, ready to verify.
struct Job {
    name: String,
    sources: Vec<(String, Location)>,
    policy: TrustPolicy,
    settings: Settings,
}

/// One issuer's result.
struct Watched {
    name: String,
    outcomes: Vec<Outcome>,
    /// Reasons about the issuer as a whole (mirrors disagreeing).
    extra: Vec<Reason>,
}

impl Watched {
    fn reasons(&self) -> impl Iterator<Item = &Reason> {
        self.outcomes
            .iter()
            .flat_map(|o| o.reasons.iter())
            .chain(self.extra.iter())
    }

    fn verdict(&self, deny_warnings: bool) -> Verdict {
        self.reasons()
            .map(|r| match r.verdict {
                Verdict::Warning if !deny_warnings => Verdict::Ok,
                v => v,
            })
            .fold(Verdict::Ok, Verdict::worst)
    }

    /// The newest authentic statement among the sources.
    fn newest(&self) -> Option<&canary_core::VerifiedStatement> {
        self.outcomes
            .iter()
            .filter_map(|o| o.statement.as_ref())
            .max_by_key(|s| s.document().sequence)
    }
}

fn duration(field: &str, s: &str) -> Result<TimeDelta, String> {
    parse_duration(s).map_err(|e| format!("{field}: {e}"))
}

fn load_jobs(args: &Args, now: Timestamp) -> Result<Vec<Job>, String> {
    let text = std::fs::read_to_string(&args.list)
        .map_err(|e| format!("cannot read {}: {e}", args.list.display()))?;
    let list: ListFile =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", args.list.display()))?;
    if list.issuer.is_empty() {
        return Err(format!("{}: no [[issuer]] to watch", args.list.display()));
    }
    let base = args.list.parent().unwrap_or(Path::new("."));
    let state_dir = if args.no_state || (args.policy.at.is_some() && args.state.is_none()) {
        None
    } else {
        match &args.state {
            Some(d) => Some(d.clone()),
            None => Some(crate::state::default_dir().map_err(|e| format!("{e:#}"))?),
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut jobs = Vec::new();
    for entry in list.issuer {
        if !seen.insert(entry.name.clone()) {
            return Err(format!("issuer {:?} is listed twice", entry.name));
        }
        let trust = TrustArgs {
            trust: entry.trust.as_ref().map(|p| base.join(p)),
            key: entry.keys.iter().map(|p| base.join(p)).collect(),
            issuer: Some(entry.name.clone()),
            threshold: entry.threshold.unwrap_or(1),
        };
        let loaded = trust
            .load(Some(&entry.name))
            .map_err(|e| format!("issuer {}: {e:#}", entry.name))?;
        let mut sources = Vec::new();
        let primary = entry.source.clone().unwrap_or_else(|| entry.name.clone());
        for arg in std::iter::once(&primary).chain(entry.mirrors.iter()) {
            // Relative local paths are relative to the list file.
            let resolved = if arg.contains("://") || !base.join(arg).exists() {
                arg.clone()
            } else {
                base.join(arg).display().to_string()
            };
            let location = Source::parse(&resolved)
                .and_then(|s| Location::of(&s))
                .map_err(|e| format!("issuer {}: {e}", entry.name))?;
            if let Location::Remote { latest, .. } = &location
                && let Some(p) = crate::fetch::scheme_problem(latest)
            {
                return Err(format!("issuer {}: {arg}: {p}", entry.name));
            }
            sources.push((arg.clone(), location));
        }
        let mut options = args.policy.options(now);
        if let Some(w) = entry
            .warn_before
            .as_ref()
            .or(list.defaults.warn_before.as_ref())
        {
            options.warn_before = duration("warn_before", w)?;
        }
        if let Some(m) = entry.max_age.as_ref().or(list.defaults.max_age.as_ref()) {
            options.max_age = Some(duration("max_age", m)?);
        }
        // One issuer, one state: two entries for it would race on it (and
        // a lagging one would read as a rollback).
        if let Some(other) = jobs
            .iter()
            .find(|j: &&Job| j.policy.issuer() == loaded.policy.issuer())
        {
            return Err(format!(
                "issuers {:?} and {:?} both verify the canary of {:?}: list the second \
                 source under mirrors = [...] of the first",
                other.name,
                entry.name,
                loaded.policy.issuer()
            ));
        }
        jobs.push(Job {
            name: entry.name.clone(),
            sources,
            policy: loaded.policy,
            settings: Settings {
                options,
                state_dir: state_dir.clone(),
                history: entry.history.or(list.defaults.history).unwrap_or(false),
                incidents: entry.incidents.or(list.defaults.incidents).unwrap_or(false),
                deny_warnings: args.deny_warnings,
            },
        });
    }
    Ok(jobs)
}

/// Verifies one issuer: the first source with state, every mirror without,
/// then compares what the mirrors serve.
fn run_job(job: &Job, fetcher: &mut crate::fetch::Fetcher) -> Result<Watched, UsageError> {
    let mut outcomes = Vec::new();
    for (i, (arg, location)) in job.sources.iter().enumerate() {
        let mut settings = Settings {
            options: job.settings.options.clone(),
            state_dir: job.settings.state_dir.clone(),
            history: job.settings.history,
            incidents: job.settings.incidents,
            deny_warnings: job.settings.deny_warnings,
        };
        if i > 0 {
            // One state per issuer: a lagging mirror is a mirror problem,
            // found below, not a rollback of the issuer.
            settings.state_dir = None;
        }
        outcomes.push(verify_source(
            arg.clone(),
            location,
            &job.policy,
            &settings,
            fetcher,
        )?);
    }
    let served = outcomes
        .iter()
        .filter_map(|o| Some((o.source.as_str(), o.statement.as_ref()?)));
    let extra = canary_core::compare_mirrors(served)
        .iter()
        .map(Reason::from)
        .collect();
    Ok(Watched {
        name: job.name.clone(),
        outcomes,
        extra,
    })
}

/// Runs `canary watch`.
pub fn run(args: &Args) -> ExitCode {
    let now = match crate::now(args.policy.at) {
        Ok(n) => n,
        Err(e) => return usage_error(&e),
    };
    let jobs = match load_jobs(args, now) {
        Ok(j) => j,
        Err(e) => return usage_error(&e),
    };
    let cache_dir = jobs
        .first()
        .and_then(|j| j.settings.state_dir.as_ref())
        .map(|d| d.join("http-cache"));
    let total = jobs.len();
    let mut progress = (args.format == WatchFormat::Human && std::io::stderr().is_terminal())
        .then(|| Progress::start(total));

    // A fixed pool of workers, each with its own HTTP client; one slow
    // issuer holds one worker for at most its own timeout.
    let queue = Arc::new(Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>()));
    let (tx, rx) = mpsc::channel();
    let workers = usize::from(args.jobs).min(total.max(1));
    let mut results: Vec<(usize, Watched)> = Vec::with_capacity(total);
    let usage = std::thread::scope(|scope| {
        for _ in 0..workers {
            let queue = Arc::clone(&queue);
            let tx = tx.clone();
            let mut fetcher = args.policy.fetcher_caching(cache_dir.clone());
            scope.spawn(move || {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some((index, job)) = next else { break };
                    let result = run_job(&job, &mut fetcher);
                    if tx.send((index, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Results arrive as issuers finish, so the bar moves as they do.
        let mut usage = None;
        for (index, result) in rx {
            match result {
                Ok(w) => {
                    if let Some(bar) = &mut progress {
                        bar.advance(&escape(&w.name));
                    }
                    results.push((index, w));
                }
                Err(UsageError(m)) => {
                    usage.get_or_insert(m);
                }
            }
        }
        usage
    });
    // The progress line is cleared before anything else is printed.
    drop(progress);
    if let Some(m) = usage {
        return usage_error(&m);
    }
    results.sort_by_key(|(i, _)| *i);
    let watched: Vec<Watched> = results.into_iter().map(|(_, w)| w).collect();
    report(args, now, &watched)
}

/// A one-line progress bar on standard error, drawn only on a terminal:
/// `[######--------------] 12/40 issuers example.org`.
struct Progress {
    done: usize,
    total: usize,
}

impl Progress {
    fn start(total: usize) -> Self {
        let p = Self { done: 0, total };
        p.draw("");
        p
    }

    /// One more issuer checked; `name` is already escaped.
    fn advance(&mut self, name: &str) {
        self.done += 1;
        self.draw(name);
    }

    fn draw(&self, name: &str) {
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{}",
            progress_line(self.done, self.total, name)
        );
        let _ = err.flush();
    }
}

impl Drop for Progress {
    /// Clears the line, so what follows (the report, or an error) starts on
    /// a clean one.
    fn drop(&mut self) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

/// The text of the progress line: a 20-cell bar, the count, and the last
/// issuer's name cut to 30 characters so the line does not wrap on a terminal
/// of 80 columns (up to 99,999 issuers).
fn progress_line(done: usize, total: usize, name: &str) -> String {
    const CELLS: usize = 20;
    const NAME: usize = 30;
    let filled = match total {
        0 => CELLS,
        t => done.min(t) * CELLS / t,
    };
    let mut shown: String = name.chars().take(NAME).collect();
    if name.chars().nth(NAME).is_some() {
        shown.pop();
        shown.push('…');
    }
    format!(
        "[{}{}] {done}/{total} issuers {shown}",
        "#".repeat(filled),
        "-".repeat(CELLS - filled)
    )
    .trim_end()
    .to_owned()
}

fn first_problem(w: &Watched, deny_warnings: bool) -> String {
    w.reasons()
        .find(|r| r.verdict != Verdict::Ok && (deny_warnings || r.verdict != Verdict::Warning))
        .or_else(|| w.reasons().next())
        .map(|r| format!("{}: {}", r.code, r.message))
        .unwrap_or_default()
}

fn report(args: &Args, now: Timestamp, watched: &[Watched]) -> ExitCode {
    let deny = args.deny_warnings;
    let worst = watched
        .iter()
        .map(|w| w.verdict(deny))
        .fold(Verdict::Ok, Verdict::worst);
    let mut out = String::new();
    match args.format {
        WatchFormat::Human => {
            let rows: Vec<[String; 6]> = watched
                .iter()
                .map(|w| {
                    let s = w.newest().map(|s| s.document());
                    [
                        escape(&w.name),
                        w.verdict(deny).as_str().to_owned(),
                        s.map_or("-".into(), |s| s.sequence.to_string()),
                        s.map_or("-".into(), |s| s.issued_at.to_string()),
                        s.map_or("-".into(), |s| relative(now, s.next_due)),
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
                let s = w.newest().map(|s| s.document());
                let line = serde_json::json!({
                    "issuer": w.name,
                    "verdict": w.verdict(deny).as_str(),
                    "reasons": w.reasons().map(|r| serde_json::json!({"code": r.code, "message": r.message})).collect::<Vec<_>>(),
                    "sequence": s.map(|s| s.sequence),
                    "issued_at": s.map(|s| s.issued_at.to_string()),
                    "next_due": s.map(|s| s.next_due.to_string()),
                    "expires_at": s.map(|s| s.expires_at.to_string()),
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
                let v = w.verdict(deny);
                if v == Verdict::Ok {
                    continue;
                }
                let level = if v == Verdict::Warning {
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
            if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
                let mut md = String::from(
                    "## canary watch\n\n| issuer | verdict | sequence | as of | reason |\n|---|---|---|---|---|\n",
                );
                for w in watched {
                    let s = w.newest().map(|s| s.document());
                    md.push_str(&format!(
                        "| {} | **{}** | {} | {} | {} |\n",
                        markdown_cell(&w.name),
                        w.verdict(deny),
                        s.map_or(String::new(), |s| s.sequence.to_string()),
                        s.map_or(String::new(), |s| s.issued_at.to_string()),
                        markdown_cell(&first_problem(w, deny))
                    ));
                }
                let written = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(md.as_bytes()));
                if let Err(e) = written {
                    return usage_error(&format!("cannot write GITHUB_STEP_SUMMARY: {e}"));
                }
            }
        }
        WatchFormat::Prometheus => out = prometheus(now, watched, deny),
        WatchFormat::Nagios => {
            let code = nagios_code(worst);
            let word = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][usize::from(code)];
            let bad: Vec<String> = watched
                .iter()
                .filter(|w| w.verdict(true) != Verdict::Ok)
                .map(|w| format!("{} {}", escape(&w.name), w.verdict(true)))
                .collect();
            let detail = if bad.is_empty() {
                format!("{} canaries ok", watched.len())
            } else {
                bad.join(", ")
            };
            let ok = watched
                .iter()
                .filter(|w| w.verdict(deny) == Verdict::Ok)
                .count();
            out = format!(
                "CANARY {word} - {detail} | ok={ok};;;0;{} total={}\n",
                watched.len(),
                watched.len()
            );
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            return ExitCode::from(code);
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    ExitCode::from(worst.exit_code())
}

/// Nagios plugin codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
fn nagios_code(v: Verdict) -> u8 {
    match v {
        Verdict::Ok => 0,
        Verdict::Warning => 1,
        Verdict::Stale | Verdict::Invalid | Verdict::Tripped => 2,
        Verdict::Unreachable => 3,
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
            w.verdict(deny),
            w.verdict(deny).exit_code()
        ));
    }
    out.push_str(
        "# HELP canary_ok 1 when the canary verifies ok, else 0.\n# TYPE canary_ok gauge\n",
    );
    for w in watched {
        out.push_str(&format!(
            "canary_ok{{issuer=\"{}\"}} {}\n",
            label(&w.name),
            u8::from(w.verdict(deny) == Verdict::Ok)
        ));
    }
    out.push_str("# HELP canary_expiry_seconds Seconds until the newest authentic statement expires (negative once expired).\n# TYPE canary_expiry_seconds gauge\n");
    for w in watched {
        if let Some(s) = w.newest() {
            out.push_str(&format!(
                "canary_expiry_seconds{{issuer=\"{}\"}} {}\n",
                label(&w.name),
                s.document().expires_at.since(now).num_seconds()
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

#[cfg(test)]
mod tests {
    use super::progress_line;

    #[test]
    fn the_progress_line_fills_in_proportion() {
        assert_eq!(
            progress_line(0, 40, ""),
            "[--------------------] 0/40 issuers"
        );
        assert_eq!(
            progress_line(10, 40, "example.org"),
            "[#####---------------] 10/40 issuers example.org"
        );
        assert_eq!(
            progress_line(40, 40, "z.example"),
            "[####################] 40/40 issuers z.example"
        );
        // Never more than full, and an empty list is done at once.
        assert!(progress_line(41, 40, "").starts_with("[####################] 41/40"));
        assert!(progress_line(0, 0, "").starts_with("[####################] 0/0"));
    }

    #[test]
    fn long_names_are_cut_so_the_line_does_not_wrap() {
        let name = "a".repeat(100);
        let line = progress_line(99_999, 99_999, &name);
        assert!(line.ends_with(&format!(" {}…", "a".repeat(29))), "{line}");
        assert!(line.chars().count() <= 80, "{} chars", line.chars().count());
        // Exactly 30 characters are shown whole.
        let thirty = "b".repeat(30);
        assert!(progress_line(1, 2, &thirty).ends_with(&format!(" {thirty}")));
    }
}
