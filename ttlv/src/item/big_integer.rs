//! KMIP Big Integers: two's-complement, big-endian byte strings whose wire length is a multiple of 8.
//!
//! The *canonical* form, which the binary reader produces and every text reader should produce (through
//! [`canonical`] or [`crate::Value::big_integer`]), is the shortest sign extension to a multiple of 8 bytes,
//! and at least 8 bytes. Two trees holding the same numbers therefore compare equal whatever encoding they
//! came from.

/// The most bytes [`from_decimal`] produces and [`to_decimal`] accepts: 4096 bytes (32768 bits), far above
/// any key size in use. Decimal conversion is quadratic, so it is bounded to keep it cheap.
pub const MAX_DECIMAL_BYTES: usize = 4096;

/// Why a Big Integer could not be converted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BigIntegerError {
    /// The decimal text has no digits.
    #[error("big integer decimal text has no digits")]
    NoDigits,
    /// A character other than a decimal digit (after an optional leading sign).
    #[error("invalid character in big integer decimal text at position {position}")]
    InvalidDigit { position: usize },
    /// The number is too large for decimal conversion (see [`MAX_DECIMAL_BYTES`]).
    #[error("big integer too large for decimal conversion (limit {MAX_DECIMAL_BYTES} bytes)")]
    TooLarge,
}

fn is_negative(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|b| b & 0x80 != 0)
}

