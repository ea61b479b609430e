//! Verifies statement files against a trust policy with `canary-core` alone.
//!
//! ```text
//! cargo run -p canary-core --example verify_files -- \
//!     --trust keys/example.org.toml --at 2026-11-27T00:00:00Z \
//!     canaries/example.org/statements/*.json
//! ```
//!
//! Each file gets a verdict line; the exit code is the most severe verdict's
//! (DESIGN §6), and 2 for bad arguments or unreadable files. Several files
//! are read as one history, oldest first: each must be authentic, the links
//! must hold and no statement may disappear; only the last one (the current
//! canary) must also be fresh.

use std::process::ExitCode;

use canary_core::{
    Finding, Timestamp, TrustPolicy, Verdict, VerifyOptions, verify_history, verify_statement,
};

fn main() -> ExitCode {
    match run() {
        Ok(verdict) => ExitCode::from(verdict.exit_code()),
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!(
                "usage: verify_files --trust POLICY.toml [--at YYYY-MM-DDTHH:MM:SSZ] FILE..."
            );
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<Verdict, String> {
    let mut args = std::env::args().skip(1);
    let (mut trust, mut at, mut files) = (None, None, Vec::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--trust" => trust = Some(args.next().ok_or("--trust needs a file")?),
            "--at" => at = Some(args.next().ok_or("--at needs a timestamp")?),
            _ => files.push(arg),
        }
    }
    let trust = trust.ok_or("--trust is required")?;
    if files.is_empty() {
        return Err("no statement files given".into());
    }
    let text = std::fs::read_to_string(&trust).map_err(|e| format!("reading {trust}: {e}"))?;
    let policy = TrustPolicy::from_toml(&text).map_err(|e| format!("{trust}: {e}"))?;
    let now = match at {
        Some(t) => t.parse::<Timestamp>().map_err(|e| format!("--at: {e}"))?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| Timestamp::from_unix(i64::try_from(d.as_secs()).ok()?))
            .ok_or("the system clock is before 1970")?,
    };
    let options = VerifyOptions::at(now);

    let mut worst = Verdict::Ok;
    let mut chain = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let bytes = std::fs::read(file).map_err(|e| format!("reading {file}: {e}"))?;
        let report = verify_statement(&bytes, &policy, &options);
        let verdict = report.verdict(false);
        // Superseded statements are expected to have expired.
        let current = i + 1 == files.len();
        if current || !matches!(verdict, Verdict::Stale | Verdict::Warning) {
            worst = worst.worst(verdict);
        }
        match &report.statement {
            Some(s) => {
                let d = s.document();
                println!(
                    "{file}: {verdict}: {} #{} as of {}, next due {}, expires {}, signed by {}",
                    escape(&d.issuer),
                    d.sequence,
                    d.issued_at,
                    d.next_due,
                    d.expires_at,
                    s.signers()
                        .iter()
                        .map(|k| k.short())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                chain.push(s.clone());
            }
            None => println!("{file}: {verdict}"),
        }
        print_findings(&report.findings);
    }
    if files.len() > 1 {
        let findings = verify_history(None, &chain);
        let verdict = findings
            .iter()
            .map(Finding::verdict)
            .fold(Verdict::Ok, Verdict::worst);
        println!("history of {} statements: {verdict}", chain.len());
        print_findings(&findings);
        worst = worst.worst(verdict);
    }
    Ok(worst)
}

fn print_findings(findings: &[Finding]) {
    for f in findings {
        println!("  {}: {}", f.code(), escape(&f.to_string()));
    }
}

/// Document text may hold terminal control characters: show them escaped.
fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}
