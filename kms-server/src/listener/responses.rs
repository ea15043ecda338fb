//! Responses the listener makes itself: whole-message failures, and the Maximum Response Size rule.

use kmip::{ProtocolVersion, ResponseBatchItem, ResponseMessage, ResultReason, ResultStatus};

/// The version a message-level failure is answered in when the request's own version cannot be read. 1.0's
/// response header is the one every KMIP client parses.
pub const FALLBACK_VERSION: ProtocolVersion = ProtocolVersion::V1_0;

/// Seconds since the Unix epoch (the response header's Time Stamp).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A response with one failed batch item: the answer to a request that could not be taken apart.
pub fn message_failure(
    version: ProtocolVersion,
    reason: ResultReason,
    message: impl Into<String>,
) -> ResponseMessage {
    ResponseMessage::new(
        version,
        unix_now(),
        vec![ResponseBatchItem::failure(None, reason, message)],
    )
}

/// Encodes `response`; when it exceeds the request's Maximum Response Size, every item that carries a payload
/// is replaced by a Response Too Large failure (its operation and batch item id kept), and that is encoded.
pub fn encode_within(
    response: ResponseMessage,
    maximum_response_size: Option<i32>,
) -> Result<Vec<u8>, ttlv::EncodeError> {
    let encoded = ttlv::binary::encode(&response.to_ttlv())?;
    let Some(max) = maximum_response_size.and_then(|m| usize::try_from(m).ok()) else {
        return Ok(encoded);
    };
    if encoded.len() <= max {
        return Ok(encoded);
    }
    let size = encoded.len();
    let mut shrunk = response;
    for item in &mut shrunk.items {
        if item.result_status == ResultStatus::Success || item.payload.is_some() {
            let id = item.unique_batch_item_id.take();
            *item = ResponseBatchItem::failure(
                item.operation,
                ResultReason::ResponseTooLarge,
                format!(
                    "the response ({size} bytes) exceeds the request's Maximum Response Size ({max} bytes); \
                     raise it or ask for less"
                ),
            )
            .with_id(id);
        }
    }
    ttlv::binary::encode(&shrunk.to_ttlv())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::payloads::DiscoverVersionsResponse;

    #[test]
    fn oversized_response_becomes_response_too_large_per_item() {
        let failed = ResponseBatchItem::failure(None, ResultReason::ItemNotFound, "no such object")
            .with_id(Some(vec![7]));
        let big = ResponseBatchItem::success(DiscoverVersionsResponse {
            protocol_versions: vec![ProtocolVersion::V2_1; 64],
        })
        .with_id(Some(vec![8]));
        let response = ResponseMessage::new(ProtocolVersion::V2_1, 0, vec![failed, big]);
        let full = encode_within(response.clone(), None).unwrap();
        assert!(full.len() > 1000);
        let limited = encode_within(response, Some(1000)).unwrap();
        assert!(limited.len() < 1000);
        let decoded = ResponseMessage::from_ttlv(&ttlv::binary::decode(&limited).unwrap()).unwrap();
        assert_eq!(
            decoded.items[0].result_reason,
            Some(ResultReason::ItemNotFound)
        );
        assert_eq!(
            decoded.items[1].result_reason,
            Some(ResultReason::ResponseTooLarge)
        );
        assert_eq!(decoded.items[1].unique_batch_item_id, Some(vec![8]));
        assert!(decoded.items[1].payload.is_none());
    }

    #[test]
    fn response_within_the_limit_is_unchanged() {
        let response = message_failure(ProtocolVersion::V1_4, ResultReason::InvalidMessage, "bad");
        let expected = ttlv::binary::encode(&response.to_ttlv()).unwrap();
        assert_eq!(encode_within(response, Some(1 << 20)).unwrap(), expected);
    }
}
