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
    replace_public(path, bytes, None)
}

/// [`write_atomic_public`], the temporary file made in `stage` when given
/// (a [`Staging`] folder): there it first gets the group a file made in
/// its own folder would; when it cannot, or the rename would cross file
/// systems, the file is made in its own folder after all.
fn replace_public(path: &Path, bytes: &[u8], stage: Option<&Path>) -> Result<()> {
    let dir = parent(path);
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let tmp = staged_in(stage.unwrap_or(dir), bytes)?;
    if stage.is_some() && !take_folder_group(&tmp, dir) {
        return replace_public(path, bytes, None);
    }
    // The mode of the file replaced, never of what a symbolic link there
    // points at.
    let mode = own_mode_of(path).unwrap_or(0o644);
    set_mode(&tmp, mode)?;
    match tmp.persist(path) {
        Ok(_) => sync_parent(path),
        Err(e) if stage.is_some() && e.error.kind() == std::io::ErrorKind::CrossesDevices => {
            replace_public(path, bytes, None)
        }
        Err(e) => Err(anyhow::Error::new(e.error))
            .with_context(|| format!("cannot write {}", path.display())),
    }
}

fn staged(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    let dir = parent(path);
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    staged_in(dir, bytes)
}

/// A temporary file in `dir` holding `bytes`, synced.
fn staged_in(dir: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".canary-sign-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    Ok(tmp)
}

/// Where the files of a published site are written before they are renamed
/// into it: a private folder (`.canary-sign-<site name>-*`, mode 0700)
/// beside the site, so that a run killed half-way (SIGKILL, power loss)
/// leaves its temporary files outside what a web server serves (DESIGN §9).
/// Removed when dropped; what a killed run left beside the same site is
/// removed by the next one. A file gets the group the site's folder would
/// give it (a setgid folder's). Where no such folder can be made (the parent
/// is not writable, the site is a file system's root or on another file
/// system than its parent), files are staged in their own folder instead,
/// as [`write_atomic_public`] does, and [`Staging::fallback`] says why.
pub struct Staging {
    dir: Option<tempfile::TempDir>,
    fallback: Option<String>,
}

