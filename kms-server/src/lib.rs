//! `qkms-server`: a KMIP server over mutually authenticated TLS whose keys are seeded from the `entropy` pool and
//! sealed at rest in sled.

pub mod allocator;
pub mod audit;
pub mod auth;
pub mod blocking_wait;
pub mod config;
pub mod crypto;
pub mod dispatch;
pub mod eaas;
pub mod error;
pub mod https;
pub mod listener;
pub mod managed;
pub mod node_lock;
pub mod operations;
pub mod pki;
pub mod root_custody;
pub mod server;
pub mod session_lease;
pub mod setup;
pub mod state;
pub mod store;
pub mod store_rewrap;
pub mod tenant;
pub mod tls;
pub mod usage;
pub mod user_pin;

pub use error::KmipError;
