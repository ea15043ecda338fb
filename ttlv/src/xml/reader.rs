//! The KMIP-XML reader: a streaming walk over quick-xml events with an explicit stack, so nesting depth is
//! bounded by the limits rather than by the call stack.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::text_values::{
    parse_tag, resolve_or_parse, AttributeContext, Dialect, Location, ReadOptions, TextError,
    TextErrorKind,
};
use crate::{Item, ItemType, Tag, Value};

/// The element that stands for an item whose tag has no name.
pub(crate) const UNNAMED_ELEMENT: &str = "TTLV";
/// The root element of an OASIS test-case document.
pub(crate) const TEST_CASE_ROOT: &str = "KMIP";

/// What a document holds at its top.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocumentShape {
    /// Exactly one item.
    SingleItem,
    /// `<KMIP>` holding a sequence of items (messages).
    TestCase,
}

enum Open {
    /// The `<KMIP>` wrapper of a test-case document.
    TestCaseRoot,
    Structure {
        tag: Tag,
        children: Vec<Item>,
        context: AttributeContext,
    },
    /// A primitive written with a separate end tag, `<X type=".." value=".."></X>`.
    Primitive(Item),
}

struct Frame {
    name: String,
    open: Open,
}

struct XmlReader<'i, 'r> {
    input: &'i str,
    events: Reader<&'i [u8]>,
    options: ReadOptions<'r>,
    stack: Vec<Frame>,
    items: usize,
    /// Items complete at the top level (the root, or the messages of a test case).
    finished: Vec<Item>,
    shape: DocumentShape,
    root_seen: bool,
    root_closed: bool,
    /// Byte offset of the event being handled, for error positions.
    at: u64,
    /// The element being opened, named in error paths.
    opening: Option<String>,
}

pub(crate) fn read(
    input: &str,
    options: ReadOptions<'_>,
    shape: DocumentShape,
) -> Result<Vec<Item>, TextError> {
    if input.len() > options.limits.max_message_size {
        let kind = TextErrorKind::InputTooLarge {
            limit: options.limits.max_message_size,
        };
        return Err(TextError::new(kind, Location::default()));
    }
    let mut events = Reader::from_str(input);
    let config = events.config_mut();
    config.check_comments = true;
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text(false);
    let mut reader = XmlReader {
        input,
        events,
        options,
        stack: Vec::new(),
        items: 0,
        finished: Vec::new(),
        shape,
        root_seen: false,
        root_closed: false,
        at: 0,
        opening: None,
    };
    reader.run()?;
    Ok(reader.finished)
}

impl XmlReader<'_, '_> {
    fn run(&mut self) -> Result<(), TextError> {
        loop {
            self.at = self.events.buffer_position();
            let event = match self.events.read_event() {
                Ok(event) => event,
                Err(e) => {
                    self.at = self.events.error_position();
                    return Err(self.error(TextErrorKind::Syntax(e.to_string())));
                }
            };
            match event {
                Event::Start(start) => self.open(&start)?,
                Event::Empty(start) => {
                    self.open(&start)?;
                    self.close()?;
                }
                Event::End(_) => self.close()?,
                Event::Text(text) => {
                    if !text
                        .iter()
                        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                    {
                        return Err(self.error(TextErrorKind::UnexpectedContent(
                            "text between elements".into(),
                        )));
                    }
                }
                Event::Comment(_) => {}
                Event::Decl(_) if !self.root_seen => {}
                Event::Decl(_) => {
                    return Err(self.error(TextErrorKind::UnexpectedContent(
                        "misplaced XML declaration".into(),
                    )))
                }
                Event::PI(_) => {
                    return Err(self.error(TextErrorKind::UnexpectedContent(
                        "processing instruction".into(),
                    )))
                }
                Event::CData(_) => {
                    return Err(self.error(TextErrorKind::UnexpectedContent("CDATA section".into())))
                }
                Event::DocType(_) => {
                    return Err(self.error(TextErrorKind::UnexpectedContent("DOCTYPE".into())))
                }
                Event::Eof => break,
            }
        }
        if let Some(frame) = self.stack.last() {
            let kind = TextErrorKind::Syntax(format!("document ends inside <{}>", frame.name));
            return Err(self.error(kind));
        }
        match self.shape {
            DocumentShape::SingleItem if self.finished.is_empty() => {
                Err(self.error(TextErrorKind::NoRoot))
            }
            DocumentShape::TestCase if !self.root_closed => Err(self.error(TextErrorKind::NoRoot)),
            _ => Ok(()),
        }
    }

