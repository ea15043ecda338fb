//! Secret sharing for Create Split Key / Join Split Key: KMIP's Split Key Method "Polynomial Sharing GF(2^8)"
//! (Shamir's scheme byte by byte over GF(2^8) with the AES field polynomial x^8 + x^4 + x^3 + x + 1: each byte
//! of the key is the constant term of a polynomial of degree threshold - 1 whose other coefficients come from
//! the entropy pool, and part i holds every polynomial's value at x = i) and "XOR" (n of n: the parts XOR to
//! the key). Field arithmetic is branch-free and table-free, so key bytes never pick a branch or an address.

use entropy::EntropyPool;
use zeroize::Zeroizing;

use super::CryptoError;

/// At most 255 parts: part identifiers are the non-zero elements of GF(2^8).
pub const MAX_PARTS: usize = 255;

/// The longest key split here (bytes).
pub const MAX_SECRET_LEN: usize = 1024;

/// One part of a split secret: its Key Part Identifier (1..=255) and its bytes.
pub struct Share {
    pub x: u8,
    pub bytes: Zeroizing<Vec<u8>>,
}

/// The part's bytes are secret: `Debug` shows the identifier and the length only.
impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Share {{ x: {}, {} bytes }}", self.x, self.bytes.len())
    }
}

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, in constant time.
fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (carry & 0x1b);
        b >>= 1;
    }
    product
}

/// The multiplicative inverse (a^254); 0 has none and maps to 0 (callers never invert 0).
fn inverse(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut exponent = 254u8;
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        exponent >>= 1;
    }
    result
}

fn check_counts(parts: usize, threshold: usize, len: usize) -> Result<(), CryptoError> {
    if !(1..=MAX_PARTS).contains(&parts) {
        return Err(CryptoError::InvalidInput(format!(
            "a key is split into 1 to {MAX_PARTS} parts, not {parts}"
        )));
    }
    if !(1..=parts).contains(&threshold) {
        return Err(CryptoError::InvalidInput(format!(
            "the threshold is 1 to the number of parts ({parts}), not {threshold}"
        )));
    }
    if len == 0 || len > MAX_SECRET_LEN {
        return Err(CryptoError::InvalidInput(format!(
            "a split key is 1 to {MAX_SECRET_LEN} bytes, not {len}"
        )));
    }
    Ok(())
}

/// Splits `secret` into `parts` shares (x = 1..=parts), any `threshold` of which rebuild it.
pub fn split_gf256(
    pool: &EntropyPool,
    secret: &[u8],
    parts: usize,
    threshold: usize,
) -> Result<Vec<Share>, CryptoError> {
    check_counts(parts, threshold, secret.len())?;
    // coefficients[j * len + k]: the coefficient of x^(j+1) in byte k's polynomial.
    let mut coefficients = Zeroizing::new(vec![0u8; (threshold - 1) * secret.len()]);
    pool.fill(&mut coefficients)?;
    let shares = (1..=parts)
        .map(|x| {
            let x = u8::try_from(x).unwrap_or(u8::MAX); // parts <= 255, checked above
            let bytes = secret
                .iter()
                .enumerate()
                .map(|(k, &constant)| {
                    // Horner's rule from the highest coefficient down to the constant term.
                    let mut value = 0u8;
                    for j in (0..threshold - 1).rev() {
                        value = mul(value, x) ^ coefficients[j * secret.len() + k];
                    }
                    mul(value, x) ^ constant
                })
                .collect();
            Share {
                x,
                bytes: Zeroizing::new(bytes),
            }
        })
        .collect();
    Ok(shares)
}

/// The polynomials' values at 0 (Lagrange interpolation) from `shares`, which must have distinct non-zero x.
fn interpolate_at_zero(shares: &[&Share], len: usize) -> Zeroizing<Vec<u8>> {
    let mut secret = Zeroizing::new(vec![0u8; len]);
    for (i, share) in shares.iter().enumerate() {
        // l_i(0) = prod_{j != i} x_j / (x_j - x_i); subtraction is XOR in GF(2^8).
        let mut numerator = 1u8;
        let mut denominator = 1u8;
        for (j, other) in shares.iter().enumerate() {
            if i != j {
                numerator = mul(numerator, other.x);
                denominator = mul(denominator, other.x ^ share.x);
            }
        }
        let weight = mul(numerator, inverse(denominator));
        for (out, &byte) in secret.iter_mut().zip(share.bytes.iter()) {
            *out ^= mul(weight, byte);
        }
    }
    secret
}

/// The value at `x` of the polynomial through `shares` (to check surplus shares against).
fn interpolate_at(shares: &[&Share], x: u8, len: usize) -> Zeroizing<Vec<u8>> {
    let mut value = Zeroizing::new(vec![0u8; len]);
    for (i, share) in shares.iter().enumerate() {
        let mut numerator = 1u8;
        let mut denominator = 1u8;
        for (j, other) in shares.iter().enumerate() {
            if i != j {
                numerator = mul(numerator, x ^ other.x);
                denominator = mul(denominator, share.x ^ other.x);
            }
        }
        let weight = mul(numerator, inverse(denominator));
        for (out, &byte) in value.iter_mut().zip(share.bytes.iter()) {
            *out ^= mul(weight, byte);
        }
    }
    value
}

