//! `qkms-server --init DIR` and `qkms-server issue-client NAME --out DIR2`: a working set-up in one command, and
//! a further client bundle per tenant.
//!
//! Layout of an initialised directory (fixed names, scripts and docs rely on them):
//! ```text
//! DIR/qkms.toml              the configuration, every option documented
//! DIR/root.pass              root-key passphrase (0600): the store's root key is derived from it with argon2id
//!                            (not written with `--root-key pkcs11`: an HSM key wraps the data key instead)
//! DIR/store/                 the sled store (empty until the first start)
//! DIR/pki/ca.pem, ca.key     the development CA (ca.key 0600; only issue-client reads it)
//! DIR/pki/server.pem, .key   the server certificate (localhost, 127.0.0.1, ::1, configured host names)
//! DIR/pki/client.pem, .key   the first client bundle: tenant "default" (subject CN)
//! DIR/pki/client.p12         the same key and certificate (with the CA) as PKCS#12,
//! DIR/pki/client.p12.pass    whose password is this file's first line (0600)
//! DIR/pki/eaas-signing.pem, .key  the entropy-as-a-service envelope key (Ed25519, certified by the CA; .key 0600)
//! DIR/pki/issuing-ca.pem     the certificate of Certify's issuing CA (relying parties trust it to verify the
//!                            certificates qkms issues); its key is in the store, sealed, never written out
//! DIR/pki/pkcs11.pem, .key   the PKCS#11 token's machine identity: tenant "pkcs11" (subject CN), usable before
//!                            C_Login (key 0600)
//! DIR/user-pins.json         PIN-guarded tenants: "pkcs11", whose user PIN (argon2id hash, retry counter) the
//!                            server checks before private objects can be used (0600)
//! DIR/pkcs11.toml, pkcs11.pin   the module's configuration and the token's user PIN (0600)
//! ```
//!
//! The store is created by `--init` (root key from `root.pass`, or the HSM of `[root_key]`), holding only the
//! issuing CA.

use std::path::{Path, PathBuf};

use entropy::EntropyPool;

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::config::{Config, ConfigError, RootKeyKind, TenantMapping};
use crate::managed::certificates::issuing_ca::{self, IssuingCa};
use crate::pki::files::{self, write_client_bundle, write_new, ClientBundle};
use crate::pki::{CertificateAuthority, PkiError};
use crate::root_custody;
use crate::store::{Custody, ObjectStore, SledStore};

/// The configuration file name inside an initialised directory.
pub const CONFIG_FILE: &str = "qkms.toml";
/// The PKCS#11 module's configuration and its token's user PIN, written by `--init`.
pub const PKCS11_CONFIG_FILE: &str = "pkcs11.toml";
pub const PKCS11_PIN_FILE: &str = "pkcs11.pin";
/// The tenant of the client bundle `--init` writes.
pub const DEFAULT_CLIENT: &str = "default";
/// The PKCS#11 token's tenant (its machine certificate's CN), PIN-guarded.
pub const PKCS11_TENANT: &str = "pkcs11";

/// `--init` or `issue-client` failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0} already exists: refusing to overwrite an existing set-up")]
    AlreadyExists(PathBuf),
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("entropy: {0}")]
    Entropy(#[from] entropy::EntropyError),
    #[error("issuing CA: {0}")]
    IssuingCa(String),
    #[error("root key: {0}")]
    RootKey(String),
    #[error("user PIN: {0}")]
    UserPin(String),
}

/// The PKCS#11 token's machine certificate and key, in `DIR/pki`.
pub const PKCS11_CERT: &str = "pkcs11.pem";
pub const PKCS11_KEY: &str = "pkcs11.key";
/// Random bytes in the generated user PIN (printed as hex: 16 characters).
const USER_PIN_BYTES: usize = 8;

/// What `--init` made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitReport {
    pub config_file: PathBuf,
    pub client: ClientBundle,
}

