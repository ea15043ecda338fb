//! Request and response batch items.

use ttlv::{tags, Item, Value};

use crate::error::{tag_label, DecodeError};
use crate::fields::{self, Fields};
use crate::kmip_struct;
use crate::operation::OperationCode;
use crate::payloads::field::unexpected;
use crate::payloads::{RequestPayload, ResponsePayload, UndecodedPayload};
use crate::result::{ResultReason, ResultStatus};
use crate::version::ProtocolVersion;

kmip_struct! {
    /// Message Extension: vendor data attached to a batch item.
    pub struct MessageExtension {
        req vendor_identification: String = tags::VENDOR_IDENTIFICATION,
        req criticality_indicator: bool = tags::CRITICALITY_INDICATOR,
        req vendor_extension: Item = tags::VENDOR_EXTENSION,
    }
}

/// One operation of a request. The operation is the payload's (so they cannot disagree); an item that could
/// not be decoded carries a [`RequestPayload::Undecoded`] with the error to answer it with.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestBatchItem {
    /// KMIP 2.0+.
    pub ephemeral: Option<bool>,
    pub unique_batch_item_id: Option<Vec<u8>>,
    pub payload: RequestPayload,
    pub message_extension: Option<MessageExtension>,
}

impl RequestBatchItem {
    pub fn new(payload: impl Into<RequestPayload>) -> Self {
        Self {
            ephemeral: None,
            unique_batch_item_id: None,
            payload: payload.into(),
            message_extension: None,
        }
    }

    pub fn with_id(mut self, id: impl Into<Vec<u8>>) -> Self {
        self.unique_batch_item_id = Some(id.into());
        self
    }

    /// The operation, when the item named one.
    pub fn operation(&self) -> Option<OperationCode> {
        self.payload.operation()
    }

    pub fn to_ttlv(&self, version: ProtocolVersion) -> Item {
        let mut children = Vec::with_capacity(5);
        if let Some(op) = self.operation() {
            children.push(Item::new(tags::OPERATION, Value::Enumeration(op.to_u32())));
        }
        if let Some(e) = self.ephemeral {
            children.push(Item::new(tags::EPHEMERAL, Value::Boolean(e)));
        }
        if let Some(id) = &self.unique_batch_item_id {
            children.push(Item::new(
                tags::UNIQUE_BATCH_ITEM_ID,
                Value::ByteString(id.clone()),
            ));
        }
        if let Some(payload) = self.payload.to_ttlv(version) {
            children.push(payload);
        }
        if let Some(ext) = &self.message_extension {
            children.push(ext.to_ttlv(tags::MESSAGE_EXTENSION, version));
        }
        Item::structure(tags::BATCH_ITEM, children)
    }

    /// Never fails: whatever is wrong with the item becomes an [`RequestPayload::Undecoded`] payload, so the
    /// server can answer this item and still run the others.
    pub fn from_ttlv(item: &Item, version: ProtocolVersion) -> Self {
        let fields = match Fields::of(item, tags::BATCH_ITEM) {
            Ok(fields) => fields,
            Err(error) => {
                return Self::new(UndecodedPayload {
                    operation: None,
                    error,
                    raw: None,
                })
            }
        };
        let operation = match fields.required_enum(tags::OPERATION) {
            Ok(code) => Some(OperationCode::from_u32(code)),
            Err(error) => {
                return Self::new(UndecodedPayload {
                    operation: None,
                    error,
                    raw: fields.optional(tags::REQUEST_PAYLOAD).cloned(),
                });
            }
        };
        let raw_payload = fields.optional(tags::REQUEST_PAYLOAD);
        let envelope = (|| -> Result<_, DecodeError> {
            for child in fields.children {
                let known = [
                    tags::OPERATION,
                    tags::EPHEMERAL,
                    tags::UNIQUE_BATCH_ITEM_ID,
                    tags::REQUEST_PAYLOAD,
                    tags::MESSAGE_EXTENSION,
                ];
                if !known.contains(&child.tag) {
                    return Err(unexpected(child, tags::BATCH_ITEM));
                }
                if fields.all(child.tag).count() > 1 {
                    return Err(DecodeError::invalid_field(
                        child.tag,
                        format!(
                            "{} appears more than once in a batch item",
                            tag_label(child.tag)
                        ),
                    ));
                }
            }
            let ephemeral = fields.optional_bool(tags::EPHEMERAL)?;
            if ephemeral.is_some() && !version.is_v2() {
                return Err(DecodeError::invalid_field(
                    tags::EPHEMERAL,
                    "Ephemeral is a KMIP 2.0 field",
                ));
            }
            let id = fields
                .optional_bytes(tags::UNIQUE_BATCH_ITEM_ID)?
                .map(<[u8]>::to_vec);
            let extension = fields
                .optional(tags::MESSAGE_EXTENSION)
                .map(|e| MessageExtension::from_ttlv(e, version))
                .transpose()?;
            Ok((ephemeral, id, extension))
        })();
        match envelope {
            Ok((ephemeral, unique_batch_item_id, message_extension)) => Self {
                ephemeral,
                unique_batch_item_id,
                payload: RequestPayload::from_ttlv(operation, raw_payload, version),
                message_extension,
            },
            Err(error) => Self {
                ephemeral: None,
                // Echo the id when it at least has the right type, so the client can match the answer.
                unique_batch_item_id: fields
                    .optional(tags::UNIQUE_BATCH_ITEM_ID)
                    .and_then(|i| fields::bytes(i).ok())
                    .map(<[u8]>::to_vec),
                payload: RequestPayload::Undecoded(UndecodedPayload {
                    operation,
                    error,
                    raw: raw_payload.cloned(),
                }),
                message_extension: None,
            },
        }
    }
}

