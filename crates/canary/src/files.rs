//! Files written whole or not at all.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

/// Replaces `path` with `bytes`: a temporary file in the same folder,
/// fsync, rename, so a reader (or a second verifier) never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("no folder to write in")?;
    if dir.exists() && !dir.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".canary-tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
