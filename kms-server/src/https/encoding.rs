//! The three KMIP message encodings a client may POST (KMIP Profiles 2.1 §6.3 HTTPS, §6.4 XML, §6.5 JSON), chosen
//! by the request's `Content-Type`; the response is written in the same encoding.

use ttlv::{Item, Limits, ReadOptions};

/// A KMIP message encoding carried over HTTPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageEncoding {
    /// Binary TTLV, `application/octet-stream`.
    Ttlv,
    /// KMIP XML, `text/xml` (`application/xml` is accepted too).
    Xml,
    /// KMIP JSON, `application/json`.
    Json,
}

/// The media types accepted, for error messages.
pub const SUPPORTED_CONTENT_TYPES: &str =
    "application/octet-stream (TTLV), text/xml (KMIP XML), application/json (KMIP JSON)";

/// A request body that is not a message in its declared encoding.
#[derive(Debug, thiserror::Error)]
pub enum BodyDecodeError {
    #[error("the body is not valid TTLV: {0}")]
    Ttlv(#[from] ttlv::DecodeError),
    #[error("the body is not UTF-8 text ({0})")]
    NotUtf8(#[from] std::str::Utf8Error),
    #[error("the body is not a valid KMIP {encoding} message: {error}")]
    Text {
        encoding: &'static str,
        error: ttlv::TextError,
    },
}

/// A response that cannot be written in the encoding.
#[derive(Debug, thiserror::Error)]
pub enum BodyEncodeError {
    #[error(transparent)]
    Ttlv(#[from] ttlv::EncodeError),
    #[error(transparent)]
    Text(#[from] ttlv::TextError),
    #[error("cannot re-read the shortened response: {0}")]
    Reread(ttlv::DecodeError),
}

impl MessageEncoding {
    /// The encoding a `Content-Type` value names (parameters such as `; charset=utf-8` and case are ignored);
    /// `None` for anything else.
    pub fn from_content_type(value: &str) -> Option<Self> {
        let media_type = value.split(';').next().unwrap_or("").trim();
        if media_type.eq_ignore_ascii_case("application/octet-stream") {
            Some(Self::Ttlv)
        } else if media_type.eq_ignore_ascii_case("text/xml")
            || media_type.eq_ignore_ascii_case("application/xml")
        {
            Some(Self::Xml)
        } else if media_type.eq_ignore_ascii_case("application/json") {
            Some(Self::Json)
        } else {
            None
        }
    }

    /// The `Content-Type` of a response in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Ttlv => "application/octet-stream",
            Self::Xml => "text/xml; charset=utf-8",
            Self::Json => "application/json",
        }
    }

    /// A short name for logs and metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ttlv => "ttlv",
            Self::Xml => "xml",
            Self::Json => "json",
        }
    }

    /// Reads one message under `limits` (size, depth, item count).
    pub fn decode(self, body: &[u8], limits: &Limits) -> Result<Item, BodyDecodeError> {
        match self {
            Self::Ttlv => Ok(ttlv::binary::decode_with(body, limits)?),
            Self::Xml => {
                let text = std::str::from_utf8(body)?;
                ttlv::xml::from_str_with(text, ReadOptions::new(*limits)).map_err(|error| {
                    BodyDecodeError::Text {
                        encoding: "XML",
                        error,
                    }
                })
            }
            Self::Json => {
                let text = std::str::from_utf8(body)?;
                ttlv::json::from_str_with(text, ReadOptions::new(*limits)).map_err(|error| {
                    BodyDecodeError::Text {
                        encoding: "JSON",
                        error,
                    }
                })
            }
        }
    }

    /// Writes one message.
    pub fn encode(self, item: &Item) -> Result<Vec<u8>, BodyEncodeError> {
        Ok(match self {
            Self::Ttlv => ttlv::binary::encode(item)?,
            Self::Xml => ttlv::xml::to_string(item)?.into_bytes(),
            Self::Json => ttlv::json::to_string(item)?.into_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_select_the_encoding_ignoring_case_and_parameters() {
        for (value, expected) in [
            ("application/octet-stream", Some(MessageEncoding::Ttlv)),
            ("text/xml; charset=utf-8", Some(MessageEncoding::Xml)),
            ("Application/XML", Some(MessageEncoding::Xml)),
            (
                "application/json ; charset=UTF-8",
                Some(MessageEncoding::Json),
            ),
            ("text/plain", None),
            ("", None),
        ] {
            assert_eq!(
                MessageEncoding::from_content_type(value),
                expected,
                "{value}"
            );
        }
    }

    #[test]
    fn each_encoding_round_trips_a_message_and_refuses_garbage() {
        let item = ttlv::Item::structure(
            ttlv::tags::BATCH_ITEM,
            vec![ttlv::Item::new(
                ttlv::tags::BATCH_COUNT,
                ttlv::Value::Integer(1),
            )],
        );
        let limits = Limits::default();
        for encoding in [
            MessageEncoding::Ttlv,
            MessageEncoding::Xml,
            MessageEncoding::Json,
        ] {
            let bytes = encoding.encode(&item).unwrap();
            assert_eq!(encoding.decode(&bytes, &limits).unwrap(), item);
            assert!(encoding.decode(b"\xff\xfe not a message", &limits).is_err());
        }
    }

    #[test]
    fn text_over_the_size_limit_is_refused() {
        let limits = Limits {
            max_message_size: 64,
            ..Limits::default()
        };
        let long = format!(
            r#"<BatchCount type="Integer" value="1"/>{}"#,
            " ".repeat(100)
        );
        assert!(MessageEncoding::Xml
            .decode(long.as_bytes(), &limits)
            .is_err());
    }
}
