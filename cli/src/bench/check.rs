//! Checking a response without building a tree: a bounds-checked walk over the binary TTLV bytes.
//!
//! The load tool shares the machine's cores with the server it measures, so its per-response work must stay
//! small: this walk allocates nothing and reads only the Batch Items' Result Status (and, for RNG Retrieve,
//! the Data length), yet still proves that every batch item succeeded.

use ttlv::{tags, Tag};

const STRUCTURE: u8 = 0x01;
const ENUMERATION: u8 = 0x05;
const TEXT_STRING: u8 = 0x07;
const BYTE_STRING: u8 = 0x08;

/// One TTLV item as found in the bytes: its value is borrowed, not copied.
#[derive(Clone, Copy, Debug)]
struct Field<'a> {
    tag: Tag,
    kind: u8,
    value: &'a [u8],
}

/// The items of one level, in order. Each value's padded length must fit inside the level.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        Some(self.take())
    }
}

impl<'a> Fields<'a> {
    fn take(&mut self) -> Result<Field<'a>, String> {
        let header = self
            .rest
            .get(..8)
            .ok_or_else(|| format!("{} bytes left where an item header is due", self.rest.len()))?;
        let tag = Tag(u32::from_be_bytes([0, header[0], header[1], header[2]]));
        let kind = header[3];
        let length = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let padded = length
            .checked_add(7)
            .map(|n| n & !7)
            .ok_or_else(|| format!("item {tag:?} declares an impossible length"))?;
        let body = &self.rest[8..];
        if body.len() < padded {
            return Err(format!(
                "item {tag:?} declares {length} bytes but only {} remain",
                body.len()
            ));
        }
        self.rest = &body[padded..];
        Ok(Field {
            tag,
            kind,
            value: &body[..length],
        })
    }
}

impl<'a> Field<'a> {
    fn children(self) -> Result<Fields<'a>, String> {
        if self.kind != STRUCTURE {
            return Err(format!("item {:?} is not a structure", self.tag));
        }
        Ok(Fields { rest: self.value })
    }

    fn child(self, tag: Tag) -> Result<Option<Field<'a>>, String> {
        for field in self.children()? {
            let field = field?;
            if field.tag == tag {
                return Ok(Some(field));
            }
        }
        Ok(None)
    }

    fn enumeration(self) -> Option<u32> {
        (self.kind == ENUMERATION && self.value.len() == 4).then(|| {
            u32::from_be_bytes([self.value[0], self.value[1], self.value[2], self.value[3]])
        })
    }

    fn bytes(self) -> Option<&'a [u8]> {
        (self.kind == BYTE_STRING).then_some(self.value)
    }

    fn text(self) -> Option<&'a str> {
        (self.kind == TEXT_STRING)
            .then(|| std::str::from_utf8(self.value).ok())
            .flatten()
    }
}

/// The whole message as one Response Message structure, nothing after it.
fn response_message(bytes: &[u8]) -> Result<Field<'_>, String> {
    let mut top = Fields { rest: bytes };
    let message = top.next().ok_or("empty response")??;
    if message.tag != tags::RESPONSE_MESSAGE {
        return Err(format!("not a Response Message: {:?}", message.tag));
    }
    if !top.rest.is_empty() {
        return Err(format!(
            "{} bytes after the Response Message",
            top.rest.len()
        ));
    }
    Ok(message)
}

/// What a successful response must also carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Success on every batch item is enough.
    Success,
    /// Every batch item's payload has a Data byte string of exactly this many bytes (RNG Retrieve).
    DataBytes(usize),
    /// An HTTP answer with status 200 (checked by [`super::connect::Connection::exchange_http`]).
    HttpOk,
}

