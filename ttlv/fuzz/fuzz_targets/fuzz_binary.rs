//! Decodes arbitrary bytes as binary TTLV; whatever decodes must re-encode and decode to the same tree.
//! Decoding must never panic, and never allocate beyond what the input and the limits allow.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ttlv::{binary, Limits};

fuzz_target!(|data: &[u8]| {
    // Small limits too, so that the depth and item-count checks are exercised near their bounds.
    let tight = Limits {
        max_message_size: 4096,
        max_depth: 4,
        max_items: 32,
    };
    if let Ok(item) = binary::decode_with(data, &tight) {
        let default_result = binary::decode(data);
        assert_eq!(
            default_result.as_ref(),
            Ok(&item),
            "tight limits accepted what the defaults reject"
        );
    }
    if let Ok(item) = binary::decode(data) {
        let bytes =
            binary::encode(&item).expect("a decoded tree always fits the encoding it came from");
        let again = binary::decode(&bytes).expect("the writer's output decodes");
        assert_eq!(again, item, "decode(encode(x)) != x");
        let header: &[u8; 8] = bytes[..8]
            .try_into()
            .expect("an encoding holds at least one header");
        assert_eq!(binary::message_length(header), Ok(bytes.len()));
    }
});
