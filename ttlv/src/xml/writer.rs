//! The KMIP-XML writer. It walks the tree with an explicit stack, so any depth the caller built is written
//! without recursion.

use crate::text_values::{
    format_scalar, hex_tag, known_tag_name, tag_in_kmip_range, AttributeContext, Dialect, Location,
    Scalar, TextError, TextErrorKind,
};
use crate::xml::reader::{is_xml_char, UNNAMED_ELEMENT};
use crate::{Item, Tag, Value};

enum Step<'a> {
    Open {
        item: &'a Item,
        names_tag: Tag,
        depth: usize,
    },
    Close {
        name: String,
        depth: usize,
    },
}

/// Writes `item` as one XML element; `indent` is `None` for compact output, or the text of one level.
pub(crate) fn write(
    item: &Item,
    indent: Option<&str>,
    out: &mut String,
    base_depth: usize,
) -> Result<(), TextError> {
    let mut steps = vec![Step::Open {
        item,
        names_tag: item.tag,
        depth: base_depth,
    }];
    while let Some(step) = steps.pop() {
        match step {
            Step::Close { name, depth } => {
                line_start(out, indent, depth);
                out.push_str("</");
                out.push_str(&name);
                out.push('>');
            }
            Step::Open {
                item,
                names_tag,
                depth,
            } => {
                line_start(out, indent, depth);
                let name = open_element(out, item.tag)?;
                match &item.value {
                    Value::Structure(children) if children.is_empty() => out.push_str("/>"),
                    Value::Structure(children) => {
                        out.push('>');
                        steps.push(Step::Close { name, depth });
                        let mut context = AttributeContext::default();
                        let mut opened = Vec::with_capacity(children.len());
                        for child in children {
                            opened.push(Step::Open {
                                item: child,
                                names_tag: context.names_tag(child.tag),
                                depth: depth + 1,
                            });
                            context.observe(child);
                        }
                        steps.extend(opened.into_iter().rev());
                    }
                    value => {
                        out.push_str(" type=\"");
                        out.push_str(value.item_type().name());
                        out.push_str("\" value=\"");
                        let text = match format_scalar(Dialect::Xml, names_tag, value) {
                            Scalar::Text(text) => text,
                            Scalar::Int(n) => n.to_string(),
                            Scalar::Bool(b) => b.to_string(),
                        };
                        escape_attribute(&text, out);
                        out.push_str("\"/>");
                    }
                }
            }
        }
    }
    Ok(())
}

fn line_start(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(unit) = indent {
        if !out.is_empty() {
            out.push('\n');
        }
        for _ in 0..depth {
            out.push_str(unit);
        }
    }
}

/// Writes `<Name` or `<TTLV tag="0x54xxxx"`, returning the element name for the end tag.
fn open_element(out: &mut String, tag: Tag) -> Result<String, TextError> {
    if !tag_in_kmip_range(tag) {
        return Err(not_representable(tag, "tag outside 0x42xxxx and 0x54xxxx"));
    }
    out.push('<');
    match known_tag_name(tag) {
        Some(name) => {
            out.push_str(name);
            Ok(name.to_owned())
        }
        None => {
            out.push_str(UNNAMED_ELEMENT);
            out.push_str(" tag=\"");
            out.push_str(&hex_tag(tag));
            out.push('"');
            Ok(UNNAMED_ELEMENT.to_owned())
        }
    }
}

/// What a character XML 1.0 cannot carry at all (C0 controls other than tab and line breaks, U+FFFE, U+FFFF)
/// is written as: U+FFFD REPLACEMENT CHARACTER. XML 1.0 has no escape for them
/// (`&#1;` is not well-formed either), and refusing to write would turn any text holding one (an error message
/// echoing a client's identifier, a Name registered over TTLV) into no answer at all. The TTLV and JSON
/// encodings carry such text exactly.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Escapes an attribute value, so that every text can be written. Tabs and line breaks become character
/// references because XML attribute normalisation would otherwise turn them into spaces; characters XML 1.0
/// cannot carry become [`REPLACEMENT`].
fn escape_attribute(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push(REPLACEMENT),
        }
    }
}

fn not_representable(tag: Tag, reason: &'static str) -> TextError {
    TextError::new(
        TextErrorKind::NotRepresentable { tag, reason },
        Location {
            path: hex_tag(tag),
            ..Location::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use crate::{tags, xml, Item, Value};

    #[test]
    fn characters_xml_cannot_carry_are_replaced_and_the_output_reads_back() {
        let item = Item::new(
            tags::RESULT_MESSAGE,
            Value::TextString("no object \u{1}x\u{1B}[2J\u{FFFF} <&> \t\n".into()),
        );
        let text = xml::to_string(&item).unwrap();
        assert!(
            !text.contains('\u{1}') && !text.contains('\u{1B}'),
            "{text}"
        );
        let back = xml::from_str(&text).unwrap();
        assert_eq!(
            back.value,
            Value::TextString("no object \u{FFFD}x\u{FFFD}[2J\u{FFFD} <&> \t\n".into())
        );
    }
}
