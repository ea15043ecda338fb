//! The `$NAME` values of a test case: values only known when the case runs.
//!
//! Reading a case leaves TextString placeholders as their literal text (`$UNIQUE_IDENTIFIER_0`) and turns the
//! others into recognisable stand-ins: a Byte String placeholder (`$IV_COUNTER_NONCE`, `$DATA_0`, ...) becomes
//! a byte string with a marker prefix no server could return, and `$NOW±n` becomes a Date Time far outside any
//! real date that encodes the offset. The runner then, per message:
//! - in requests, substitutes captured values and the current time ([`Bindings::substitute`]);
//! - in expected responses, captures the server's value at the first appearance of a name and checks later
//!   appearances against it ([`Bindings::bind`]), and accepts a time within a slack of `$NOW±n`.
//!
//! A few cases use a placeholder in a request that no expected response spells out (CS-AC-M-6: MAC Verify
//! sends `$MAC_DATA`, the MAC response shows the literal MAC; CS-BC-M-13-14 likewise with `$DATA_0`). The
//! name says what it stands for, so an unbound `$MAC_DATA` or `$DATA_n` takes the value of the item of that
//! tag (MAC Data, Data) in the latest response that had one ([`Bindings::remember_response`]), and keeps it.

use std::collections::BTreeMap;

use ttlv::{Item, ItemType, Placeholder, Value};

/// The prefix of a Byte String stand-in; the placeholder's name follows.
const BYTES_MARKER: &[u8] = b"\0qkms-conformance-placeholder:";

/// `$NOW` is read as this instant plus the offset: about 146 billion years before the epoch, which no server
/// date and no offset in a test case (at most days) can reach.
const NOW_BASE: i64 = i64::MIN / 2;
/// Stand-ins lie within this distance of [`NOW_BASE`].
const NOW_RANGE: i64 = 1 << 40;

/// The resolver handed to [`ttlv::xml::read_test_case`]: stand-ins for every non-text placeholder kind the
/// OASIS cases use; `None` (TextString: stays literal; anything else: a read error naming the placeholder).
pub fn stand_in(placeholder: &Placeholder<'_>) -> Option<Value> {
    match placeholder.item_type {
        ItemType::DateTime => placeholder
            .now_offset()
            .map(|offset| Value::DateTime(NOW_BASE + offset)),
        ItemType::DateTimeExtended => placeholder
            .now_offset()
            .map(|offset| Value::DateTimeExtended(NOW_BASE + offset)),
        ItemType::ByteString => {
            let mut bytes = BYTES_MARKER.to_vec();
            bytes.extend_from_slice(placeholder.name.as_bytes());
            Some(Value::ByteString(bytes))
        }
        _ => None,
    }
}

/// What a value in a case document stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Marker<'a> {
    /// `$NAME` in a Text String or Byte String: a value captured from the server.
    Captured(&'a str),
    /// `$NOW±offset` (seconds).
    Now(i64),
    /// An ordinary value.
    Literal,
}

/// Classifies `value` as read from a case document.
pub fn marker(value: &Value) -> Marker<'_> {
    match value {
        Value::TextString(text) => match Placeholder::parse(text) {
            Some(name) if !name.starts_with("NOW") => Marker::Captured(name),
            _ => Marker::Literal,
        },
        Value::ByteString(bytes) => match bytes.strip_prefix(BYTES_MARKER) {
            Some(name) => std::str::from_utf8(name).map_or(Marker::Literal, Marker::Captured),
            None => Marker::Literal,
        },
        Value::DateTime(v) | Value::DateTimeExtended(v) if (*v - NOW_BASE).abs() < NOW_RANGE => {
            Marker::Now(*v - NOW_BASE)
        }
        _ => Marker::Literal,
    }
}

/// A request used a placeholder no earlier response defined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request uses ${name} before any response defined it")]
pub struct Unbound {
    pub name: String,
}

