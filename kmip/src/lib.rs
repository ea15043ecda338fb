//! Typed KMIP messages over the `ttlv` codec, converted to and from either protocol family (1.x
//! Template-Attribute forms, 2.x Attributes forms) by the negotiated version, and the async mTLS client.

mod enum_macro;
pub mod error;
pub mod fields;
pub mod result;
pub mod version;

pub use error::DecodeError;
pub use result::{ResultReason, ResultStatus};
pub use version::ProtocolVersion;
