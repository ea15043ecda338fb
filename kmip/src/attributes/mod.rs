//! Attributes: one typed model ([`Attribute`]) with the two wire forms, 1.x `Attribute {Attribute Name,
//! Attribute Index?, Attribute Value}` inside Template-Attribute structures and 2.x "each attribute under its own
//! tag" inside Attributes structures; attribute names and references; the [`Attributes`] collection.
//!
//! An attribute the negotiated version lacks is never encoded for it ([`Attribute::to_ttlv`],
//! [`Attributes::to_ttlv`] and [`AttributeName::to_reference`] leave it out).

mod attribute;
mod certificate_values;
mod codec;
mod collection;
mod name;
mod reference;
mod usage_mask;
mod values;

pub use attribute::{Attribute, DateTime, UnknownAttribute};
pub use certificate_values::{AlternativeName, X509CertificateIdentifier, X509Names};
pub use collection::Attributes;
pub use name::{AttributeName, KnownAttribute};
pub use reference::{decode_references, encode_references};
pub use usage_mask::CryptographicUsageMask;
pub use values::{
    ApplicationSpecificInformation, CryptographicDomainParameters, CryptographicParameters,
    CustomAttribute, Digest, KeyValueLocation, Link, Name, RandomNumberGenerator, RevocationReason,
    StructuredValue, UsageLimits,
};