/// The outcome of one operation.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseBatchItem {
    pub operation: Option<OperationCode>,
    pub unique_batch_item_id: Option<Vec<u8>>,
    pub result_status: ResultStatus,
    pub result_reason: Option<ResultReason>,
    pub result_message: Option<String>,
    pub asynchronous_correlation_value: Option<Vec<u8>>,
    pub payload: Option<ResponsePayload>,
    pub message_extension: Option<MessageExtension>,
}

impl ResponseBatchItem {
    /// A successful item carrying `payload` (whose operation it echoes).
    pub fn success(payload: impl Into<ResponsePayload>) -> Self {
        let payload = payload.into();
        Self {
            operation: payload.operation(),
            unique_batch_item_id: None,
            result_status: ResultStatus::Success,
            result_reason: None,
            result_message: None,
            asynchronous_correlation_value: None,
            payload: Some(payload),
            message_extension: None,
        }
    }

    /// A failed item.
    pub fn failure(
        operation: Option<OperationCode>,
        reason: ResultReason,
        message: impl Into<String>,
    ) -> Self {
        Self {
            operation,
            unique_batch_item_id: None,
            result_status: ResultStatus::OperationFailed,
            result_reason: Some(reason),
            result_message: Some(message.into()),
            asynchronous_correlation_value: None,
            payload: None,
            message_extension: None,
        }
    }

    pub fn with_id(mut self, id: Option<Vec<u8>>) -> Self {
        self.unique_batch_item_id = id;
        self
    }

    pub fn to_ttlv(&self, version: ProtocolVersion) -> Item {
        let mut children = Vec::with_capacity(6);
        if let Some(op) = self.operation {
            children.push(Item::new(tags::OPERATION, Value::Enumeration(op.to_u32())));
        }
        if let Some(id) = &self.unique_batch_item_id {
            children.push(Item::new(
                tags::UNIQUE_BATCH_ITEM_ID,
                Value::ByteString(id.clone()),
            ));
        }
        children.push(Item::new(
            tags::RESULT_STATUS,
            Value::Enumeration(self.result_status.to_u32()),
        ));
        if let Some(reason) = self.result_reason {
            children.push(Item::new(
                tags::RESULT_REASON,
                Value::Enumeration(reason.to_u32()),
            ));
        }
        if let Some(message) = &self.result_message {
            children.push(Item::new(
                tags::RESULT_MESSAGE,
                Value::TextString(message.clone()),
            ));
        }
        if let Some(acv) = &self.asynchronous_correlation_value {
            children.push(Item::new(
                tags::ASYNCHRONOUS_CORRELATION_VALUE,
                Value::ByteString(acv.clone()),
            ));
        }
        if let Some(payload) = self.payload.as_ref().and_then(|p| p.to_ttlv(version)) {
            children.push(payload);
        }
        if let Some(ext) = &self.message_extension {
            children.push(ext.to_ttlv(tags::MESSAGE_EXTENSION, version));
        }
        Item::structure(tags::BATCH_ITEM, children)
    }

    /// Decodes a response item; a payload that does not decode becomes [`ResponsePayload::Undecoded`].
    pub fn from_ttlv(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let fields = Fields::of(item, tags::BATCH_ITEM)?;
        for child in fields.children {
            let known = [
                tags::OPERATION,
                tags::UNIQUE_BATCH_ITEM_ID,
                tags::RESULT_STATUS,
                tags::RESULT_REASON,
                tags::RESULT_MESSAGE,
                tags::ASYNCHRONOUS_CORRELATION_VALUE,
                tags::RESPONSE_PAYLOAD,
                tags::MESSAGE_EXTENSION,
            ];
            if !known.contains(&child.tag) {
                return Err(unexpected(child, tags::BATCH_ITEM));
            }
        }
        let operation = fields
            .optional_enum(tags::OPERATION)?
            .map(OperationCode::from_u32);
        let status = fields.required_enum(tags::RESULT_STATUS)?;
        let result_status = ResultStatus::from_u32(status).ok_or_else(|| {
            DecodeError::invalid_field(
                tags::RESULT_STATUS,
                format!("0x{status:08X} is not a Result Status"),
            )
        })?;
        let result_reason = fields
            .optional_enum(tags::RESULT_REASON)?
            .map(|r| {
                ResultReason::from_u32(r).ok_or_else(|| {
                    DecodeError::invalid_field(
                        tags::RESULT_REASON,
                        format!("0x{r:08X} is not a Result Reason"),
                    )
                })
            })
            .transpose()?;
        let payload = fields
            .optional(tags::RESPONSE_PAYLOAD)
            .map(|p| ResponsePayload::from_ttlv(operation, p, version));
        Ok(Self {
            operation,
            unique_batch_item_id: fields
                .optional_bytes(tags::UNIQUE_BATCH_ITEM_ID)?
                .map(<[u8]>::to_vec),
            result_status,
            result_reason,
            result_message: fields
                .optional_text(tags::RESULT_MESSAGE)?
                .map(str::to_owned),
            asynchronous_correlation_value: fields
                .optional_bytes(tags::ASYNCHRONOUS_CORRELATION_VALUE)?
                .map(<[u8]>::to_vec),
            payload,
            message_extension: fields
                .optional(tags::MESSAGE_EXTENSION)
                .map(|e| MessageExtension::from_ttlv(e, version))
                .transpose()?,
        })
    }
}
