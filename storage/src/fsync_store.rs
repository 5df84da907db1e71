//! Makes Lance's writes durable.
//!
//! Lance writes local files through `object_store`'s `LocalFileSystem`, which does not fsync by
//! default. `object_store` 0.14.2 can (`with_fsync`): written files, the renames that publish
//! manifests, and the directories they land in are synced before the write returns. Every Lance
//! dataset QuartzDB opens or writes goes through [`store_params`], so a commit that returned is on
//! disk, and the catalog write that follows it can acknowledge the statement.

use std::sync::{Arc, LazyLock};

use lance_io::object_store::{ObjectStoreParams, WrappingObjectStore};
use object_store::ObjectStore;
use object_store::list::PaginatedListStore;
use object_store::local::LocalFileSystem;

#[derive(Debug)]
struct FsyncLocalStore;

impl WrappingObjectStore for FsyncLocalStore {
    fn wrap(&self, _store_prefix: &str, _original: Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore> {
        // Lance's local provider builds a plain `LocalFileSystem::new()` (absolute paths, no
        // prefix); this is the same store with fsync switched on.
        Arc::new(LocalFileSystem::new().with_fsync(true))
    }

    fn wrap_paginated(&self, _store_prefix: &str, original: Arc<dyn PaginatedListStore>) -> Option<Arc<dyn PaginatedListStore>> {
        // Listing reads; only writes need the fsync.
        Some(original)
    }
}

/// One wrapper for the process: Lance caches object stores keyed by the wrapper's address.
static WRAPPER: LazyLock<Arc<dyn WrappingObjectStore>> = LazyLock::new(|| Arc::new(FsyncLocalStore));

/// Object-store parameters for every dataset QuartzDB touches.
pub fn store_params() -> ObjectStoreParams {
    ObjectStoreParams { object_store_wrapper: Some(WRAPPER.clone()), ..Default::default() }
}
