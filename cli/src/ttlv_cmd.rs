//! `qkms ttlv decode|encode`: turn captured KMIP traffic (binary TTLV, as hex or raw bytes) into KMIP-XML,
//! KMIP-JSON or an indented tree, and text back into wire bytes.
//!
//! A capture of a whole connection holds several messages back to back; `decode` splits them by their TTLV
//! headers and prints each one.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use ttlv::{Item, Limits, Value};

#[derive(Debug, Subcommand)]
pub enum TtlvCommand {
    /// Binary TTLV (hex text or raw bytes) in; KMIP-XML, KMIP-JSON or a tree out.
    Decode(DecodeArgs),
    /// KMIP-XML or KMIP-JSON in; binary TTLV (hex text or raw bytes) out.
    Encode(EncodeArgs),
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Input file; `-` or absent reads standard input.
    input: Option<PathBuf>,
    /// How the input is written.
    #[arg(long = "from", value_enum, default_value_t = WireFormat::Auto)]
    from: WireFormat,
    /// What to print.
    #[arg(long = "to", value_enum, default_value_t = TextFormat::Xml)]
    to: TextFormat,
    /// Largest message accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_message_size)]
    max_message_size: usize,
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Input file; `-` or absent reads standard input. A `<KMIP>` test-case document encodes every message in it.
    input: Option<PathBuf>,
    /// How the input is written.
    #[arg(long = "from", value_enum, default_value_t = TextInput::Auto)]
    from: TextInput,
    /// What to write.
    #[arg(long = "to", value_enum, default_value_t = WireOutput::Hex)]
    to: WireOutput,
    /// The time `$NOW` placeholders of test-case documents stand for, in seconds since the Unix epoch
    /// (`$NOW-3600` is an hour earlier); default: now.
    #[arg(long)]
    now: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum WireFormat {
    /// Hex text if the input is only hex digits and white space, raw bytes otherwise.
    Auto,
    Hex,
    Binary,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TextFormat {
    Xml,
    Json,
    Tree,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TextInput {
    /// JSON if the text starts with `{` or `[`, XML otherwise.
    Auto,
    Xml,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum WireOutput {
    Hex,
    Binary,
}

type CliResult<T> = Result<T, Box<dyn std::error::Error>>;

pub fn run(command: TtlvCommand) -> CliResult<()> {
    match command {
        TtlvCommand::Decode(args) => decode(args),
        TtlvCommand::Encode(args) => encode(args),
    }
}

fn decode(args: DecodeArgs) -> CliResult<()> {
    let input = read_input(args.input.as_ref())?;
    let wire = wire_bytes(&input, args.from)?;
    let limits = Limits {
        max_message_size: args.max_message_size,
        ..Limits::default()
    };
    let mut out = String::new();
    for (index, message) in split_messages(&wire, &limits)?.into_iter().enumerate() {
        let item = ttlv::binary::decode_with(message, &limits).map_err(|e| {
            format!(
                "message {} (at byte {}): {e}",
                index + 1,
                offset_of(&wire, message)
            )
        })?;
        match args.to {
            TextFormat::Xml => out.push_str(&ttlv::xml::to_string_pretty(&item)?),
            TextFormat::Json => out.push_str(&ttlv::json::to_string_pretty(&item)?),
            TextFormat::Tree => write_tree(&mut out, &item, 0),
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}

fn encode(args: EncodeArgs) -> CliResult<()> {
    let input = read_input(args.input.as_ref())?;
    let text = std::str::from_utf8(&input).map_err(|e| format!("input is not UTF-8 text: {e}"))?;
    let trimmed = text.trim_start();
    let json = match args.from {
        TextInput::Json => true,
        TextInput::Xml => false,
        TextInput::Auto => trimmed.starts_with('{') || trimmed.starts_with('['),
    };
    let items = if json {
        vec![ttlv::json::from_str(text)?]
    } else if is_test_case_document(trimmed) {
        let now = match args.now {
            Some(now) => now,
            None => time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        // Identifiers stay literal text; times resolve against `now`; other placeholders are an error.
        let mut resolve = |placeholder: &ttlv::Placeholder<'_>| match placeholder.item_type {
            ttlv::ItemType::DateTime => placeholder
                .now_offset()
                .map(|offset| Value::DateTime(now + offset)),
            _ => None,
        };
        let options = ttlv::ReadOptions::new(Limits::default()).with_placeholders(&mut resolve);
        ttlv::xml::read_test_case(text, options)?
    } else {
        vec![ttlv::xml::from_str(text)?]
    };
    let mut wire = Vec::new();
    for item in &items {
        ttlv::binary::encode_into(item, &mut wire)?;
    }
    let mut stdout = std::io::stdout();
    match args.to {
        WireOutput::Binary => stdout.write_all(&wire)?,
        WireOutput::Hex => writeln!(stdout, "{}", hex::encode_upper(&wire))?,
    }
    Ok(())
}

fn read_input(path: Option<&PathBuf>) -> CliResult<Vec<u8>> {
    let mut bytes = Vec::new();
    match path {
        Some(path) if path.as_os_str() != "-" => {
            bytes =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        }
        _ => {
            std::io::stdin().read_to_end(&mut bytes)?;
        }
    }
    Ok(bytes)
}

/// The wire bytes, from hex text (white space and an optional `0x` ignored) or raw bytes.
fn wire_bytes(input: &[u8], format: WireFormat) -> CliResult<Vec<u8>> {
    let hex_digits = |text: &str| -> String {
        text.split_whitespace()
            .map(|word| word.strip_prefix("0x").unwrap_or(word))
            .collect()
    };
    let as_hex = match format {
        WireFormat::Hex => true,
        WireFormat::Binary => false,
        WireFormat::Auto => std::str::from_utf8(input).is_ok_and(|text| {
            let digits = hex_digits(text);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit())
        }),
    };
    if !as_hex {
        return Ok(input.to_vec());
    }
    let text = std::str::from_utf8(input).map_err(|_| "hex input is not text")?;
    Ok(hex::decode(hex_digits(text)).map_err(|e| format!("invalid hex input: {e}"))?)
}

/// Splits a capture into its messages by their TTLV headers.
fn split_messages<'a>(wire: &'a [u8], limits: &Limits) -> CliResult<Vec<&'a [u8]>> {
    let mut messages = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let offset = wire.len() - rest.len();
        let header: &[u8; 8] = rest
            .get(..8)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| {
                format!(
                    "truncated TTLV header at byte {offset}: {} bytes left",
                    rest.len()
                )
            })?;
        let length = ttlv::binary::message_length_with(header, limits)
            .map_err(|e| format!("message at byte {offset}: {e}"))?;
        if length > rest.len() {
            return Err(format!(
                "message at byte {offset} declares {length} bytes but only {} remain",
                rest.len()
            )
            .into());
        }
        let (message, tail) = rest.split_at(length);
        messages.push(message);
        rest = tail;
    }
    if messages.is_empty() {
        return Err("no input".into());
    }
    Ok(messages)
}

fn offset_of(whole: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

fn is_test_case_document(text: &str) -> bool {
    // Skip an XML declaration and comments before the root element.
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<?") {
            rest = after.split_once("?>").map_or("", |(_, r)| r);
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->").map_or("", |(_, r)| r);
        } else {
            return rest.starts_with("<KMIP>") || rest.starts_with("<KMIP ");
        }
    }
}

