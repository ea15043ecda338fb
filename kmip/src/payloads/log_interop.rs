//! Log (KMIP 2.0+, 2.1 §6.1.29: a client asks the server to record a message) and Interop (2.0+, §6.1.24: a test
//! harness marks where an interoperability test case Begins and Ends, or asks to Reset). Both answer with an
//! empty payload.

use ttlv::tags;

use crate::{enum_field, kmip_enum, kmip_struct};

kmip_struct! {
    /// Log request: the text to record.
    pub struct LogRequest {
        req log_message: String = tags::LOG_MESSAGE,
    }
}

kmip_struct! {
    /// Log response (empty).
    #[derive(Default)]
    pub struct LogResponse {}
}

kmip_enum! {
    /// Interop Function (KMIP 2.1 §11.31).
    pub enum InteropFunction {
        Begin = 0x01 => "Begin",
        End = 0x02 => "End",
        Reset = 0x03 => "Reset",
    }
}

enum_field!(InteropFunction => "Interop Function");

kmip_struct! {
    /// Interop request: which function, for which test case.
    pub struct InteropRequest {
        req interop_function: InteropFunction = tags::INTEROP_FUNCTION,
        req interop_identifier: String = tags::INTEROP_IDENTIFIER,
    }
}

kmip_struct! {
    /// Interop response (empty).
    #[derive(Default)]
    pub struct InteropResponse {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::ProtocolVersion;
    use ttlv::{Item, Value};

    #[test]
    fn requests_round_trip_and_malformed_ones_are_invalid_field() {
        let v = ProtocolVersion::V2_0;
        let log = LogRequest {
            log_message: "hello".into(),
        };
        let item = log.to_ttlv(tags::REQUEST_PAYLOAD, v);
        assert_eq!(LogRequest::from_ttlv(&item, v).unwrap(), log);
        let interop = InteropRequest {
            interop_function: InteropFunction::Reset,
            interop_identifier: "AX-M-1-21".into(),
        };
        let item = interop.to_ttlv(tags::REQUEST_PAYLOAD, v);
        assert_eq!(InteropRequest::from_ttlv(&item, v).unwrap(), interop);

        let bad_function = Item::structure(
            tags::REQUEST_PAYLOAD,
            vec![
                Item::new(tags::INTEROP_FUNCTION, Value::Enumeration(9)),
                Item::new(tags::INTEROP_IDENTIFIER, Value::TextString("x".into())),
            ],
        );
        assert_eq!(
            InteropRequest::from_ttlv(&bad_function, v)
                .unwrap_err()
                .reason,
            crate::ResultReason::InvalidField
        );
        let not_text = Item::structure(
            tags::REQUEST_PAYLOAD,
            vec![Item::new(tags::LOG_MESSAGE, Value::Integer(1))],
        );
        assert!(LogRequest::from_ttlv(&not_text, v).is_err());
        let empty = Item::structure(tags::REQUEST_PAYLOAD, Vec::new());
        assert!(LogRequest::from_ttlv(&empty, v).is_err());
        assert_eq!(
            LogResponse::from_ttlv(
                &LogResponse::default().to_ttlv(tags::RESPONSE_PAYLOAD, v),
                v
            )
            .unwrap(),
            LogResponse::default()
        );
    }
}
