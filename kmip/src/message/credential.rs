//! The Authentication structure of a request header and the Credentials it carries. qkms authenticates
//! clients by their TLS certificate, but these are still decoded (and re-encoded) faithfully.

use ttlv::{tags, Item, Value};

use crate::error::DecodeError;
use crate::fields::Fields;
use crate::kmip_struct;
use crate::payloads::field::TtlvField;
use crate::payloads::secret::SecretText;
use crate::version::ProtocolVersion;

/// Credential Type values.
pub mod credential_type {
    pub const USERNAME_AND_PASSWORD: u32 = 0x01;
    pub const DEVICE: u32 = 0x02;
    pub const ATTESTATION: u32 = 0x03;
    pub const ONE_TIME_PASSWORD: u32 = 0x04;
    pub const HASHED_PASSWORD: u32 = 0x05;
    pub const TICKET: u32 = 0x06;
}

kmip_struct! {
    /// Credential Value of a Username and Password credential.
    #[derive(Default)]
    pub struct UsernamePassword {
        req username: String = tags::USERNAME,
        opt password: SecretText = tags::PASSWORD,
    }
}

kmip_struct! {
    /// Credential Value of a Device credential.
    #[derive(Default)]
    pub struct DeviceCredential {
        opt device_serial_number: String = tags::DEVICE_SERIAL_NUMBER,
        opt password: SecretText = tags::PASSWORD,
        opt device_identifier: String = tags::DEVICE_IDENTIFIER,
        opt network_identifier: String = tags::NETWORK_IDENTIFIER,
        opt machine_identifier: String = tags::MACHINE_IDENTIFIER,
        opt media_identifier: String = tags::MEDIA_IDENTIFIER,
    }
}

/// One Credential.
#[derive(Clone, PartialEq)]
pub enum Credential {
    UsernamePassword(UsernamePassword),
    Device(DeviceCredential),
    /// Attestation, One Time Password, Hashed Password, Ticket or a vendor type: kept as sent (qkms does not
    /// verify them; it authenticates by TLS client certificate).
    Other {
        credential_type: u32,
        value: Item,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UsernamePassword(v) => f.debug_tuple("UsernamePassword").field(v).finish(),
            Self::Device(v) => f.debug_tuple("Device").field(v).finish(),
            // The value may hold passwords or tickets.
            Self::Other {
                credential_type, ..
            } => f
                .debug_struct("Other")
                .field("credential_type", credential_type)
                .finish_non_exhaustive(),
        }
    }
}

impl Credential {
    pub fn credential_type(&self) -> u32 {
        match self {
            Self::UsernamePassword(_) => credential_type::USERNAME_AND_PASSWORD,
            Self::Device(_) => credential_type::DEVICE,
            Self::Other {
                credential_type, ..
            } => *credential_type,
        }
    }

    pub fn to_ttlv(&self, version: ProtocolVersion) -> Item {
        let value = match self {
            Self::UsernamePassword(v) => v.to_ttlv(tags::CREDENTIAL_VALUE, version),
            Self::Device(v) => v.to_ttlv(tags::CREDENTIAL_VALUE, version),
            Self::Other { value, .. } => value.to_item(tags::CREDENTIAL_VALUE, version),
        };
        Item::structure(
            tags::CREDENTIAL,
            vec![
                Item::new(
                    tags::CREDENTIAL_TYPE,
                    Value::Enumeration(self.credential_type()),
                ),
                value,
            ],
        )
    }

    pub fn from_ttlv(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let fields = Fields::of(item, tags::CREDENTIAL)?;
        let kind = fields.required_enum(tags::CREDENTIAL_TYPE)?;
        let value = fields.required(tags::CREDENTIAL_VALUE)?;
        if let Some(extra) = fields
            .children
            .iter()
            .find(|c| c.tag != tags::CREDENTIAL_TYPE && c.tag != tags::CREDENTIAL_VALUE)
        {
            return Err(crate::payloads::field::unexpected(extra, tags::CREDENTIAL));
        }
        Ok(match kind {
            credential_type::USERNAME_AND_PASSWORD => {
                Self::UsernamePassword(UsernamePassword::from_ttlv(value, version)?)
            }
            credential_type::DEVICE => Self::Device(DeviceCredential::from_ttlv(value, version)?),
            other => Self::Other {
                credential_type: other,
                value: value.clone(),
            },
        })
    }
}

impl TtlvField for Credential {
    fn to_item(&self, _tag: ttlv::Tag, version: ProtocolVersion) -> Item {
        self.to_ttlv(version)
    }
    fn from_item(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError> {
        Self::from_ttlv(item, version)
    }
}

kmip_struct! {
    /// Authentication: one Credential in KMIP 1.x, one or more in 2.x.
    #[derive(Default)]
    pub struct Authentication {
        vec credentials: Credential = tags::CREDENTIAL,
    }
}
