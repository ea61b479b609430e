//! `canary-sign due`: is a new statement due? For the publisher's own CI.

use canary_core::{TimeDelta, Timestamp, format_duration, parse_duration};

use crate::common::{AtArgs, DirArgs, escape, escape_json, note, say};
use crate::error::{EXPIRED, OK, REFUSED, Result, fail};

/// Tell whether the next statement is due: exit 0 not yet, 1 sign now, 3 expired.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  canary-sign due
  canary-sign due --dir canaries/example.org --warn-before 21d --format json

Exit status: 0 not yet due; 1 due within the warning window, or late (sign
now); 3 expired (readers see a stale canary); 2 the folder could not be read.
Run it on a schedule in the publisher's CI so a lapse is never \"we forgot\".
It never signs: a human does.")]
pub struct Args {
    #[command(flatten)]
    pub dir: DirArgs,
    /// How long before next_due to start reminding.
    #[arg(long, value_name = "DURATION", default_value = "14d", value_parser = parse_window)]
    pub warn_before: TimeDelta,
    /// human (one line) or json.
    #[arg(long, default_value = "human", value_parser = ["human", "json"])]
    pub format: String,
    #[command(flatten)]
    pub at: AtArgs,
}

fn parse_window(s: &str) -> std::result::Result<TimeDelta, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn relative(from: Timestamp, to: Timestamp) -> String {
    let d = to.since(from);
    if d >= TimeDelta::zero() {
        format!("in {}", format_duration(d))
    } else {
        format!("{} ago", format_duration(-d))
    }
}

/// Runs the command.
pub fn run(args: &Args) -> Result<u8> {
    let folder = args.dir.open()?;
    let now = args.at.now()?;
    let issuer = folder.config.issuer.clone();
    // Readers accept only a statement with enough signatures: one still
    // waiting for co-signatures does not count, and says so.
    let threshold = folder.policy()?.threshold();
    let mut latest = None;
    for n in folder.statement_numbers()?.into_iter().rev() {
        let stored = folder.statement(n)?;
        match stored.not_accepted(threshold) {
            None => {
                latest = Some(stored);
                break;
            }
            Some(why) => note(&why),
        }
    }
    let Some(latest) = latest else {
        let message = format!(
            "{}: no statement with enough signatures yet; sign the first one now",
            escape(&issuer)
        );
        emit(args, &issuer, "missing", None, now, &message);
        return Ok(REFUSED);
    };
    let s = latest.doc();
    let window_start = s
        .next_due
        .checked_sub(args.warn_before)
        .ok_or_else(|| fail!("--warn-before is too long"))?;
    let (status, code, message) = if now >= s.expires_at {
        (
            "expired",
            EXPIRED,
            format!(
                "{}: statement {} EXPIRED {} ({}); readers see a stale canary: sign a new one now",
                escape(&issuer),
                s.sequence,
                relative(now, s.expires_at),
                s.expires_at
            ),
        )
    } else if now >= s.next_due {
        (
            "late",
            REFUSED,
            format!(
                "{}: statement {} was due {} ({}) and expires {} ({}): sign now",
                escape(&issuer),
                s.sequence,
                relative(now, s.next_due),
                s.next_due,
                relative(now, s.expires_at),
                s.expires_at
            ),
        )
    } else if now >= window_start {
        (
            "due",
            REFUSED,
            format!(
                "{}: the next statement is due {} ({}): sign now",
                escape(&issuer),
                relative(now, s.next_due),
                s.next_due
            ),
        )
    } else {
        (
            "ok",
            OK,
            format!(
                "{}: statement {} is current; the next is due {} ({})",
                escape(&issuer),
                s.sequence,
                relative(now, s.next_due),
                s.next_due
            ),
        )
    };
    emit(args, &issuer, status, Some(s), now, &message);
    Ok(code)
}

fn emit(
    args: &Args,
    issuer: &str,
    status: &str,
    s: Option<&canary_core::Statement>,
    now: Timestamp,
    message: &str,
) {
    if args.format == "json" {
        let mut obj = serde_json::json!({
            "issuer": issuer,
            "status": status,
            "now": now.to_string(),
            "message": message,
        });
        if let Some(s) = s {
            obj["sequence"] = s.sequence.into();
            obj["issued_at"] = s.issued_at.to_string().into();
            obj["next_due"] = s.next_due.to_string().into();
            obj["expires_at"] = s.expires_at.to_string().into();
        }
        say(&escape_json(&obj.to_string()));
    } else {
        say(message);
    }
}
