//! File writes that never leave a partial file: write a temporary file in the
//! same folder, fsync it, rename it over the target, fsync the folder.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};

/// Creates `path` with `bytes` atomically, refusing to replace an existing
/// file. The file gets mode 0600 (the temporary file's mode).
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    persist_new(staged(path, bytes)?, path)
}

/// Creates `path` with `bytes` atomically and mode 0644, refusing to replace
/// an existing file. For public files (documents, public keys).
pub fn write_new_public(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = staged(path, bytes)?;
    set_mode(&tmp, 0o644)?;
    persist_new(tmp, path)
}

fn persist_new(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; refusing to overwrite it",
                path.display()
            )
        } else {
            anyhow::Error::new(e.error).context(format!("cannot write {}", path.display()))
        }
    })?;
    sync_parent(path)
}

/// Replaces (or creates) `path` with `bytes` atomically, with mode 0644 for
/// a new file or the old file's mode.
pub fn write_atomic_public(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = staged(path, bytes)?;
    // The mode of the file replaced, never of what a symbolic link there
    // points at.
    let mode = own_mode_of(path).unwrap_or(0o644);
    set_mode(&tmp, mode)?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    sync_parent(path)
}

fn staged(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    let dir = parent(path);
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".canary-sign-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    Ok(tmp)
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sync_parent(path: &Path) -> Result<()> {
    // Makes the rename itself durable. Not every platform can open a folder.
    if let Ok(dir) = std::fs::File::open(parent(path)) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Sets the mode of a temporary file through its open handle (fchmod),
/// never by path, which would follow a symbolic link swapped in meanwhile.
#[cfg(unix)]
fn set_mode(tmp: &tempfile::NamedTempFile, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", tmp.path().display()))
}

#[cfg(not(unix))]
fn set_mode(_tmp: &tempfile::NamedTempFile, _mode: u32) -> Result<()> {
    Ok(())
}

/// The permission bits of the file at `path` itself (a symbolic link gives
/// none), if it exists.
#[cfg(unix)]
fn own_mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn own_mode_of(_path: &Path) -> Option<u32> {
    None
}

/// Refuses a folder other users can write to, unless it has the sticky bit
/// (ssh's StrictModes rule): another local user could swap files in it.
#[cfg(unix)]
pub fn refuse_shared_folder(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(dir) {
        let mode = meta.permissions().mode();
        if meta.is_dir() && mode & 0o002 != 0 && mode & 0o1000 == 0 {
            anyhow::bail!(
                "{} can be written by every user (mode {:o}) and has no sticky bit: another \
                 user could swap files in it; make it private (chmod o-w) or sticky (chmod +t)",
                dir.display(),
                mode & 0o7777
            );
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn refuse_shared_folder(_dir: &Path) -> Result<()> {
    Ok(())
}

/// Refuses `rel` (a path inside `root`) when a folder on the way there is a
/// symbolic link: writes go inside `root`, never where a link points.
pub fn refuse_linked_folders(root: &Path, rel: &Path) -> Result<()> {
    let mut at = root.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => anyhow::bail!(
                "{} is a symbolic link: publish writes only inside {}, never where a link points",
                at.display(),
                root.display()
            ),
            Ok(_) => refuse_shared_folder(&at)?,
            Err(_) => break,
        }
    }
    Ok(())
}

/// The permission bits of `path`, if it exists.
#[cfg(unix)]
pub fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

/// The permission bits of `path`, if it exists.
#[cfg(not(unix))]
pub fn mode_of(_path: &Path) -> Option<u32> {
    None
}

/// Removes the temporary files a write killed half-way left under `dir`
/// (named `.canary-sign-*`), in its subfolders too when `recursive`,
/// without following symbolic links.
pub fn remove_leftovers(dir: &Path, recursive: bool) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() && recursive {
            remove_leftovers(&path, true)?;
        } else if kind.is_file()
            && entry
                .file_name()
                .to_string_lossy()
                .starts_with(".canary-sign-")
        {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove the leftover {}", path.display()))?;
        }
    }
    Ok(())
}

/// Takes the issuer folder's lock (an advisory lock on its `canary.toml`,
/// which every issuer folder has and no command replaces), waiting for
/// another `canary-sign` that holds it; released when the file is dropped.
pub fn lock_folder(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join("canary.toml");
    let file = std::fs::File::open(&path)
        .with_context(|| format!("cannot open {} to lock the folder", path.display()))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            crate::common::note(&format!(
                "waiting for another canary-sign to finish in {}",
                dir.display()
            ));
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(file)
}
