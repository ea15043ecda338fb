//! How one audit record is kept in a row of `qkms_audit` (schema 7): its JSON text without the two members that
//! close it, `"previous_hash"` and `"hash"`, in `record`, and its hash as 32 bytes in `hash`. The previous hash
//! is the previous row's `hash` (the genesis hash for sequence 1), so the full text, byte for byte what the
//! node hashed, spooled and would have written to a file log, is rebuilt when the chain is read.
//!
//! Why: the database writes every record three times (its WAL, its heap page, the page's write-back), so its CPU
//! per record grows with the record's bytes (about 2.6 ns a byte for the insert alone on this machine); the two
//! hashes in hex are 158 of a Get's ~380 bytes, and one of them repeats the row before. The chain's guarantee
//! is unchanged: a record's hash still covers the previous record's hash, so altering, removing or inserting a
//! row still breaks the hash of the next one when `qkms audit verify` recomputes it.
//!
//! Rows written before schema 7 (and any record whose text does not end as the node writes it) hold the whole
//! text and no `hash`; both kinds read back alike and may follow one another in a chain.

/// `,"previous_hash":"` (hex) `","hash":"` (hex) `"}`: how every record's text ends (the last two members of
/// `AuditRecord`, always present, 64 hex digits each).
const PREVIOUS: &str = ",\"previous_hash\":\"";
const HASH: &str = "\",\"hash\":\"";
const END: &str = "\"}";
const HEX: usize = 64;
const SUFFIX: usize = PREVIOUS.len() + HEX + HASH.len() + HEX + END.len();

/// A record's text split at its hashes: (the text before them, previous hash, hash; both hex).
fn split(text: &str) -> Option<(&str, &str, &str)> {
    let at = text.len().checked_sub(SUFFIX)?;
    let suffix = text.get(at..)?;
    let (previous, rest) = suffix.strip_prefix(PREVIOUS)?.split_at_checked(HEX)?;
    let (hash, end) = rest.strip_prefix(HASH)?.split_at_checked(HEX)?;
    let hex = |h: &str| {
        h.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    (end == END && hex(previous) && hex(hash)).then(|| (&text[..at], previous, hash))
}

/// What a row holds for `text`: (`record`, `hash`). `None` for `hash`: the whole text is kept (it does not end as
/// the node writes records).
pub(super) fn to_row(text: &str) -> (String, Option<Vec<u8>>) {
    match split(text).and_then(|(body, _, hash)| Some((body, hex::decode(hash).ok()?))) {
        Some((body, hash)) => {
            let mut record = String::with_capacity(body.len() + 1);
            record.push_str(body);
            record.push('}');
            (record, Some(hash))
        }
        None => (text.to_owned(), None),
    }
}

/// A row read back: the record's full text, given the previous record's hash (hex; [`GENESIS_HASH`](crate::audit::GENESIS_HASH) for the
/// first; when rows are missing before this one, the hash of the row read before it, which makes the rebuilt
/// record fail its own hash where verification reports the gap), and this record's hash (hex), which the next
/// row needs.
pub fn from_row(record: String, hash: Option<&[u8]>, previous: &str) -> (String, String) {
    let Some(hash) = hash else {
        // A whole text: its own hash is in it (an empty one if it is not even shaped like a record: verification
        // then reports the record).
        let own = split(&record)
            .map(|(_, _, h)| h.to_owned())
            .unwrap_or_default();
        return (record, own);
    };
    let hash = hex::encode(hash);
    let body = record.strip_suffix('}').unwrap_or(&record);
    let mut text = String::with_capacity(body.len() + SUFFIX);
    for part in [body, PREVIOUS, previous, HASH, &hash, END] {
        text.push_str(part);
    }
    (text, hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditRecord, GENESIS_HASH};

    fn record(sequence: u64, previous: &str, detail: Option<&str>) -> String {
        let mut record = AuditRecord {
            version: 2,
            sequence,
            time: 1_796_607_373,
            tenant: "default".into(),
            role: "tenant".into(),
            operation: "Get".into(),
            objects: vec!["01a24e24-c8e8-79bd-ba3a-52b7e2778498".into()],
            targets: vec!["01a24e24-c8e8-79bd-ba3a-52b7e2778498".into()],
            result: "Success".into(),
            detail: detail.map(str::to_owned),
            previous_hash: previous.into(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        serde_json::to_string(&record).unwrap()
    }

    #[test]
    fn a_chain_of_rows_reads_back_byte_for_byte_and_the_row_is_158_bytes_shorter_plus_its_32_byte_hash(
    ) {
        let first = record(1, GENESIS_HASH, None);
        let first_hash = serde_json::from_str::<AuditRecord>(&first).unwrap().hash;
        let second = record(
            2,
            &first_hash,
            Some("a \"quoted\" detail, with \"hash\":\"x\" inside}"),
        );
        let mut previous = GENESIS_HASH.to_owned();
        for text in [&first, &second] {
            let (row, hash) = to_row(text);
            let hash = hash.expect("split");
            assert_eq!(hash.len(), 32);
            assert_eq!(row.len(), text.len() - SUFFIX + 1);
            assert!(
                serde_json::from_str::<serde_json::Value>(&row).is_ok(),
                "{row}"
            );
            assert!(!row.contains("previous_hash"), "{row}");
            let (back, own) = from_row(row, Some(&hash), &previous);
            assert_eq!(&back, text);
            previous = own;
        }
    }

    #[test]
    fn a_text_not_shaped_like_a_record_is_kept_whole_and_whole_rows_give_their_own_hash() {
        for odd in ["", "{}", "not json", "{\"hash\":\"00\"}"] {
            assert_eq!(to_row(odd), (odd.to_owned(), None));
        }
        let text = record(1, GENESIS_HASH, None);
        let own = serde_json::from_str::<AuditRecord>(&text).unwrap().hash;
        assert_eq!(from_row(text.clone(), None, "ignored"), (text.clone(), own));
        // Upper-case hex is not what the node writes: kept whole.
        let upper = text.replace(&text[text.len() - 66..text.len() - 2], &"A".repeat(64));
        assert_eq!(to_row(&upper).1, None);
    }

    #[test]
    fn a_record_rebuilt_with_the_wrong_previous_hash_fails_its_own_hash() {
        let text = record(5, &"ab".repeat(32), None);
        let (row, hash) = to_row(&text);
        let (back, _) = from_row(row, hash.as_deref(), &"cd".repeat(32));
        let back: AuditRecord = serde_json::from_str(&back).unwrap();
        assert_ne!(back.compute_hash(), back.hash);
    }
}
