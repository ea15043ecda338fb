//! Writing PKI material to disk: never over an existing file, secrets readable by the owner only.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use entropy::EntropyPool;

use super::{pkcs12, CertificateAuthority, Issued, PkiError};

/// The fixed file names of a client bundle (under `DIR/pki/` for `--init`, under `--out` for `issue-client`).
pub const CA_CERT: &str = "ca.pem";
pub const CLIENT_CERT: &str = "client.pem";
pub const CLIENT_KEY: &str = "client.key";
pub const CLIENT_P12: &str = "client.p12";
pub const CLIENT_P12_PASSWORD: &str = "client.p12.pass";
/// The certificate of Certify's issuing CA, written by `--init` under `DIR/pki/` (the CA's key stays in the store).
pub const ISSUING_CA_CERT: &str = "issuing-ca.pem";

/// Where a written client bundle lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientBundle {
    /// The CA certificate that signed the server certificate (what the client trusts).
    pub ca: PathBuf,
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub pkcs12: PathBuf,
    /// The PKCS#12 password, one line of text.
    pub pkcs12_password: PathBuf,
}

impl ClientBundle {
    /// The bundle's paths under `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            ca: dir.join(CA_CERT),
            certificate: dir.join(CLIENT_CERT),
            key: dir.join(CLIENT_KEY),
            pkcs12: dir.join(CLIENT_P12),
            pkcs12_password: dir.join(CLIENT_P12_PASSWORD),
        }
    }
}

/// Creates `path` with `contents`; fails if it exists. `secret` files get mode 0600, others 0644.
pub fn write_new(path: &Path, contents: &[u8], secret: bool) -> Result<(), PkiError> {
    let file_error = |message: String| PkiError::File {
        path: path.display().to_string(),
        message,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(path)
        .map_err(|e| file_error(e.to_string()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| file_error(e.to_string()))
}

/// Random bytes in a client bundle's password (also the PKCS#11 token PIN): 120 bits, written as 30 hex digits,
/// because OpenSSL's pkcs11-provider reads a `file:` PIN source into a 32-byte buffer (at most 31 characters).
const BUNDLE_PASSWORD_BYTES: usize = 15;

/// A random secret from the pool, as `bytes` bytes of lower-case hex (for passphrases and PKCS#12 passwords).
pub fn random_secret(pool: &EntropyPool, bytes: usize) -> Result<Zeroizing<String>, PkiError> {
    let mut raw = Zeroizing::new(vec![0u8; bytes]);
    pool.fill(&mut raw)?;
    Ok(Zeroizing::new(hex::encode(&*raw)))
}

/// Writes a client bundle for `issued` (named `name`) into `dir`, which must exist; refuses to overwrite.
/// When `ca_already_there` is set (`--init`, which writes `ca.pem` itself), `ca.pem` is not written again.
pub fn write_client_bundle(
    dir: &Path,
    pool: &EntropyPool,
    ca: &CertificateAuthority,
    issued: &Issued,
    name: &str,
    ca_already_there: bool,
) -> Result<ClientBundle, PkiError> {
    let bundle = ClientBundle::in_dir(dir);
    for path in [
        &bundle.certificate,
        &bundle.key,
        &bundle.pkcs12,
        &bundle.pkcs12_password,
    ] {
        if path.exists() {
            return Err(PkiError::File {
                path: path.display().to_string(),
                message: "already exists; refusing to overwrite".into(),
            });
        }
    }
    let ca_pem = ca.certificate_pem();
    if !ca_already_there {
        write_new(&bundle.ca, ca_pem.as_bytes(), false)?;
    }
    let password = random_secret(pool, BUNDLE_PASSWORD_BYTES)?;
    let ca_der = kmip::client::certificates_from_pem(ca_pem.as_bytes())
        .map_err(|e| PkiError::Key(format!("CA certificate: {e}")))?
        .remove(0);
    let key_der = issued.key.pkcs8_der()?;
    let p12 = pkcs12::build(
        pool,
        &key_der,
        &[issued.certificate_der.as_ref(), ca_der.as_ref()],
        &password,
        name,
    )?;
    write_new(
        &bundle.certificate,
        issued.certificate_pem.as_bytes(),
        false,
    )?;
    write_new(&bundle.key, issued.key.pkcs8_pem()?.as_bytes(), true)?;
    write_new(&bundle.pkcs12, &p12, true)?;
    write_new(
        &bundle.pkcs12_password,
        format!("{}\n", password.as_str()).as_bytes(),
        true,
    )?;
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn secret_files_are_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        write_new(&path, b"x", true).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(write_new(&path, b"y", true).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
    }
}
