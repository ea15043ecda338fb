//! Comparing a server's response with the expected one, by the rules of the KMIP 2.1 Profiles §4.1:
//!
//! - identifiers and other `$NAME` values are the server's choice: captured at first sight, then held to;
//!   two identifier placeholders may not get the same value;
//! - `$NOW±n` accepts any time within a slack of the moment the request was sent (plus n);
//! - the response header's Server Correlation Value is the server's own (not compared, present or not), and
//!   the header may carry a Client Correlation Value, Nonce or Attestation Type the reference server did not
//!   send;
//! - Result Message text is not compared (nor whether one is present); Result Status and Result Reason are;
//! - the attributes in a Get Attributes response, and the names in a Get Attribute List response, may come in
//!   any order, and the server may return more of them than the reference server did;
//! - a 1.x Attribute Index of 0 may be present or omitted.
//!
//! Everything else is compared exactly, in order, unless the overlay ([`crate::overlay`]) says otherwise for
//! the case.

use ttlv::{dictionary, tags, Item, Tag, Value};

use crate::overlay::{path_matches, Rule};
use crate::placeholders::{marker, Bindings, Marker};
use crate::tag_path::{show, tag_name};

/// The first place a response differs from the expected one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The request/response pair (0-based).
    pub step: usize,
    /// Tag names from the message down to the differing item.
    pub path: String,
    pub expected: String,
    pub got: String,
    /// Why they differ, where the values alone do not say.
    pub note: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "step {} at {}: expected {}, got {}",
            self.step, self.path, self.expected, self.got
        )?;
        if !self.note.is_empty() {
            write!(f, " ({})", self.note)?;
        }
        Ok(())
    }
}

/// What a comparison needs besides the two messages.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The overlay rules covering this file.
    pub rules: &'a [&'a Rule],
    pub step: usize,
    /// Unix seconds when the request was sent.
    pub sent_at: i64,
    /// How far (seconds) a `$NOW` time may lie from `sent_at`.
    pub slack: i64,
}

/// Compares `actual` with `expected`, capturing placeholders into `bindings`.
pub fn compare_response(
    context: &Context<'_>,
    bindings: &mut Bindings,
    expected: &Item,
    actual: &Item,
) -> Result<(), Divergence> {
    let mut walk = Walk {
        context,
        operation: None,
        path: Vec::new(),
    };
    walk.item(bindings, expected, actual)
        .map_err(|m| Divergence {
            step: context.step,
            path: m.path,
            expected: m.expected,
            got: m.got,
            note: m.note,
        })
}

struct Mismatch {
    path: String,
    expected: String,
    got: String,
    note: String,
}

/// Header fields a server may add (§4.1: server correlation values and the like differ between servers).
const OPTIONAL_HEADER_FIELDS: &[Tag] = &[
    tags::CLIENT_CORRELATION_VALUE,
    tags::NONCE,
    tags::ATTESTATION_TYPE,
];

struct Walk<'c> {
    context: &'c Context<'c>,
    operation: Option<&'static str>,
    path: Vec<String>,
}

