//! After an accepted PAR: the pending flow kept for the callback, the callback and its checks,
//! and the tokens kept per profile. Both stores hold secrets, so both write mode 0600 files
//! named by a hash: a state or profile name from outside never becomes a path.

pub mod callback;
pub mod id_token;
pub mod pending;
pub mod store;
pub mod token;

#[cfg(test)]
mod refresh_tests;

use std::path::{Path, PathBuf};

use aws_lc_rs::digest;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::paths::{self, Existing, Readers};

/// A store in the data dir could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no data directory: set {} or HOME", paths::DATA_DIR_ENV)]
    NoDataDir,
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a file this version wrote ({source}): delete it", path.display())]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl StoreError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        move |source| StoreError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// `dir/<sha256 of key>.json`: any string (a state from a pasted URL, a profile name) maps
/// to one plain file name inside `dir`, never to `..` or a separator.
fn hashed_path(dir: &Path, key: &str) -> PathBuf {
    let hash = digest::digest(&digest::SHA256, key.as_bytes());
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.json"))
}

fn store_dir(folder: &str) -> Result<PathBuf, StoreError> {
    paths::data_dir()
        .map(|d| d.join(folder))
        .ok_or(StoreError::NoDataDir)
}

fn write_private<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    write_json(path, value, paths::write_atomic)
}

/// As `write_private`, without the fsync: for pending flows (see `write_atomic_unsynced`).
fn write_private_unsynced<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    write_json(path, value, paths::write_atomic_unsynced)
}

type AtomicWrite = fn(&Path, &[u8], Existing, Readers) -> std::io::Result<()>;

/// The value as JSON, mode 0600, replacing what was there, written by `write`.
fn write_json<T: Serialize>(path: &Path, value: &T, write: AtomicWrite) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| StoreError::io(path)(e.into()))?;
    write(path, &bytes, Existing::Replace, Readers::Owner).map_err(StoreError::io(path))
}

/// The file's contents, or `None` when there is no such file.
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| StoreError::Corrupt {
            path: path.to_owned(),
            source,
        })
}

/// Removes the file; `false` when there was none.
fn remove(path: &Path) -> Result<bool, StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io(path)(e)),
    }
}

/// The `.json` files of a store folder (none when the folder does not exist yet).
fn json_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(dir)(e)),
    };
    Ok(entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_key_stays_one_file_inside_the_folder() {
        let dir = Path::new("/data/flows");
        for key in ["../../etc/passwd", "/abs", "a/b", "", ".."] {
            let path = hashed_path(dir, key);
            assert_eq!(path.parent(), Some(dir), "{key}");
            let name = path.file_name().unwrap().to_str().unwrap();
            assert_eq!(name.len(), 64 + 5);
        }
        assert_ne!(hashed_path(dir, "a"), hashed_path(dir, "b"));
    }
}
