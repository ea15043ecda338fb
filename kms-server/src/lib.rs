//! `qkms-server`: a KMIP server over mutually authenticated TLS whose keys are seeded from the `entropy` pool and
//! sealed at rest in sled.

pub mod audit;
pub mod error;
pub mod state;
pub mod store;
pub mod tenant;

pub use error::KmipError;
