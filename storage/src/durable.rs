//! Small helpers that make files durable: write-then-rename with fsync of the file and its directory.
//!
//! A write QuartzDB acknowledges must survive power loss, and `rename` alone only orders names, not
//! data blocks: the file is synced before the rename and the directory after it.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Atomically replaces `path` with `bytes`: readers see the old or the new content, never a mix,
/// and once this returns the new content survives a crash.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("path has no parent directory"))?;
    let tmp = path.with_extension("tmp");
    {
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Err(e) = sync_dir(dir) {
        // The new content is in place but may not survive a crash, and the caller cannot take
        // it back: reporting a failure would let it undo work the file now names, reporting
        // success would acknowledge what may be lost. PostgreSQL PANICs on a failed fsync; so
        // does QuartzDB (startup recovers from what is on disk).
        tracing::error!(path = %path.display(), error = %e, "fsync of the directory failed after replacing a file; stopping");
        std::process::abort();
    }
    Ok(())
}

/// Flushes a directory's entries (created, renamed or removed names) to disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}


/// Creates a directory (and missing parents) and makes its name durable in its parent.
pub fn create_dir_durable(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("catalog.json")]);
    }
}
