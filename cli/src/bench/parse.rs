//! Command-line value parsers for `qkms bench`: durations, sizes and protocol versions.

use std::time::Duration;

use kmip::ProtocolVersion;

/// `10s`, `500ms`, `2m`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?} (try 10s, 500ms, 2m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown duration unit {unit:?} (ms, s, m)")),
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("duration {text:?} must be positive"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `1M` (MiB), `64K` (KiB), or plain bytes.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, scale) = match text.char_indices().last() {
        Some((at, 'K' | 'k')) => (&text[..at], 1 << 10),
        Some((at, 'M' | 'm')) => (&text[..at], 1 << 20),
        _ => (text, 1),
    };
    let value: usize = number
        .parse()
        .map_err(|_| format!("invalid size {text:?} (try 1M, 64K, 4096)"))?;
    value
        .checked_mul(scale)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("size {text:?} must be positive and fit in memory"))
}

/// `2.1`, `1.4`, ...
pub fn parse_version(text: &str) -> Result<ProtocolVersion, String> {
    let (major, minor) = text
        .split_once('.')
        .ok_or_else(|| format!("invalid protocol version {text:?} (try 2.1)"))?;
    let parse = |s: &str| {
        s.parse::<i32>()
            .map_err(|_| format!("invalid protocol version {text:?}"))
    };
    Ok(ProtocolVersion::new(parse(major)?, parse(minor)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse_with_units() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5h").is_err());
        assert_eq!(parse_size("1M").unwrap(), 1 << 20);
        assert_eq!(parse_size("64K").unwrap(), 65536);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("0").is_err());
        assert!(parse_size("xM").is_err());
    }

    #[test]
    fn protocol_versions_parse_as_major_dot_minor() {
        assert_eq!(parse_version("2.1").unwrap(), ProtocolVersion::new(2, 1));
        assert_eq!(parse_version("1.2").unwrap(), ProtocolVersion::new(1, 2));
        assert!(parse_version("2").is_err());
        assert!(parse_version("x.1").is_err());
    }
}
