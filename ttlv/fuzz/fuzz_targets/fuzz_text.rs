//! Reads arbitrary UTF-8 as KMIP-XML, as an OASIS test-case document and as KMIP-JSON. Reading must never
//! panic; whatever reads must write (compact and indented) and read back to the same tree.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ttlv::{json, xml, Limits, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tight = Limits {
        max_message_size: 1 << 16,
        max_depth: 8,
        max_items: 256,
    };

    if let Ok(item) = xml::from_str_with(text, ReadOptions::new(tight)) {
        for written in [xml::to_string(&item), xml::to_string_pretty(&item)] {
            let written = written.expect("a tree read from XML can be written as XML");
            assert_eq!(
                xml::from_str(&written).expect("the XML writer's output reads"),
                item
            );
        }
        let as_json = json::to_string(&item).expect("a tree read from XML can be written as JSON");
        assert_eq!(
            json::from_str(&as_json).expect("the JSON writer's output reads"),
            item
        );
    }

    let mut keep = |_: &ttlv::Placeholder<'_>| None;
    if let Ok(messages) =
        xml::read_test_case(text, ReadOptions::new(tight).with_placeholders(&mut keep))
    {
        let written =
            xml::write_test_case(&messages).expect("messages read from XML can be written as XML");
        assert_eq!(
            xml::read_test_case(&written, ReadOptions::default())
                .expect("the writer's output reads"),
            messages
        );
    }

    if let Ok(item) = json::from_str_with(text, ReadOptions::new(tight)) {
        for written in [json::to_string(&item), json::to_string_pretty(&item)] {
            let written = written.expect("a tree read from JSON can be written as JSON");
            assert_eq!(
                json::from_str(&written).expect("the JSON writer's output reads"),
                item
            );
        }
    }
});
