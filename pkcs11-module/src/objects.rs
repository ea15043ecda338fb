//! Object handles and what each handle's object looks like through PKCS#11.
//!
//! A handle stands for one (token, KMIP unique identifier); the same object always gets the same handle for the
//! life of the library. Each handle caches the object's KMIP attributes (and, once read, its public value), so
//! repeated C_GetAttributeValue calls cost no round trip; C_SetAttributeValue drops the cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki_sys::*;
use der::Encode;
use kmip::attributes::Attributes;
use kmip::enums::LinkType;
use zeroize::Zeroizing;

use crate::error::{fail, Pkcs11Error, Result};
use crate::key_codec;
use crate::mapping::{self, bool_value, ulong};

/// What the module knows of one object.
#[derive(Debug)]
pub struct ObjectView {
    pub class: CK_OBJECT_CLASS,
    pub attributes: Attributes,
    /// The object's value as the server returned it (public objects, extractable keys), read at most once.
    value: OnceLock<Zeroizing<Vec<u8>>>,
}

/// One attribute's answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Value(Vec<u8>),
    /// CKR_ATTRIBUTE_SENSITIVE: the value exists but may not be revealed.
    Sensitive,
    /// CKR_ATTRIBUTE_TYPE_INVALID: the object has no such attribute.
    Invalid,
}

impl ObjectView {
    /// `None` for object types the module does not present.
    pub fn new(attributes: Attributes) -> Option<Self> {
        let class = mapping::class_of(attributes.object_type()?)?;
        Some(Self {
            class,
            attributes,
            value: OnceLock::new(),
        })
    }

    /// A token object (not a session object, which carries its process's lease).
    pub fn is_token_object(&self) -> bool {
        mapping::session_lease_of(&self.attributes).is_none()
    }

    /// Whether CKA_VALUE may be revealed.
    pub fn value_readable(&self) -> bool {
        !mapping::is_secret_class(self.class)
            || (!mapping::sensitive(&self.attributes, self.class)
                && mapping::extractable(&self.attributes, self.class))
    }

    /// The value, fetched once with `fetch` (a KMIP Get).
    pub fn value(&self, fetch: &dyn Fn() -> Result<Zeroizing<Vec<u8>>>) -> Result<&[u8]> {
        if let Some(value) = self.value.get() {
            return Ok(value);
        }
        let fetched = fetch()?;
        Ok(self.value.get_or_init(|| fetched))
    }

