//! Typed KMIP messages over the `ttlv` codec, converted to and from either protocol family (1.x
//! Template-Attribute forms, 2.x Attributes forms) by the negotiated version, and the async mTLS client.

pub mod attributes;
pub mod client;
mod enum_macro;
pub mod enums;
pub mod error;
pub mod fields;
pub mod message;
pub mod objects;
pub mod operation;
pub mod payloads;
pub mod result;
pub mod transport;
pub mod version;

pub use error::DecodeError;
pub use message::{RequestBatchItem, RequestMessage, ResponseBatchItem, ResponseMessage};
pub use operation::{Operation, OperationCode};
pub use payloads::{RequestPayload, ResponsePayload};
pub use result::{ResultReason, ResultStatus};
pub use version::ProtocolVersion;