/// Checks that `bytes` is a Response Message whose every Batch Item (at least one) has Result Status Success,
/// and meets `expect`. Allocates only to describe a failure.
pub fn check_response(bytes: &[u8], expect: Expect) -> Result<(), String> {
    let mut batch_items = 0usize;
    for field in response_message(bytes)?.children()? {
        let item = field?;
        if item.tag != tags::BATCH_ITEM {
            continue;
        }
        batch_items += 1;
        let status = item
            .child(tags::RESULT_STATUS)?
            .and_then(Field::enumeration);
        if status != Some(0) {
            let message = item
                .child(tags::RESULT_MESSAGE)?
                .and_then(Field::text)
                .unwrap_or("");
            return Err(format!(
                "operation failed: Result Status {status:?}: {message}"
            ));
        }
        if let Expect::DataBytes(expected) = expect {
            let data = match item.child(tags::RESPONSE_PAYLOAD)? {
                Some(payload) => payload.child(tags::DATA)?,
                None => None,
            };
            match data {
                Some(d) if d.kind == BYTE_STRING && d.value.len() == expected => {}
                Some(d) => {
                    return Err(format!(
                        "Data of {} bytes (type {:#04x}), not {expected} bytes",
                        d.value.len(),
                        d.kind
                    ))
                }
                None => return Err("a response payload without Data".into()),
            }
        }
    }
    if batch_items == 0 {
        return Err("response without batch items".into());
    }
    Ok(())
}

/// The text field `tag` of the first batch item's payload (a Unique Identifier), after checking the response.
pub fn payload_text(bytes: &[u8], tag: Tag) -> Result<String, String> {
    payload_field(bytes, tag)?
        .and_then(Field::text)
        .map(str::to_owned)
        .ok_or_else(|| format!("the response payload has no text field {tag:?}"))
}

/// The byte string `tag` of the first batch item's payload (Encapsulate's ciphertext).
pub fn payload_bytes(bytes: &[u8], tag: Tag) -> Result<Vec<u8>, String> {
    payload_field(bytes, tag)?
        .and_then(Field::bytes)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| format!("the response payload has no byte string {tag:?}"))
}

fn payload_field(bytes: &[u8], tag: Tag) -> Result<Option<Field<'_>>, String> {
    check_response(bytes, Expect::Success)?;
    let item = response_message(bytes)?
        .child(tags::BATCH_ITEM)?
        .ok_or("response without batch items")?;
    item.child(tags::RESPONSE_PAYLOAD)?
        .ok_or("response without a payload")?
        .child(tag)
}

#[cfg(test)]
mod tests {
    use kmip::payloads::{ResponsePayload, RngRetrieveResponse};
    use kmip::{ProtocolVersion, ResponseBatchItem, ResponseMessage, ResultReason};

    use super::*;

    fn encode(items: Vec<ResponseBatchItem>) -> Vec<u8> {
        let message = ResponseMessage::new(ProtocolVersion::new(2, 1), 0, items);
        ttlv::binary::encode(&message.to_ttlv()).unwrap()
    }

    fn random(bytes: usize) -> ResponseBatchItem {
        ResponseBatchItem::success(ResponsePayload::RngRetrieve(RngRetrieveResponse {
            data: vec![7; bytes].into(),
        }))
    }

    #[test]
    fn a_successful_response_passes_and_its_data_length_is_checked() {
        let bytes = encode(vec![random(16), random(16)]);
        check_response(&bytes, Expect::Success).unwrap();
        check_response(&bytes, Expect::DataBytes(16)).unwrap();
        let error = check_response(&bytes, Expect::DataBytes(32)).unwrap_err();
        assert!(error.contains("not 32 bytes"), "{error}");
    }

    #[test]
    fn a_failed_item_is_reported_with_its_message() {
        let bytes = encode(vec![
            random(16),
            ResponseBatchItem::failure(None, ResultReason::ItemNotFound, "no such key"),
        ]);
        let error = check_response(&bytes, Expect::Success).unwrap_err();
        assert!(error.contains("no such key"), "{error}");
    }

    #[test]
    fn truncated_or_trailing_bytes_are_refused_without_panicking() {
        let bytes = encode(vec![random(16)]);
        for cut in 0..bytes.len() {
            assert!(
                check_response(&bytes[..cut], Expect::Success).is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0; 8]);
        assert!(check_response(&longer, Expect::Success).is_err());
        assert!(check_response(&encode(Vec::new()), Expect::Success).is_err());
    }
}