/// The shortest two's-complement form of `bytes` (at least one byte): redundant sign bytes stripped.
fn minimal(bytes: &[u8]) -> &[u8] {
    let mut start = 0;
    while start + 1 < bytes.len() {
        let (head, next) = (bytes[start], bytes[start + 1]);
        let redundant = (head == 0x00 && next & 0x80 == 0) || (head == 0xFF && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    &bytes[start..]
}

/// Whether `bytes` is already canonical: a multiple of 8 bytes, at least 8, and no redundant leading word.
pub fn is_canonical(bytes: &[u8]) -> bool {
    if bytes.len() < 8 || !bytes.len().is_multiple_of(8) {
        return false;
    }
    if bytes.len() == 8 {
        return true;
    }
    let fill = if bytes[8] & 0x80 != 0 { 0xFF } else { 0x00 };
    !bytes[..8].iter().all(|&b| b == fill)
}

/// The canonical form of the two's-complement big-endian number `bytes` (an empty slice is zero):
/// sign-extended or trimmed to the shortest multiple of 8 bytes, at least 8.
pub fn canonical(bytes: &[u8]) -> Vec<u8> {
    if is_canonical(bytes) {
        return bytes.to_vec();
    }
    let fill = if is_negative(bytes) { 0xFF } else { 0x00 };
    let significant = if bytes.is_empty() {
        &[0u8][..]
    } else {
        minimal(bytes)
    };
    let total = significant.len().div_ceil(8).max(1) * 8;
    let mut out = Vec::with_capacity(total);
    out.resize(total - significant.len(), fill);
    out.extend_from_slice(significant);
    out
}

/// Trims whole redundant leading 8-byte words from a wire Big Integer (length a multiple of 8) in place of
/// a full [`canonical`] pass; the binary reader's fast path. Returns a slice of `bytes`.
pub(crate) fn trim_redundant_words(mut bytes: &[u8]) -> &[u8] {
    while bytes.len() > 8 {
        let fill = if bytes[8] & 0x80 != 0 { 0xFF } else { 0x00 };
        if bytes[..8].iter().all(|&b| b == fill) {
            bytes = &bytes[8..];
        } else {
            break;
        }
    }
    bytes
}

/// The canonical Big Integer for `value`.
pub fn from_i128(value: i128) -> Vec<u8> {
    canonical(&value.to_be_bytes())
}

/// The value of `bytes` (two's-complement, big-endian) if it fits an `i128`.
pub fn to_i128(bytes: &[u8]) -> Option<i128> {
    let significant = minimal(bytes);
    if significant.len() > 16 {
        return None;
    }
    let fill = if is_negative(bytes) { 0xFF } else { 0x00 };
    let mut buf = [fill; 16];
    buf[16 - significant.len()..].copy_from_slice(significant);
    Some(i128::from_be_bytes(buf))
}

/// Two's-complement negation of a big-endian byte string, in place.
fn negate(bytes: &mut [u8]) {
    let mut carry = true;
    for b in bytes.iter_mut().rev() {
        let (sum, overflow) = (!*b).overflowing_add(u8::from(carry));
        *b = sum;
        carry = carry && overflow;
    }
}

/// The canonical Big Integer for decimal text: an optional `+` or `-`, then one or more ASCII digits.
pub fn from_decimal(text: &str) -> Result<Vec<u8>, BigIntegerError> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let sign_len = text.len() - digits.len();
    if digits.is_empty() {
        return Err(BigIntegerError::NoDigits);
    }
    if let Some(position) = digits.bytes().position(|b| !b.is_ascii_digit()) {
        return Err(BigIntegerError::InvalidDigit {
            position: sign_len + position,
        });
    }
    // n digits need more than (n - 1) * log2(10) bits, and log10(2) < 0.302: longer text cannot fit.
    if digits.len() > MAX_DECIMAL_BYTES * 8 * 302 / 1000 + 1 {
        return Err(BigIntegerError::TooLarge);
    }
    // Magnitude as little-endian base-2^32 limbs, fed nine digits at a time.
    let mut limbs: Vec<u32> = Vec::new();
    for chunk in digits.as_bytes().chunks(9) {
        let mut chunk_value = 0u64;
        for &d in chunk {
            chunk_value = chunk_value * 10 + u64::from(d - b'0');
        }
        let multiplier = 10u64.pow(chunk.len() as u32);
        let mut carry = chunk_value;
        for limb in limbs.iter_mut() {
            let product = u64::from(*limb) * multiplier + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry != 0 {
            limbs.push(carry as u32);
        }
    }
    // A leading zero byte keeps the magnitude positive before any negation.
    let mut bytes = Vec::with_capacity(limbs.len() * 4 + 1);
    bytes.push(0);
    for limb in limbs.iter().rev() {
        bytes.extend_from_slice(&limb.to_be_bytes());
    }
    if bytes.len() > MAX_DECIMAL_BYTES + 1 {
        return Err(BigIntegerError::TooLarge);
    }
    if negative {
        negate(&mut bytes);
    }
    Ok(canonical(&bytes))
}

/// The decimal text of the two's-complement big-endian number `bytes` (an empty slice is zero).
pub fn to_decimal(bytes: &[u8]) -> Result<String, BigIntegerError> {
    let significant = minimal(bytes);
    if significant.len() > MAX_DECIMAL_BYTES {
        return Err(BigIntegerError::TooLarge);
    }
    let negative = is_negative(significant);
    let mut magnitude = Vec::with_capacity(significant.len() + 1);
    if negative {
        // One extra sign byte so that negating the most negative value still yields its magnitude.
        magnitude.push(0xFF);
        magnitude.extend_from_slice(significant);
        negate(&mut magnitude);
    } else {
        magnitude.extend_from_slice(significant);
    }
    // Big-endian base-2^32 limbs, repeatedly divided by 10^9.
    let padding = (4 - magnitude.len() % 4) % 4;
    let mut limbs: Vec<u32> = std::iter::repeat_n(0u8, padding)
        .chain(magnitude.iter().copied())
        .collect::<Vec<u8>>()
        .chunks(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut groups: Vec<u32> = Vec::new();
    loop {
        while limbs.first() == Some(&0) {
            limbs.remove(0);
        }
        if limbs.is_empty() {
            break;
        }
        let mut remainder = 0u64;
        for limb in limbs.iter_mut() {
            let current = (remainder << 32) | u64::from(*limb);
            *limb = (current / 1_000_000_000) as u32;
            remainder = current % 1_000_000_000;
        }
        groups.push(remainder as u32);
    }
    let mut text = String::with_capacity(groups.len() * 9 + 1);
    if negative {
        text.push('-');
    }
    match groups.split_last() {
        None => text.push('0'),
        Some((most_significant, rest)) => {
            text.push_str(&most_significant.to_string());
            for group in rest.iter().rev() {
                text.push_str(&format!("{group:09}"));
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sign_extends_to_eight_bytes() {
        assert_eq!(canonical(&[0x01]), [0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            canonical(&[0x80]),
            [0xFF; 7].iter().copied().chain([0x80]).collect::<Vec<_>>()
        );
        assert_eq!(canonical(&[]), [0; 8]);
    }

    #[test]
    fn canonical_strips_redundant_words() {
        let mut sixteen = vec![0u8; 16];
        sixteen[15] = 5;
        assert_eq!(canonical(&sixteen), [0, 0, 0, 0, 0, 0, 0, 5]);
        let minus_one = vec![0xFF; 24];
        assert_eq!(canonical(&minus_one), [0xFF; 8]);
        // 0x80 followed by zeros is a positive number needing a sign word only when the top bit is set.
        let mut positive_high = vec![0u8; 16];
        positive_high[8] = 0x80;
        assert!(is_canonical(&positive_high));
        assert_eq!(canonical(&positive_high), positive_high);
    }

    #[test]
    fn i128_round_trips() {
        for v in [
            0i128,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            i64::MAX as i128 + 1,
            i128::MIN,
            i128::MAX,
        ] {
            assert_eq!(to_i128(&from_i128(v)), Some(v), "{v}");
        }
    }

    #[test]
    fn decimal_matches_spec_example() {
        // KMIP 1.4 section 9.1.2: Big Integer 1234567890000000000000000000.
        let bytes = from_decimal("1234567890000000000000000000").unwrap();
        assert_eq!(
            hex::encode_upper(&bytes),
            "0000000003FD35EB6BC2DF4618080000"
        );
        assert_eq!(to_decimal(&bytes).unwrap(), "1234567890000000000000000000");
    }

    #[test]
    fn decimal_round_trips_through_i128() {
        for v in [
            0i128,
            7,
            -7,
            1_000_000_000,
            -1_000_000_000,
            i128::MIN,
            i128::MAX,
        ] {
            let text = v.to_string();
            assert_eq!(from_decimal(&text).unwrap(), from_i128(v), "{text}");
            assert_eq!(to_decimal(&from_i128(v)).unwrap(), text);
        }
        assert_eq!(from_decimal("+42").unwrap(), from_i128(42));
        assert_eq!(from_decimal("-0").unwrap(), from_i128(0));
    }

    #[test]
    fn decimal_rejects_bad_text() {
        assert_eq!(from_decimal(""), Err(BigIntegerError::NoDigits));
        assert_eq!(from_decimal("-"), Err(BigIntegerError::NoDigits));
        assert_eq!(
            from_decimal("12a"),
            Err(BigIntegerError::InvalidDigit { position: 2 })
        );
        assert_eq!(
            from_decimal("-1 "),
            Err(BigIntegerError::InvalidDigit { position: 2 })
        );
        assert_eq!(
            from_decimal(&"9".repeat(20_000)),
            Err(BigIntegerError::TooLarge)
        );
        assert_eq!(
            to_decimal(&vec![0x7F; MAX_DECIMAL_BYTES + 1]),
            Err(BigIntegerError::TooLarge)
        );
    }
}
