//! Writes the document test vectors (`testdata/vectors/*.vec`) into a
//! directory, replacing `.vec` files that are no longer generated.
//!
//! ```text
//! cargo run -p canary-core --example gen_vectors -- crates/canary-core/testdata/vectors
//! ```
//!
//! The vectors are built in `tests/vectors/generate.rs`, which the `vectors`
//! test also runs to check that the checked-in files match.

#[path = "../tests/vectors/generate.rs"]
mod generate;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::{env, fs, io};

fn main() -> ExitCode {
    let mut args = env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: gen_vectors <out dir>");
        return ExitCode::from(2);
    };
    match write_all(&PathBuf::from(dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_vectors: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_all(dir: &PathBuf) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let files = generate::all();
    let names: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let stale = path.extension().is_some_and(|e| e == "vec")
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_none_or(|n| !names.contains(n));
        if stale {
            fs::remove_file(&path)?;
            println!("removed {}", path.display());
        }
    }
    for (name, bytes) in &files {
        fs::write(dir.join(name), bytes)?;
    }
    println!("wrote {} vectors to {}", files.len(), dir.display());
    Ok(())
}