    fn open(&mut self, start: &BytesStart<'_>) -> Result<(), TextError> {
        let name = std::str::from_utf8(start.name().as_ref())
            .map_err(|_| self.error(TextErrorKind::Syntax("element name is not UTF-8".into())))?
            .to_owned();
        if self.root_closed
            || (self.shape == DocumentShape::SingleItem && self.root_seen && self.stack.is_empty())
        {
            return Err(self.error(TextErrorKind::MultipleRoots));
        }
        if self.shape == DocumentShape::TestCase && !self.root_seen {
            self.root_seen = true;
            if name != TEST_CASE_ROOT || start.attributes().next().is_some() {
                return Err(self.error(TextErrorKind::WrongDocumentRoot(name)));
            }
            self.stack.push(Frame {
                name,
                open: Open::TestCaseRoot,
            });
            return Ok(());
        }
        self.root_seen = true;
        // Depth counts item levels, not the test-case wrapper.
        let depth = self
            .stack
            .iter()
            .filter(|f| !matches!(f.open, Open::TestCaseRoot))
            .count()
            + 1;
        if depth > self.options.limits.max_depth {
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
        let names_tag_for = |tag: Tag, stack: &[Frame]| match stack.last() {
            Some(Frame {
                open: Open::Structure { context, .. },
                ..
            }) => context.names_tag(tag),
            _ => tag,
        };
        if let Some(Frame {
            open: Open::Primitive(parent),
            ..
        }) = self.stack.last()
        {
            let kind = TextErrorKind::ChildrenInPrimitive {
                tag: parent.tag,
                item_type: parent.value.item_type(),
            };
            return Err(self.error(kind));
        }
        self.opening = Some(name.clone());
        let header = self.header(&name, start)?;
        let open = match header.item_type {
            ItemType::Structure => {
                if header.value.is_some() {
                    return Err(self.error(TextErrorKind::StructureWithValue { tag: header.tag }));
                }
                Open::Structure {
                    tag: header.tag,
                    children: Vec::new(),
                    context: AttributeContext::default(),
                }
            }
            item_type => {
                let Some(text) = header.value else {
                    return Err(self.error(TextErrorKind::MissingValue {
                        tag: header.tag,
                        item_type,
                    }));
                };
                let names_tag = names_tag_for(header.tag, &self.stack);
                let value = resolve_or_parse(
                    &mut self.options.resolver,
                    Dialect::Xml,
                    header.tag,
                    names_tag,
                    item_type,
                    &text,
                )
                .map_err(|kind| self.error(kind))?;
                Open::Primitive(Item::new(header.tag, value))
            }
        };
        self.opening = None;
        self.stack.push(Frame { name, open });
        Ok(())
    }

    fn header(&self, name: &str, start: &BytesStart<'_>) -> Result<Header, TextError> {
        let (mut tag_text, mut type_text, mut value_text) = (None, None, None);
        for attribute in start.attributes() {
            let attribute =
                attribute.map_err(|e| self.error(TextErrorKind::Syntax(e.to_string())))?;
            let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
            let value = attribute
                .unescape_value()
                .map_err(|e| self.error(TextErrorKind::Syntax(e.to_string())))?
                .into_owned();
            if let Some(bad) = value.chars().find(|c| !is_xml_char(*c)) {
                let kind = TextErrorKind::Syntax(format!(
                    "character U+{:04X} is not allowed in XML",
                    u32::from(bad)
                ));
                return Err(self.error(kind));
            }
            let slot = match key.as_str() {
                "tag" if name == UNNAMED_ELEMENT => &mut tag_text,
                "type" => &mut type_text,
                "value" => &mut value_text,
                _ => return Err(self.error(TextErrorKind::UnexpectedAttribute(key))),
            };
            *slot = Some(value);
        }
        let tag = if name == UNNAMED_ELEMENT {
            let text = tag_text.ok_or_else(|| {
                self.error(TextErrorKind::Syntax(
                    "<TTLV> without a tag attribute".into(),
                ))
            })?;
            parse_tag(&text).ok_or_else(|| self.error(TextErrorKind::BadTag(text)))?
        } else {
            crate::dictionary::tag_by_name(name)
                .ok_or_else(|| self.error(TextErrorKind::UnknownTagName(name.to_owned())))?
        };
        let item_type = match type_text {
            None => ItemType::Structure,
            Some(text) => ItemType::from_name(&text)
                .ok_or_else(|| self.error(TextErrorKind::UnknownType(text)))?,
        };
        Ok(Header {
            tag,
            item_type,
            value: value_text,
        })
    }

    fn close(&mut self) -> Result<(), TextError> {
        let Some(frame) = self.stack.pop() else {
            return Err(self.error(TextErrorKind::Syntax("end tag without a start tag".into())));
        };
        let item = match frame.open {
            Open::TestCaseRoot => {
                self.root_closed = true;
                return Ok(());
            }
            Open::Structure { tag, children, .. } => Item::new(tag, Value::Structure(children)),
            Open::Primitive(item) => item,
        };
        match self.stack.last_mut() {
            Some(Frame {
                open: Open::Structure {
                    children, context, ..
                },
                ..
            }) => {
                context.observe(&item);
                children.push(item);
            }
            Some(Frame {
                open: Open::TestCaseRoot,
                ..
            })
            | None => {
                self.finished.push(item);
                if self.shape == DocumentShape::SingleItem {
                    self.root_closed = true;
                }
            }
            // `open` refuses children inside a primitive, so its frame is never a parent.
            Some(Frame {
                open: Open::Primitive(_),
                ..
            }) => {
                return Err(self.error(TextErrorKind::Syntax(
                    "element inside a primitive item".into(),
                )))
            }
        }
        Ok(())
    }

    fn error(&self, kind: TextErrorKind) -> TextError {
        let offset = usize::try_from(self.at)
            .unwrap_or(usize::MAX)
            .min(self.input.len());
        let before = self.input.as_bytes().get(..offset).unwrap_or_default();
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        let path = self
            .stack
            .iter()
            .map(|f| f.name.as_str())
            .chain(self.opening.as_deref())
            .collect::<Vec<_>>()
            .join("/");
        TextError::new(
            kind,
            Location {
                line: Some(line as u64),
                column: Some(column as u64),
                path,
            },
        )
    }
}

struct Header {
    tag: Tag,
    item_type: ItemType,
    value: Option<String>,
}

/// The characters XML 1.0 allows in a document (its `Char` production).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}
