//! `canary watch`: verify many canaries at once, each with the full rules
//! of `canary verify` and its own state, and report them together: the list
//! ([`list`]), each issuer's run ([`job`]) and the report ([`report`]).

mod job;
mod list;
mod report;

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, mpsc};

use crate::args::{PolicyArgs, StateArgs, exit_codes};
use crate::error::Result;
use crate::output::escape;

use job::{Watched, run_job};

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

", exit_codes!(watch)))]
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
    #[command(flatten)]
    pub(crate) state: StateArgs,
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

/// Runs `canary watch`.
pub fn run(args: &Args) -> ExitCode {
    match watch(args) {
        Ok(code) => code,
        Err(e) => e.report(),
    }
}

fn watch(args: &Args) -> Result<ExitCode> {
    let now = args.policy.now()?;
    let listed = list::load_jobs(args, now)?;
    // The conditional-GET cache lives beside the state of remote sources.
    let cache_dir = args
        .state
        .folder_for(args.policy.at, true)?
        .map(|d| d.join("http-cache"));
    let total = listed.len();
    let mut progress = (args.format == WatchFormat::Human && std::io::stderr().is_terminal())
        .then(|| Progress::start(total));

    // Entries that cannot run are reported as they are; the others go to a
    // fixed pool of workers, each with its own HTTP client, so one slow
    // issuer holds one worker for at most its own timeout.
    let mut results: Vec<(usize, Watched)> = Vec::with_capacity(total);
    let mut jobs = Vec::new();
    for (index, entry) in listed.into_iter().enumerate() {
        match entry {
            Ok(job) => jobs.push((index, job)),
            Err((name, problem)) => {
                // Said on stderr too: with --format prometheus or nagios the
                // report alone may not show it to whoever reads the logs.
                crate::error::Error::usage(format!("issuer {name}: {problem}")).report();
                results.push((index, Watched::unusable(&name, problem)));
            }
        }
    }
    let workers = usize::from(args.jobs).min(jobs.len().max(1));
    let queue = Arc::new(Mutex::new(jobs));
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let queue = Arc::clone(&queue);
            let tx = tx.clone();
            let mut fetcher = args.policy.fetcher_caching(cache_dir.clone());
            scope.spawn(move || {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some((index, job)) = next else { break };
                    if tx.send((index, run_job(&job, &mut fetcher))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Results arrive as issuers finish, so the bar moves as they do.
        for (index, w) in rx {
            if let Some(bar) = &mut progress {
                bar.advance(&escape(&w.name));
            }
            results.push((index, w));
        }
    });
    // The progress line is cleared before anything else is printed.
    drop(progress);
    results.sort_by_key(|(i, _)| *i);
    let watched: Vec<Watched> = results.into_iter().map(|(_, w)| w).collect();
    report::report(args, now, &watched)
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
