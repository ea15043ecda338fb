//! One OASIS test-case file: its request messages, each with the response the profile expects.

use std::path::{Path, PathBuf};

use ttlv::{tags, Item, Limits, Placeholder, ReadOptions, Value};

use crate::placeholders::stand_in;

/// Why a case file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{name}: not a readable KMIP-XML test case: {error}")]
    Xml {
        name: String,
        error: Box<ttlv::TextError>,
    },
    #[error("{name}: message {index} should be a {expected}, found {found}")]
    Sequence {
        name: String,
        index: usize,
        expected: &'static str,
        found: String,
    },
    #[error("{name}: no request message")]
    Empty { name: String },
    #[error("{name}: the first request has no Protocol Version")]
    NoVersion { name: String },
}

/// A request and the response the profile expects for it.
#[derive(Clone, Debug)]
pub struct Step {
    pub request: Item,
    pub expected: Item,
}

/// A parsed test case.
#[derive(Clone, Debug)]
pub struct TestCase {
    /// The file name, e.g. `SKLC-M-1-21.xml`.
    pub name: String,
    /// The protocol version of its messages, e.g. `(2, 1)`.
    pub version: (i32, i32),
    pub steps: Vec<Step>,
}

impl TestCase {
    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Self, CaseError> {
        let text = std::fs::read_to_string(path).map_err(|error| CaseError::Io {
            path: path.to_owned(),
            error,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self::parse(&name, &text)
    }

    /// Parses a case document: alternating Request and Response messages.
    pub fn parse(name: &str, text: &str) -> Result<Self, CaseError> {
        let mut resolve = |p: &Placeholder<'_>| stand_in(p);
        let options = ReadOptions::new(Limits::default()).with_placeholders(&mut resolve);
        let messages =
            ttlv::xml::read_test_case(text, options).map_err(|error| CaseError::Xml {
                name: name.to_owned(),
                error: Box::new(error),
            })?;
        let mut steps = Vec::with_capacity(messages.len() / 2);
        let mut messages = messages.into_iter().enumerate();
        while let Some((index, request)) = messages.next() {
            expect_tag(
                name,
                index,
                &request,
                tags::REQUEST_MESSAGE,
                "RequestMessage",
            )?;
            let (index, expected) = messages.next().ok_or_else(|| CaseError::Sequence {
                name: name.to_owned(),
                index: index + 1,
                expected: "ResponseMessage",
                found: "the end of the file".into(),
            })?;
            expect_tag(
                name,
                index,
                &expected,
                tags::RESPONSE_MESSAGE,
                "ResponseMessage",
            )?;
            steps.push(Step { request, expected });
        }
        let first = steps.first().ok_or_else(|| CaseError::Empty {
            name: name.to_owned(),
        })?;
        let version = protocol_version(&first.request).ok_or_else(|| CaseError::NoVersion {
            name: name.to_owned(),
        })?;
        Ok(Self {
            name: name.to_owned(),
            version,
            steps,
        })
    }

    /// The profile prefix of the file name: `CS-RNG-M-1-21.xml` -> `CS-RNG-M` (the name without its case number
    /// and version suffix).
    pub fn profile(&self) -> &str {
        profile_of(&self.name)
    }
}

/// `CS-BC-M-GCM-1-21.xml` -> `CS-BC-M-GCM`: drop `.xml`, the version, and the case number.
pub fn profile_of(file_name: &str) -> &str {
    let stem = file_name.strip_suffix(".xml").unwrap_or(file_name);
    let mut parts = stem.rsplitn(3, '-');
    let version = parts.next();
    let number = parts.next();
    match (version, number, parts.next()) {
        (Some(_), Some(n), Some(prefix)) if n.bytes().all(|b| b.is_ascii_digit()) => prefix,
        _ => stem,
    }
}

fn expect_tag(
    name: &str,
    index: usize,
    item: &Item,
    tag: ttlv::Tag,
    expected: &'static str,
) -> Result<(), CaseError> {
    if item.tag == tag {
        Ok(())
    } else {
        Err(CaseError::Sequence {
            name: name.to_owned(),
            index,
            expected,
            found: crate::tag_path::tag_name(item.tag),
        })
    }
}

/// The (major, minor) version in a message's header.
pub fn protocol_version(message: &Item) -> Option<(i32, i32)> {
    let header = message.children().first()?;
    let version = header.child(tags::PROTOCOL_VERSION)?;
    let int = |tag| match version.child(tag)?.value {
        Value::Integer(v) => Some(v),
        _ => None,
    };
    Some((
        int(tags::PROTOCOL_VERSION_MAJOR)?,
        int(tags::PROTOCOL_VERSION_MINOR)?,
    ))
}

/// Every `*.xml` file under `root` (recursively), sorted by path.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>, CaseError> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|error| CaseError::Io {
            path: dir.clone(),
            error,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|error| CaseError::Io {
                    path: dir.clone(),
                    error,
                })?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "xml") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_prefix_drops_number_and_version() {
        assert_eq!(profile_of("CS-RNG-M-1-21.xml"), "CS-RNG-M");
        assert_eq!(profile_of("CS-BC-M-GCM-12-14.xml"), "CS-BC-M-GCM");
        assert_eq!(profile_of("BL-M-13-21.xml"), "BL-M");
        assert_eq!(profile_of("odd.xml"), "odd");
    }

    #[test]
    fn a_response_without_its_request_is_refused() {
        let doc = r#"<KMIP><ResponseMessage><ResponseHeader/></ResponseMessage></KMIP>"#;
        assert!(matches!(
            TestCase::parse("x.xml", doc),
            Err(CaseError::Sequence { index: 0, .. })
        ));
        let doc = r#"<KMIP><RequestMessage><RequestHeader/></RequestMessage></KMIP>"#;
        assert!(matches!(
            TestCase::parse("x.xml", doc),
            Err(CaseError::Sequence { index: 1, .. })
        ));
    }
}
