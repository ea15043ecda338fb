//! The KMIP-JSON writer, walking the tree with an explicit stack.

use std::fmt::Write as _;

use crate::text_values::{
    format_scalar, hex_tag, known_tag_name, tag_in_kmip_range, AttributeContext, Dialect, Location,
    Scalar, TextError, TextErrorKind,
};
use crate::{Item, Tag, Value};

enum Step<'a> {
    Open {
        item: &'a Item,
        names_tag: Tag,
        depth: usize,
        first: bool,
    },
    Close {
        depth: usize,
    },
}

/// Writes `item` as one JSON object; `indent` is `None` for compact output, or the text of one level.
pub(crate) fn write(item: &Item, indent: Option<&str>) -> Result<String, TextError> {
    let mut out = String::new();
    let mut steps = vec![Step::Open {
        item,
        names_tag: item.tag,
        depth: 0,
        first: true,
    }];
    while let Some(step) = steps.pop() {
        match step {
            Step::Close { depth } => {
                newline(&mut out, indent, depth + 1);
                out.push_str("]}");
            }
            Step::Open {
                item,
                names_tag,
                depth,
                first,
            } => {
                if !first {
                    out.push(',');
                }
                if depth > 0 {
                    newline(&mut out, indent, depth + 1);
                }
                if !tag_in_kmip_range(item.tag) {
                    let kind = TextErrorKind::NotRepresentable {
                        tag: item.tag,
                        reason: "tag outside 0x42xxxx and 0x54xxxx",
                    };
                    return Err(TextError::new(
                        kind,
                        Location {
                            path: hex_tag(item.tag),
                            ..Location::default()
                        },
                    ));
                }
                let sep = if indent.is_some() { ": " } else { ":" };
                let comma = if indent.is_some() { ", " } else { "," };
                out.push_str("{\"tag\"");
                out.push_str(sep);
                match known_tag_name(item.tag) {
                    Some(name) => push_string(&mut out, name),
                    None => push_string(&mut out, &hex_tag(item.tag)),
                }
                match &item.value {
                    Value::Structure(children) => {
                        out.push_str(comma);
                        out.push_str("\"value\"");
                        out.push_str(sep);
                        if children.is_empty() {
                            out.push_str("[]}");
                            continue;
                        }
                        out.push('[');
                        steps.push(Step::Close { depth });
                        let mut context = AttributeContext::default();
                        let mut opened = Vec::with_capacity(children.len());
                        for (index, child) in children.iter().enumerate() {
                            let names_tag = context.names_tag(child.tag);
                            opened.push(Step::Open {
                                item: child,
                                names_tag,
                                depth: depth + 1,
                                first: index == 0,
                            });
                            context.observe(child);
                        }
                        steps.extend(opened.into_iter().rev());
                    }
                    value => {
                        out.push_str(comma);
                        out.push_str("\"type\"");
                        out.push_str(sep);
                        push_string(&mut out, value.item_type().name());
                        out.push_str(comma);
                        out.push_str("\"value\"");
                        out.push_str(sep);
                        match format_scalar(Dialect::Json, names_tag, value) {
                            Scalar::Text(text) => push_string(&mut out, &text),
                            Scalar::Int(n) => {
                                let _ = write!(out, "{n}");
                            }
                            Scalar::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                        }
                        out.push('}');
                    }
                }
            }
        }
    }
    Ok(out)
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(unit) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(unit);
        }
    }
}

/// Appends `text` as a JSON string literal.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
