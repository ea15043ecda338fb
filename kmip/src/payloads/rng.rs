//! RNG Retrieve and RNG Seed.

use ttlv::tags;

use crate::kmip_struct;
use crate::payloads::secret::SecretBytes;

kmip_struct! {
    /// RNG Retrieve request: how many random bytes.
    #[derive(Default)]
    pub struct RngRetrieveRequest {
        req data_length: i32 = tags::DATA_LENGTH,
    }
}

kmip_struct! {
    /// RNG Retrieve response: the random bytes.
    #[derive(Default)]
    pub struct RngRetrieveResponse {
        req data: SecretBytes = tags::DATA,
    }
}

kmip_struct! {
    /// RNG Seed request: bytes to mix into the server's generator.
    #[derive(Default)]
    pub struct RngSeedRequest {
        req data: SecretBytes = tags::DATA,
    }
}

kmip_struct! {
    /// RNG Seed response: how many of the bytes were used.
    #[derive(Default)]
    pub struct RngSeedResponse {
        opt data_length: i32 = tags::DATA_LENGTH,
    }
}