/// Why a captured value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error("${name} was {bound:?} earlier, now {got:?}")]
    Changed {
        name: String,
        bound: Value,
        got: Value,
    },
    #[error("${name} and ${other} were given the same identifier {value:?}")]
    NotUnique {
        name: String,
        other: String,
        value: Value,
    },
    #[error("${name} stands for a {expected}, the server sent a {got}")]
    WrongType {
        name: String,
        expected: &'static str,
        got: &'static str,
    },
}

/// The values captured so far in one case, by placeholder name (without `$`).
#[derive(Clone, Debug, Default)]
pub struct Bindings {
    values: BTreeMap<String, Value>,
    /// The leaves of the latest response, by tag name upper-cased without separators (`MACDATA`).
    latest: BTreeMap<String, Value>,
}

impl Bindings {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value captured for `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Captures `got` for `name`, or checks it against the earlier capture. Identifiers
    /// (`UNIQUE_IDENTIFIER_n`, `SHORT_UNIQUE_IDENTIFIER_n`) must also differ from every other identifier
    /// placeholder's value: two objects with one identifier is a server bug.
    pub fn bind(
        &mut self,
        name: &str,
        expected_type: ItemType,
        got: &Value,
    ) -> Result<(), BindError> {
        if got.item_type() != expected_type {
            return Err(BindError::WrongType {
                name: name.to_owned(),
                expected: expected_type.name(),
                got: got.item_type().name(),
            });
        }
        if let Some(bound) = self.values.get(name) {
            return if bound == got {
                Ok(())
            } else {
                Err(BindError::Changed {
                    name: name.to_owned(),
                    bound: bound.clone(),
                    got: got.clone(),
                })
            };
        }
        if is_identifier(name) {
            let clash = self
                .values
                .iter()
                .find(|(other, value)| is_identifier(other) && *value == got);
            if let Some((other, _)) = clash {
                return Err(BindError::NotUnique {
                    name: name.to_owned(),
                    other: other.clone(),
                    value: got.clone(),
                });
            }
        }
        self.values.insert(name.to_owned(), got.clone());
        Ok(())
    }

    /// Keeps the text and byte-string leaves of `response` for placeholders no expected response defines.
    pub fn remember_response(&mut self, response: &Item) {
        let mut pending = vec![response];
        while let Some(item) = pending.pop() {
            match &item.value {
                // Reversed, so that the first of several same-named items is the one kept.
                Value::Structure(children) => pending.extend(children.iter().rev()),
                Value::ByteString(_) | Value::TextString(_) => {
                    if let Some(name) = ttlv::dictionary::tag_name(item.tag) {
                        self.latest
                            .insert(name.to_ascii_uppercase(), item.value.clone());
                    }
                }
                _ => {}
            }
        }
    }

    /// The value a request placeholder stands for: its capture, else (captured now, for later requests) the
    /// latest response item named like it.
    fn lookup(&mut self, name: &str) -> Option<Value> {
        if let Some(value) = self.values.get(name) {
            return Some(value.clone());
        }
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
        let base = base.strip_suffix('_').unwrap_or(base);
        let value = self.latest.get(&base.replace('_', ""))?.clone();
        self.values.insert(name.to_owned(), value.clone());
        Some(value)
    }

    /// `request` with every placeholder replaced: captured values, and `$NOW±n` as `now + n` (Unix seconds).
    pub fn substitute(&mut self, request: &Item, now: i64) -> Result<Item, Unbound> {
        let value = match &request.value {
            Value::Structure(children) => Value::Structure(
                children
                    .iter()
                    .map(|child| self.substitute(child, now))
                    .collect::<Result<_, _>>()?,
            ),
            other => match marker(other) {
                Marker::Literal => other.clone(),
                Marker::Captured(name) => self.lookup(name).ok_or_else(|| Unbound {
                    name: name.to_owned(),
                })?,
                Marker::Now(offset) => match other {
                    Value::DateTimeExtended(_) => {
                        Value::DateTimeExtended((now + offset).saturating_mul(1_000_000))
                    }
                    _ => Value::DateTime(now + offset),
                },
            },
        };
        Ok(Item::new(request.tag, value))
    }
}

fn is_identifier(name: &str) -> bool {
    name.starts_with("UNIQUE_IDENTIFIER") || name.starts_with("SHORT_UNIQUE_IDENTIFIER")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttlv::{tags, ReadOptions};

    fn read(doc: &str) -> Vec<Item> {
        let mut resolve = |p: &Placeholder<'_>| stand_in(p);
        ttlv::xml::read_test_case(doc, ReadOptions::default().with_placeholders(&mut resolve))
            .unwrap()
    }

    #[test]
    fn stand_ins_are_classified_back_to_their_placeholders() {
        let items = read(
            r#"<KMIP><RequestMessage>
            <TimeStamp type="DateTime" value="$NOW-3600"/>
            <IVCounterNonce type="ByteString" value="$IV_COUNTER_NONCE"/>
            <UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_2"/>
            <UniqueIdentifier type="TextString" value="plain"/>
            </RequestMessage></KMIP>"#,
        );
        let kinds: Vec<_> = items[0]
            .children()
            .iter()
            .map(|c| marker(&c.value))
            .collect();
        assert_eq!(
            kinds,
            vec![
                Marker::Now(-3600),
                Marker::Captured("IV_COUNTER_NONCE"),
                Marker::Captured("UNIQUE_IDENTIFIER_2"),
                Marker::Literal
            ]
        );
    }

    #[test]
    fn substitution_fills_captured_values_and_times_and_refuses_unbound_names() {
        let items = read(
            r#"<KMIP><RequestMessage>
            <TimeStamp type="DateTime" value="$NOW+60"/>
            <UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>
            </RequestMessage></KMIP>"#,
        );
        let mut bindings = Bindings::new();
        let unbound = bindings.substitute(&items[0], 1000).unwrap_err();
        assert_eq!(unbound.name, "UNIQUE_IDENTIFIER_0");
        bindings
            .bind(
                "UNIQUE_IDENTIFIER_0",
                ItemType::TextString,
                &Value::TextString("k1".into()),
            )
            .unwrap();
        let sent = bindings.substitute(&items[0], 1000).unwrap();
        assert_eq!(sent.children()[0].value, Value::DateTime(1060));
        assert_eq!(
            sent.children()[1],
            Item::new(tags::UNIQUE_IDENTIFIER, Value::TextString("k1".into()))
        );
    }

    #[test]
    fn an_unbound_request_placeholder_takes_the_latest_response_item_of_its_name() {
        let items = read(
            r#"<KMIP><RequestMessage>
            <MACData type="ByteString" value="$MAC_DATA"/>
            <Data type="ByteString" value="$DATA_0"/>
            </RequestMessage></KMIP>"#,
        );
        let response = Item::structure(
            tags::RESPONSE_PAYLOAD,
            vec![
                Item::new(tags::MAC_DATA, Value::ByteString(vec![1, 2])),
                Item::new(tags::DATA, Value::ByteString(vec![3])),
            ],
        );
        let mut bindings = Bindings::new();
        assert!(bindings.substitute(&items[0], 0).is_err());
        bindings.remember_response(&response);
        let sent = bindings.substitute(&items[0], 0).unwrap();
        assert_eq!(sent.children()[0].value, Value::ByteString(vec![1, 2]));
        assert_eq!(sent.children()[1].value, Value::ByteString(vec![3]));
    }

    #[test]
    fn a_binding_must_stay_the_same_and_identifiers_must_be_distinct() {
        let mut b = Bindings::new();
        let k1 = Value::TextString("k1".into());
        b.bind("UNIQUE_IDENTIFIER_0", ItemType::TextString, &k1)
            .unwrap();
        b.bind("UNIQUE_IDENTIFIER_0", ItemType::TextString, &k1)
            .unwrap();
        assert!(matches!(
            b.bind(
                "UNIQUE_IDENTIFIER_0",
                ItemType::TextString,
                &Value::TextString("k2".into())
            ),
            Err(BindError::Changed { .. })
        ));
        assert!(matches!(
            b.bind("UNIQUE_IDENTIFIER_1", ItemType::TextString, &k1),
            Err(BindError::NotUnique { .. })
        ));
        assert!(matches!(
            b.bind("DATA_0", ItemType::ByteString, &k1),
            Err(BindError::WrongType { .. })
        ));
    }
}
