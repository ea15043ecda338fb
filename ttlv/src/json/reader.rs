//! The KMIP-JSON reader: serde_json parses the document into raw nodes (refusing unknown, duplicate and
//! missing members, and nesting beyond its recursion limit), then the nodes are checked and converted.

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use crate::text_values::{
    parse_json_number, parse_tag, resolve_or_parse, AttributeContext, Dialect, Location,
    ReadOptions, TextError, TextErrorKind,
};
use crate::{Item, ItemType, Value};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    tag: String,
    #[serde(rename = "type")]
    item_type: Option<String>,
    value: RawValue,
}

enum RawValue {
    Text(String),
    Number(serde_json::Number),
    Bool(bool),
    Items(Vec<RawNode>),
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawValueVisitor)
    }
}

struct RawValueVisitor;

impl<'de> Visitor<'de> for RawValueVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string, number, boolean or array of items")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
        serde_json::Number::from_f64(v)
            .map(RawValue::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Text(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(node) = seq.next_element::<RawNode>()? {
            items.push(node);
        }
        Ok(RawValue::Items(items))
    }
}

pub(crate) fn read(input: &str, mut options: ReadOptions<'_>) -> Result<Item, TextError> {
    if input.len() > options.limits.max_message_size {
        let kind = TextErrorKind::InputTooLarge {
            limit: options.limits.max_message_size,
        };
        return Err(TextError::new(kind, Location::default()));
    }
    let root: RawNode = serde_json::from_str(input).map_err(|e| {
        let location = Location {
            line: Some(e.line() as u64),
            column: Some(e.column() as u64),
            path: String::new(),
        };
        let message = e.to_string();
        let kind = if message.starts_with("recursion limit exceeded") {
            TextErrorKind::TooDeep {
                limit: options.limits.max_depth,
            }
        } else {
            TextErrorKind::Syntax(message)
        };
        TextError::new(kind, location)
    })?;
    let mut converter = Converter {
        options: &mut options,
        items: 0,
        path: Vec::new(),
    };
    converter.convert(root, None)
}

struct Converter<'o, 'r> {
    options: &'o mut ReadOptions<'r>,
    items: usize,
    path: Vec<String>,
}

impl Converter<'_, '_> {
    /// Converts one node; `context` is its parent's attribute context, which picks the enumeration and mask
    /// names for an Attribute Value beside an Attribute Name.
    fn convert(
        &mut self,
        node: RawNode,
        context: Option<&AttributeContext>,
    ) -> Result<Item, TextError> {
        self.path.push(node.tag.clone());
        if self.path.len() > self.options.limits.max_depth {
            return Err(self.error(TextErrorKind::TooDeep {
                limit: self.options.limits.max_depth,
            }));
        }
        self.items += 1;
        if self.items > self.options.limits.max_items {
            return Err(self.error(TextErrorKind::TooManyItems {
                limit: self.options.limits.max_items,
            }));
        }
        let tag = parse_tag(&node.tag).ok_or_else(|| {
            let kind = if node.tag.starts_with("0x") {
                TextErrorKind::BadTag(node.tag.clone())
            } else {
                TextErrorKind::UnknownTagName(node.tag.clone())
            };
            self.error(kind)
        })?;
        let item_type = match &node.item_type {
            None => ItemType::Structure,
            Some(name) => ItemType::from_name(name)
                .ok_or_else(|| self.error(TextErrorKind::UnknownType(name.clone())))?,
        };
        let names_tag = context.map_or(tag, |c| c.names_tag(tag));
        let value = match (item_type, node.value) {
            (ItemType::Structure, RawValue::Items(nodes)) => {
                let mut children = Vec::with_capacity(nodes.len());
                let mut child_context = AttributeContext::default();
                for child in nodes {
                    let item = self.convert(child, Some(&child_context))?;
                    child_context.observe(&item);
                    children.push(item);
                }
                Value::Structure(children)
            }
            (ItemType::Structure, _) => {
                return Err(self.error(TextErrorKind::StructureWithValue { tag }))
            }
            (item_type, RawValue::Items(_)) => {
                return Err(self.error(TextErrorKind::ChildrenInPrimitive { tag, item_type }))
            }
            (item_type, RawValue::Text(text)) => resolve_or_parse(
                &mut self.options.resolver,
                Dialect::Json,
                tag,
                names_tag,
                item_type,
                &text,
            )
            .map_err(|kind| self.error(kind))?,
            (item_type, RawValue::Number(number)) => {
                parse_json_number(tag, item_type, &number).map_err(|kind| self.error(kind))?
            }
            (ItemType::Boolean, RawValue::Bool(b)) => Value::Boolean(b),
            (item_type, RawValue::Bool(b)) => {
                let kind = TextErrorKind::BadValue {
                    tag,
                    item_type,
                    shown: b.to_string(),
                    reason: "a boolean is only valid for a Boolean item",
                };
                return Err(self.error(kind));
            }
        };
        self.path.pop();
        Ok(Item::new(tag, value))
    }

    fn error(&self, kind: TextErrorKind) -> TextError {
        TextError::new(
            kind,
            Location {
                line: None,
                column: None,
                path: self.path.join("/"),
            },
        )
    }
}
