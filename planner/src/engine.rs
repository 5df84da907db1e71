//! The engine: state shared by all sessions (the storage), and session creation.

use std::path::Path;
use std::sync::Arc;

use quartzdb_storage::Storage;

use crate::error::Result;
use crate::session::Session;

#[derive(Debug)]
pub struct Engine {
    storage: Arc<Storage>,
    /// The sessions, for `pg_stat_activity` and `pg_cancel_backend`.
    activity: Arc<crate::activity::Activity>,
}

impl Engine {
    /// Opens (or initializes) the data directory, recovering it after a crash.
    pub async fn open(data_dir: &Path) -> Result<Arc<Self>> {
        let storage = Storage::open(data_dir).await?;
        Ok(Arc::new(Self { storage, activity: Default::default() }))
    }

    pub fn storage(&self) -> &Arc<Storage> {
        &self.storage
    }

    pub fn activity(&self) -> &Arc<crate::activity::Activity> {
        &self.activity
    }

    pub fn has_database(&self, name: &str) -> bool {
        self.storage.catalog().database(name).is_ok()
    }

    pub fn has_role(&self, name: &str) -> bool {
        self.storage.catalog().roles.contains_key(name)
    }

    /// Starts a session (one per connection) on a database.
    pub fn session(self: &Arc<Self>, database: &str, user: &str, pid: i32) -> Result<Session> {
        Session::new(self.clone(), database, user, pid)
    }
}
