//! Cryptographic Usage Mask: a bit set, carried as an Integer.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// Cryptographic Usage Mask (KMIP 1.4 §9.1.3.3.1, 2.1 §11.15). Unassigned bits are kept, not dropped, so a
/// value read from a newer peer is written back unchanged.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CryptographicUsageMask(pub u32);

/// Each bit with its name in the text encodings, in bit order.
const BITS: &[(u32, &str)] = &[
    (0x0000_0001, "Sign"),
    (0x0000_0002, "Verify"),
    (0x0000_0004, "Encrypt"),
    (0x0000_0008, "Decrypt"),
    (0x0000_0010, "WrapKey"),
    (0x0000_0020, "UnwrapKey"),
    (0x0000_0040, "Export"),
    (0x0000_0080, "MACGenerate"),
    (0x0000_0100, "MACVerify"),
    (0x0000_0200, "DeriveKey"),
    (0x0000_0400, "ContentCommitment"),
    (0x0000_0800, "KeyAgreement"),
    (0x0000_1000, "CertificateSign"),
    (0x0000_2000, "CRLSign"),
    (0x0000_4000, "GenerateCryptogram"),
    (0x0000_8000, "ValidateCryptogram"),
    (0x0001_0000, "TranslateEncrypt"),
    (0x0002_0000, "TranslateDecrypt"),
    (0x0004_0000, "TranslateWrap"),
    (0x0008_0000, "TranslateUnwrap"),
    (0x0010_0000, "Authenticate"),
    (0x0020_0000, "Unrestricted"),
    (0x0040_0000, "FPEEncrypt"),
    (0x0080_0000, "FPEDecrypt"),
];

impl CryptographicUsageMask {
    pub const SIGN: Self = Self(0x0000_0001);
    pub const VERIFY: Self = Self(0x0000_0002);
    pub const ENCRYPT: Self = Self(0x0000_0004);
    pub const DECRYPT: Self = Self(0x0000_0008);
    pub const WRAP_KEY: Self = Self(0x0000_0010);
    pub const UNWRAP_KEY: Self = Self(0x0000_0020);
    /// Reserved from KMIP 2.0.
    pub const EXPORT: Self = Self(0x0000_0040);
    pub const MAC_GENERATE: Self = Self(0x0000_0080);
    pub const MAC_VERIFY: Self = Self(0x0000_0100);
    pub const DERIVE_KEY: Self = Self(0x0000_0200);
    pub const CONTENT_COMMITMENT: Self = Self(0x0000_0400);
    pub const KEY_AGREEMENT: Self = Self(0x0000_0800);
    pub const CERTIFICATE_SIGN: Self = Self(0x0000_1000);
    pub const CRL_SIGN: Self = Self(0x0000_2000);
    /// 1.x only (reserved from 2.0), as are the three after it.
    pub const GENERATE_CRYPTOGRAM: Self = Self(0x0000_4000);
    pub const VALIDATE_CRYPTOGRAM: Self = Self(0x0000_8000);
    pub const TRANSLATE_ENCRYPT: Self = Self(0x0001_0000);
    pub const TRANSLATE_DECRYPT: Self = Self(0x0002_0000);
    pub const TRANSLATE_WRAP: Self = Self(0x0004_0000);
    pub const TRANSLATE_UNWRAP: Self = Self(0x0008_0000);
    /// KMIP 2.0 and later, as are the three after it.
    pub const AUTHENTICATE: Self = Self(0x0010_0000);
    pub const UNRESTRICTED: Self = Self(0x0020_0000);
    pub const FPE_ENCRYPT: Self = Self(0x0040_0000);
    pub const FPE_DECRYPT: Self = Self(0x0080_0000);

    pub const fn empty() -> Self {
        Self(0)
    }

    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set here.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the set bits, in bit order (the text encodings' `"Encrypt Decrypt"` form joins them).
    pub fn names(self) -> Vec<&'static str> {
        BITS.iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }

    /// The bit named `name` in the text encodings.
    pub fn from_name(name: &str) -> Option<Self> {
        BITS.iter()
            .find(|(_, n)| *n == name)
            .map(|(bit, _)| Self(*bit))
    }

    /// The mask's wire form: an Integer holding the same 32 bits.
    pub const fn to_wire(self) -> i32 {
        i32::from_ne_bytes(self.0.to_ne_bytes())
    }

    pub const fn from_wire(value: i32) -> Self {
        Self(u32::from_ne_bytes(value.to_ne_bytes()))
    }
}

impl BitOr for CryptographicUsageMask {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for CryptographicUsageMask {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for CryptographicUsageMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CryptographicUsageMask({self})")
    }
}

impl fmt::Display for CryptographicUsageMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: u32 = BITS.iter().map(|(bit, _)| bit).fold(0, |a, b| a | b);
        let mut parts: Vec<String> = self.names().into_iter().map(str::to_owned).collect();
        if self.0 & !known != 0 {
            parts.push(format!("0x{:08X}", self.0 & !known));
        }
        if parts.is_empty() {
            f.write_str("0")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}
