//! From the configuration to the store's root key custody: which custody opens the store (the kind the store
//! records; `[root_key] kind` for a new store), the HSM connection when one is named, its seeding thread, and its
//! generator as an entropy source (`[hsm.rng]`).
//! Used by the server at start-up, by `--init`, and by `qkms store rewrap`.

use std::path::Path;
use std::sync::Arc;

use entropy::EntropyPool;
use hsm_bridge::{Hsm, Seeder};
use zeroize::Zeroizing;

use crate::config::{Config, RootKeyKind};
use crate::store::{Custody, CustodyKind, SledStore, StoreError, StoreOptions};

/// The store opened, with the HSM connection it used (if any).
#[derive(Debug)]
pub struct OpenedStore {
    pub store: SledStore,
    pub hsm: Option<Arc<Hsm>>,
}

/// The store options of this configuration.
pub fn store_options(config: &Config) -> StoreOptions {
    StoreOptions {
        argon2: config.store.argon2,
        cache_capacity_bytes: config.store.cache_bytes(),
        ..StoreOptions::default()
    }
}

/// The custody kind `[root_key] kind` names.
pub fn configured_kind(config: &Config) -> CustodyKind {
    match config.root_key.kind {
        RootKeyKind::Passphrase => CustodyKind::Passphrase,
        RootKeyKind::Pkcs11 => CustodyKind::Pkcs11,
    }
}

/// Opens `[store] path` with the custody it records (a new store: the configured one). The HSM, when used, is
/// returned so that the server can keep seeding it.
pub fn open_store(config: &Config, pool: &EntropyPool) -> Result<OpenedStore, StoreError> {
    open_store_reusing(config, pool, None)
}

/// [`open_store`], reusing an HSM connection already made (a reopen after a full disk) instead of connecting
/// again.
pub fn open_store_reusing(
    config: &Config,
    pool: &EntropyPool,
    connected: Option<Arc<Hsm>>,
) -> Result<OpenedStore, StoreError> {
    let mut hsm = None;
    let store = SledStore::open_with_custody(
        &config.store.path,
        |stored| choose_custody(config, stored, connected.as_ref(), &mut hsm),
        pool.clone(),
        &store_options(config),
    )?;
    Ok(OpenedStore { store, hsm })
}

/// The custody that opens a store recording `stored` (`None`: a new store, opened the configured way), reusing
/// the HSM connection `connected` when there is one; `hsm` is given the HSM connection used.
fn choose_custody(
    config: &Config,
    stored: Option<CustodyKind>,
    connected: Option<&Arc<Hsm>>,
    hsm: &mut Option<Arc<Hsm>>,
) -> Result<Custody, StoreError> {
    let configured = configured_kind(config);
    let kind = stored.unwrap_or(configured);
    if kind != configured {
        tracing::warn!(store = %kind, configured = %configured,
            "the store records another root key custody than [root_key] kind (an interrupted \
             `qkms store rewrap`?): opening it the way it records");
    }
    let custody = match (kind, connected) {
        (CustodyKind::Pkcs11, Some(existing)) => Custody::Hsm(Arc::clone(existing)),
        _ => custody_for(config, kind)?,
    };
    if let Custody::Hsm(connected) = &custody {
        *hsm = Some(Arc::clone(connected));
    }
    Ok(custody)
}

/// Opens the PostgreSQL store of `[store] url` (`[store] kind = "postgres"`) with the custody the database
/// records. Unlike [`open_store`] it never makes a new store: a database without one is refused (fill it with
/// `qkms store migrate`), so that a node pointed at the wrong database does not serve an empty store.
pub fn open_postgres_store(
    config: &Config,
    pool: &EntropyPool,
    connected: Option<Arc<Hsm>>,
) -> Result<(crate::store::PgStore, Option<Arc<Hsm>>), StoreError> {
    let options = config
        .store
        .postgres_options()
        .map_err(|e| StoreError::Config(e.to_string()))?;
    if !crate::store::PgStore::exists(&options, pool)? {
        return Err(StoreError::Config(format!(
            "the database {} holds no qkms store: make one with `qkms-server --init DIR`, then copy it with \
             `qkms store migrate --from DIR/qkms.toml --to-postgres URL` (or fix [store] url)",
            options.describe()
        )));
    }
    let mut hsm = None;
    let store = crate::store::PgStore::open_with_custody(
        &options,
        |stored| choose_custody(config, stored, connected.as_ref(), &mut hsm),
        pool.clone(),
        &config.store.argon2,
    )?;
    Ok((store, hsm))
}

