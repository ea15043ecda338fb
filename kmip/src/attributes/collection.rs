//! An object's attributes as one ordered, multi-valued collection, and its two wire forms: 1.x
//! Template-Attribute {Name*, Attribute*} and 2.x Attributes {attribute*}.

use ttlv::{tags, Item, Tag, Value};

use super::attribute::{Attribute, DateTime};
use super::name::{AttributeName, KnownAttribute};
use super::usage_mask::CryptographicUsageMask;
use super::values::{CryptographicParameters, Link, Name, StructuredValue};
use crate::enums::{CryptographicAlgorithm, LinkType, ObjectType, State};
use crate::error::{tag_label, DecodeError};
use crate::fields::Fields;
use crate::version::ProtocolVersion;

/// Attributes in the order received or added; a multi-valued attribute (Name, Link, Object Group, ...) appears
/// once per value, and its 1.x Attribute Index is its position among the attributes of the same name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    attributes: Vec<Attribute>,
    /// 1.x Template-Attribute Names (references to Template objects, not Name attributes); 2.x has none.
    pub template_names: Vec<Name>,
}

/// The tags of 1.x Template-Attribute structures and of 2.x Attributes structures.
const V1_TAGS: &[Tag] = &[
    tags::TEMPLATE_ATTRIBUTE,
    tags::COMMON_TEMPLATE_ATTRIBUTE,
    tags::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
    tags::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
];
const V2_TAGS: &[Tag] = &[
    tags::ATTRIBUTES,
    tags::COMMON_ATTRIBUTES,
    tags::PRIVATE_KEY_ATTRIBUTES,
    tags::PUBLIC_KEY_ATTRIBUTES,
];

