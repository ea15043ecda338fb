//! Encapsulate and Decapsulate (provisional, issue #18): ML-KEM with a managed key. No published KMIP table has
//! these operations yet; their numbers (0x41, 0x42) and this form follow a KMIP 3.0 draft implementation. The
//! shared secret is never sent back inline: each operation registers it as a new Secret Data object and answers
//! that object's Unique Identifier, so the secret is a managed, audited object the client can Get, use as a
//! Derive Key base, or Destroy.
//!
//! - Encapsulate: the request names the ML-KEM key (public key, or the private key of the pair); the response
//!   carries the new Secret Data's identifier and, in Data, the ciphertext to send to the key's holder.
//! - Decapsulate: the request names the ML-KEM private key and carries the ciphertext in Data; the response
//!   carries the new Secret Data's identifier.

use ttlv::tags;

pub use crate::attributes::CryptographicParameters;
use crate::kmip_struct;

kmip_struct! {
    /// Encapsulate request.
    #[derive(Default)]
    pub struct EncapsulateRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt cryptographic_parameters: CryptographicParameters = tags::CRYPTOGRAPHIC_PARAMETERS,
    }
}

kmip_struct! {
    /// Encapsulate response: the Secret Data holding the shared secret, and the ciphertext.
    #[derive(Default)]
    pub struct EncapsulateResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt data: Vec<u8> = tags::DATA,
    }
}

kmip_struct! {
    /// Decapsulate request: the private key and the ciphertext.
    #[derive(Default)]
    pub struct DecapsulateRequest {
        opt unique_identifier: String = tags::UNIQUE_IDENTIFIER,
        opt cryptographic_parameters: CryptographicParameters = tags::CRYPTOGRAPHIC_PARAMETERS,
        opt data: Vec<u8> = tags::DATA,
    }
}

kmip_struct! {
    /// Decapsulate response: the Secret Data holding the shared secret.
    #[derive(Default)]
    pub struct DecapsulateResponse {
        req unique_identifier: String = tags::UNIQUE_IDENTIFIER,
    }
}