/// The custody of `kind` from this configuration: the passphrase file's first line, or a connection to the HSM
/// (which fails at once, with its own message, when the module, the token or the PIN is wrong).
pub fn custody_for(config: &Config, kind: CustodyKind) -> Result<Custody, StoreError> {
    match kind {
        CustodyKind::Passphrase => Ok(Custody::Passphrase(read_passphrase(
            &config.store.passphrase_file,
        )?)),
        CustodyKind::Pkcs11 => Ok(Custody::Hsm(Arc::new(connect(config)?))),
        CustodyKind::Raw => Err(StoreError::Config(
            "the store was made with a raw root key (a test or tool store); the server cannot open it".into(),
        )),
    }
}

/// Connects to the HSM `[root_key]` names.
pub fn connect(config: &Config) -> Result<Hsm, StoreError> {
    if !config.root_key.names_hsm() {
        return Err(StoreError::Config(
            "the store's root key is in an HSM, but [root_key] names no module and token_label"
                .into(),
        ));
    }
    Ok(Hsm::connect(config.root_key.hsm_settings())?)
}

/// The HSM to seed: the custody connection, or (a store in passphrase custody with an HSM named in
/// `[root_key]`) a connection made for seeding only, whose failure is logged, not fatal.
pub fn hsm_for_seeding(config: &Config, custody_hsm: Option<Arc<Hsm>>) -> Option<Arc<Hsm>> {
    if custody_hsm.is_some() || !config.root_key.names_hsm() {
        return custody_hsm;
    }
    match connect(config) {
        Ok(hsm) => Some(Arc::new(hsm)),
        Err(error) => {
            tracing::warn!(%error, "the HSM named in [root_key] cannot be reached: it will not be seeded");
            None
        }
    }
}

/// Starts the periodic seeding of `hsm` when `[hsm.seed] enabled`.
pub fn start_seeding(config: &Config, hsm: &Arc<Hsm>, pool: &EntropyPool) -> Option<Seeder> {
    if !config.hsm.seed.enabled {
        return None;
    }
    match Seeder::start(Arc::clone(hsm), pool.clone(), config.hsm.seed) {
        Ok(seeder) => {
            tracing::info!(hsm = %hsm.label(), bytes = config.hsm.seed.bytes,
                interval_secs = config.hsm.seed.interval_secs, "seeding the HSM from the entropy pool");
            Some(seeder)
        }
        Err(error) => {
            tracing::error!(%error, "HSM seeding cannot start");
            None
        }
    }
}

/// The first line of the passphrase file, trimmed; empty is an error.
pub fn read_passphrase(path: &Path) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| StoreError::Config(format!("passphrase file {}: {e}", path.display())))?,
    );
    let line = text.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return Err(StoreError::Config(format!(
            "passphrase file {}: the root-key passphrase file is empty",
            path.display()
        )));
    }
    Ok(Zeroizing::new(line.as_bytes().to_vec()))
}

/// The opener of the server's [`RecoveringStore`](crate::store::RecoveringStore): the first call opens the store
/// with the custody it records and keeps the HSM connection (for seeding, and for every reopen after a full
/// disk, which then needs no new connection).
pub fn recovering_opener(
    config: &Config,
    pool: &EntropyPool,
    hsm: Arc<std::sync::Mutex<Option<Arc<Hsm>>>>,
) -> crate::store::recovering::Opener {
    let config = config.clone();
    let pool = pool.clone();
    Box::new(move || {
        let mut slot = hsm
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let opened = open_store_reusing(&config, &pool, slot.clone())?;
        if slot.is_none() {
            slot.clone_from(&opened.hsm);
        }
        Ok(opened.store)
    })
}

/// The HSM of `[root_key]`, connected before the entropy pool when `[hsm.rng] enabled` (its generator is one of
/// the pool's sources); the same connection then serves custody, seeding and held keys.
pub fn rng_source_hsm(config: &Config) -> Result<Option<Arc<Hsm>>, crate::server::ServerError> {
    if !config.hsm.rng.enabled {
        return Ok(None);
    }
    connect(config)
        .map(|hsm| Some(Arc::new(hsm)))
        .map_err(|error| crate::server::ServerError::Store {
            path: config.store.path.display().to_string(),
            error,
        })
}

/// The pool over the configured sources plus the HSM's generator (uncredited unless `[hsm.rng] credited`).
pub fn pool_with_hsm_source(
    config: &Config,
    entropy_config: entropy::EntropyConfig,
    hsm: &Arc<Hsm>,
) -> Result<EntropyPool, crate::server::ServerError> {
    let source =
        hsm_bridge::HsmRngSource::new(Arc::clone(hsm), &config.hsm.rng).map_err(|error| {
            crate::server::ServerError::Store {
                path: config.store.path.display().to_string(),
                error: error.into(),
            }
        })?;
    tracing::info!(id = %entropy::source::EntropySource::info(&source).id,
        credited = config.hsm.rng.credited, "entropy source: the HSM's generator (C_GenerateRandom)");
    Ok(EntropyPool::with_extra_sources(
        entropy_config,
        vec![Box::new(source)],
    )?)
}
