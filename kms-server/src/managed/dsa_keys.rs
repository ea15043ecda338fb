//! DSA keys a client registers in the Transparent DSA Public / Private Key formats (KMIP 2.1 Baseline, BL-M-12
//! and BL-M-13). qkms stores and returns them; it does not sign or verify with DSA (FIPS 186-5 withdrew DSA for
//! signing), so they are checked with the RustCrypto `dsa` crate on the way in and otherwise kept as given: a
//! Get returns them in their registered format, and any use that needs a parsed key (another format, Sign,
//! Encrypt...) answers Key Format Type Not Supported from `key_codec`.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::Resize;
use dsa::{BoxedUint, Components, SigningKey, VerifyingKey};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType};
use kmip::objects::{magnitude, KeyBlock, KeyMaterial, ManagedObject};
use kmip::ResultReason;

use crate::error::KmipError;
use crate::state::RequestContext;

/// Largest DSA prime accepted, in bits: FIPS 186 stops at 3072; the margin keeps the modular exponentiations of
/// the checks below bounded for any input.
const MAX_P_BITS: u64 = 8192;

/// Whether `object` is a DSA public or private key (by its format, or by its declared algorithm).
pub fn is_dsa(object: &ManagedObject) -> bool {
    match object {
        ManagedObject::PublicKey(block) | ManagedObject::PrivateKey(block) => {
            matches!(
                block.key_format_type,
                KeyFormatType::TransparentDsaPublicKey | KeyFormatType::TransparentDsaPrivateKey
            ) || block.cryptographic_algorithm == Some(CryptographicAlgorithm::Dsa)
        }
        _ => false,
    }
}

/// Readies a DSA key for storage: unwraps it if it came wrapped, checks it is a well-formed DSA key of the
/// object's kind, and fills in the Cryptographic Algorithm (DSA) and Length (bits of P) or checks the ones
/// given.
pub fn prepare(ctx: &RequestContext<'_>, object: &mut ManagedObject) -> Result<(), KmipError> {
    let (block, private) = match object {
        ManagedObject::PublicKey(block) => (block, false),
        ManagedObject::PrivateKey(block) => (block, true),
        _ => {
            return Err(KmipError::invalid_field(
                "only public and private keys can be DSA keys",
            ))
        }
    };
    if super::wrapping::unwrap_block(ctx, block)? == super::wrapping::Unwrapped::KeptWrapped {
        return Err(KmipError::invalid_field(
            "a Transparent DSA key must be registered in the clear or wrapped under a key this server holds",
        ));
    }
    let bits = check_material(block, private)?;
    match block.cryptographic_algorithm {
        None | Some(CryptographicAlgorithm::Dsa) => {
            block.cryptographic_algorithm = Some(CryptographicAlgorithm::Dsa);
        }
        Some(other) => {
            return Err(KmipError::invalid_field(format!(
                "a Transparent DSA key cannot have Cryptographic Algorithm {}",
                other.name()
            )))
        }
    }
    match block.cryptographic_length {
        Some(length) if i64::from(length) != i64::try_from(bits).unwrap_or(-1) => {
            Err(KmipError::invalid_field(format!(
                "Cryptographic Length {length} does not match the {bits}-bit DSA prime P"
            )))
        }
        _ => {
            block.cryptographic_length = Some(i32::try_from(bits).unwrap_or(i32::MAX));
            Ok(())
        }
    }
}