impl Attributes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, attribute: Attribute) {
        self.attributes.push(attribute);
    }

    /// Replaces every value of `attribute`'s name with `attribute` (single-valued semantics, at the place of
    /// the first old value).
    pub fn set(&mut self, attribute: Attribute) {
        let name = attribute.name();
        match self.attributes.iter().position(|a| a.name() == name) {
            Some(first) => {
                self.attributes[first] = attribute;
                let mut index = 0;
                self.attributes.retain(|a| {
                    let keep = index <= first || a.name() != name;
                    index += 1;
                    keep
                });
            }
            None => self.attributes.push(attribute),
        }
    }

    /// Removes the `index`-th value of `name` (all of them for `None`); returns what was removed.
    pub fn remove(&mut self, name: &AttributeName, index: Option<usize>) -> Vec<Attribute> {
        let mut seen = 0;
        let mut removed = Vec::new();
        let mut kept = Vec::with_capacity(self.attributes.len());
        for attribute in self.attributes.drain(..) {
            if attribute.name() == *name {
                let this = seen;
                seen += 1;
                if index.is_none_or(|wanted| wanted == this) {
                    removed.push(attribute);
                    continue;
                }
            }
            kept.push(attribute);
        }
        self.attributes = kept;
        removed
    }

    pub fn len(&self) -> usize {
        self.attributes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Attribute> {
        self.attributes.iter()
    }

    pub fn as_slice(&self) -> &[Attribute] {
        &self.attributes
    }

    pub fn into_vec(self) -> Vec<Attribute> {
        self.attributes
    }

    /// The first value of `name`.
    pub fn get(&self, name: &AttributeName) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name() == *name)
    }

    /// Every value of `name`, in order (the 1.x Attribute Index is the position here).
    pub fn get_all<'a>(
        &'a self,
        name: &'a AttributeName,
    ) -> impl Iterator<Item = &'a Attribute> + 'a {
        self.attributes.iter().filter(move |a| a.name() == *name)
    }

    fn first<'a, T>(&'a self, pick: impl Fn(&'a Attribute) -> Option<T>) -> Option<T> {
        self.attributes.iter().find_map(pick)
    }

    pub fn unique_identifier(&self) -> Option<&str> {
        self.first(|a| match a {
            Attribute::UniqueIdentifier(id) => Some(id.as_str()),
            _ => None,
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &Name> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Name(name) => Some(name),
            _ => None,
        })
    }

    pub fn object_type(&self) -> Option<ObjectType> {
        self.first(|a| match a {
            Attribute::ObjectType(v) => Some(*v),
            _ => None,
        })
    }

    pub fn cryptographic_algorithm(&self) -> Option<CryptographicAlgorithm> {
        self.first(|a| match a {
            Attribute::CryptographicAlgorithm(v) => Some(*v),
            _ => None,
        })
    }

    pub fn cryptographic_length(&self) -> Option<i32> {
        self.first(|a| match a {
            Attribute::CryptographicLength(v) => Some(*v),
            _ => None,
        })
    }

    pub fn cryptographic_usage_mask(&self) -> Option<CryptographicUsageMask> {
        self.first(|a| match a {
            Attribute::CryptographicUsageMask(v) => Some(*v),
            _ => None,
        })
    }

    pub fn cryptographic_parameters(&self) -> impl Iterator<Item = &CryptographicParameters> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::CryptographicParameters(p) => Some(p),
            _ => None,
        })
    }

    pub fn state(&self) -> Option<State> {
        self.first(|a| match a {
            Attribute::State(v) => Some(*v),
            _ => None,
        })
    }

    pub fn activation_date(&self) -> Option<DateTime> {
        self.first(|a| match a {
            Attribute::ActivationDate(v) => Some(*v),
            _ => None,
        })
    }

    pub fn links(&self) -> impl Iterator<Item = &Link> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Link(link) => Some(link),
            _ => None,
        })
    }

    /// The object linked by the first link of type `link_type`.
    pub fn linked(&self, link_type: LinkType) -> Option<&str> {
        self.links()
            .find(|l| l.link_type == link_type)
            .map(|l| l.linked_object_identifier.as_str())
    }

    /// The value of the vendor attribute `vendor`/`name` (1.x: the custom attribute `vendor-name`).
    pub fn custom(&self, vendor: &str, name: &str) -> Option<&Value> {
        self.first(|a| match a {
            Attribute::Custom(c)
                if c.vendor_identification == vendor && c.attribute_name == name =>
            {
                Some(&c.value)
            }
            _ => None,
        })
    }

    /// Whether any value of the typed attribute `known` is present.
    pub fn contains(&self, known: KnownAttribute) -> bool {
        self.attributes.iter().any(|a| a.known() == Some(known))
    }

    /// The attribute items for `version`, leaving out attributes that version lacks (1.x: Attribute
    /// structures without index; 2.x: each under its own tag).
    pub fn to_items(&self, version: ProtocolVersion) -> Vec<Item> {
        self.attributes
            .iter()
            .filter_map(|a| a.to_ttlv(version, None))
            .collect()
    }

    /// The whole collection for `version`: 1.x `v1_tag {Name*, Attribute*}` (Template-Attribute, Common
    /// Template-Attribute, ...), 2.x `v2_tag {attribute*}` (Attributes, Common Attributes, ...).
    pub fn to_ttlv(&self, version: ProtocolVersion, v1_tag: Tag, v2_tag: Tag) -> Item {
        if version.is_v2() {
            Item::structure(v2_tag, self.to_items(version))
        } else {
            let mut children: Vec<Item> = self
                .template_names
                .iter()
                .map(|n| Item::structure(tags::NAME, n.children()))
                .collect();
            children.extend(self.to_items(version));
            Item::structure(v1_tag, children)
        }
    }

    /// Decodes a Template-Attribute-like (1.x) or Attributes-like (2.x) structure, whatever its tag.
    pub fn from_ttlv(item: &Item, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let f = Fields::of_any(item)?;
        // The structure's tag names its family when it has one of the family's tags: a 1.x Template-Attribute
        // in a 2.x message (PyKMIP's 2.0 Re-key) is read as 1.x, a 2.x Attributes in a 1.x message as 2.x.
        let v2_form = if V1_TAGS.contains(&item.tag) {
            false
        } else {
            V2_TAGS.contains(&item.tag) || version.is_v2()
        };
        if v2_form {
            let attributes = f
                .children
                .iter()
                .map(Attribute::from_v2)
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Self {
                attributes,
                template_names: Vec::new(),
            });
        }
        let mut out = Self::new();
        for child in f.children {
            match child.tag {
                tags::NAME => out
                    .template_names
                    .push(Name::from_fields(&Fields::of_any(child)?)?),
                tags::ATTRIBUTE => out.push(Attribute::from_v1(child)?),
                other => {
                    return Err(DecodeError::invalid_field(
                        other,
                        format!("unexpected {} in {}", tag_label(other), tag_label(item.tag)),
                    ))
                }
            }
        }
        Ok(out)
    }

    /// Decodes bare attribute items (1.x Attribute structures, or 2.x attribute items), e.g. the attributes
    /// of a 1.x Get Attributes response.
    pub fn from_items<'a>(
        items: impl IntoIterator<Item = &'a Item>,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let attributes = items
            .into_iter()
            .map(|i| Attribute::from_ttlv(i, version))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            attributes,
            template_names: Vec::new(),
        })
    }
}

impl From<Vec<Attribute>> for Attributes {
    fn from(attributes: Vec<Attribute>) -> Self {
        Self {
            attributes,
            template_names: Vec::new(),
        }
    }
}

impl FromIterator<Attribute> for Attributes {
    fn from_iter<I: IntoIterator<Item = Attribute>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = &'a Attribute;
    type IntoIter = std::slice::Iter<'a, Attribute>;
    fn into_iter(self) -> Self::IntoIter {
        self.attributes.iter()
    }
}

impl IntoIterator for Attributes {
    type Item = Attribute;
    type IntoIter = std::vec::IntoIter<Attribute>;
    fn into_iter(self) -> Self::IntoIter {
        self.attributes.into_iter()
    }
}

impl Extend<Attribute> for Attributes {
    fn extend<I: IntoIterator<Item = Attribute>>(&mut self, iter: I) {
        self.attributes.extend(iter);
    }
}
