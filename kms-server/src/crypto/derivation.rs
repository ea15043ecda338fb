//! Key derivation functions for Derive Key: PBKDF2 (RFC 8018) with HMAC-SHA-1/-224/-256/-384/-512, HKDF
//! (RFC 5869), NIST SP 800-108 counter mode with HMAC, and KMIP's HASH and HMAC derivation methods. All the
//! derivation math of the server is here, over the RustCrypto `pbkdf2`, `hkdf`, `hmac` and `sha2` crates of one
//! generation, so that a dependency upgrade touches this file only. No randomness: every output is a function of
//! its inputs (the caller's salt, data and key).

use hkdf::Hkdf;
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use super::hash::{HashAlgorithm, Hasher};
use super::mac::hmac;
use super::CryptoError;

/// The most PBKDF2 iterations one request may ask for: about a second of one core per million with SHA-256 on
/// the CI machine, so a request cannot hold a worker for long. RFC 8018 asks for at least 1,000; OWASP
/// recommends 600,000 for HMAC-SHA-256.
pub const MAX_PBKDF2_ITERATIONS: u32 = 5_000_000;

/// The longest output any method produces here (bytes): 8,192-bit keys and secrets.
pub const MAX_OUTPUT_LEN: usize = 1024;

fn check_len(len: usize) -> Result<(), CryptoError> {
    if len == 0 || len > MAX_OUTPUT_LEN {
        return Err(CryptoError::InvalidInput(format!(
            "a derived key is 1 to {MAX_OUTPUT_LEN} bytes, not {len}"
        )));
    }
    Ok(())
}

/// PBKDF2 with HMAC-`prf` (RFC 8018 §5.2): `len` bytes from `password` and `salt` after `iterations` rounds.
pub fn pbkdf2_hmac(
    prf: HashAlgorithm,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_len(len)?;
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
        return Err(CryptoError::InvalidInput(format!(
            "PBKDF2 takes 1 to {MAX_PBKDF2_ITERATIONS} iterations, not {iterations}"
        )));
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    match prf {
        HashAlgorithm::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
        HashAlgorithm::Sha224 => {
            pbkdf2::pbkdf2_hmac::<Sha224>(password, salt, iterations, &mut out)
        }
        HashAlgorithm::Sha256 => {
            pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out)
        }
        HashAlgorithm::Sha384 => {
            pbkdf2::pbkdf2_hmac::<Sha384>(password, salt, iterations, &mut out)
        }
        HashAlgorithm::Sha512 => {
            pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out)
        }
    }
    Ok(out)
}

/// HKDF extract-and-expand (RFC 5869) with HMAC-`hash`: `len` bytes (at most 255 hash lengths) from the input
/// keying material `ikm`, an optional `salt` and the context `info`.
pub fn hkdf(
    hash: HashAlgorithm,
    ikm: &[u8],
    salt: Option<&[u8]>,
    info: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_len(len)?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    let too_long = |_| {
        CryptoError::InvalidInput(format!(
            "HKDF with {hash:?} gives at most {} bytes",
            255 * hash.output_len()
        ))
    };
    match hash {
        HashAlgorithm::Sha1 => Hkdf::<Sha1>::new(salt, ikm).expand(info, &mut out),
        HashAlgorithm::Sha224 => Hkdf::<Sha224>::new(salt, ikm).expand(info, &mut out),
        HashAlgorithm::Sha256 => Hkdf::<Sha256>::new(salt, ikm).expand(info, &mut out),
        HashAlgorithm::Sha384 => Hkdf::<Sha384>::new(salt, ikm).expand(info, &mut out),
        HashAlgorithm::Sha512 => Hkdf::<Sha512>::new(salt, ikm).expand(info, &mut out),
    }
    .map_err(too_long)?;
    Ok(out)
}

/// NIST SP 800-108r1 §4.1 KDF in counter mode with HMAC-`hash` as PRF, the 32-bit counter before the fixed
/// input data: K(i) = HMAC(key, [i]₃₂ ‖ fixed_input), i = 1..n, output the first `len` bytes. The caller's
/// fixed input data (KMIP Derivation Data) carries Label, Context and [L] in whatever layout the peer uses, as
/// in the NIST CAVP KBKDF vectors and Python `cryptography`'s `KBKDFHMAC(fixed=...)`.
pub fn sp800_108_counter_hmac(
    hash: HashAlgorithm,
    key: &[u8],
    fixed_input: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_len(len)?;
    let mut out = Zeroizing::new(Vec::with_capacity(len + hash.output_len()));
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut input = Zeroizing::new(Vec::with_capacity(4 + fixed_input.len()));
        input.extend_from_slice(&counter.to_be_bytes());
        input.extend_from_slice(fixed_input);
        out.extend_from_slice(&Zeroizing::new(hmac(hash, key, &input)?));
        counter += 1;
    }
    out.truncate(len);
    Ok(out)
}

/// KMIP HASH derivation: the first `len` bytes of hash(key ‖ data). The key always goes in, so the result is
/// as secret as the base key even when the Derivation Data is public.
pub fn hash_derive(
    hash: HashAlgorithm,
    key: &[u8],
    data: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    truncated(hash, len, || {
        let mut hasher = Hasher::new(hash);
        hasher.update(key);
        hasher.update(data);
        Ok(hasher.finalize())
    })
}

/// KMIP HMAC derivation: the first `len` bytes of HMAC-`hash`(key, data).
pub fn hmac_derive(
    hash: HashAlgorithm,
    key: &[u8],
    data: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    truncated(hash, len, || hmac(hash, key, data))
}

