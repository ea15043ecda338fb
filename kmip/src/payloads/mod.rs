//! Operation payloads, one file per operation family, and the two enums a batch item holds: every request
//! payload qkms understands, every response payload, and an explicit undecoded form for the rest.

pub mod adjust_attribute;
pub mod attribute_ops;
mod attrs;
pub mod crypto;
pub mod derive_split;
pub mod discover;
pub mod endpoint_role;
pub mod field;
pub mod kem;
pub mod lifecycle;
pub mod locate;
pub mod log_interop;
pub mod objects;
pub mod rng;
pub mod secret;

use ttlv::{tags, Item};

use crate::error::DecodeError;
use crate::operation::{Operation, OperationCode};
use crate::result::ResultReason;
use crate::version::ProtocolVersion;

pub use adjust_attribute::*;
pub use attribute_ops::*;
pub use attrs::{AttributeArgument, AttributeNames, PayloadAttributes};
pub use crypto::*;
pub use derive_split::*;
pub use discover::*;
pub use endpoint_role::*;
pub use field::{BigInteger, DateTime, EnumValue, Interval, TtlvField};
pub use kem::*;
pub use lifecycle::*;
pub use locate::*;
pub use log_interop::*;
pub use objects::*;
pub use rng::*;
pub use secret::{SecretBytes, SecretText};

/// A batch item's payload that could not be turned into a typed payload, with the reason to answer it with:
/// Operation Not Supported (unknown operation, or one qkms does not implement, or one newer than the
/// message's protocol version), Invalid Field / Invalid Message (malformed payload).
#[derive(Clone, Debug, PartialEq)]
pub struct UndecodedPayload {
    /// The operation the item named, when it named one.
    pub operation: Option<OperationCode>,
    pub error: DecodeError,
    /// The payload as received, so it can be logged or re-encoded.
    pub raw: Option<Item>,
}

/// Declares the request and response payload enums from one table: variant, operation, request type,
/// response type.
macro_rules! payloads {
    ($( $variant:ident => $op:ident, $req:ty, $resp:ty; )+) => {
        /// The payload of a request batch item.
        // Payloads are built once and moved a few times per batch item; boxing every variant would cost more
        // than the padding of the small ones.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug, PartialEq)]
        pub enum RequestPayload {
            $( $variant($req), )+
            Undecoded(UndecodedPayload),
        }

        /// The payload of a successful response batch item.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug, PartialEq)]
        pub enum ResponsePayload {
            $( $variant($resp), )+
            Undecoded(UndecodedPayload),
        }

        $(
            impl From<$req> for RequestPayload {
                fn from(payload: $req) -> Self {
                    Self::$variant(payload)
                }
            }

            impl From<$resp> for ResponsePayload {
                fn from(payload: $resp) -> Self {
                    Self::$variant(payload)
                }
            }
        )+

        impl From<UndecodedPayload> for RequestPayload {
            fn from(payload: UndecodedPayload) -> Self {
                Self::Undecoded(payload)
            }
        }

        impl From<UndecodedPayload> for ResponsePayload {
            fn from(payload: UndecodedPayload) -> Self {
                Self::Undecoded(payload)
            }
        }

        /// The operations that have typed payloads here.
        pub const TYPED_OPERATIONS: &[Operation] = &[$(Operation::$op),+];

        impl RequestPayload {
            pub fn operation(&self) -> Option<OperationCode> {
                match self {
                    $( Self::$variant(_) => Some(OperationCode::Known(Operation::$op)), )+
                    Self::Undecoded(u) => u.operation,
                }
            }

            /// The Request Payload item (none for an undecoded item that had none).
            pub fn to_ttlv(&self, version: ProtocolVersion) -> Option<Item> {
                match self {
                    $( Self::$variant(p) => Some(p.to_ttlv(tags::REQUEST_PAYLOAD, version)), )+
                    Self::Undecoded(u) => u.raw.clone(),
                }
            }

            /// Decodes the payload of an item naming `operation`; never fails (see [`UndecodedPayload`]).
            pub fn from_ttlv(operation: Option<OperationCode>, payload: Option<&Item>, version: ProtocolVersion) -> Self {
                let undecoded = |error| Self::Undecoded(UndecodedPayload { operation, error, raw: payload.cloned() });
                let op = match operation {
                    Some(OperationCode::Known(op)) => op,
                    Some(OperationCode::Unknown(code)) => {
                        return undecoded(not_supported(format!("operation 0x{code:08X} is not a KMIP operation")));
                    }
                    None => return undecoded(DecodeError::invalid_message("batch item without an Operation")),
                };
                if op.introduced_in() > version {
                    return undecoded(not_supported(format!(
                        "{op} is not defined in KMIP {version} (introduced in {})",
                        op.introduced_in()
                    )));
                }
                let Some(item) = payload else {
                    return undecoded(DecodeError::missing(tags::REQUEST_PAYLOAD, tags::BATCH_ITEM));
                };
                let decoded = match op {
                    $( Operation::$op => <$req>::from_ttlv(item, version).map(Self::$variant), )+
                    #[allow(unreachable_patterns)]
                    other => Err(not_supported(format!("{other} is not supported by this server"))),
                };
                decoded.unwrap_or_else(undecoded)
            }
        }

        impl ResponsePayload {
            pub fn operation(&self) -> Option<OperationCode> {
                match self {
                    $( Self::$variant(_) => Some(OperationCode::Known(Operation::$op)), )+
                    Self::Undecoded(u) => u.operation,
                }
            }

            pub fn to_ttlv(&self, version: ProtocolVersion) -> Option<Item> {
                match self {
                    $( Self::$variant(p) => Some(p.to_ttlv(tags::RESPONSE_PAYLOAD, version)), )+
                    Self::Undecoded(u) => u.raw.clone(),
                }
            }

            /// Decodes the Response Payload of an item naming `operation`; never fails.
            pub fn from_ttlv(operation: Option<OperationCode>, item: &Item, version: ProtocolVersion) -> Self {
                let undecoded = |error| Self::Undecoded(UndecodedPayload { operation, error, raw: Some(item.clone()) });
                let Some(OperationCode::Known(op)) = operation else {
                    return undecoded(not_supported("response payload of an unknown operation".to_owned()));
                };
                let decoded = match op {
                    $( Operation::$op => <$resp>::from_ttlv(item, version).map(Self::$variant), )+
                    #[allow(unreachable_patterns)]
                    other => Err(not_supported(format!("{other} payloads are not typed by this client"))),
                };
                decoded.unwrap_or_else(undecoded)
            }
        }
    };
}