    /// The answer for `kind`; `fetch` reads the object's value when the attribute needs it.
    pub fn answer(
        &self,
        kind: CK_ATTRIBUTE_TYPE,
        fetch: &dyn Fn() -> Result<Zeroizing<Vec<u8>>>,
    ) -> Result<Answer> {
        let a = &self.attributes;
        let class = self.class;
        let is_key = matches!(class, CKO_SECRET_KEY | CKO_PUBLIC_KEY | CKO_PRIVATE_KEY);
        let secret = mapping::is_secret_class(class);
        let key_type = a
            .cryptographic_algorithm()
            .and_then(mapping::key_type_of)
            .filter(|_| is_key);
        let value = |v: Vec<u8>| Ok(Answer::Value(v));
        match kind {
            CKA_CLASS => value(ulong(class)),
            CKA_TOKEN => value(bool_value(mapping::session_lease_of(a).is_none())),
            CKA_PRIVATE => value(bool_value(mapping::private_of(a, class))),
            CKA_MODIFIABLE | CKA_DESTROYABLE => value(bool_value(true)),
            CKA_COPYABLE => value(bool_value(false)),
            CKA_LABEL => value(mapping::label_of(a).unwrap_or("").as_bytes().to_vec()),
            CKA_ID if class != CKO_DATA => value(mapping::id_of(a).unwrap_or(&[]).to_vec()),
            CKA_KEY_TYPE if is_key => {
                match a.cryptographic_algorithm().and_then(mapping::key_type_of) {
                    Some(key_type) => value(ulong(key_type)),
                    None => value(ulong(CKK_VENDOR_DEFINED)),
                }
            }
            CKA_VALUE_LEN if class == CKO_SECRET_KEY => {
                let bits = a.cryptographic_length().unwrap_or(0).max(0) as CK_ULONG;
                value(ulong(bits / 8))
            }
            CKA_MODULUS_BITS if class == CKO_PUBLIC_KEY && key_type == Some(CKK_RSA) => {
                let bits = a.cryptographic_length().unwrap_or(0).max(0) as CK_ULONG;
                value(ulong(bits))
            }
            CKA_MODULUS_BITS if class == CKO_PRIVATE_KEY && key_type == Some(CKK_RSA) => {
                let bits = a.cryptographic_length().unwrap_or(0).max(0) as CK_ULONG;
                value(ulong(bits))
            }
            // A private key's readable value is its public half (see `ops::fetch_value`): clients read an RSA
            // private key's modulus for its size (OpenSSL's pkcs11-provider, NSS, GnuTLS).
            CKA_MODULUS | CKA_PUBLIC_EXPONENT
                if key_type == Some(CKK_RSA)
                    && (class == CKO_PUBLIC_KEY || self.has_public_half()) =>
            {
                let (modulus, exponent) = key_codec::rsa_parts(self.value(fetch)?)?;
                value(if kind == CKA_MODULUS {
                    modulus
                } else {
                    exponent
                })
            }
            // Not a standard private-key attribute, but GnuTLS and pkcs11-provider read it there to learn the
            // public key without searching for the public object (OpenSC's cards answer it too).
            CKA_EC_POINT
                if key_type == Some(CKK_EC)
                    && (class == CKO_PUBLIC_KEY || self.has_public_half()) =>
            {
                value(key_codec::ec_point(self.value(fetch)?)?)
            }
            CKA_EC_PARAMS if key_type == Some(CKK_EC) => {
                match key_codec::ec_params_for_bits(a.cryptographic_length().unwrap_or(0)) {
                    Some(params) => value(params.to_vec()),
                    None => Ok(Answer::Invalid),
                }
            }
            CKA_LOCAL if is_key => value(bool_value(false)),
            CKA_KEY_GEN_MECHANISM if is_key => value(ulong(CK_UNAVAILABLE_INFORMATION)),
            CKA_DERIVE if is_key => self.usage_flag(kind),
            CKA_ENCRYPT | CKA_VERIFY | CKA_WRAP
                if matches!(class, CKO_SECRET_KEY | CKO_PUBLIC_KEY) =>
            {
                self.usage_flag(kind)
            }
            CKA_DECRYPT | CKA_SIGN | CKA_UNWRAP
                if matches!(class, CKO_SECRET_KEY | CKO_PRIVATE_KEY) =>
            {
                self.usage_flag(kind)
            }
            CKA_VERIFY_RECOVER if class == CKO_PUBLIC_KEY => value(bool_value(false)),
            CKA_SIGN_RECOVER if class == CKO_PRIVATE_KEY => value(bool_value(false)),
            CKA_TRUSTED if matches!(class, CKO_PUBLIC_KEY | CKO_CERTIFICATE | CKO_SECRET_KEY) => {
                value(bool_value(false))
            }
            CKA_SENSITIVE if secret => value(bool_value(mapping::sensitive(a, class))),
            CKA_EXTRACTABLE if secret => value(bool_value(mapping::extractable(a, class))),
            CKA_ALWAYS_SENSITIVE if secret => {
                value(bool_value(mapping::always_sensitive(a, class)))
            }
            CKA_NEVER_EXTRACTABLE if secret => {
                value(bool_value(mapping::never_extractable(a, class)))
            }
            CKA_WRAP_WITH_TRUSTED if secret => value(bool_value(false)),
            CKA_ALWAYS_AUTHENTICATE if class == CKO_PRIVATE_KEY => value(bool_value(false)),
            CKA_CERTIFICATE_TYPE if class == CKO_CERTIFICATE => value(ulong(CKC_X_509)),
            CKA_CERTIFICATE_CATEGORY if class == CKO_CERTIFICATE => {
                value(ulong(CK_CERTIFICATE_CATEGORY_UNSPECIFIED))
            }
            CKA_SUBJECT | CKA_ISSUER | CKA_SERIAL_NUMBER if class == CKO_CERTIFICATE => {
                certificate_field(self.value(fetch)?, kind).map(Answer::Value)
            }
            CKA_APPLICATION if class == CKO_DATA => {
                value(mapping::application_of(a).unwrap_or(&[]).to_vec())
            }
            CKA_OBJECT_ID if class == CKO_DATA => {
                value(mapping::object_id_of(a).unwrap_or(&[]).to_vec())
            }
            CKA_VALUE | CKA_PRIVATE_EXPONENT | CKA_PRIME_1 | CKA_PRIME_2 | CKA_EXPONENT_1
            | CKA_EXPONENT_2 | CKA_COEFFICIENT
                if class == CKO_PRIVATE_KEY =>
            {
                Ok(Answer::Sensitive)
            }
            CKA_VALUE if matches!(class, CKO_CERTIFICATE | CKO_DATA | CKO_SECRET_KEY) => {
                if self.value_readable() {
                    value(self.value(fetch)?.to_vec())
                } else {
                    Ok(Answer::Sensitive)
                }
            }
            _ => Ok(Answer::Invalid),
        }
    }

