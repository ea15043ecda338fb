//! Enumerations describing managed objects and their key blocks (KMIP 1.4 §9.1.3.2, 2.1 §11).

use crate::kmip_enum;

kmip_enum! {
    /// Object Type.
    pub enum ObjectType {
        Certificate = 0x01 => "Certificate",
        SymmetricKey = 0x02 => "SymmetricKey",
        PublicKey = 0x03 => "PublicKey",
        PrivateKey = 0x04 => "PrivateKey",
        SplitKey = 0x05 => "SplitKey",
        /// Deprecated in 1.3, reserved in 2.0.
        Template = 0x06 => "Template",
        SecretData = 0x07 => "SecretData",
        OpaqueObject = 0x08 => "OpaqueObject",
        /// KMIP 1.2 and later.
        PgpKey = 0x09 => "PGPKey",
        /// KMIP 2.0 and later.
        CertificateRequest = 0x0A => "CertificateRequest",
    }
}

kmip_enum! {
    /// Key Format Type.
    pub enum KeyFormatType {
        Raw = 0x01 => "Raw",
        Opaque = 0x02 => "Opaque",
        Pkcs1 = 0x03 => "PKCS_1",
        Pkcs8 = 0x04 => "PKCS_8",
        X509 = 0x05 => "X_509",
        EcPrivateKey = 0x06 => "ECPrivateKey",
        TransparentSymmetricKey = 0x07 => "TransparentSymmetricKey",
        TransparentDsaPrivateKey = 0x08 => "TransparentDSAPrivateKey",
        TransparentDsaPublicKey = 0x09 => "TransparentDSAPublicKey",
        TransparentRsaPrivateKey = 0x0A => "TransparentRSAPrivateKey",
        TransparentRsaPublicKey = 0x0B => "TransparentRSAPublicKey",
        TransparentDhPrivateKey = 0x0C => "TransparentDHPrivateKey",
        TransparentDhPublicKey = 0x0D => "TransparentDHPublicKey",
        /// Deprecated in 1.3 in favour of the Transparent EC forms; reserved in 2.0.
        TransparentEcdsaPrivateKey = 0x0E => "TransparentECDSAPrivateKey",
        TransparentEcdsaPublicKey = 0x0F => "TransparentECDSAPublicKey",
        TransparentEcdhPrivateKey = 0x10 => "TransparentECDHPrivateKey",
        TransparentEcdhPublicKey = 0x11 => "TransparentECDHPublicKey",
        TransparentEcmqvPrivateKey = 0x12 => "TransparentECMQVPrivateKey",
        TransparentEcmqvPublicKey = 0x13 => "TransparentECMQVPublicKey",
        /// KMIP 1.3 and later.
        TransparentEcPrivateKey = 0x14 => "TransparentECPrivateKey",
        /// KMIP 1.3 and later.
        TransparentEcPublicKey = 0x15 => "TransparentECPublicKey",
        /// KMIP 1.3 and later.
        Pkcs12 = 0x16 => "PKCS_12",
        /// KMIP 2.0 and later.
        Pkcs10 = 0x17 => "PKCS_10",
    }
}

kmip_enum! {
    /// Key Compression Type.
    pub enum KeyCompressionType {
        EcPublicKeyTypeUncompressed = 0x01 => "ECPublicKeyTypeUncompressed",
        EcPublicKeyTypeX9_62CompressedPrime = 0x02 => "ECPublicKeyTypeX9_62CompressedPrime",
        EcPublicKeyTypeX9_62CompressedChar2 = 0x03 => "ECPublicKeyTypeX9_62CompressedChar2",
        EcPublicKeyTypeX9_62Hybrid = 0x04 => "ECPublicKeyTypeX9_62Hybrid",
    }
}

kmip_enum! {
    /// Certificate Type.
    pub enum CertificateType {
        X509 = 0x01 => "X_509",
        /// Deprecated in 1.2 (PGP Key objects replace it).
        Pgp = 0x02 => "PGP",
    }
}

kmip_enum! {
    /// Secret Data Type.
    pub enum SecretDataType {
        Password = 0x01 => "Password",
        Seed = 0x02 => "Seed",
    }
}

kmip_enum! {
    /// Split Key Method.
    pub enum SplitKeyMethod {
        Xor = 0x01 => "XOR",
        PolynomialSharingGf2_16 = 0x02 => "PolynomialSharingGF2_16",
        PolynomialSharingPrimeField = 0x03 => "PolynomialSharingPrimeField",
        PolynomialSharingGf2_8 = 0x04 => "PolynomialSharingGF2_8",
    }
}

kmip_enum! {
    /// Derivation Method (Derive Key). HKDF (RFC 5869) and AWS Signature Version 4 are KMIP 2.1 values.
    pub enum DerivationMethod {
        Pbkdf2 = 0x01 => "PBKDF2",
        Hash = 0x02 => "HASH",
        Hmac = 0x03 => "HMAC",
        Encrypt = 0x04 => "ENCRYPT",
        Nist800_108C = 0x05 => "NIST800_108_C",
        Nist800_108F = 0x06 => "NIST800_108_F",
        Nist800_108Dpi = 0x07 => "NIST800_108_DPI",
        AsymmetricKey = 0x08 => "AsymmetricKey",
        AwsSignatureVersion4 = 0x09 => "AWSSignatureVersion4",
        Hkdf = 0x0A => "HKDF",
    }
}

kmip_enum! {
    /// Wrapping Method.
    pub enum WrappingMethod {
        Encrypt = 0x01 => "Encrypt",
        MacSign = 0x02 => "MACSign",
        EncryptThenMacSign = 0x03 => "EncryptThenMACSign",
        MacSignThenEncrypt = 0x04 => "MACSignThenEncrypt",
        Tr31 = 0x05 => "TR_31",
    }
}

kmip_enum! {
    /// Encoding Option (how a wrapped key's value was encoded before wrapping).
    pub enum EncodingOption {
        NoEncoding = 0x01 => "NoEncoding",
        TtlvEncoding = 0x02 => "TTLVEncoding",
    }
}

/// Opaque Data Type: the specification defines no values, only the extension range `0x8XXXXXXX`, so any value
/// is carried as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpaqueDataType(pub u32);