fn not_supported(message: String) -> DecodeError {
    DecodeError::new(
        ResultReason::OperationNotSupported,
        Some(tags::OPERATION),
        message,
    )
}

payloads! {
    DiscoverVersions => DiscoverVersions, DiscoverVersionsRequest, DiscoverVersionsResponse;
    Query => Query, QueryRequest, QueryResponse;
    Create => Create, CreateRequest, CreateResponse;
    CreateKeyPair => CreateKeyPair, CreateKeyPairRequest, CreateKeyPairResponse;
    Register => Register, RegisterRequest, RegisterResponse;
    ReKey => ReKey, ReKeyRequest, ReKeyResponse;
    ReKeyKeyPair => ReKeyKeyPair, ReKeyKeyPairRequest, ReKeyKeyPairResponse;
    Certify => Certify, CertifyRequest, CertifyResponse;
    ReCertify => ReCertify, ReCertifyRequest, ReCertifyResponse;
    DeriveKey => DeriveKey, DeriveKeyRequest, DeriveKeyResponse;
    CreateSplitKey => CreateSplitKey, CreateSplitKeyRequest, CreateSplitKeyResponse;
    JoinSplitKey => JoinSplitKey, JoinSplitKeyRequest, JoinSplitKeyResponse;
    Get => Get, GetRequest, GetResponse;
    Import => Import, ImportRequest, ImportResponse;
    Export => Export, ExportRequest, ExportResponse;
    Log => Log, LogRequest, LogResponse;
    Interop => Interop, InteropRequest, InteropResponse;
    GetAttributes => GetAttributes, GetAttributesRequest, GetAttributesResponse;
    GetAttributeList => GetAttributeList, GetAttributeListRequest, GetAttributeListResponse;
    AddAttribute => AddAttribute, AddAttributeRequest, AddAttributeResponse;
    ModifyAttribute => ModifyAttribute, ModifyAttributeRequest, ModifyAttributeResponse;
    DeleteAttribute => DeleteAttribute, DeleteAttributeRequest, DeleteAttributeResponse;
    SetAttribute => SetAttribute, SetAttributeRequest, SetAttributeResponse;
    AdjustAttribute => AdjustAttribute, AdjustAttributeRequest, AdjustAttributeResponse;
    SetEndpointRole => SetEndpointRole, SetEndpointRoleRequest, SetEndpointRoleResponse;
    Locate => Locate, LocateRequest, LocateResponse;
    Check => Check, CheckRequest, CheckResponse;
    Activate => Activate, ActivateRequest, ActivateResponse;
    Revoke => Revoke, RevokeRequest, RevokeResponse;
    Destroy => Destroy, DestroyRequest, DestroyResponse;
    Encrypt => Encrypt, EncryptRequest, EncryptResponse;
    Decrypt => Decrypt, DecryptRequest, DecryptResponse;
    Sign => Sign, SignRequest, SignResponse;
    SignatureVerify => SignatureVerify, SignatureVerifyRequest, SignatureVerifyResponse;
    Mac => Mac, MacRequest, MacResponse;
    MacVerify => MacVerify, MacVerifyRequest, MacVerifyResponse;
    Hash => Hash, HashRequest, HashResponse;
    RngRetrieve => RngRetrieve, RngRetrieveRequest, RngRetrieveResponse;
    RngSeed => RngSeed, RngSeedRequest, RngSeedResponse;
    Encapsulate => Encapsulate, EncapsulateRequest, EncapsulateResponse;
    Decapsulate => Decapsulate, DecapsulateRequest, DecapsulateResponse;
}