/// Checks a share set: at least `threshold` shares, distinct identifiers in 1..=255, equal lengths.
fn check_shares(shares: &[Share], threshold: usize) -> Result<usize, CryptoError> {
    if threshold == 0 || shares.len() < threshold {
        return Err(CryptoError::InvalidInput(format!(
            "{} part(s) given, the threshold is {threshold}",
            shares.len()
        )));
    }
    let len = shares[0].bytes.len();
    let mut seen = [false; 256];
    for share in shares {
        if share.x == 0 {
            return Err(CryptoError::InvalidInput(
                "Key Part Identifier 0 is not a part (identifiers are 1 to 255)".into(),
            ));
        }
        if std::mem::replace(&mut seen[usize::from(share.x)], true) {
            return Err(CryptoError::InvalidInput(format!(
                "Key Part Identifier {} is given twice",
                share.x
            )));
        }
        if share.bytes.len() != len || len == 0 {
            return Err(CryptoError::InvalidInput(
                "the parts' key material differs in length".into(),
            ));
        }
    }
    Ok(len)
}

/// Rebuilds the secret from `shares` (at least `threshold`). Shares beyond the threshold must lie on the same
/// polynomials: a set that does not (a part of another split, or a corrupted one) is refused rather than
/// rebuilt into a wrong key.
pub fn join_gf256(shares: &[Share], threshold: usize) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let len = check_shares(shares, threshold)?;
    let basis: Vec<&Share> = shares.iter().take(threshold).collect();
    for surplus in &shares[threshold..] {
        if *interpolate_at(&basis, surplus.x, len) != **surplus.bytes {
            return Err(CryptoError::InvalidInput(format!(
                "part {} does not belong to the same split as the others",
                surplus.x
            )));
        }
    }
    Ok(interpolate_at_zero(&basis, len))
}

/// XOR splitting (n of n): `parts - 1` random shares, the last the XOR of the secret and all of them.
pub fn split_xor(
    pool: &EntropyPool,
    secret: &[u8],
    parts: usize,
) -> Result<Vec<Share>, CryptoError> {
    check_counts(parts, parts, secret.len())?;
    let mut last = Zeroizing::new(secret.to_vec());
    let mut shares = Vec::with_capacity(parts);
    for x in 1..parts {
        let mut bytes = Zeroizing::new(vec![0u8; secret.len()]);
        pool.fill(&mut bytes)?;
        for (l, b) in last.iter_mut().zip(bytes.iter()) {
            *l ^= b;
        }
        shares.push(Share {
            x: u8::try_from(x).unwrap_or(u8::MAX),
            bytes,
        });
    }
    shares.push(Share {
        x: u8::try_from(parts).unwrap_or(u8::MAX),
        bytes: last,
    });
    Ok(shares)
}

/// Rebuilds an XOR-split secret: every one of the `parts` shares is needed.
pub fn join_xor(shares: &[Share], parts: usize) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let len = check_shares(shares, parts)?;
    let mut secret = Zeroizing::new(vec![0u8; len]);
    for share in shares {
        for (s, b) in secret.iter_mut().zip(share.bytes.iter()) {
            *s ^= b;
        }
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> EntropyPool {
        EntropyPool::new(entropy::EntropyConfig::default()).unwrap()
    }

    #[test]
    fn field_arithmetic_matches_fips_197() {
        // FIPS 197 §4.2: {57} • {83} = {c1}, {57} • {13} = {fe}.
        assert_eq!(mul(0x57, 0x83), 0xc1);
        assert_eq!(mul(0x57, 0x13), 0xfe);
        for a in 1..=255u8 {
            assert_eq!(mul(a, inverse(a)), 1, "{a:#04x}");
        }
    }

    #[test]
    fn any_threshold_subset_rebuilds_the_key_and_fewer_parts_are_refused() {
        let pool = pool();
        let secret: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(37)).collect();
        let shares = split_gf256(&pool, &secret, 5, 3).unwrap();
        assert_eq!(shares.len(), 5);
        let pick = |ids: &[usize]| -> Vec<Share> {
            ids.iter()
                .map(|&i| Share {
                    x: shares[i].x,
                    bytes: shares[i].bytes.clone(),
                })
                .collect()
        };
        for subset in [[0, 1, 2], [0, 2, 4], [4, 3, 1], [1, 2, 3]] {
            assert_eq!(*join_gf256(&pick(&subset), 3).unwrap(), secret);
        }
        assert_eq!(*join_gf256(&pick(&[0, 1, 2, 3, 4]), 3).unwrap(), secret);
        assert!(join_gf256(&pick(&[0, 1]), 3).is_err());
        // A duplicated part, a part of another split, or a short part is refused.
        assert!(join_gf256(&pick(&[0, 0, 1]), 3).is_err());
        let mut foreign = pick(&[0, 1, 2, 3]);
        foreign[3].bytes[0] ^= 1;
        assert!(join_gf256(&foreign, 3).is_err());
        let mut short = pick(&[0, 1, 2]);
        short[2].bytes.pop();
        assert!(join_gf256(&short, 3).is_err());
        assert!(split_gf256(&pool, &secret, 3, 4).is_err());
        assert!(split_gf256(&pool, &secret, 256, 2).is_err());
        assert!(split_gf256(&pool, &[], 3, 2).is_err());
    }

    #[test]
    fn xor_splitting_needs_every_part() {
        let pool = pool();
        let secret = [0xa5u8; 16];
        let shares = split_xor(&pool, &secret, 3).unwrap();
        assert_eq!(*join_xor(&shares, 3).unwrap(), secret);
        assert!(join_xor(&shares[..2], 3).is_err());
    }
}
