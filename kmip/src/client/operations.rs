//! One method per operation: send the typed request, get the typed response (or the server's failure).

use super::{Client, ClientError};
use crate::payloads::*;
use crate::version::ProtocolVersion;

macro_rules! operations {
    ($( $(#[$doc:meta])* $method:ident => $variant:ident, $req:ty, $resp:ty; )+) => {
        impl Client {
            $(
                $(#[$doc])*
                pub async fn $method(&mut self, request: $req) -> Result<$resp, ClientError> {
                    match self.call(request).await? {
                        ResponsePayload::$variant(response) => Ok(response),
                        other => Err(ClientError::UnexpectedResponse(format!(
                            "expected a {} response, got {:?}",
                            stringify!($variant),
                            other.operation()
                        ))),
                    }
                }
            )+
        }
    };
}

operations! {
    /// Discover Versions.
    discover_versions_with => DiscoverVersions, DiscoverVersionsRequest, DiscoverVersionsResponse;
    /// Query.
    query => Query, QueryRequest, QueryResponse;
    /// Create.
    create => Create, CreateRequest, CreateResponse;
    /// Create Key Pair.
    create_key_pair => CreateKeyPair, CreateKeyPairRequest, CreateKeyPairResponse;
    /// Register.
    register => Register, RegisterRequest, RegisterResponse;
    /// Re-Key.
    re_key => ReKey, ReKeyRequest, ReKeyResponse;
    /// Re-Key Key Pair.
    re_key_key_pair => ReKeyKeyPair, ReKeyKeyPairRequest, ReKeyKeyPairResponse;
    /// Certify.
    certify => Certify, CertifyRequest, CertifyResponse;
    /// Re-Certify.
    re_certify => ReCertify, ReCertifyRequest, ReCertifyResponse;
    /// Get.
    get => Get, GetRequest, GetResponse;
    /// Import.
    import => Import, ImportRequest, ImportResponse;
    /// Export.
    export => Export, ExportRequest, ExportResponse;
    /// Get Attributes.
    get_attributes => GetAttributes, GetAttributesRequest, GetAttributesResponse;
    /// Get Attribute List.
    get_attribute_list => GetAttributeList, GetAttributeListRequest, GetAttributeListResponse;
    /// Add Attribute.
    add_attribute => AddAttribute, AddAttributeRequest, AddAttributeResponse;
    /// Modify Attribute.
    modify_attribute => ModifyAttribute, ModifyAttributeRequest, ModifyAttributeResponse;
    /// Delete Attribute.
    delete_attribute => DeleteAttribute, DeleteAttributeRequest, DeleteAttributeResponse;
    /// Set Attribute (KMIP 2.0+).
    set_attribute => SetAttribute, SetAttributeRequest, SetAttributeResponse;
    /// Locate.
    locate => Locate, LocateRequest, LocateResponse;
    /// Check.
    check => Check, CheckRequest, CheckResponse;
    /// Activate.
    activate_with => Activate, ActivateRequest, ActivateResponse;
    /// Revoke.
    revoke => Revoke, RevokeRequest, RevokeResponse;
    /// Destroy.
    destroy_with => Destroy, DestroyRequest, DestroyResponse;
    /// Encrypt.
    encrypt => Encrypt, EncryptRequest, EncryptResponse;
    /// Decrypt.
    decrypt => Decrypt, DecryptRequest, DecryptResponse;
    /// Sign.
    sign => Sign, SignRequest, SignResponse;
    /// Signature Verify.
    signature_verify => SignatureVerify, SignatureVerifyRequest, SignatureVerifyResponse;
    /// MAC.
    mac => Mac, MacRequest, MacResponse;
    /// MAC Verify.
    mac_verify => MacVerify, MacVerifyRequest, MacVerifyResponse;
    /// Hash.
    hash => Hash, HashRequest, HashResponse;
    /// RNG Retrieve.
    rng_retrieve_with => RngRetrieve, RngRetrieveRequest, RngRetrieveResponse;
    /// RNG Seed.
    rng_seed => RngSeed, RngSeedRequest, RngSeedResponse;
    /// Encapsulate (provisional, ML-KEM).
    encapsulate => Encapsulate, EncapsulateRequest, EncapsulateResponse;
    /// Decapsulate (provisional, ML-KEM).
    decapsulate => Decapsulate, DecapsulateRequest, DecapsulateResponse;
}

impl Client {
    /// Asks which of `versions` (empty: any) the server speaks; its preference comes first.
    pub async fn discover_versions(
        &mut self,
        versions: Vec<ProtocolVersion>,
    ) -> Result<Vec<ProtocolVersion>, ClientError> {
        let request = DiscoverVersionsRequest {
            protocol_versions: versions,
        };
        Ok(self
            .discover_versions_with(request)
            .await?
            .protocol_versions)
    }

    /// Discovers the versions both sides speak and switches to the server's preferred one.
    pub async fn negotiate_version(&mut self) -> Result<ProtocolVersion, ClientError> {
        let common = self
            .discover_versions(ProtocolVersion::SUPPORTED.to_vec())
            .await?;
        let chosen = common
            .into_iter()
            .find(|v| ProtocolVersion::SUPPORTED.contains(v))
            .ok_or_else(|| {
                ClientError::UnexpectedResponse("no protocol version in common".into())
            })?;
        self.set_protocol_version(chosen);
        Ok(chosen)
    }

    /// Activates object `unique_identifier`.
    pub async fn activate(&mut self, unique_identifier: &str) -> Result<String, ClientError> {
        let request = ActivateRequest {
            unique_identifier: Some(unique_identifier.to_owned()),
        };
        Ok(self.activate_with(request).await?.unique_identifier)
    }

    /// Destroys object `unique_identifier`.
    pub async fn destroy(&mut self, unique_identifier: &str) -> Result<String, ClientError> {
        let request = DestroyRequest {
            unique_identifier: Some(unique_identifier.to_owned()),
        };
        Ok(self.destroy_with(request).await?.unique_identifier)
    }

    /// `length` random bytes from the server's generator.
    pub async fn rng_retrieve(&mut self, length: i32) -> Result<SecretBytes, ClientError> {
        Ok(self
            .rng_retrieve_with(RngRetrieveRequest {
                data_length: length,
            })
            .await?
            .data)
    }
}