impl Walk<'_> {
    fn mismatch(&self, expected: String, got: String, note: impl Into<String>) -> Mismatch {
        Mismatch {
            path: self.path.join("/"),
            expected,
            got,
            note: note.into(),
        }
    }

    fn rules(&self) -> impl Iterator<Item = &Rule> {
        let (step, operation) = (self.context.step, self.operation);
        self.context
            .rules
            .iter()
            .copied()
            .filter(move |r| r.covers(step, operation))
    }

    fn item(&mut self, b: &mut Bindings, expected: &Item, actual: &Item) -> Result<(), Mismatch> {
        self.path.push(tag_name(expected.tag));
        let result = self.item_inner(b, expected, actual);
        self.path.pop();
        result
    }

    fn item_inner(&mut self, b: &mut Bindings, e: &Item, a: &Item) -> Result<(), Mismatch> {
        if e.tag != a.tag {
            return Err(self.mismatch(shown_expected(e), show(a), "different item"));
        }
        match (&e.value, &a.value) {
            (Value::Structure(ec), Value::Structure(ac)) => self.structure(b, e.tag, ec, ac),
            (Value::Structure(_), _) | (_, Value::Structure(_)) => {
                Err(self.mismatch(shown_expected(e), show(a), "different item type"))
            }
            _ => self.leaf(b, e, a),
        }
    }

    fn structure(
        &mut self,
        b: &mut Bindings,
        tag: Tag,
        expected: &[Item],
        actual: &[Item],
    ) -> Result<(), Mismatch> {
        let actual_all = actual;
        if tag == tags::BATCH_ITEM {
            self.operation =
                expected
                    .iter()
                    .find(|c| c.tag == tags::OPERATION)
                    .and_then(|c| match c.value {
                        Value::Enumeration(v) => dictionary::enum_name(tags::OPERATION, v),
                        _ => None,
                    });
        }
        let keep = |c: &&Item| match tag {
            // §4.1: Result Message text differs between servers.
            t if t == tags::BATCH_ITEM => c.tag != tags::RESULT_MESSAGE,
            // §4.1: the Server Correlation Value is the server's own.
            t if t == tags::RESPONSE_HEADER => c.tag != tags::SERVER_CORRELATION_VALUE,
            // 1.x: an Attribute Index of 0 may be omitted.
            t if t == tags::ATTRIBUTE => {
                !(c.tag == tags::ATTRIBUTE_INDEX && c.value == Value::Integer(0))
            }
            _ => true,
        };
        let expected: Vec<&Item> = expected.iter().filter(keep).collect();
        let mut actual: Vec<&Item> = actual.iter().filter(keep).collect();
        let listed = |t: Tag| expected.iter().any(|c| c.tag == t);
        if tag == tags::RESPONSE_HEADER {
            actual.retain(|c| !OPTIONAL_HEADER_FIELDS.contains(&c.tag) || listed(c.tag));
        }
        actual.retain(|c| listed(c.tag) || !self.extra_allowed(c.tag));
        let result = if self.unordered_here() {
            self.unordered(b, &expected, &actual)
        } else {
            self.ordered(b, &expected, &actual)
        };
        if tag != tags::BATCH_ITEM {
            return result;
        }
        // A wrong status or reason: say what the server said, its Result Message included.
        result.map_err(|mut m| {
            if m.path.ends_with("ResultStatus") || m.path.ends_with("ResultReason") {
                m.note = server_said(actual_all);
            }
            m
        })
    }

    /// Built-in §4.1 attribute-order rules, then the overlay's `unordered` paths.
    fn unordered_here(&self) -> bool {
        let last = self.path.last().map(String::as_str);
        let built_in = match self.operation {
            Some("GetAttributes") => matches!(last, Some("ResponsePayload" | "Attributes")),
            Some("GetAttributeList") => last == Some("ResponsePayload"),
            _ => false,
        };
        built_in
            || self
                .rules()
                .any(|r| r.unordered.iter().any(|p| path_matches(p, &self.path)))
    }

    fn ordered(
        &mut self,
        b: &mut Bindings,
        expected: &[&Item],
        actual: &[&Item],
    ) -> Result<(), Mismatch> {
        for index in 0..expected.len().max(actual.len()) {
            match (expected.get(index), actual.get(index)) {
                (Some(e), Some(a)) => self.item(b, e, a)?,
                (Some(e), None) => {
                    return Err(self.mismatch(shown_expected(e), "nothing".into(), "missing"))
                }
                (None, Some(a)) => {
                    return Err(self.mismatch("nothing".into(), show(a), "unexpected item"))
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    /// Each expected child must match a distinct actual child, in any order; extra actual children are allowed.
    fn unordered(
        &mut self,
        b: &mut Bindings,
        expected: &[&Item],
        actual: &[&Item],
    ) -> Result<(), Mismatch> {
        let mut used = vec![false; actual.len()];
        for e in expected {
            let mut first_failure = None;
            let mut matched = false;
            for (i, a) in actual.iter().enumerate() {
                if used[i] || a.tag != e.tag {
                    continue;
                }
                let mut trial = b.clone();
                match self.item(&mut trial, e, a) {
                    Ok(()) => {
                        *b = trial;
                        used[i] = true;
                        matched = true;
                        break;
                    }
                    Err(m) => {
                        first_failure.get_or_insert(m);
                    }
                }
            }
            if !matched {
                let candidates = actual.iter().filter(|a| a.tag == e.tag).count();
                return Err(match first_failure {
                    Some(m) if candidates == 1 => m,
                    Some(m) => {
                        let mut note = format!(
                            "none of the server's {candidates} {} items matches (any order)",
                            tag_name(e.tag)
                        );
                        if !m.note.is_empty() {
                            note = format!("{note}; first: {}", m.note);
                        }
                        Mismatch { note, ..m }
                    }
                    None => self.mismatch(shown_expected(e), "nothing".into(), "missing"),
                });
            }
        }
        Ok(())
    }

    fn leaf(&mut self, b: &mut Bindings, e: &Item, a: &Item) -> Result<(), Mismatch> {
        let (et, at) = (e.value.item_type(), a.value.item_type());
        if et != at {
            return Err(self.mismatch(shown_expected(e), show(a), "different item type"));
        }
        match marker(&e.value) {
            Marker::Captured(name) => b
                .bind(name, et, &a.value)
                .map_err(|err| self.mismatch(shown_expected(e), show(a), err.to_string())),
            Marker::Now(offset) => {
                let got = match a.value {
                    Value::DateTime(s) => s,
                    Value::DateTimeExtended(us) => us.div_euclid(1_000_000),
                    _ => unreachable!(
                        "item types were checked equal and the stand-in is a date-time"
                    ),
                };
                let want = self.context.sent_at + offset;
                if (got - want).abs() <= self.context.slack {
                    Ok(())
                } else {
                    Err(self.mismatch(
                        shown_expected(e),
                        show(a),
                        format!("{}s from the expected time", got - want),
                    ))
                }
            }
            Marker::Literal if self.ignored_here() => match (&e.value, &a.value) {
                (Value::ByteString(x), Value::ByteString(y)) if x.len() != y.len() => Err(self
                    .mismatch(
                        format!("{} bytes", x.len()),
                        format!("{} bytes", y.len()),
                        "value not compared (overlay), but its length is",
                    )),
                _ => Ok(()),
            },
            Marker::Literal if e.value == a.value => Ok(()),
            Marker::Literal => Err(self.mismatch(shown_expected(e), show(a), "")),
        }
    }

    /// Whether the overlay lets the server add a `tag` child here.
    fn extra_allowed(&self, tag: Tag) -> bool {
        let mut path = self.path.clone();
        path.push(tag_name(tag));
        self.rules()
            .any(|r| r.allow_extra.iter().any(|p| path_matches(p, &path)))
    }

    fn ignored_here(&self) -> bool {
        self.rules()
            .any(|r| r.ignore.iter().any(|p| path_matches(p, &self.path)))
    }
}

/// "server said: Item Not Found: no such object" from a response batch item's children.
fn server_said(batch_item: &[Item]) -> String {
    let field = |tag: Tag| batch_item.iter().find(|c| c.tag == tag).map(|c| &c.value);
    let reason = match field(tags::RESULT_REASON) {
        Some(Value::Enumeration(v)) => dictionary::enum_name(tags::RESULT_REASON, *v)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("0x{v:08X}")),
        _ => "no Result Reason".into(),
    };
    match field(tags::RESULT_MESSAGE) {
        Some(Value::TextString(message)) => format!("server said: {reason}: {message}"),
        _ => format!("server said: {reason}"),
    }
}

/// An expected item for a report, with stand-ins shown as the placeholders they came from.
fn shown_expected(item: &Item) -> String {
    fn restore(item: &Item) -> Item {
        let value = match &item.value {
            Value::Structure(children) => Value::Structure(children.iter().map(restore).collect()),
            other => match marker(other) {
                Marker::Captured(name) => Value::TextString(format!("${name}")),
                Marker::Now(0) => Value::TextString("$NOW".into()),
                Marker::Now(offset) => Value::TextString(format!("$NOW{offset:+}")),
                Marker::Literal => other.clone(),
            },
        };
        Item::new(item.tag, value)
    }
    show(&restore(item))
}
