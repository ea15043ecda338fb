//! The only place qkms takes randomness from.
//!
//! Raw samples from sources (QRNG devices, HTTPS services, RDSEED, CPU jitter, the OS fallback) pass SP 800-90B
//! health tests, are conditioned with min-entropy accounting into seeds, and seed SP 800-90A DRBGs. The
//! [`EntropyPool`](pool::EntropyPool) is what the rest of the system holds: it fails closed when no healthy
//! source can seed, and says where every draw's entropy came from.

pub mod conditioning;
pub mod config;
pub mod drbg;
pub mod error;
pub mod health;
pub mod pool;
pub mod provenance;
pub mod source;
pub mod status;
pub mod tls;

pub use config::EntropyConfig;
pub use error::EntropyError;
pub use pool::{EntropyPool, PoolRng, PoolTryRng};
pub use provenance::Provenance;
pub use status::PoolStatus;