fn truncated(
    hash: HashAlgorithm,
    len: usize,
    compute: impl FnOnce() -> Result<Vec<u8>, CryptoError>,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_len(len)?;
    if len > hash.output_len() {
        return Err(CryptoError::InvalidInput(format!(
            "{hash:?} gives {} bytes, fewer than the {len} asked for",
            hash.output_len()
        )));
    }
    let mut out = Zeroizing::new(compute()?);
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn pbkdf2_hmac_sha1_matches_rfc_6070() {
        let cases: &[(&[u8], &[u8], u32, &str)] = &[
            (
                b"password",
                b"salt",
                1,
                "0c60c80f961f0e71f3a9b524af6012062fe037a6",
            ),
            (
                b"password",
                b"salt",
                2,
                "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
            ),
            (
                b"password",
                b"salt",
                4096,
                "4b007901b765489abead49d926f721d065a429c1",
            ),
            (
                b"passwordPASSWORDpassword",
                b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
                4096,
                "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038",
            ),
            (
                b"pass\0word",
                b"sa\0lt",
                4096,
                "56fa6aa75548099dcc37d7f03425e0c3",
            ),
        ];
        for (password, salt, iterations, expected) in cases {
            let expected = hex(expected);
            let out = pbkdf2_hmac(
                HashAlgorithm::Sha1,
                password,
                salt,
                *iterations,
                expected.len(),
            )
            .unwrap();
            assert_eq!(*out, expected, "c = {iterations}");
        }
    }

    #[test]
    fn pbkdf2_hmac_sha256_and_sha512_match_python_cryptography() {
        // Computed with Python `cryptography` 48 (PBKDF2HMAC), an independent implementation.
        let sha256 = pbkdf2_hmac(HashAlgorithm::Sha256, b"password", b"salt", 4096, 32).unwrap();
        assert_eq!(
            *sha256,
            hex("c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
        );
        let sha512 = pbkdf2_hmac(HashAlgorithm::Sha512, b"password", b"salt", 1, 64).unwrap();
        assert_eq!(
            *sha512,
            hex("867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce")
        );
    }

    #[test]
    fn pbkdf2_refuses_unbounded_work_and_empty_output() {
        let error = pbkdf2_hmac(
            HashAlgorithm::Sha256,
            b"p",
            b"s",
            MAX_PBKDF2_ITERATIONS + 1,
            16,
        );
        assert!(matches!(error, Err(CryptoError::InvalidInput(_))));
        assert!(pbkdf2_hmac(HashAlgorithm::Sha256, b"p", b"s", 0, 16).is_err());
        assert!(pbkdf2_hmac(HashAlgorithm::Sha256, b"p", b"s", 1, 0).is_err());
        assert!(pbkdf2_hmac(HashAlgorithm::Sha256, b"p", b"s", 1, MAX_OUTPUT_LEN + 1).is_err());
    }

    #[test]
    fn hkdf_matches_rfc_5869() {
        // Test case 1 (SHA-256).
        let okm = hkdf(
            HashAlgorithm::Sha256,
            &[0x0b; 22],
            Some(&hex("000102030405060708090a0b0c")),
            &hex("f0f1f2f3f4f5f6f7f8f9"),
            42,
        )
        .unwrap();
        assert_eq!(*okm, hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));
        // Test case 3 (SHA-256, no salt, no info).
        let okm = hkdf(HashAlgorithm::Sha256, &[0x0b; 22], None, b"", 42).unwrap();
        assert_eq!(*okm, hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"));
        // Test case 4 (SHA-1).
        let okm = hkdf(
            HashAlgorithm::Sha1,
            &[0x0b; 11],
            Some(&hex("000102030405060708090a0b0c")),
            &hex("f0f1f2f3f4f5f6f7f8f9"),
            42,
        )
        .unwrap();
        assert_eq!(*okm, hex("085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896"));
        // More than 255 hash lengths is refused.
        assert!(hkdf(HashAlgorithm::Sha1, &[1; 16], None, b"", 255 * 20 + 1).is_err());
    }

    #[test]
    fn sp800_108_counter_mode_matches_python_cryptography_kbkdfhmac() {
        // `KBKDFHMAC(mode=CounterMode, rlen=4, location=BeforeFixed, fixed=...)` of Python `cryptography` 48.
        let key: Vec<u8> = (0u8..32).collect();
        let fixed = b"qkms label\x00context bytes";
        let out = sp800_108_counter_hmac(HashAlgorithm::Sha256, &key, fixed, 48).unwrap();
        assert_eq!(*out, hex("1782b1f9c63ab7c81824f532fd276b80f5436938d9f2120301fa783d26442d9dbcfd4a751dfa4f717b003d74b9a5b3c1"));
        let out = sp800_108_counter_hmac(HashAlgorithm::Sha512, &key, fixed, 16).unwrap();
        assert_eq!(*out, hex("7af2652d16c1c910ea48ae8248069869"));
    }

    #[test]
    fn hash_and_hmac_derivations_truncate_and_refuse_too_long_outputs() {
        let derived = hash_derive(HashAlgorithm::Sha256, b"key", b"data", 16).unwrap();
        assert_eq!(
            *derived,
            super::super::hash::digest(HashAlgorithm::Sha256, b"keydata")[..16]
        );
        let derived = hmac_derive(HashAlgorithm::Sha256, b"key", b"data", 32).unwrap();
        assert_eq!(
            *derived,
            hmac(HashAlgorithm::Sha256, b"key", b"data").unwrap()
        );
        assert!(hash_derive(HashAlgorithm::Sha1, b"k", b"d", 21).is_err());
        assert!(hmac_derive(HashAlgorithm::Sha256, b"k", b"d", 33).is_err());
    }
}
