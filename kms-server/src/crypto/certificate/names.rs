//! Distinguished names: our type, its `CN=..., O=...` text form, and conversions to rcgen and from X.509 `Name`.

use std::fmt;
use std::str::FromStr;

use der::asn1::ObjectIdentifier;
use der::{Tag, Tagged};
use rcgen::{DnType, DnValue};

use crate::crypto::CryptoError;

/// A name attribute type. `Other` carries a dotted OID for types without a short name here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NameAttribute {
    CommonName,
    Country,
    StateOrProvince,
    Locality,
    Organization,
    OrganizationalUnit,
    Other(String),
}

const OID_CN: &str = "2.5.4.3";
const OID_C: &str = "2.5.4.6";
const OID_L: &str = "2.5.4.7";
const OID_ST: &str = "2.5.4.8";
const OID_O: &str = "2.5.4.10";
const OID_OU: &str = "2.5.4.11";

impl NameAttribute {
    fn short_name(&self) -> Option<&'static str> {
        Some(match self {
            Self::CommonName => "CN",
            Self::Country => "C",
            Self::StateOrProvince => "ST",
            Self::Locality => "L",
            Self::Organization => "O",
            Self::OrganizationalUnit => "OU",
            Self::Other(_) => return None,
        })
    }

    fn oid(&self) -> &str {
        match self {
            Self::CommonName => OID_CN,
            Self::Country => OID_C,
            Self::StateOrProvince => OID_ST,
            Self::Locality => OID_L,
            Self::Organization => OID_O,
            Self::OrganizationalUnit => OID_OU,
            Self::Other(oid) => oid,
        }
    }

    fn from_oid(oid: &str) -> Self {
        match oid {
            OID_CN => Self::CommonName,
            OID_C => Self::Country,
            OID_ST => Self::StateOrProvince,
            OID_L => Self::Locality,
            OID_O => Self::Organization,
            OID_OU => Self::OrganizationalUnit,
            other => Self::Other(other.to_string()),
        }
    }

    fn from_label(label: &str) -> Result<Self, CryptoError> {
        Ok(match label.to_ascii_uppercase().as_str() {
            "CN" => Self::CommonName,
            "C" => Self::Country,
            "ST" | "S" => Self::StateOrProvince,
            "L" => Self::Locality,
            "O" => Self::Organization,
            "OU" => Self::OrganizationalUnit,
            _ => {
                let oid = ObjectIdentifier::new(label.trim()).map_err(|_| {
                    CryptoError::malformed(
                        "distinguished name",
                        format!("unknown attribute {label:?}"),
                    )
                })?;
                Self::from_oid(&oid.to_string())
            }
        })
    }
}

/// A distinguished name as an ordered list of (attribute, value), most significant first (C, O, ..., CN), as
/// it is encoded. Multi-valued RDNs are flattened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DistinguishedName {
    pub entries: Vec<(NameAttribute, String)>,
}