/// An indented, human-oriented rendering: `Name (0x42xxxx) Type: value`.
fn write_tree(out: &mut String, item: &Item, depth: usize) {
    let name = ttlv::dictionary::tag_name(item.tag).unwrap_or("?");
    let kind = item.value.item_type().name();
    let _ = write!(
        out,
        "{:indent$}{name} ({}) {kind}",
        "",
        item.tag,
        indent = depth * 2
    );
    match &item.value {
        Value::Structure(children) => {
            out.push('\n');
            for child in children {
                write_tree(out, child, depth + 1);
            }
            return;
        }
        Value::Enumeration(value) => match ttlv::dictionary::enum_name(item.tag, *value) {
            Some(text) => {
                let _ = write!(out, ": {text} (0x{value:08X})");
            }
            None => {
                let _ = write!(out, ": 0x{value:08X}");
            }
        },
        Value::Integer(value) => {
            let _ = write!(out, ": {value}");
            if let Some(bits) = ttlv::dictionary::mask_bits(item.tag) {
                let names: Vec<&str> = bits
                    .iter()
                    .filter(|(bit, _)| *value as u32 & bit != 0)
                    .map(|(_, n)| *n)
                    .collect();
                let _ = write!(out, " [{}]", names.join(" "));
            }
        }
        Value::LongInteger(value) => {
            let _ = write!(out, ": {value}");
        }
        Value::BigInteger(bytes) | Value::ByteString(bytes) => {
            let _ = write!(
                out,
                ": {} ({} bytes)",
                hex::encode_upper(bytes),
                bytes.len()
            );
        }
        Value::Boolean(value) => {
            let _ = write!(out, ": {value}");
        }
        Value::TextString(text) => {
            let _ = write!(out, ": {text:?}");
        }
        Value::DateTime(seconds) => {
            let _ = write!(out, ": {seconds} ({})", iso8601(*seconds));
        }
        Value::Interval(seconds) => {
            let _ = write!(out, ": {seconds} s");
        }
        Value::DateTimeExtended(micros) => {
            let _ = write!(
                out,
                ": {micros} us ({})",
                iso8601(micros.div_euclid(1_000_000))
            );
        }
    }
    out.push('\n');
}

fn iso8601(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "out of range".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_input_ignores_white_space_and_prefixes() {
        let bytes =
            wire_bytes(b"0x4200 20 02\n00000004 0000000800000000", WireFormat::Auto).unwrap();
        assert_eq!(bytes.len(), 16);
        assert_eq!(bytes[0], 0x42);
    }

    #[test]
    fn a_capture_splits_into_its_messages() {
        let one = hex::decode("42002002000000040000000800000000").unwrap();
        let mut capture = one.clone();
        capture.extend_from_slice(&one);
        let messages = split_messages(&capture, &Limits::default()).unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(offset_of(&capture, messages[1]), 16);
    }

    #[test]
    fn a_truncated_capture_is_refused_with_its_offset() {
        let mut capture = hex::decode("42002002000000040000000800000000").unwrap();
        capture.extend_from_slice(&[0x42, 0x00, 0x20]);
        let error = split_messages(&capture, &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("byte 16"), "{error}");
    }

    #[test]
    fn test_case_documents_are_recognised_after_comments() {
        assert!(is_test_case_document(
            "<?xml version=\"1.0\"?>\n<!-- c -->\n<KMIP>\n"
        ));
        assert!(!is_test_case_document("<RequestMessage>"));
    }
}