    /// Whether this private key knows its public half, whose value it then presents: a KMIP Public Key Link
    /// (generated pairs) or the vendor attribute an imported key carries.
    fn has_public_half(&self) -> bool {
        self.class == CKO_PRIVATE_KEY
            && (self.attributes.linked(LinkType::PublicKeyLink).is_some()
                || mapping::public_half_of(&self.attributes).is_some())
    }

    fn usage_flag(&self, kind: CK_ATTRIBUTE_TYPE) -> Result<Answer> {
        let mask = mapping::usage(&self.attributes);
        let bit = mapping::USAGE_FLAGS
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, bit)| *bit)
            .ok_or(Pkcs11Error::rv(
                CKR_GENERAL_ERROR,
                "usage flag table is incomplete",
            ))?;
        Ok(Answer::Value(bool_value(mask.contains(bit))))
    }
}

/// CKA_SUBJECT / CKA_ISSUER (DER Names) and CKA_SERIAL_NUMBER (a DER INTEGER) of an X.509 certificate.
pub fn certificate_field(der_bytes: &[u8], kind: CK_ATTRIBUTE_TYPE) -> Result<Vec<u8>> {
    use der::Decode;
    let certificate = x509_cert::Certificate::from_der(der_bytes)
        .map_err(|_| Pkcs11Error::rv(CKR_ATTRIBUTE_VALUE_INVALID, "not a DER X.509 certificate"))?;
    let tbs = certificate.tbs_certificate();
    let encoded = match kind {
        CKA_SUBJECT => tbs.subject().to_der(),
        CKA_ISSUER => tbs.issuer().to_der(),
        _ => tbs.serial_number().to_der(),
    };
    encoded.map_err(|_| Pkcs11Error::rv(CKR_GENERAL_ERROR, "cannot re-encode a certificate field"))
}

/// One handle's object.
#[derive(Debug)]
pub struct Entry {
    pub token: usize,
    pub uid: String,
    view: Mutex<Option<Arc<ObjectView>>>,
    /// The object now answers to another handle (C_CopyObject made a session object permanent): destroying
    /// this handle only forgets it.
    moved: std::sync::atomic::AtomicBool,
}