impl DistinguishedName {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an attribute (builder style).
    pub fn with(mut self, attribute: NameAttribute, value: impl Into<String>) -> Self {
        self.entries.push((attribute, value.into()));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first value of `attribute`, if any.
    pub fn get(&self, attribute: &NameAttribute) -> Option<&str> {
        self.entries
            .iter()
            .find(|(a, _)| a == attribute)
            .map(|(_, v)| v.as_str())
    }

    /// The rcgen form; a country is a PrintableString (RFC 5280), the rest UTF8String.
    pub(crate) fn to_rcgen(&self) -> Result<rcgen::DistinguishedName, CryptoError> {
        let mut name = rcgen::DistinguishedName::new();
        for (attribute, value) in &self.entries {
            let dn_type = match attribute {
                NameAttribute::CommonName => DnType::CommonName,
                NameAttribute::Country => DnType::CountryName,
                NameAttribute::StateOrProvince => DnType::StateOrProvinceName,
                NameAttribute::Locality => DnType::LocalityName,
                NameAttribute::Organization => DnType::OrganizationName,
                NameAttribute::OrganizationalUnit => DnType::OrganizationalUnitName,
                NameAttribute::Other(oid) => {
                    let oid = ObjectIdentifier::new(oid).map_err(|e| {
                        CryptoError::malformed("distinguished name attribute OID", e)
                    })?;
                    DnType::CustomDnType(oid.arcs().map(u64::from).collect())
                }
            };
            if name.get(&dn_type).is_some() {
                // rcgen keeps one value per attribute type; silently dropping one would change the name.
                return Err(CryptoError::Unsupported(format!(
                    "a distinguished name with two {attribute:?} attributes"
                )));
            }
            let dn_value = if *attribute == NameAttribute::Country {
                rcgen::PrintableString::try_from(value.as_str())
                    .map(DnValue::PrintableString)
                    .map_err(|_| {
                        CryptoError::InvalidInput(format!(
                            "country {value:?} is not a PrintableString"
                        ))
                    })?
            } else {
                DnValue::Utf8String(value.clone())
            };
            name.push(dn_type, dn_value);
        }
        Ok(name)
    }

    /// From a DER-encoded X.509 `Name` (the value of the KMIP X.509 Certificate Subject / Issuer attributes).
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, CryptoError> {
        let name = <x509_cert::name::Name as der::Decode>::from_der(der_bytes)
            .map_err(|e| CryptoError::malformed("distinguished name", e))?;
        Self::from_x509(&name)
    }

    /// The same attributes and values in the same or in reverse order (X.500 text forms list the most
    /// significant attribute first, RFC 4514 strings last); labels compare by type, values exactly.
    pub fn same_as(&self, other: &Self) -> bool {
        self.entries == other.entries || self.entries.iter().eq(other.entries.iter().rev())
    }

    /// From an X.509 `Name` (CSR subject). Values must be UTF8String, PrintableString, IA5String,
    /// TeletexString (read as Latin-1) or BMPString.
    pub(crate) fn from_x509(name: &x509_cert::name::Name) -> Result<Self, CryptoError> {
        let mut entries = Vec::new();
        for rdn in name.iter_rdn() {
            for attribute in rdn.iter() {
                let value = &attribute.value;
                let bytes = value.value();
                let text = match value.tag() {
                    Tag::Utf8String | Tag::PrintableString | Tag::Ia5String => {
                        std::str::from_utf8(bytes)
                            .map(str::to_string)
                            .map_err(|e| CryptoError::malformed("distinguished name value", e))?
                    }
                    Tag::TeletexString => bytes.iter().map(|&b| char::from(b)).collect(),
                    Tag::BmpString => {
                        if bytes.len() % 2 != 0 {
                            return Err(CryptoError::malformed(
                                "distinguished name value",
                                "odd-length BMPString",
                            ));
                        }
                        let units = bytes
                            .chunks_exact(2)
                            .map(|c| u16::from_be_bytes([c[0], c[1]]));
                        char::decode_utf16(units)
                            .collect::<Result<String, _>>()
                            .map_err(|e| CryptoError::malformed("distinguished name value", e))?
                    }
                    other => {
                        return Err(CryptoError::Unsupported(format!(
                            "distinguished name value of ASN.1 type {other}"
                        )))
                    }
                };
                entries.push((NameAttribute::from_oid(&attribute.oid.to_string()), text));
            }
        }
        Ok(Self { entries })
    }
}

/// `C=US, O=Example, CN=host`: attributes in encoding order, separated by commas; `\,` escapes a comma.
impl FromStr for DistinguishedName {
    type Err = CryptoError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut entries = Vec::new();
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => current.push(chars.next().ok_or_else(|| {
                    CryptoError::malformed("distinguished name", "trailing backslash")
                })?),
                ',' => parts.push(std::mem::take(&mut current)),
                c => current.push(c),
            }
        }
        parts.push(current);
        for part in parts.iter().filter(|p| !p.trim().is_empty()) {
            let (label, value) = part.split_once('=').ok_or_else(|| {
                CryptoError::malformed("distinguished name", format!("{part:?} is not TYPE=value"))
            })?;
            entries.push((
                NameAttribute::from_label(label.trim())?,
                value.trim().to_string(),
            ));
        }
        Ok(Self { entries })
    }
}

impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (attribute, value)) in self.entries.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            let label = attribute.short_name().unwrap_or(attribute.oid());
            write!(f, "{label}={}", value.replace(',', "\\,"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_with_escaped_commas() {
        let name: DistinguishedName = "C=US, O=Example\\, Inc., CN=host.example".parse().unwrap();
        assert_eq!(
            name.get(&NameAttribute::Organization),
            Some("Example, Inc.")
        );
        assert_eq!(name.to_string(), "C=US, O=Example\\, Inc., CN=host.example");
        assert_eq!(name.to_string().parse::<DistinguishedName>().unwrap(), name);
    }

    #[test]
    fn names_compare_in_either_order() {
        let x500: DistinguishedName = "C=US, O=Example, CN=host".parse().unwrap();
        let rfc4514: DistinguishedName = "CN=host,O=Example,C=US".parse().unwrap();
        assert!(x500.same_as(&rfc4514));
        let other: DistinguishedName = "C=US, O=Other, CN=host".parse().unwrap();
        assert!(!x500.same_as(&other));
    }

    #[test]
    fn unknown_labels_and_missing_equals_are_errors() {
        assert!("XX=1".parse::<DistinguishedName>().is_err());
        assert!("CN".parse::<DistinguishedName>().is_err());
        assert!("2.5.4.5=1234".parse::<DistinguishedName>().is_ok());
    }
}
