//! `libqkms_pkcs11.so`: the Cryptoki (PKCS#11 v2.40 / v3.0) API over a qkms KMIP server.
//!
//! Keys stay in the server: key generation is KMIP Create, random numbers come from KMIP RNG Retrieve, objects
//! are the tenant's KMIP objects. The module talks to the server with blocking I/O on the caller's thread
//! ([`client`]) and never starts a thread, so it works for callers that forbid threads and after fork().

pub mod attribute_update;
pub mod client;
pub mod config;
pub mod copy_object;
pub mod digest;
pub mod encrypt;
pub mod error;
mod ffi;
pub mod import;
pub mod import_key;
pub mod key_codec;
pub mod keygen;
pub mod keypair;
pub mod library;
pub mod mac;
pub mod mapping;
pub mod mechanism_params;
pub mod mechanisms;
pub mod objects;
pub mod ops;
pub mod session;
pub mod signature_scheme;
pub mod signing;
pub mod template;
pub mod tls_random;
pub mod token;
pub mod wrap;

pub use ffi::{C_GetFunctionList, C_GetInterface, C_GetInterfaceList};
