//! Which object store a server opens (`[store] kind`), with its condition for `/health`, and the usage meter that
//! goes with it (in memory, or shared through the PostgreSQL store's database).

use std::sync::Arc;

use entropy::EntropyPool;

use super::ServerError;
use crate::config::Config;
use crate::store::{ObjectStore, RecoveringStore, RecoverySettings, StoreError, StoreHealth};

/// The store `[store] kind` names, and its condition for `/health`.
///
/// sled: a missing store is never made here (an empty store in its place would serve without the issuing CA and
/// without every key, say after a mount failed; only `--init` or `--dev` makes one), and the store reopens itself
/// after a full disk (its opener keeps the custody: the passphrase file, or the HSM connection the first open
/// made). PostgreSQL: the database must hold a store already (`qkms store migrate`), see
/// [`crate::root_custody::open_postgres_store`].
type OpenedObjectStore = (
    Arc<dyn ObjectStore>,
    Arc<dyn StoreHealth>,
    Option<Arc<crate::store::postgres::PgStore>>,
);

/// The per-tenant usage counters: this node's, or (nodes sharing a database) every node's, added up there.
pub(super) fn usage_meter(
    database: Option<&crate::store::postgres::Database>,
) -> Result<crate::usage::UsageMeter, ServerError> {
    let Some(database) = database else {
        return Ok(crate::usage::UsageMeter::new());
    };
    let ledger = database
        .usage_ledger()
        .map_err(|error| ServerError::Store {
            path: database.describe().to_owned(),
            error,
        })?;
    Ok(crate::usage::UsageMeter::shared(Box::new(ledger)))
}

pub(super) fn open_object_store(
    config: &Config,
    entropy: &EntropyPool,
    hsm_slot: &Arc<std::sync::Mutex<Option<Arc<hsm_bridge::Hsm>>>>,
) -> Result<OpenedObjectStore, ServerError> {
    if config.store.kind == crate::config::StoreKind::Postgres {
        let connected = hsm_slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let (store, hsm) = crate::root_custody::open_postgres_store(config, entropy, connected)
            .map_err(|error| ServerError::Store {
                path: crate::store::postgres::redacted_url(&config.store.url),
                error,
            })?;
        if let Some(hsm) = hsm {
            hsm_slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get_or_insert(hsm);
        }
        tracing::info!(database = %store.describe(), "object store: PostgreSQL");
        let store = Arc::new(store);
        return Ok((
            Arc::clone(&store) as Arc<dyn ObjectStore>,
            Arc::clone(&store) as Arc<dyn StoreHealth>,
            Some(store),
        ));
    }
    if !crate::store::SledStore::exists(&config.store.path) {
        return Err(ServerError::Store {
            path: config.store.path.display().to_string(),
            error: StoreError::Config(
                "no store here: the directory is missing or holds no store; run `qkms-server --init DIR` to \
                 make a new set-up, or fix [store] path (is a volume not mounted?)"
                    .into(),
            ),
        });
    }
    let opener = crate::root_custody::recovering_opener(config, entropy, Arc::clone(hsm_slot));
    let store = RecoveringStore::open(&config.store.path, opener, RecoverySettings::default())
        .map(Arc::new)
        .map_err(|error| ServerError::Store {
            path: config.store.path.display().to_string(),
            error,
        })?;
    Ok((Arc::clone(&store) as Arc<dyn ObjectStore>, store, None))
}
