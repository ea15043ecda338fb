//! Unique Identifier namespaces: each tenant's uids are its own, and the server's own objects live where no
//! request can name them.
//!
//! Why: uids were one server-wide namespace. Import takes a client-chosen uid, so a tenant could learn that
//! another tenant used a uid (Object Already Exists), pre-empt a uid the server would later give another tenant
//! (`qkms-issuing-ca-for-<tenant>`), and, on a store without an issuing CA, register its own key under the
//! issuing CA's uid so that another tenant's Certify was signed by it. With a namespace per tenant and one for
//! the server, two tenants may hold the same uid without either learning of the other, and no tenant's request
//! can reach a server object: the store itself is keyed by (namespace, uid), so this holds whatever a handler
//! forgets to check.
//!
//! The storage key of an object is `0x00 || uid` in the server's namespace and
//! `0x01 || len(tenant) (u32 BE) || tenant || uid` in a tenant's: the length prefix makes every key decode to
//! exactly one (namespace, uid) pair.

use super::StoreError;
use crate::tenant::TenantId;

/// Whose objects a uid is looked up among.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace<'a> {
    /// The server's own objects (the issuing CA): never reachable by a request.
    Server,
    /// One tenant's objects.
    Tenant(&'a TenantId),
}

const SERVER_TAG: u8 = 0x00;
const TENANT_TAG: u8 = 0x01;

impl Namespace<'_> {
    /// The storage key of `uid` in this namespace.
    pub fn key(self, uid: &str) -> Vec<u8> {
        match self {
            Namespace::Server => {
                let mut key = Vec::with_capacity(1 + uid.len());
                key.push(SERVER_TAG);
                key.extend_from_slice(uid.as_bytes());
                key
            }
            Namespace::Tenant(tenant) => {
                let tenant = tenant.0.as_bytes();
                let mut key = Vec::with_capacity(5 + tenant.len() + uid.len());
                key.push(TENANT_TAG);
                key.extend_from_slice(&(tenant.len() as u32).to_be_bytes());
                key.extend_from_slice(tenant);
                key.extend_from_slice(uid.as_bytes());
                key
            }
        }
    }
}

/// The uid a storage key holds (whichever namespace it is in).
pub(crate) fn uid_of_storage_key(key: &[u8]) -> Result<String, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("storage key {} is malformed", hex::encode(key)));
    let rest = match key.first() {
        Some(&SERVER_TAG) => &key[1..],
        Some(&TENANT_TAG) => {
            let len = key
                .get(1..5)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
                .ok_or_else(corrupt)? as usize;
            key.get(5 + len..).ok_or_else(corrupt)?
        }
        _ => return Err(corrupt()),
    };
    String::from_utf8(rest.to_vec()).map_err(|_| corrupt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_collide_across_namespaces() {
        let a = TenantId("a".into());
        let ab = TenantId("ab".into());
        // Tenant "a" with uid "bx" and tenant "ab" with uid "x" share the bytes "abx": the length prefix keeps
        // them apart.
        assert_ne!(
            Namespace::Tenant(&a).key("bx"),
            Namespace::Tenant(&ab).key("x")
        );
        assert_ne!(Namespace::Server.key("k"), Namespace::Tenant(&a).key("k"));
        let server_like = TenantId(String::new());
        assert_ne!(
            Namespace::Server.key("k"),
            Namespace::Tenant(&server_like).key("k")
        );
        assert_eq!(
            Namespace::Tenant(&a).key("k"),
            Namespace::Tenant(&a).key("k")
        );
    }

    #[test]
    fn every_key_gives_back_its_uid_and_malformed_keys_are_corrupt() {
        let ab = TenantId("ab".into());
        for key in [
            Namespace::Server.key("u-1"),
            Namespace::Tenant(&ab).key("u-1"),
        ] {
            assert_eq!(uid_of_storage_key(&key).unwrap(), "u-1");
        }
        for bad in [&b""[..], b"\x02u", b"\x01\x00\x00\x00\x09ab"] {
            assert!(matches!(
                uid_of_storage_key(bad),
                Err(StoreError::Corrupt(_))
            ));
        }
    }
}
