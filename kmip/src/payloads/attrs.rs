//! How payloads carry attributes in each protocol family: Template-Attribute vs Attributes structures,
//! `Attribute*` vs one `Attributes`, Attribute Name vs Attribute Reference, `Attribute` vs New/Current
//! Attribute. The attribute values themselves are `crate::attributes`.

use ttlv::{tags, Item, Tag};

use super::field::{MultiField, TtlvField};
use crate::attributes::{Attribute, AttributeName, Attributes};
use crate::error::{tag_label, DecodeError};
use crate::fields::Fields;
use crate::version::ProtocolVersion;

/// The attribute in the family's form, whether or not `version` defines it (the caller chose to send it).
fn attribute_item(attribute: &Attribute, index: Option<i32>, version: ProtocolVersion) -> Item {
    let (first, second) = if version.is_v2() {
        (attribute.to_v2(), attribute.to_v1(index))
    } else {
        (attribute.to_v1(index), attribute.to_v2())
    };
    // An attribute always has a name in at least one family (it was decoded from one or built typed).
    first
        .or(second)
        .unwrap_or_else(|| Item::structure(tags::ATTRIBUTE, Vec::new()))
}

/// A list of attributes in a structure of its own: 1.x Template-Attribute-like, 2.x Attributes-like; the
/// structure's tag is the field's (use a `(1.x tag, 2.x tag)` pair).
impl TtlvField for Attributes {
    fn to_item(&self, tag: Tag, version: ProtocolVersion) -> Item {
        self.to_ttlv(version, tag, tag)
    }

    fn from_item(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError> {
        Attributes::from_ttlv(item, version)
    }
}

/// Attributes listed in a payload: 1.x `Attribute*` directly in the payload, 2.x one `Attributes` structure
/// (always written in 2.x, where it is required).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PayloadAttributes(pub Attributes);

impl MultiField for PayloadAttributes {
    fn encode_into(&self, version: ProtocolVersion, out: &mut Vec<Item>) {
        if version.is_v2() {
            out.push(self.0.to_ttlv(version, tags::ATTRIBUTES, tags::ATTRIBUTES));
        } else {
            out.extend(self.0.to_items(version));
        }
    }

    /// Either family's form in either family's message, read by its tag (see `FieldTag::accepts`).
    fn claims(tag: Tag, _: ProtocolVersion) -> bool {
        tag == tags::ATTRIBUTES || tag == tags::ATTRIBUTE
    }

    fn decode_one(&mut self, item: &Item, version: ProtocolVersion) -> Result<(), DecodeError> {
        if item.tag == tags::ATTRIBUTES {
            if !self.0.is_empty() {
                return Err(DecodeError::invalid_field(
                    item.tag,
                    "Attributes appears more than once",
                ));
            }
            self.0 = Attributes::from_ttlv(item, version)?;
        } else if version.is_v2() {
            // A 1.x-form Attribute, or a 2.x vendor attribute.
            self.0.push(Attribute::from_v2(item)?);
        } else {
            self.0.push(Attribute::from_v1(item)?);
        }
        Ok(())
    }
}

/// Attributes named without values: 1.x `Attribute Name*`, 2.x `Attribute Reference*`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttributeNames(pub Vec<AttributeName>);

impl MultiField for AttributeNames {
    fn encode_into(&self, version: ProtocolVersion, out: &mut Vec<Item>) {
        out.extend(self.0.iter().map(|n| reference_item(n, version)));
    }

    /// Either family's form in either family's message, read by its tag.
    fn claims(tag: Tag, _: ProtocolVersion) -> bool {
        tag == tags::ATTRIBUTE_REFERENCE || tag == tags::ATTRIBUTE_NAME
    }

    fn decode_one(&mut self, item: &Item, version: ProtocolVersion) -> Result<(), DecodeError> {
        self.0.push(AttributeName::from_reference(item, version)?);
        Ok(())
    }
}

fn reference_item(name: &AttributeName, version: ProtocolVersion) -> Item {
    let (first, second) = if version.is_v2() {
        (name.to_v2_reference(), name.to_v1_reference())
    } else {
        (name.to_v1_reference(), name.to_v2_reference())
    };
    first
        .or(second)
        .unwrap_or_else(|| Item::new(tags::ATTRIBUTE_NAME, ttlv::Value::TextString(String::new())))
}

/// One attribute name in a single field (Delete Attribute): 1.x Attribute Name, 2.x Attribute Reference. Use
/// the tag pair `(tags::ATTRIBUTE_NAME, tags::ATTRIBUTE_REFERENCE)`.
impl TtlvField for AttributeName {
    fn to_item(&self, _tag: Tag, version: ProtocolVersion) -> Item {
        reference_item(self, version)
    }
    fn from_item(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError> {
        AttributeName::from_reference(item, version)
    }
}

/// One attribute as an operation argument: 1.x `Attribute {Name, Index?, Value}`; 2.x a New Attribute /
/// Current Attribute structure holding the attribute under its own tag.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeArgument {
    pub attribute: Attribute,
    /// 1.x Attribute Index.
    pub index: Option<i32>,
}

impl From<Attribute> for AttributeArgument {
    fn from(attribute: Attribute) -> Self {
        Self {
            attribute,
            index: None,
        }
    }
}

impl TtlvField for AttributeArgument {
    fn to_item(&self, tag: Tag, version: ProtocolVersion) -> Item {
        if version.is_v2() {
            Item::structure(tag, vec![attribute_item(&self.attribute, None, version)])
        } else {
            attribute_item(&self.attribute, self.index, version)
        }
    }

    /// The form is the tag's: a 1.x `Attribute` in either family's message, a New/Current Attribute
    /// wrapper otherwise.
    fn from_item(item: &Item, _: ProtocolVersion) -> Result<Self, DecodeError> {
        if item.tag != tags::ATTRIBUTE {
            let fields = Fields::of_any(item)?;
            match fields.children {
                [one] => Ok(Self {
                    attribute: Attribute::from_v2(one)?,
                    index: None,
                }),
                _ => Err(DecodeError::invalid_field(
                    item.tag,
                    format!("{} must hold exactly one attribute", tag_label(item.tag)),
                )),
            }
        } else {
            let (attribute, index) = Attribute::from_v1_indexed(item)?;
            Ok(Self { attribute, index })
        }
    }
}
