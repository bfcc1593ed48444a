//! Where the user's profiles, packs and generated keys live.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use directories::ProjectDirs;

const CONFIG_DIR_ENV: &str = "CONSENT_EXPLORER_CONFIG_DIR";
pub const DATA_DIR_ENV: &str = "CONSENT_EXPLORER_DATA_DIR";

fn project_dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("io", "consent-explorer", "consent-explorer")
}

fn from_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The user's config dir (profiles/ and consent-packs/ inside), overridable for tests.
fn config_dir() -> Option<PathBuf> {
    from_env(CONFIG_DIR_ENV).or_else(|| project_dirs().map(|d| d.config_dir().to_path_buf()))
}

/// Where generated keys go, overridable for tests.
pub fn data_dir() -> Option<PathBuf> {
    from_env(DATA_DIR_ENV).or_else(|| project_dirs().map(|d| d.data_dir().to_path_buf()))
}

pub fn user_profiles_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("profiles"))
}

pub fn user_packs_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("consent-packs"))
}

/// `~` and `~/...` expanded to the home directory; other paths unchanged.
fn expand_tilde(path: &str) -> PathBuf {
    let home = || directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    match path.strip_prefix("~") {
        Some("") => home().unwrap_or_else(|| PathBuf::from(path)),
        Some(rest) if rest.starts_with('/') => home()
            .map(|h| h.join(&rest[1..]))
            .unwrap_or_else(|| PathBuf::from(path)),
        _ => PathBuf::from(path),
    }
}

/// A path from a profile: `~` expanded, relative paths taken from the profile's folder.
pub fn resolve_from(base_dir: Option<&Path>, path: &str) -> PathBuf {
    let expanded = expand_tilde(path);
    match base_dir {
        Some(dir) if expanded.is_relative() => dir.join(expanded),
        _ => expanded,
    }
}

/// What an atomic write does when the target already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Swap the new contents in (a saved profile).
    Replace,
    /// Fail with `AlreadyExists` (a key must never be overwritten).
    Keep,
}

/// Who may read the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// Mode 0600, from the moment the file exists: secrets (keys).
    Owner,
    /// The umask decides, as for any file the user makes.
    Default,
}

/// Names our temporary files apart from anything else in the folder.
const TEMP_PREFIX: &str = ".consent-explorer-";

/// How old a temporary file must be to count as left by a killed save: a write takes
/// milliseconds, so an older one belongs to no write still running.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// Removes what a write killed midway left in `dir`. The temporary file (`TEMP_PREFIX` and 6
/// letters or digits) is deleted on every error path, but a kill (SIGKILL, SIGTERM, power
/// loss) runs no destructor; the next write into the folder removes it. Only our own prefix
/// is touched, so no file of the user's is.
pub(crate) fn remove_stale_temp_files(dir: &Path, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_temp = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .is_some_and(|random| {
                random.len() == 6 && random.chars().all(|c| c.is_ascii_alphanumeric())
            });
        let stale = || {
            entry
                .metadata()
                .ok()
                .filter(std::fs::Metadata::is_file)
                .and_then(|m| m.modified().ok())
                .and_then(|modified| now.duration_since(modified).ok())
                .is_some_and(|age| age >= STALE_TEMP_AGE)
        };
        if is_temp && stale() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes a file whole or not at all: a temporary file in the same folder (so the final
/// rename stays on one filesystem), flushed, then moved into place. A failed write leaves
/// what was there; the temporary file is removed on every error path, and a kill leaves at
/// most one `.consent-explorer-XXXXXX` file (removed by the next write into that folder),
/// never a half-written target.
pub fn write_atomic(
    path: &Path,
    contents: &[u8],
    existing: Existing,
    readers: Readers,
) -> std::io::Result<()> {
    write_atomic_then(path, contents, existing, readers, true)
}

/// `write_atomic` without waiting for the disk: an fsync costs milliseconds (about 7 ms
/// here, most of a whole flow against the sandbox). For records that live minutes and whose
/// loss in a power cut only means starting over (a pending flow). Still whole or not at all.
pub fn write_atomic_unsynced(
    path: &Path,
    contents: &[u8],
    existing: Existing,
    readers: Readers,
) -> std::io::Result<()> {
    write_atomic_then(path, contents, existing, readers, false)
}

fn write_atomic_then(
    path: &Path,
    contents: &[u8],
    existing: Existing,
    readers: Readers,
    sync: bool,
) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir
        }
        None => Path::new("."),
    };
    remove_stale_temp_files(dir, SystemTime::now());
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile's own default is 0600; 0666 lets the umask decide like File::create.
        if readers == Readers::Default {
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
    }
    #[cfg(not(unix))]
    let _ = readers;
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(contents)?;
    if sync {
        file.as_file().sync_all()?;
    }
    let persisted = match existing {
        Existing::Replace => file.persist(path),
        Existing::Keep => file.persist_noclobber(path),
    };
    // On failure the temporary file is dropped with the error, which deletes it.
    persisted.map(drop).map_err(|e| e.error)
}

/// A secret written with mode 0600; refuses to replace an existing file.
pub fn write_private_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic(path, contents, Existing::Keep, Readers::Owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_follow_the_profile() {
        assert_eq!(
            resolve_from(Some(Path::new("/p")), "keys/a.pem"),
            PathBuf::from("/p/keys/a.pem")
        );
        assert_eq!(
            resolve_from(Some(Path::new("/p")), "/abs.pem"),
            PathBuf::from("/abs.pem")
        );
        assert!(!expand_tilde("~/k.pem").starts_with("~"));
    }

    #[test]
    fn private_write_is_0600_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key.pem");
        write_private_new(&path, b"one").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = write_private_new(&path, b"two").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            1
        );
    }
}