/// Options for `--init`.
#[derive(Clone, Debug, Default)]
pub struct InitOptions {
    /// Extra server certificate names (`--host-name`), written to `tls.host_names` too.
    pub host_names: Vec<String>,
    /// The configuration to start from (listen address, entropy sources, `[root_key]`...); paths are the
    /// defaults, except `[root_key]`'s, which are kept as given (make them absolute).
    pub base: Config,
}

/// Creates a complete set-up in `dir` (created if missing). Refuses if any of its files already exist.
pub fn init(dir: &Path, options: &InitOptions) -> Result<InitReport, SetupError> {
    let mut config = options.base.clone();
    config.tls.host_names = options.host_names.clone();
    let defaults = Config::default();
    config.tls.ca_files = defaults.tls.ca_files.clone();
    config.tls.ca_key = defaults.tls.ca_key.clone();
    config.tls.certificate = defaults.tls.certificate.clone();
    config.tls.key = defaults.tls.key.clone();
    config.store.path = defaults.store.path.clone();
    config.store.passphrase_file = defaults.store.passphrase_file.clone();
    config.audit.path = defaults.audit.path.clone();
    let config_text = config.documented_toml()?;

    let config_file = dir.join(CONFIG_FILE);
    let pki_dir = dir.join("pki");
    let store_dir = dir.join(&config.store.path);
    let passphrase_file = dir.join(&config.store.passphrase_file);
    let (pkcs11_config, pkcs11_pin) = (dir.join(PKCS11_CONFIG_FILE), dir.join(PKCS11_PIN_FILE));
    let mut resolved_pins = config.clone();
    resolved_pins.resolve_paths(dir);
    let user_pins = crate::user_pin::file_of(&resolved_pins);
    for path in [
        &config_file,
        &pki_dir,
        &store_dir,
        &passphrase_file,
        &pkcs11_config,
        &pkcs11_pin,
        &user_pins,
    ] {
        if path.exists() {
            return Err(SetupError::AlreadyExists(path.clone()));
        }
    }
    let pool = EntropyPool::new(config.entropy.clone())?;
    // Everything is generated before anything is written, so a failing entropy source leaves no half set-up.
    let ca = CertificateAuthority::generate(&pool)?;
    let server = ca.issue_server(&pool, &config.tls.host_names)?;
    let client = ca.issue_client(&pool, DEFAULT_CLIENT)?;
    let token = ca.issue_client(&pool, PKCS11_TENANT)?;
    let user_pin = files::random_secret(&pool, USER_PIN_BYTES)?;
    let pin_record = crate::user_pin::PinRecord::new(
        &pool,
        user_pin.as_bytes(),
        crate::user_pin::DEFAULT_MAX_TRIES,
    )
    .map_err(|e| SetupError::UserPin(e.to_string()))?;
    let passphrase = files::random_secret(&pool, 32)?;
    // HSM custody: connect (and find or generate the root key) before anything is written, so that a wrong
    // module, token or PIN leaves no half set-up.
    let custody = match config.root_key.kind {
        RootKeyKind::Passphrase => {
            Custody::Passphrase(Zeroizing::new(passphrase.as_bytes().to_vec()))
        }
        RootKeyKind::Pkcs11 => {
            let mut resolved = config.clone();
            resolved.resolve_paths(dir);
            let hsm =
                root_custody::connect(&resolved).map_err(|e| SetupError::RootKey(e.to_string()))?;
            hsm.ensure_root_key(&pool)
                .map_err(|e| SetupError::RootKey(e.to_string()))?;
            Custody::Hsm(Arc::new(hsm))
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let issuing_ca =
        issuing_ca::generate(&pool, now).map_err(|e| SetupError::IssuingCa(e.to_string()))?;
    let issuing_ca_pem = der::pem::encode_string(
        "CERTIFICATE",
        der::pem::LineEnding::LF,
        &issuing_ca.certificate_der,
    )
    .map_err(|e| SetupError::IssuingCa(e.to_string()))?;

    create_dir(dir, true)?;
    create_dir(&pki_dir, false)?;
    write_new(
        &pki_dir.join(files::CA_CERT),
        ca.certificate_pem().as_bytes(),
        false,
    )?;
    write_new(
        &pki_dir.join("ca.key"),
        ca.key().pkcs8_pem()?.as_bytes(),
        true,
    )?;
    write_new(
        &pki_dir.join("server.pem"),
        server.certificate_pem.as_bytes(),
        false,
    )?;
    write_new(
        &pki_dir.join("server.key"),
        server.key.pkcs8_pem()?.as_bytes(),
        true,
    )?;
    let client = write_client_bundle(&pki_dir, &pool, &ca, &client, DEFAULT_CLIENT, true)?;
    let eaas_key = ca.issue_eaas_signing_key(&pool)?;
    write_new(
        &pki_dir.join("eaas-signing.pem"),
        eaas_key.certificate_pem.as_bytes(),
        false,
    )?;
    write_new(
        &pki_dir.join("eaas-signing.key"),
        eaas_key.key_pem.as_bytes(),
        true,
    )?;
    if config.root_key.kind == RootKeyKind::Passphrase {
        write_new(
            &passphrase_file,
            format!("{}\n", passphrase.as_str()).as_bytes(),
            true,
        )?;
    }
    create_dir(&store_dir, false)?;
    install_issuing_ca(&config, &store_dir, custody, &pool, &issuing_ca, now)?;
    write_new(
        &pki_dir.join(files::ISSUING_CA_CERT),
        issuing_ca_pem.as_bytes(),
        false,
    )?;
    write_new(&config_file, config_text.as_bytes(), false)?;
    write_new(
        &pki_dir.join(PKCS11_CERT),
        token.certificate_pem.as_bytes(),
        false,
    )?;
    write_new(
        &pki_dir.join(PKCS11_KEY),
        token.key.pkcs8_pem()?.as_bytes(),
        true,
    )?;
    crate::user_pin::UserPins::open(&user_pins, &pool)
        .and_then(|pins| pins.set(&crate::tenant::TenantId(PKCS11_TENANT.into()), pin_record))
        .map_err(|e| SetupError::UserPin(e.to_string()))?;
    write_pkcs11_files(dir, &config.server.listen, &user_pin)?;
    Ok(InitReport {
        config_file,
        client,
    })
}

/// Creates the store in `store_dir` under `custody` (a passphrase with the configured argon2 cost, or the HSM) and
/// puts the issuing CA in it.
fn install_issuing_ca(
    config: &Config,
    store_dir: &Path,
    custody: Custody,
    pool: &EntropyPool,
    ca: &IssuingCa,
    now: i64,
) -> Result<(), SetupError> {
    let options = root_custody::store_options(config);
    let store = SledStore::open_with_custody(store_dir, |_| Ok(custody), pool.clone(), &options)
        .map_err(|e| SetupError::IssuingCa(format!("store {}: {e}", store_dir.display())))?;
    issuing_ca::install(&store as &dyn ObjectStore, ca, now)
        .map_err(|e| SetupError::IssuingCa(e.to_string()))
}

/// What `issue-client` made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedClient {
    pub bundle: ClientBundle,
    /// The tenant the certificate maps to under subject-CN mapping (its CN).
    pub common_name: String,
    /// SHA-256 of the certificate, hex: the key to add to `[auth.fingerprints]` under fingerprint mapping.
    pub fingerprint: String,
    /// The mapping the configuration uses (fingerprint mapping needs a configuration edit to admit the client).
    pub mapping: TenantMapping,
}

/// Issues a client certificate with subject CN `name`, signed by the configured CA, into `out` (created if
/// missing; existing bundle files are never overwritten).
pub fn issue_client(config: &Config, name: &str, out: &Path) -> Result<IssuedClient, SetupError> {
    crate::pki::validate_common_name(name)?;
    let ca_file = config
        .tls
        .ca_files
        .first()
        .ok_or_else(|| ConfigError::Invalid("tls.ca_files is empty".into()))?;
    let ca_pem = read_text(ca_file)?;
    let ca_key = zeroize::Zeroizing::new(read_text(&config.tls.ca_key)?);
    let ca = CertificateAuthority::load(&ca_pem, &ca_key)?;
    let pool = EntropyPool::new(config.entropy.clone())?;
    let issued = ca.issue_client(&pool, name)?;
    let bundle_paths = ClientBundle::in_dir(out);
    if bundle_paths.ca.exists() {
        return Err(SetupError::AlreadyExists(bundle_paths.ca));
    }
    create_dir(out, true)?;
    let bundle = write_client_bundle(out, &pool, &ca, &issued, name, false)?;
    Ok(IssuedClient {
        bundle,
        common_name: name.to_owned(),
        fingerprint: hex::encode(crate::auth::certificate_fingerprint(
            &issued.certificate_der,
        )),
        mapping: config.auth.tenant_mapping,
    })
}

/// `DIR/pkcs11.toml` (the `QKMS_PKCS11_CONFIG` of `libqkms_pkcs11.so`: this server, the CA, the token's machine
/// identity, and `user_pin = "server"`) and `DIR/pkcs11.pin` (0600, no newline): the user PIN the server checks.
fn write_pkcs11_files(dir: &Path, listen: &str, pin: &str) -> Result<(), SetupError> {
    let toml = format!(
        "# libqkms_pkcs11.so configuration: export QKMS_PKCS11_CONFIG=<this file>; the user PIN is in pkcs11.pin\n\
         # The certificate authenticates this machine (public objects and random work before C_Login); the server\n\
         # checks the user PIN (user-pins.json) before private objects can be used.\n\
         server = \"{listen}\"\nserver_name = \"localhost\"\nca = \"pki/{}\"\n\n\
         [[token]]\nlabel = \"qkms {DEFAULT_CLIENT}\"\ncertificate = \"pki/{PKCS11_CERT}\"\nkey = \"pki/{PKCS11_KEY}\"\n\
         user_pin = \"server\"\n",
        files::CA_CERT,
    );
    write_new(&dir.join(PKCS11_CONFIG_FILE), toml.as_bytes(), false)?;
    write_new(&dir.join(PKCS11_PIN_FILE), pin.as_bytes(), true)?;
    Ok(())
}

fn read_text(path: &Path) -> Result<String, SetupError> {
    std::fs::read_to_string(path).map_err(|error| SetupError::Io {
        path: path.to_owned(),
        error,
    })
}

/// Creates a directory readable by its owner only (0700, whatever the umask): the set-up's directories hold
/// keys, the store (object names, attributes, tenant names) and the audit log.
fn create_dir(path: &Path, may_exist: bool) -> Result<(), SetupError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let io = |error| SetupError::Io {
        path: path.to_owned(),
        error,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.mode(0o700).recursive(may_exist);
    builder.create(path).map_err(io)?;
    // The mode above is filtered by the umask; set it exactly.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(io)
}

/// Logs a warning for each secret of the set-up that other local users can read or write (the store, the
/// root-key passphrase, private keys, PINs, the audit log): qkms makes them owner-only, an operator may have
/// changed that since.
pub fn warn_about_exposed_secrets(config: &Config) {
    use std::os::unix::fs::PermissionsExt;
    let mut secrets = vec![
        config.store.path.clone(),
        config.store.passphrase_file.clone(),
        config.tls.key.clone(),
        config.tls.ca_key.clone(),
        config.audit.path.clone(),
    ];
    if let Some(dir) = config.store.path.parent() {
        secrets.push(dir.join(PKCS11_PIN_FILE));
        secrets.push(dir.join("pki").join(PKCS11_KEY));
    }
    secrets.push(crate::user_pin::file_of(config));
    for path in secrets {
        let Ok(metadata) = std::fs::metadata(&path) else {
            continue;
        };
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "readable or writable by other local users: chmod go-rwx it (it holds secrets or tenants' data)"
            );
        }
    }
}