/// Checks the key material and returns the bit length of P.
fn check_material(block: &KeyBlock, private: bool) -> Result<u64, KmipError> {
    let material = &block
        .key_value
        .as_ref()
        .ok_or_else(|| KmipError::new(ResultReason::KeyValueNotPresent, "the key has no value"))?
        .material;
    let wrong_kind = || {
        KmipError::invalid_field(format!(
            "a {} key must be in {}",
            if private { "private" } else { "public" },
            if private {
                "Transparent DSA Private Key"
            } else {
                "Transparent DSA Public Key"
            }
        ))
    };
    match (material, private) {
        (KeyMaterial::TransparentDsaPublicKey(parts), false) => {
            let components = components(&parts.p, &parts.q, &parts.g)?;
            let bits = components.p().bit_width() as u64;
            // Built only to be checked; nothing here uses the key.
            let y = uint_like(&parts.y, components.p());
            let _public_key = verifying_key(components, y)?;
            Ok(bits)
        }
        (KeyMaterial::TransparentDsaPrivateKey(parts), true) => {
            let components = components(&parts.p, &parts.q, &parts.g)?;
            let bits = components.p().bit_width() as u64;
            let x = uint_like(&parts.x, components.p());
            // FIPS 186 wants 0 < X < Q (`SigningKey` checks it too; said here with a clearer message).
            if x.is_zero().to_bool() || x >= **components.q() {
                return Err(KmipError::invalid_field(
                    "X is not a valid DSA private value (it must lie in 1..Q)",
                ));
            }
            let params = BoxedMontyParams::new_vartime(components.p().clone());
            let y = BoxedMontyForm::new((**components.g()).clone(), &params)
                .pow(&x)
                .retrieve();
            let public = verifying_key(components, y)?;
            let _private_key = SigningKey::from_components(public, x).map_err(|_| {
                KmipError::invalid_field("X is not a valid DSA private value (it must lie in 1..Q)")
            })?;
            Ok(bits)
        }
        (KeyMaterial::TransparentDsaPublicKey(_) | KeyMaterial::TransparentDsaPrivateKey(_), _) => {
            Err(wrong_kind())
        }
        _ if matches!(
            block.key_format_type,
            KeyFormatType::TransparentDsaPublicKey | KeyFormatType::TransparentDsaPrivateKey
        ) =>
        {
            Err(KmipError::invalid_field(format!(
                "the Key Material is not a {} structure {{P, Q, G, {}}}",
                block.key_format_type.name(),
                if private { "X" } else { "Y" }
            )))
        }
        _ => Err(KmipError::new(
            ResultReason::KeyFormatTypeNotSupported,
            format!(
                "DSA keys are accepted in the Transparent DSA Public / Private Key formats, not {}",
                block.key_format_type.name()
            ),
        )),
    }
}

/// A KMIP Big Integer's magnitude as a `BoxedUint` of its own length (at least one byte).
fn uint(twos_complement: &[u8]) -> BoxedUint {
    let bytes = magnitude(twos_complement);
    BoxedUint::from_be_slice_vartime(if bytes.is_empty() { &[0] } else { bytes })
}

/// A value below P (G, X, Y) at P's precision, as `crypto-bigint`'s modular arithmetic wants; a value longer than
/// P is cut to P's width, which the range checks that follow then refuse (it becomes a different, wrong value).
fn uint_like(twos_complement: &[u8], p: &BoxedUint) -> BoxedUint {
    let value = uint(twos_complement);
    let precision = p.bits_precision();
    if value.bit_width_vartime() > precision {
        return BoxedUint::max(precision);
    }
    value.resize_unchecked(precision)
}

fn components(p: &[u8], q: &[u8], g: &[u8]) -> Result<Components, KmipError> {
    let (p, q) = (uint(p), uint(q));
    if p.bit_width_vartime() as u64 > MAX_P_BITS {
        return Err(KmipError::invalid_field(format!(
            "the DSA prime P has {} bits; qkms accepts at most {MAX_P_BITS}",
            p.bit_width_vartime()
        )));
    }
    let g = uint_like(g, &p);
    // `Components` only checks ranges; Q must also be smaller than P for any of the checks to mean something.
    if q >= p {
        return Err(KmipError::invalid_field(
            "the DSA parameter Q must be smaller than P",
        ));
    }
    // Unchecked: any size (512-bit parameters are registered by KMIP test cases); the ranges are still checked.
    Components::from_components_unchecked(p, q, g)
        .map_err(|_| KmipError::invalid_field("P, Q and G are not valid DSA domain parameters"))
}

