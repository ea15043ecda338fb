//! The certificate-naming attribute values: X.509 Certificate Identifier, the Subject and Issuer name pairs
//! (distinguished name with its alternative names) and Alternative Name. Kept apart from `values.rs` because
//! they belong together (Locate by certificate fields reads all three) and carry DER, not KMIP enumerations.

use ttlv::{tags, Item, Value};

use super::values::{text_item, StructuredValue};
use crate::enums::{self, AlternativeNameType, KmipEnumeration};
use crate::error::DecodeError;
use crate::fields::Fields;

/// X.509 Certificate Identifier: issuer DN and serial number, DER.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct X509CertificateIdentifier {
    pub issuer_distinguished_name: Vec<u8>,
    pub certificate_serial_number: Vec<u8>,
}

impl StructuredValue for X509CertificateIdentifier {
    fn children(&self) -> Vec<Item> {
        vec![
            Item::new(
                tags::ISSUER_DISTINGUISHED_NAME,
                Value::ByteString(self.issuer_distinguished_name.clone()),
            ),
            Item::new(
                tags::CERTIFICATE_SERIAL_NUMBER,
                Value::ByteString(self.certificate_serial_number.clone()),
            ),
        ]
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            issuer_distinguished_name: f.required_bytes(tags::ISSUER_DISTINGUISHED_NAME)?.to_vec(),
            certificate_serial_number: f.required_bytes(tags::CERTIFICATE_SERIAL_NUMBER)?.to_vec(),
        })
    }
}

/// A distinguished name with its alternative names (X.509 Certificate Subject or Issuer), DER.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct X509Names {
    pub distinguished_name: Vec<u8>,
    pub alternative_names: Vec<Vec<u8>>,
}

impl X509Names {
    pub(crate) fn children(&self, dn_tag: ttlv::Tag, alt_tag: ttlv::Tag) -> Vec<Item> {
        let mut out = vec![Item::new(
            dn_tag,
            Value::ByteString(self.distinguished_name.clone()),
        )];
        out.extend(
            self.alternative_names
                .iter()
                .map(|n| Item::new(alt_tag, Value::ByteString(n.clone()))),
        );
        out
    }
    pub(crate) fn from_fields(
        f: &Fields<'_>,
        dn_tag: ttlv::Tag,
        alt_tag: ttlv::Tag,
    ) -> Result<Self, DecodeError> {
        Ok(Self {
            distinguished_name: f.required_bytes(dn_tag)?.to_vec(),
            alternative_names: f
                .all(alt_tag)
                .map(|i| crate::fields::bytes(i).map(<[u8]>::to_vec))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// Alternative Name (KMIP 1.2+).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AlternativeName {
    pub value: String,
    pub name_type: AlternativeNameType,
}

impl StructuredValue for AlternativeName {
    fn children(&self) -> Vec<Item> {
        vec![
            text_item(tags::ALTERNATIVE_NAME_VALUE, &self.value),
            self.name_type.to_item(tags::ALTERNATIVE_NAME_TYPE),
        ]
    }
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            value: f.required_text(tags::ALTERNATIVE_NAME_VALUE)?.to_owned(),
            name_type: enums::required(f, tags::ALTERNATIVE_NAME_TYPE)?,
        })
    }
}