impl Entry {
    pub fn moved(&self) -> bool {
        self.moved.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn cached(&self) -> Option<Arc<ObjectView>> {
        self.view.lock().ok()?.clone()
    }

    pub fn cache(&self, view: Arc<ObjectView>) {
        if let Ok(mut slot) = self.view.lock() {
            *slot = Some(view);
        }
    }

    pub fn invalidate(&self) {
        if let Ok(mut slot) = self.view.lock() {
            *slot = None;
        }
    }
}

#[derive(Debug, Default)]
struct Maps {
    last: CK_OBJECT_HANDLE,
    handles: HashMap<CK_OBJECT_HANDLE, Arc<Entry>>,
    by_uid: HashMap<(usize, String), CK_OBJECT_HANDLE>,
}

/// Every handle handed out, behind one lock.
#[derive(Debug, Default)]
pub struct ObjectTable {
    maps: Mutex<Maps>,
}

impl ObjectTable {
    /// The handle of (token, uid), allocated on first sight.
    pub fn handle_for(&self, token: usize, uid: &str) -> Result<CK_OBJECT_HANDLE> {
        let mut maps = self.lock()?;
        if let Some(handle) = maps.by_uid.get(&(token, uid.to_owned())) {
            return Ok(*handle);
        }
        maps.last += 1;
        let handle = maps.last;
        maps.handles.insert(
            handle,
            Arc::new(Entry {
                token,
                uid: uid.to_owned(),
                view: Mutex::new(None),
                moved: Default::default(),
            }),
        );
        maps.by_uid.insert((token, uid.to_owned()), handle);
        Ok(handle)
    }

    pub fn get(&self, handle: CK_OBJECT_HANDLE) -> Result<Arc<Entry>> {
        match self.lock()?.handles.get(&handle) {
            Some(entry) => Ok(entry.clone()),
            None => fail(CKR_OBJECT_HANDLE_INVALID, "no object has this handle"),
        }
    }

    pub fn forget(&self, handle: CK_OBJECT_HANDLE) -> Result<()> {
        let mut maps = self.lock()?;
        if let Some(entry) = maps.handles.remove(&handle) {
            let key = (entry.token, entry.uid.clone());
            if maps.by_uid.get(&key) == Some(&handle) {
                maps.by_uid.remove(&key);
            }
        }
        Ok(())
    }

