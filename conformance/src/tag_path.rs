//! Human-readable paths to items (`BatchItem[0]/ResponsePayload/Attributes/Digest`), for reports and rules.

use ttlv::{dictionary, Item, Tag};

/// The KMIP-XML name of a tag (`UniqueIdentifier`), or its hex form for an unnamed tag.
pub fn tag_name(tag: Tag) -> String {
    dictionary::tag_name(tag)
        .map(str::to_owned)
        .unwrap_or_else(|| tag.to_string())
}

/// An item in compact KMIP-XML, shortened for a report line.
pub fn show(item: &Item) -> String {
    const MAX: usize = 300;
    let text = ttlv::xml::to_string(item).unwrap_or_else(|e| format!("{item:?} ({e})"));
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}...")
    } else {
        text
    }
}
