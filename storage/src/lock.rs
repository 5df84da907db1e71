//! The data-directory lock: one QuartzDB process per data directory, like PostgreSQL's
//! `postmaster.pid`. Startup recovery deletes unpublished files, which is only safe while no other
//! process can be writing them.

use std::fs::{File, OpenOptions};
use std::path::Path;

use fs2::FileExt;

use crate::error::{Error, Result};

/// Held for the life of the server; the OS releases it when the process dies, even by `kill -9`.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    pub fn acquire(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join("LOCK");
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(Error::io(&path))?;
        file.try_lock_exclusive().map_err(|_| Error::DataDirLocked { path: data_dir.to_path_buf() })?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_fails() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        assert!(matches!(DataDirLock::acquire(dir.path()), Err(Error::DataDirLocked { .. })));
        drop(first);
        DataDirLock::acquire(dir.path()).unwrap();
    }
}