    /// A new handle for the object behind `handle`, which is marked moved (see [`crate::copy_object`]).
    pub fn move_to_new_handle(&self, handle: CK_OBJECT_HANDLE) -> Result<CK_OBJECT_HANDLE> {
        let mut maps = self.lock()?;
        let old = match maps.handles.get(&handle) {
            Some(entry) => entry.clone(),
            None => return fail(CKR_OBJECT_HANDLE_INVALID, "no object has this handle"),
        };
        old.moved.store(true, std::sync::atomic::Ordering::Release);
        maps.last += 1;
        let new = maps.last;
        maps.handles.insert(
            new,
            Arc::new(Entry {
                token: old.token,
                uid: old.uid.clone(),
                view: Mutex::new(None),
                moved: Default::default(),
            }),
        );
        maps.by_uid.insert((old.token, old.uid.clone()), new);
        Ok(new)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Maps>> {
        self.maps
            .lock()
            .map_err(|_| Pkcs11Error::rv(CKR_GENERAL_ERROR, "object table lock poisoned"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::attributes::Attribute;
    use kmip::enums::{CryptographicAlgorithm, ObjectType};

    fn aes_key() -> ObjectView {
        let mut a = Attributes::new();
        a.push(Attribute::ObjectType(ObjectType::SymmetricKey));
        a.push(Attribute::CryptographicAlgorithm(
            CryptographicAlgorithm::Aes,
        ));
        a.push(Attribute::CryptographicLength(256));
        a.push(mapping::name_attribute("k1"));
        ObjectView::new(a).unwrap()
    }

    /// A DER SubjectPublicKeyInfo of an RSA key with this modulus and exponent 65537.
    fn rsa_spki(modulus: &[u8]) -> Vec<u8> {
        let key = pkcs1::RsaPublicKey {
            modulus: pkcs1::UintRef::new(modulus).unwrap(),
            public_exponent: pkcs1::UintRef::new(&[1, 0, 1]).unwrap(),
        };
        let info = spki::SubjectPublicKeyInfoOwned {
            algorithm: spki::AlgorithmIdentifierOwned {
                oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
                parameters: Some(der::asn1::Null.into()),
            },
            subject_public_key: der::asn1::BitString::from_bytes(&key.to_der().unwrap()).unwrap(),
        };
        info.to_der().unwrap()
    }

    fn rsa_private_key(linked: bool) -> ObjectView {
        let mut a = Attributes::new();
        a.push(Attribute::ObjectType(ObjectType::PrivateKey));
        a.push(Attribute::CryptographicAlgorithm(
            CryptographicAlgorithm::Rsa,
        ));
        a.push(Attribute::CryptographicLength(2048));
        if linked {
            a.push(Attribute::Link(kmip::attributes::Link {
                link_type: LinkType::PublicKeyLink,
                linked_object_identifier: "pub-1".into(),
            }));
        }
        ObjectView::new(a).unwrap()
    }

    #[test]
    fn rsa_private_key_presents_its_public_half_and_hides_the_rest() {
        let modulus = [0xC5u8; 256];
        let key = rsa_private_key(true);
        let public = || Ok(Zeroizing::new(rsa_spki(&modulus)));
        assert_eq!(
            key.answer(CKA_MODULUS, &public).unwrap(),
            Answer::Value(modulus.to_vec())
        );
        assert_eq!(
            key.answer(CKA_PUBLIC_EXPONENT, &public).unwrap(),
            Answer::Value(vec![1, 0, 1])
        );
        for secret in [
            CKA_VALUE,
            CKA_PRIVATE_EXPONENT,
            CKA_PRIME_1,
            CKA_COEFFICIENT,
        ] {
            assert_eq!(key.answer(secret, &no_fetch).unwrap(), Answer::Sensitive);
        }
        // Without a link to its public key there is no public half to show.
        let unlinked = rsa_private_key(false);
        assert_eq!(
            unlinked.answer(CKA_MODULUS, &no_fetch).unwrap(),
            Answer::Invalid
        );
    }

    fn no_fetch() -> Result<Zeroizing<Vec<u8>>> {
        panic!("the value must not be fetched")
    }

    #[test]
    fn secret_key_value_is_sensitive_and_metadata_is_readable() {
        let key = aes_key();
        assert_eq!(key.answer(CKA_VALUE, &no_fetch).unwrap(), Answer::Sensitive);
        assert_eq!(
            key.answer(CKA_VALUE_LEN, &no_fetch).unwrap(),
            Answer::Value(ulong(32))
        );
        assert_eq!(
            key.answer(CKA_KEY_TYPE, &no_fetch).unwrap(),
            Answer::Value(ulong(CKK_AES))
        );
        assert_eq!(
            key.answer(CKA_LABEL, &no_fetch).unwrap(),
            Answer::Value(b"k1".to_vec())
        );
        assert_eq!(key.answer(CKA_MODULUS, &no_fetch).unwrap(), Answer::Invalid);
        assert_eq!(
            key.answer(CKA_SENSITIVE, &no_fetch).unwrap(),
            Answer::Value(vec![CK_TRUE])
        );
    }

    #[test]
    fn handles_are_stable_per_object() {
        let table = ObjectTable::default();
        let a = table.handle_for(0, "1").unwrap();
        let b = table.handle_for(0, "2").unwrap();
        assert_ne!(a, b);
        assert_eq!(table.handle_for(0, "1").unwrap(), a);
        table.forget(a).unwrap();
        assert_eq!(table.get(a).unwrap_err().to_rv(), CKR_OBJECT_HANDLE_INVALID);
    }
}