impl Staging {
    /// A staging folder beside `site` (created if missing).
    pub fn beside(site: &Path) -> Result<Self> {
        std::fs::create_dir_all(site)
            .with_context(|| format!("cannot create folder {}", site.display()))?;
        let canonical = std::fs::canonicalize(site)
            .with_context(|| format!("cannot resolve {}", site.display()))?;
        let (Some(parent), Some(name)) = (canonical.parent(), canonical.file_name()) else {
            return Ok(Self::inside(format!(
                "{} has no parent folder to stage files in",
                site.display()
            )));
        };
        let prefix = format!(".canary-sign-{}-", name.to_string_lossy());
        remove_stale_stages(parent, &prefix)?;
        let dir = match tempfile::Builder::new()
            .prefix(&prefix)
            .rand_bytes(STAGE_RANDOM)
            .tempdir_in(parent)
        {
            Ok(dir) => dir,
            Err(e) => {
                return Ok(Self::inside(format!(
                    "cannot make a staging folder in {}: {e}",
                    parent.display()
                )));
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
            // Private, and without a setgid bit inherited from the parent:
            // files made in it get the user's group, as in the site.
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot set the mode of {}", dir.path().display()))?;
            let device = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
            if device(dir.path()) != device(&canonical) {
                return Ok(Self::inside(format!(
                    "{} is on another file system than {}",
                    site.display(),
                    parent.display()
                )));
            }
        }
        Ok(Self {
            dir: Some(dir),
            fallback: None,
        })
    }

    fn inside(why: String) -> Self {
        Self {
            dir: None,
            fallback: Some(why),
        }
    }

    /// Why files are staged inside the site, if they are.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// [`write_atomic_public`] through the staging folder.
    pub fn write_atomic_public(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        replace_public(path, bytes, self.dir.as_ref().map(tempfile::TempDir::path))
    }

    /// The staging folder, if one could be made beside the site.
    #[cfg(test)]
    fn path(&self) -> Option<&Path> {
        self.dir.as_ref().map(tempfile::TempDir::path)
    }
}

/// Random characters in a staging folder's name, after its prefix.
const STAGE_RANDOM: usize = 6;

/// Removes the staging folders (`prefix` and [`STAGE_RANDOM`] letters or
/// digits) in `parent` that a killed publish of the same site left, never
/// following a symbolic link; not those of a site whose name extends this
/// one's.
fn remove_stale_stages(parent: &Path, prefix: &str) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .is_some_and(|rest| {
                rest.len() == STAGE_RANDOM && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        let stale = ours && entry.file_type().is_ok_and(|t| t.is_dir());
        if stale {
            std::fs::remove_dir_all(entry.path()).with_context(|| {
                format!("cannot remove the leftover {}", entry.path().display())
            })?;
        }
    }
    Ok(())
}

/// Gives a staged file the group a file made in `folder` would get: the
/// folder's own when it is setgid. False when this user may not.
#[cfg(unix)]
fn take_folder_group(tmp: &tempfile::NamedTempFile, folder: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    const SETGID: u32 = 0o2000;
    match std::fs::metadata(folder) {
        Ok(m) if m.mode() & SETGID != 0 => {
            let has = tmp.as_file().metadata().map(|t| t.gid()).ok();
            has == Some(m.gid())
                || std::os::unix::fs::fchown(tmp.as_file(), None, Some(m.gid())).is_ok()
        }
        _ => true,
    }
}

#[cfg(not(unix))]
fn take_folder_group(_tmp: &tempfile::NamedTempFile, _folder: &Path) -> bool {
    true
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

#[cfg(test)]
mod tests {
    use super::Staging;
    use std::path::Path;

    #[test]
    fn a_site_is_staged_beside_itself_and_the_staging_folder_goes_after() {
        let root = tempfile::tempdir().expect("temporary folder");
        let site = root.path().join("www").join("site");
        let staging = Staging::beside(&site).expect("staging");
        let stage = staging.path().expect("a staging folder").to_path_buf();
        assert!(staging.fallback().is_none());
        // Beside the site, not in it.
        let www = std::fs::canonicalize(root.path().join("www")).expect("canonical");
        assert_eq!(stage.parent(), Some(www.as_path()));
        assert!(!stage.starts_with(&site));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&stage)
                .expect("stage")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }

        let file = site.join(".well-known/canary/statements/000001.json");
        staging.write_atomic_public(&file, b"one").expect("written");
        assert_eq!(std::fs::read(&file).expect("read"), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&file).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
            // A replaced file keeps its mode.
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
            staging
                .write_atomic_public(&file, b"two")
                .expect("rewritten");
            let mode = std::fs::metadata(&file).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
            assert_eq!(std::fs::read(&file).expect("read"), b"two");
        }
        // Nothing but the file in the site, nothing left in the stage.
        let mut in_site = Vec::new();
        let mut walk = vec![site.clone()];
        while let Some(dir) = walk.pop() {
            for entry in std::fs::read_dir(&dir).expect("read site").flatten() {
                if entry.file_type().expect("type").is_dir() {
                    walk.push(entry.path());
                } else {
                    in_site.push(entry.path());
                }
            }
        }
        assert_eq!(in_site, vec![file]);
        assert_eq!(std::fs::read_dir(&stage).expect("stage").count(), 0);
        drop(staging);
        assert!(!stage.exists(), "the staging folder outlives the publish");
    }

    #[test]
    fn what_a_killed_publish_left_beside_the_same_site_goes_first() {
        let root = tempfile::tempdir().expect("temporary folder");
        let left = root.path().join(".canary-sign-site-Ab12Cd");
        std::fs::create_dir(&left).expect("leftover");
        std::fs::write(left.join(".canary-sign-x1y2z3"), b"half").expect("leftover file");
        // Another site's ("site-b"), and a file of that name: kept.
        let other = root.path().join(".canary-sign-site-b-Ab12Cd");
        std::fs::create_dir(&other).expect("other site's");
        let file = root.path().join(".canary-sign-site-Zz99Yy");
        std::fs::write(&file, b"not a folder").expect("file");
        let staging = Staging::beside(&root.path().join("site")).expect("staging");
        assert!(!left.exists(), "the leftover stays");
        assert!(other.exists() && file.exists());
        assert!(staging.path().is_some_and(Path::exists));
    }

    #[test]
    fn a_file_system_root_is_staged_in_the_site() {
        let staging = Staging::beside(Path::new("/")).expect("staging");
        assert!(staging.path().is_none());
        assert!(
            staging
                .fallback()
                .is_some_and(|w| w.contains("no parent folder")),
            "{:?}",
            staging.fallback()
        );
    }

    /// A setgid site folder gives its group to files made in it: staged
    /// files get it too. (Giving a file another group needs root, as CI
    /// runs; elsewhere there is nothing to check.)
    #[test]
    #[cfg(unix)]
    fn files_get_the_group_of_a_setgid_site_folder() {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let root = tempfile::tempdir().expect("temporary folder");
        let site = root.path().join("site");
        std::fs::create_dir(&site).expect("site");
        let group = 4242;
        if std::os::unix::fs::chown(&site, None, Some(group)).is_err() {
            return;
        }
        std::fs::set_permissions(&site, std::fs::Permissions::from_mode(0o2755)).expect("setgid");
        let staging = Staging::beside(&site).expect("staging");
        assert!(staging.path().is_some());
        let file = site.join("index.html");
        staging
            .write_atomic_public(&file, b"page")
            .expect("written");
        assert_eq!(std::fs::metadata(&file).expect("file").gid(), group);
        // Not setgid: the user's group, as before.
        let plain = root.path().join("plain");
        std::fs::create_dir(&plain).expect("plain");
        let staging = Staging::beside(&plain).expect("staging");
        let file = plain.join("index.html");
        staging
            .write_atomic_public(&file, b"page")
            .expect("written");
        let own = std::fs::metadata(root.path()).expect("root").gid();
        assert_eq!(std::fs::metadata(&file).expect("file").gid(), own);
    }

    #[test]
    fn the_current_folder_as_site_is_staged_in_its_parent() {
        let root = tempfile::tempdir().expect("temporary folder");
        let site = root.path().join("site");
        std::fs::create_dir(&site).expect("site");
        // `--out .` seen from inside the site: the parent of the folder
        // itself, not of the relative path.
        let staging = Staging::beside(&site.join(".")).expect("staging");
        let stage = staging.path().expect("a staging folder");
        let canonical_root = std::fs::canonicalize(root.path()).expect("canonical");
        assert_eq!(stage.parent(), Some(canonical_root.as_path()));
    }
}
