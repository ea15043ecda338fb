//! Operation handlers, one file per KMIP operation or per small family named after its operations. Each handler
//! is a plain function of (context, typed request) to typed response or [`KmipError`](crate::error::KmipError);
//! the registry (`dispatch/registry.rs`) lists them. The dispatcher resolves ID Placeholders, checks budgets,
//! records audit and usage and makes writes durable; handlers reach stored objects only through
//! `managed::load` (the one access check) and `managed::save`, and build on the shared rules in `managed/`.

pub mod activate;
pub mod adjust_attribute;
pub mod attributes;
pub mod certify;
pub mod check;
pub mod create;
pub mod create_key_pair;
pub mod derive_key;
pub mod destroy;
pub mod discover_versions;
pub mod encrypt;
pub mod export;
pub mod get;
pub mod hash;
pub mod import;
pub mod interop;
pub mod kem;
pub mod locate;
pub mod log;
pub mod mac;
pub mod query;
pub mod register;
pub mod rekey;
pub mod revoke;
pub mod rng;
pub mod set_endpoint_role;
pub mod sign;
pub mod split_key;