fn verifying_key(components: Components, y: BoxedUint) -> Result<VerifyingKey, KmipError> {
    VerifyingKey::from_components(components, y).map_err(|_| {
        KmipError::invalid_field(
            "Y is not a valid DSA public value for these parameters (Y^Q mod P must be 1)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::objects::{DsaPrivateParts, DsaPublicParts};
    use zeroize::Zeroizing;

    // The 512-bit domain parameters and key of the OASIS cases BL-M-12-21 / BL-M-13-21.
    const P: &str = "fca682ce8e12caba26efccf7110e526db078b05edecbcd1eb4a208f3ae1617ae01f35b91a47e6df63413c5e12ed0899bcd132acd50d99151bdc43ee737592e17";
    const Q: &str = "962eddcc369cba8ebb260ee6b6a126d9346e38c5";
    const G: &str = "678471b27a9cf44ee91a49c5147db1a9aaf244f05a434d6486931d2d14271b9e35030b71fd73da179069b32e2935630e1c2062354d0da20a6c416e50be794ca4";
    const Y: &str = "b3cb74d988dea7160a64a4edbb7f70404fa4c08a4208c19d76357a6a9df200cce79faecb22e3419be9b01128cbd998a2d9307101705e4a952462f34728ac5fcf";
    const X: &str = "095411d740d2443fa3f97d1ed9a0411bb45e7131";

    fn h(s: &str) -> Vec<u8> {
        let mut v = vec![0];
        v.extend(hex::decode(s).unwrap());
        v
    }

    fn public(y: &str) -> KeyBlock {
        KeyBlock::new(
            KeyFormatType::TransparentDsaPublicKey,
            KeyMaterial::TransparentDsaPublicKey(DsaPublicParts {
                p: h(P),
                q: h(Q),
                g: h(G),
                y: h(y),
            }),
            None,
            None,
        )
    }

    fn private(x: &str) -> KeyBlock {
        KeyBlock::new(
            KeyFormatType::TransparentDsaPrivateKey,
            KeyMaterial::TransparentDsaPrivateKey(DsaPrivateParts {
                p: h(P),
                q: h(Q),
                g: h(G),
                x: Zeroizing::new(h(x)),
            }),
            None,
            None,
        )
    }

    #[test]
    fn the_oasis_dsa_keys_are_valid_512_bit_keys() {
        assert_eq!(check_material(&public(Y), false).unwrap(), 512);
        assert_eq!(check_material(&private(X), true).unwrap(), 512);
    }

    #[test]
    fn a_public_value_outside_the_subgroup_is_invalid_field() {
        let e = check_material(&public("02"), false).unwrap_err();
        assert_eq!(e.reason, ResultReason::InvalidField);
        let y_plus_one = "b3cb74d988dea7160a64a4edbb7f70404fa4c08a4208c19d76357a6a9df200cce79faecb22e3419be9b01128cbd998a2d9307101705e4a952462f34728ac5fd0";
        let e = check_material(&public(y_plus_one), false).unwrap_err();
        assert_eq!(e.reason, ResultReason::InvalidField);
    }

    #[test]
    fn a_private_value_of_zero_or_above_q_is_invalid_field() {
        assert_eq!(
            check_material(&private("00"), true).unwrap_err().reason,
            ResultReason::InvalidField
        );
        let above_q = "962eddcc369cba8ebb260ee6b6a126d9346e38c6";
        assert_eq!(
            check_material(&private(above_q), true).unwrap_err().reason,
            ResultReason::InvalidField
        );
    }

    #[test]
    fn a_public_key_in_the_private_format_is_refused() {
        assert_eq!(
            check_material(&private(X), false).unwrap_err().reason,
            ResultReason::InvalidField
        );
        let pkcs8 = KeyBlock::new(
            KeyFormatType::Pkcs8,
            KeyMaterial::Bytes(Zeroizing::new(vec![0x30, 0])),
            Some(CryptographicAlgorithm::Dsa),
            None,
        );
        assert_eq!(
            check_material(&pkcs8, true).unwrap_err().reason,
            ResultReason::KeyFormatTypeNotSupported
        );
    }
}
