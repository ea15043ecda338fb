//! Template (KMIP 1.x §2.2.6, deprecated since 1.3 and removed in 2.0): a named managed object holding only
//! attributes, which a Create / Register / Create Key Pair applies when its Template-Attribute names it.
//!
//! A Template's attributes are always 1.x `Attribute {Name, Index?, Value}` structures: that is the only form the
//! object has on the wire, and the server stores objects in one encoding whatever version registered them. The
//! payload layer (`payloads::ObjectField`) refuses the object in 2.x messages.

use ttlv::{tags, Item};

use crate::attributes::{Attribute, Attributes};
use crate::error::DecodeError;
use crate::fields::Fields;
use crate::version::ProtocolVersion;

/// The version whose attribute form a Template's attributes take.
const TEMPLATE_FORM: ProtocolVersion = ProtocolVersion::V1_4;

/// Template {Attribute+}.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub attributes: Attributes,
}

impl Template {
    /// The Template item's children: one 1.x Attribute structure per value.
    pub fn children(&self) -> Vec<Item> {
        self.attributes.to_items(TEMPLATE_FORM)
    }

    /// Decodes a Template item: one or more Attribute structures and nothing else.
    pub fn from_ttlv(item: &Item) -> Result<Self, DecodeError> {
        let f = Fields::of(item, tags::TEMPLATE)?;
        if f.children.is_empty() {
            return Err(DecodeError::invalid_field(
                tags::TEMPLATE,
                "a Template holds at least one Attribute",
            ));
        }
        let attributes = f
            .children
            .iter()
            .map(|child| {
                if child.tag == tags::ATTRIBUTE {
                    Attribute::from_v1(child)
                } else {
                    Err(DecodeError::invalid_field(
                        child.tag,
                        format!(
                            "a Template holds only Attribute structures, not {}",
                            crate::error::tag_label(child.tag)
                        ),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            attributes: attributes.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::Name;
    use crate::enums::CryptographicAlgorithm;
    use ttlv::Value;

    fn template() -> Template {
        Template {
            attributes: vec![
                Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
                Attribute::CryptographicLength(256),
                Attribute::Name(Name::text("a")),
            ]
            .into(),
        }
    }

    #[test]
    fn a_template_round_trips_as_attribute_structures() {
        let item = Item::structure(tags::TEMPLATE, template().children());
        assert!(item.children().iter().all(|c| c.tag == tags::ATTRIBUTE));
        assert_eq!(Template::from_ttlv(&item).unwrap(), template());
    }

    #[test]
    fn an_empty_template_or_a_stray_item_is_invalid_field() {
        let empty = Item::structure(tags::TEMPLATE, Vec::new());
        assert_eq!(
            Template::from_ttlv(&empty).unwrap_err().reason,
            crate::ResultReason::InvalidField
        );
        let stray = Item::structure(
            tags::TEMPLATE,
            vec![Item::new(tags::CRYPTOGRAPHIC_LENGTH, Value::Integer(128))],
        );
        assert_eq!(
            Template::from_ttlv(&stray).unwrap_err().reason,
            crate::ResultReason::InvalidField
        );
    }
}
