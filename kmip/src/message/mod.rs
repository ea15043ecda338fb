//! Request and response messages: a header and batch items. The protocol version in the header decides the
//! forms every payload is read and written in.

mod batch;
pub mod credential;
mod header;

pub use batch::{MessageExtension, RequestBatchItem, ResponseBatchItem};
pub use credential::{Authentication, Credential, DeviceCredential, UsernamePassword};
pub use header::{BatchErrorContinuationOption, RequestHeader, ResponseHeader};

use ttlv::{tags, Item, Tag};

use crate::error::{tag_label, DecodeError};
use crate::fields::Fields;
use crate::payloads::field::unexpected;
use crate::result::ResultReason;
use crate::version::ProtocolVersion;

/// A request message.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestMessage {
    pub header: RequestHeader,
    pub items: Vec<RequestBatchItem>,
}

impl RequestMessage {
    /// A message of `items` in protocol `version`, its batch count set to match.
    pub fn new(version: ProtocolVersion, items: Vec<RequestBatchItem>) -> Self {
        let count = i32::try_from(items.len()).unwrap_or(i32::MAX);
        Self {
            header: RequestHeader::new(version, count),
            items,
        }
    }

    pub fn protocol_version(&self) -> ProtocolVersion {
        self.header.protocol_version
    }

    pub fn to_ttlv(&self) -> Item {
        let version = self.header.protocol_version;
        let mut children = Vec::with_capacity(1 + self.items.len());
        children.push(self.header.to_ttlv(tags::REQUEST_HEADER, version));
        children.extend(self.items.iter().map(|i| i.to_ttlv(version)));
        Item::structure(tags::REQUEST_MESSAGE, children)
    }

    /// Decodes a request. Fails as a whole only when the message itself is unusable (not a Request Message,
    /// bad header, batch count mismatch): the server answers that with Invalid Message. Each batch item that
    /// does not decode is kept as a [`crate::payloads::RequestPayload::Undecoded`] item instead.
    pub fn from_ttlv(item: &Item) -> Result<Self, DecodeError> {
        let (header_item, items) =
            split_message(item, tags::REQUEST_MESSAGE, tags::REQUEST_HEADER)?;
        let header = RequestHeader::from_ttlv(header_item, header_version(header_item)?)
            .map_err(as_invalid_message)?;
        let version = header.protocol_version;
        let items: Vec<_> = items
            .iter()
            .map(|i| RequestBatchItem::from_ttlv(i, version))
            .collect();
        check_batch_count(header.batch_count, items.len())?;
        Ok(Self { header, items })
    }

    /// The protocol version a (possibly undecodable) request asks for, so an Invalid Message answer can be
    /// sent in the client's version.
    pub fn peek_protocol_version(item: &Item) -> Option<ProtocolVersion> {
        let header = item.child(tags::REQUEST_HEADER)?;
        ProtocolVersion::from_ttlv(header.child(tags::PROTOCOL_VERSION)?).ok()
    }
}

/// A response message.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseMessage {
    pub header: ResponseHeader,
    pub items: Vec<ResponseBatchItem>,
}

impl ResponseMessage {
    /// A response of `items` in protocol `version` stamped `time_stamp` (seconds since the Unix epoch).
    pub fn new(version: ProtocolVersion, time_stamp: i64, items: Vec<ResponseBatchItem>) -> Self {
        let count = i32::try_from(items.len()).unwrap_or(i32::MAX);
        Self {
            header: ResponseHeader::new(version, time_stamp, count),
            items,
        }
    }

    pub fn protocol_version(&self) -> ProtocolVersion {
        self.header.protocol_version
    }

    pub fn to_ttlv(&self) -> Item {
        let version = self.header.protocol_version;
        let mut children = Vec::with_capacity(1 + self.items.len());
        children.push(self.header.to_ttlv(tags::RESPONSE_HEADER, version));
        children.extend(self.items.iter().map(|i| i.to_ttlv(version)));
        Item::structure(tags::RESPONSE_MESSAGE, children)
    }

    pub fn from_ttlv(item: &Item) -> Result<Self, DecodeError> {
        let (header_item, items) =
            split_message(item, tags::RESPONSE_MESSAGE, tags::RESPONSE_HEADER)?;
        let header = ResponseHeader::from_ttlv(header_item, header_version(header_item)?)
            .map_err(as_invalid_message)?;
        let version = header.protocol_version;
        let items = items
            .iter()
            .map(|i| ResponseBatchItem::from_ttlv(i, version))
            .collect::<Result<Vec<_>, _>>()?;
        check_batch_count(header.batch_count, items.len())?;
        Ok(Self { header, items })
    }
}

/// The header and the batch items of a message, after checking the envelope's shape.
fn split_message(item: &Item, message: Tag, header: Tag) -> Result<(&Item, &[Item]), DecodeError> {
    let fields = Fields::of(item, message).map_err(as_invalid_message)?;
    let (first, rest) = fields.children.split_first().ok_or_else(|| {
        DecodeError::invalid_message(format!("{} has no header", tag_label(message)))
    })?;
    if first.tag != header {
        return Err(DecodeError::invalid_message(format!(
            "{} must start with {}, found {}",
            tag_label(message),
            tag_label(header),
            tag_label(first.tag)
        )));
    }
    if let Some(stray) = rest.iter().find(|c| c.tag != tags::BATCH_ITEM) {
        return Err(as_invalid_message(unexpected(stray, message)));
    }
    Ok((first, rest))
}

/// The Protocol Version of a header, which decides the forms of the header itself.
fn header_version(header: &Item) -> Result<ProtocolVersion, DecodeError> {
    let version = header.child(tags::PROTOCOL_VERSION).ok_or_else(|| {
        DecodeError::invalid_message(format!("{} has no Protocol Version", tag_label(header.tag)))
    })?;
    ProtocolVersion::from_ttlv(version).map_err(as_invalid_message)
}

fn check_batch_count(declared: i32, actual: usize) -> Result<(), DecodeError> {
    if usize::try_from(declared).ok() != Some(actual) {
        return Err(DecodeError::invalid_message(format!(
            "Batch Count says {declared} but the message holds {actual} batch items"
        )));
    }
    if actual == 0 {
        return Err(DecodeError::invalid_message(
            "the message holds no batch item",
        ));
    }
    Ok(())
}

fn as_invalid_message(error: DecodeError) -> DecodeError {
    DecodeError {
        reason: ResultReason::InvalidMessage,
        ..error
    }
}
