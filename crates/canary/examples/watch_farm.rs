//! Builds the inputs of the `canary watch` scale benchmark
//! (`scripts/bench-watch`): N issuers, each with a signed, current statement
//! in its own publish folder, a trust policy, and one watch list naming them
//! all at `http://127.0.0.1:PORT/<n>/.well-known/canary.json`.
//!
//! Usage: watch_farm DIR N PORT

use std::path::Path;
use std::process::ExitCode;

use canary_core::{
    Envelope, Payload, SigningKey, Statement, StatementItem, TrustPolicy, Zeroizing, to_payload,
};

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, n, port] = args.as_slice() else {
        return Err("usage: watch_farm DIR N PORT".into());
    };
    let dir = Path::new(dir);
    let n: usize = n.parse().map_err(|e| format!("N: {e}"))?;
    let port: u16 = port.parse().map_err(|e| format!("PORT: {e}"))?;
    // A public benchmark key: never trust it.
    let key = SigningKey::from_seed(&Zeroizing::new([42u8; 32])).map_err(|e| e.to_string())?;
    let ts = |s: &str| s.parse().map_err(|e| format!("{e}"));
    let mut list = String::from("[defaults]\nwarn_before = \"14d\"\n\n");
    for i in 0..n {
        let issuer = format!("issuer-{i}.example");
        let statement = Statement {
            issuer: issuer.clone(),
            sequence: 1,
            issued_at: ts("2026-10-01T00:00:00Z")?,
            next_due: ts("2026-12-30T00:00:00Z")?,
            expires_at: ts("2027-01-13T00:00:00Z")?,
            statements: vec![StatementItem {
                id: "no-warrants".into(),
                text: format!("{issuer} has never received a warrant."),
            }],
            previous: None,
            incidents: None,
            freshness: None,
            notes: None,
            is_final: None,
        };
        let payload = to_payload(&statement).map_err(|e| e.to_string())?;
        let envelope = Envelope::sign(Statement::PAYLOAD_TYPE, payload, &key);
        write(
            &dir.join(format!("site/{i}/.well-known/canary.json")),
            &envelope.to_json(),
        )?;
        let policy = TrustPolicy::new(issuer.clone(), 1, 1, [*key.public_key()], [])
            .map_err(|e| e.to_string())?;
        let trust = format!("trust/{i}.toml");
        write(&dir.join(&trust), policy.to_toml().as_bytes())?;
        list.push_str(&format!(
            "[[issuer]]\nname = \"{issuer}\"\nsource = \"http://127.0.0.1:{port}/{i}/.well-known/canary.json\"\ntrust = \"{trust}\"\n\n"
        ));
    }
    write(&dir.join("list.toml"), list.as_bytes())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
