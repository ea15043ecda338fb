//! Naming an attribute without its value: the 1.x Attribute Name text and the 2.x Attribute Reference, as Get
//! Attributes, Get Attribute List and Delete Attribute use them.

use ttlv::{tags, Item, Value};

use super::name::{AttributeName, KnownAttribute};
use super::values::text_item;
use crate::error::{tag_label, DecodeError};
use crate::fields::{self, Fields};
use crate::version::ProtocolVersion;

impl AttributeName {
    /// The 1.x form: an Attribute Name text item. `None` when the attribute has no 1.x name.
    pub fn to_v1_reference(&self) -> Option<Item> {
        Some(text_item(tags::ATTRIBUTE_NAME, &self.text_name()?))
    }

    /// The 2.x Attribute Reference: an Enumeration holding the attribute's tag, or for a vendor attribute a
    /// Structure {Vendor Identification, Attribute Name}. `None` when the attribute has no 2.x tag.
    pub fn to_v2_reference(&self) -> Option<Item> {
        match self {
            Self::Vendor {
                vendor_identification,
                attribute_name,
            } => Some(Item::structure(
                tags::ATTRIBUTE_REFERENCE,
                vec![
                    text_item(tags::VENDOR_IDENTIFICATION, vendor_identification),
                    text_item(tags::ATTRIBUTE_NAME, attribute_name),
                ],
            )),
            _ => Some(Item::new(
                tags::ATTRIBUTE_REFERENCE,
                Value::Enumeration(self.tag()?.0),
            )),
        }
    }

    /// The reference in `version`'s form; `None` when `version` lacks the attribute.
    pub fn to_reference(&self, version: ProtocolVersion) -> Option<Item> {
        if !self.is_available_in(version) {
            return None;
        }
        if version.is_v2() {
            self.to_v2_reference()
        } else {
            self.to_v1_reference()
        }
    }

    pub fn from_v1_reference(item: &Item) -> Result<Self, DecodeError> {
        if item.tag != tags::ATTRIBUTE_NAME {
            return Err(DecodeError::invalid_field(
                item.tag,
                format!("expected an Attribute Name, found {}", tag_label(item.tag)),
            ));
        }
        Ok(Self::from_text_name(fields::text(item)?))
    }

    pub fn from_v2_reference(item: &Item) -> Result<Self, DecodeError> {
        if item.tag != tags::ATTRIBUTE_REFERENCE {
            return Err(DecodeError::invalid_field(
                item.tag,
                format!(
                    "expected an Attribute Reference, found {}",
                    tag_label(item.tag)
                ),
            ));
        }
        match &item.value {
            Value::Enumeration(tag) => {
                let tag = ttlv::Tag(*tag);
                if tag.0 >> 16 != 0x42 && !tag.is_extension() {
                    return Err(DecodeError::invalid_field(
                        item.tag,
                        format!("Attribute Reference {tag} is not a tag"),
                    ));
                }
                Ok(Self::from_tag(tag))
            }
            Value::Structure(_) => {
                let f = Fields::of_any(item)?;
                let vendor_identification = f.required_text(tags::VENDOR_IDENTIFICATION)?;
                let attribute_name = f.required_text(tags::ATTRIBUTE_NAME)?;
                // PyKMIP 0.11 names a standard attribute this way at 2.0 (Vendor Identification "" and the
                // attribute's specification name, e.g. in Delete Attribute): its meaning is clear, so it is that
                // standard attribute, not a custom attribute of an empty vendor.
                if vendor_identification.is_empty() {
                    if let Some(known) = KnownAttribute::from_text_name(attribute_name) {
                        return Ok(Self::Known(known));
                    }
                }
                Ok(Self::Vendor {
                    vendor_identification: vendor_identification.to_owned(),
                    attribute_name: attribute_name.to_owned(),
                })
            }
            other => Err(DecodeError::invalid_field(
                item.tag,
                format!(
                    "Attribute Reference must be an Enumeration or a Structure, found {}",
                    other.item_type().name()
                ),
            )),
        }
    }

    /// Decodes an Attribute Name (1.x) or Attribute Reference (2.x) item, in the form its tag names (either
    /// may come in the other family's message), by the version's family for any other tag.
    pub fn from_reference(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let v2_form = match item.tag {
            tags::ATTRIBUTE_NAME => false,
            tags::ATTRIBUTE_REFERENCE => true,
            _ => version.is_v2(),
        };
        if v2_form {
            Self::from_v2_reference(item)
        } else {
            Self::from_v1_reference(item)
        }
    }
}

/// Encodes a list of attribute references for `version`, leaving out those `version` lacks.
pub fn encode_references(names: &[AttributeName], version: ProtocolVersion) -> Vec<Item> {
    names
        .iter()
        .filter_map(|name| name.to_reference(version))
        .collect()
}

/// Decodes every attribute reference among `items` (Attribute Name items in 1.x, Attribute Reference items in
/// 2.x), ignoring items with other tags.
pub fn decode_references<'a>(
    items: impl IntoIterator<Item = &'a Item>,
    version: ProtocolVersion,
) -> Result<Vec<AttributeName>, DecodeError> {
    let wanted = if version.is_v2() {
        tags::ATTRIBUTE_REFERENCE
    } else {
        tags::ATTRIBUTE_NAME
    };
    items
        .into_iter()
        .filter(|i| i.tag == wanted)
        .map(|i| AttributeName::from_reference(i, version))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vendor_reference(vendor: &str, name: &str) -> Item {
        Item::structure(
            tags::ATTRIBUTE_REFERENCE,
            vec![
                text_item(tags::VENDOR_IDENTIFICATION, vendor),
                text_item(tags::ATTRIBUTE_NAME, name),
            ],
        )
    }

    #[test]
    fn an_empty_vendor_naming_a_standard_attribute_is_that_attribute() {
        assert_eq!(
            AttributeName::from_v2_reference(&vendor_reference("", "Name")).unwrap(),
            AttributeName::Known(KnownAttribute::Name)
        );
        assert_eq!(
            AttributeName::from_v2_reference(&vendor_reference("", "Object Group")).unwrap(),
            AttributeName::Known(KnownAttribute::ObjectGroup)
        );
        // An unknown name with an empty vendor, and any name with a real vendor, stay vendor attributes.
        assert!(matches!(
            AttributeName::from_v2_reference(&vendor_reference("", "colour")).unwrap(),
            AttributeName::Vendor { .. }
        ));
        assert!(matches!(
            AttributeName::from_v2_reference(&vendor_reference("acme", "Name")).unwrap(),
            AttributeName::Vendor { .. }
        ));
    }
}
