//! Enumerations describing cryptographic algorithms and how they are used (KMIP 1.4 §9.1.3.2, 2.1 §11).
//!
//! Names are the text encodings' spelling: the specification's name without spaces, with `-`, `.`, `/` and
//! `#` turned into `_` (`SHA-256` is `SHA_256`, `3DES` is `DES3`), as the OASIS test cases write them.

use crate::kmip_enum;

kmip_enum! {
    /// Cryptographic Algorithm.
    pub enum CryptographicAlgorithm {
        Des = 0x01 => "DES",
        TripleDes = 0x02 => "DES3",
        Aes = 0x03 => "AES",
        Rsa = 0x04 => "RSA",
        Dsa = 0x05 => "DSA",
        Ecdsa = 0x06 => "ECDSA",
        HmacSha1 = 0x07 => "HMAC_SHA1",
        HmacSha224 = 0x08 => "HMAC_SHA224",
        HmacSha256 = 0x09 => "HMAC_SHA256",
        HmacSha384 = 0x0A => "HMAC_SHA384",
        HmacSha512 = 0x0B => "HMAC_SHA512",
        HmacMd5 = 0x0C => "HMAC_MD5",
        Dh = 0x0D => "DH",
        Ecdh = 0x0E => "ECDH",
        Ecmqv = 0x0F => "ECMQV",
        Blowfish = 0x10 => "Blowfish",
        Camellia = 0x11 => "Camellia",
        Cast5 = 0x12 => "CAST5",
        Idea = 0x13 => "IDEA",
        Mars = 0x14 => "MARS",
        Rc2 = 0x15 => "RC2",
        Rc4 = 0x16 => "RC4",
        Rc5 = 0x17 => "RC5",
        Skipjack = 0x18 => "SKIPJACK",
        Twofish = 0x19 => "Twofish",
        Ec = 0x1A => "EC",
        OneTimePad = 0x1B => "OneTimePad",
        ChaCha20 = 0x1C => "ChaCha20",
        Poly1305 = 0x1D => "Poly1305",
        ChaCha20Poly1305 = 0x1E => "ChaCha20Poly1305",
        Sha3_224 = 0x1F => "SHA3_224",
        Sha3_256 = 0x20 => "SHA3_256",
        Sha3_384 = 0x21 => "SHA3_384",
        Sha3_512 = 0x22 => "SHA3_512",
        HmacSha3_224 = 0x23 => "HMAC_SHA3_224",
        HmacSha3_256 = 0x24 => "HMAC_SHA3_256",
        HmacSha3_384 = 0x25 => "HMAC_SHA3_384",
        HmacSha3_512 = 0x26 => "HMAC_SHA3_512",
        Shake128 = 0x27 => "SHAKE_128",
        Shake256 = 0x28 => "SHAKE_256",
        /// KMIP 2.0 and later from here on.
        Aria = 0x29 => "ARIA",
        Seed = 0x2A => "SEED",
        Sm2 = 0x2B => "SM2",
        Sm3 = 0x2C => "SM3",
        Sm4 = 0x2D => "SM4",
        GostR34_10_2012 = 0x2E => "GOSTR34_10_2012",
        GostR34_11_2012 = 0x2F => "GOSTR34_11_2012",
        GostR34_13_2015 = 0x30 => "GOSTR34_13_2015",
        Gost28147_89 = 0x31 => "GOST28147_89",
        Xmss = 0x32 => "XMSS",
        Sphincs256 = 0x33 => "SPHINCS_256",
        McEliece = 0x34 => "McEliece",
        McEliece6960119 = 0x35 => "McEliece_6960119",
        McEliece8192128 = 0x36 => "McEliece_8192128",
        Ed25519 = 0x37 => "Ed25519",
        Ed448 = 0x38 => "Ed448",
        /// Provisional values (no published KMIP table has them yet): ML-KEM as Cosmian KMS assigns it, ML-DSA
        /// the next three (issue #18).
        MlKem512 = 0x39 => "ML_KEM_512",
        MlKem768 = 0x3A => "ML_KEM_768",
        MlKem1024 = 0x3B => "ML_KEM_1024",
        MlDsa44 = 0x3C => "ML_DSA_44",
        MlDsa65 = 0x3D => "ML_DSA_65",
        MlDsa87 = 0x3E => "ML_DSA_87",
    }
}

kmip_enum! {
    /// Block Cipher Mode.
    pub enum BlockCipherMode {
        Cbc = 0x01 => "CBC",
        Ecb = 0x02 => "ECB",
        Pcbc = 0x03 => "PCBC",
        Cfb = 0x04 => "CFB",
        Ofb = 0x05 => "OFB",
        Ctr = 0x06 => "CTR",
        Cmac = 0x07 => "CMAC",
        Ccm = 0x08 => "CCM",
        Gcm = 0x09 => "GCM",
        CbcMac = 0x0A => "CBC_MAC",
        Xts = 0x0B => "XTS",
        AesKeyWrapPadding = 0x0C => "AESKeyWrapPadding",
        NistKeyWrap = 0x0D => "NISTKeyWrap",
        X9_102Aeskw = 0x0E => "X9_102AESKW",
        X9_102Tdkw = 0x0F => "X9_102TDKW",
        X9_102Akw1 = 0x10 => "X9_102AKW1",
        X9_102Akw2 = 0x11 => "X9_102AKW2",
        /// KMIP 1.4 and later.
        Aead = 0x12 => "AEAD",
    }
}

kmip_enum! {
    /// Padding Method.
    pub enum PaddingMethod {
        None = 0x01 => "None",
        Oaep = 0x02 => "OAEP",
        Pkcs5 = 0x03 => "PKCS5",
        Ssl3 = 0x04 => "SSL3",
        Zeros = 0x05 => "Zeros",
        AnsiX9_23 = 0x06 => "ANSIX9_23",
        Iso10126 = 0x07 => "ISO10126",
        Pkcs1v1_5 = 0x08 => "PKCS1V1_5",
        X9_31 = 0x09 => "X9_31",
        Pss = 0x0A => "PSS",
    }
}

kmip_enum! {
    /// Hashing Algorithm.
    pub enum HashingAlgorithm {
        Md2 = 0x01 => "MD2",
        Md4 = 0x02 => "MD4",
        Md5 = 0x03 => "MD5",
        Sha1 = 0x04 => "SHA_1",
        Sha224 = 0x05 => "SHA_224",
        Sha256 = 0x06 => "SHA_256",
        Sha384 = 0x07 => "SHA_384",
        Sha512 = 0x08 => "SHA_512",
        Ripemd160 = 0x09 => "RIPEMD_160",
        Tiger = 0x0A => "Tiger",
        Whirlpool = 0x0B => "Whirlpool",
        Sha512_224 = 0x0C => "SHA_512_224",
        Sha512_256 = 0x0D => "SHA_512_256",
        Sha3_224 = 0x0E => "SHA3_224",
        Sha3_256 = 0x0F => "SHA3_256",
        Sha3_384 = 0x10 => "SHA3_384",
        Sha3_512 = 0x11 => "SHA3_512",
    }
}

kmip_enum! {
    /// Key Role Type (the payment-industry roles of a symmetric key).
    pub enum KeyRoleType {
        Bdk = 0x01 => "BDK",
        Cvk = 0x02 => "CVK",
        Dek = 0x03 => "DEK",
        Mkac = 0x04 => "MKAC",
        Mksmc = 0x05 => "MKSMC",
        Mksmi = 0x06 => "MKSMI",
        Mkdac = 0x07 => "MKDAC",
        Mkdn = 0x08 => "MKDN",
        Mkcp = 0x09 => "MKCP",
        Mkoth = 0x0A => "MKOTH",
        Kek = 0x0B => "KEK",
        Mac16609 = 0x0C => "MAC16609",
        Mac97971 = 0x0D => "MAC97971",
        Mac97972 = 0x0E => "MAC97972",
        Mac97973 = 0x0F => "MAC97973",
        Mac97974 = 0x10 => "MAC97974",
        Mac97975 = 0x11 => "MAC97975",
        Zpk = 0x12 => "ZPK",
        Pvkibm = 0x13 => "PVKIBM",
        Pvkpvv = 0x14 => "PVKPVV",
        Pvkoth = 0x15 => "PVKOTH",
        Dukpt = 0x16 => "DUKPT",
        Iv = 0x17 => "IV",
        Trkbk = 0x18 => "TRKBK",
    }
}

kmip_enum! {
    /// Digital Signature Algorithm (the RSA names drop the specification's "(PKCS#1 v1.5)" suffix, as the
    /// `ttlv` dictionary does).
    pub enum DigitalSignatureAlgorithm {
        Md2WithRsaEncryption = 0x01 => "MD2WithRSAEncryption",
        Md5WithRsaEncryption = 0x02 => "MD5WithRSAEncryption",
        Sha1WithRsaEncryption = 0x03 => "SHA_1WithRSAEncryption",
        Sha224WithRsaEncryption = 0x04 => "SHA_224WithRSAEncryption",
        Sha256WithRsaEncryption = 0x05 => "SHA_256WithRSAEncryption",
        Sha384WithRsaEncryption = 0x06 => "SHA_384WithRSAEncryption",
        Sha512WithRsaEncryption = 0x07 => "SHA_512WithRSAEncryption",
        RsassaPss = 0x08 => "RSASSA_PSS",
        DsaWithSha1 = 0x09 => "DSAWithSHA_1",
        DsaWithSha224 = 0x0A => "DSAWithSHA224",
        DsaWithSha256 = 0x0B => "DSAWithSHA256",
        EcdsaWithSha1 = 0x0C => "ECDSAWithSHA_1",
        EcdsaWithSha224 = 0x0D => "ECDSAWithSHA224",
        EcdsaWithSha256 = 0x0E => "ECDSAWithSHA256",
        EcdsaWithSha384 = 0x0F => "ECDSAWithSHA384",
        EcdsaWithSha512 = 0x10 => "ECDSAWithSHA512",
        /// KMIP 1.4 and later from here on.
        Sha3_256WithRsaEncryption = 0x11 => "SHA3_256WithRSAEncryption",
        Sha3_384WithRsaEncryption = 0x12 => "SHA3_384WithRSAEncryption",
        Sha3_512WithRsaEncryption = 0x13 => "SHA3_512WithRSAEncryption",
    }
}

kmip_enum! {
    /// Mask Generator (RSA-OAEP / PSS).
    pub enum MaskGenerator {
        Mgf1 = 0x01 => "MGF1",
    }
}

kmip_enum! {
    /// Recommended Curve.
    pub enum RecommendedCurve {
        P192 = 0x01 => "P_192",
        K163 = 0x02 => "K_163",
        B163 = 0x03 => "B_163",
        P224 = 0x04 => "P_224",
        K233 = 0x05 => "K_233",
        B233 = 0x06 => "B_233",
        P256 = 0x07 => "P_256",
        K283 = 0x08 => "K_283",
        B283 = 0x09 => "B_283",
        P384 = 0x0A => "P_384",
        K409 = 0x0B => "K_409",
        B409 = 0x0C => "B_409",
        P521 = 0x0D => "P_521",
        K571 = 0x0E => "K_571",
        B571 = 0x0F => "B_571",
        Secp112r1 = 0x10 => "SECP112R1",
        Secp112r2 = 0x11 => "SECP112R2",
        Secp128r1 = 0x12 => "SECP128R1",
        Secp128r2 = 0x13 => "SECP128R2",
        Secp160k1 = 0x14 => "SECP160K1",
        Secp160r1 = 0x15 => "SECP160R1",
        Secp160r2 = 0x16 => "SECP160R2",
        Secp192k1 = 0x17 => "SECP192K1",
        Secp224k1 = 0x18 => "SECP224K1",
        Secp256k1 = 0x19 => "SECP256K1",
        Sect113r1 = 0x1A => "SECT113R1",
        Sect113r2 = 0x1B => "SECT113R2",
        Sect131r1 = 0x1C => "SECT131R1",
        Sect131r2 = 0x1D => "SECT131R2",
        Sect163r1 = 0x1E => "SECT163R1",
        Sect193r1 = 0x1F => "SECT193R1",
        Sect193r2 = 0x20 => "SECT193R2",
        Sect239k1 = 0x21 => "SECT239K1",
        AnsiX9p192v2 = 0x22 => "ANSIX9P192V2",
        AnsiX9p192v3 = 0x23 => "ANSIX9P192V3",
        AnsiX9p239v1 = 0x24 => "ANSIX9P239V1",
        AnsiX9p239v2 = 0x25 => "ANSIX9P239V2",
        AnsiX9p239v3 = 0x26 => "ANSIX9P239V3",
        AnsiX9c2pnb163v1 = 0x27 => "ANSIX9C2PNB163V1",
        AnsiX9c2pnb163v2 = 0x28 => "ANSIX9C2PNB163V2",
        AnsiX9c2pnb163v3 = 0x29 => "ANSIX9C2PNB163V3",
        AnsiX9c2pnb176v1 = 0x2A => "ANSIX9C2PNB176V1",
        AnsiX9c2tnb191v1 = 0x2B => "ANSIX9C2TNB191V1",
        AnsiX9c2tnb191v2 = 0x2C => "ANSIX9C2TNB191V2",
        AnsiX9c2tnb191v3 = 0x2D => "ANSIX9C2TNB191V3",
        AnsiX9c2pnb208w1 = 0x2E => "ANSIX9C2PNB208W1",
        AnsiX9c2tnb239v1 = 0x2F => "ANSIX9C2TNB239V1",
        AnsiX9c2tnb239v2 = 0x30 => "ANSIX9C2TNB239V2",
        AnsiX9c2tnb239v3 = 0x31 => "ANSIX9C2TNB239V3",
        AnsiX9c2pnb272w1 = 0x32 => "ANSIX9C2PNB272W1",
        AnsiX9c2pnb304w1 = 0x33 => "ANSIX9C2PNB304W1",
        AnsiX9c2tnb359v1 = 0x34 => "ANSIX9C2TNB359V1",
        AnsiX9c2pnb368w1 = 0x35 => "ANSIX9C2PNB368W1",
        AnsiX9c2tnb431r1 = 0x36 => "ANSIX9C2TNB431R1",
        BrainpoolP160r1 = 0x37 => "BRAINPOOLP160R1",
        BrainpoolP160t1 = 0x38 => "BRAINPOOLP160T1",
        BrainpoolP192r1 = 0x39 => "BRAINPOOLP192R1",
        BrainpoolP192t1 = 0x3A => "BRAINPOOLP192T1",
        BrainpoolP224r1 = 0x3B => "BRAINPOOLP224R1",
        BrainpoolP224t1 = 0x3C => "BRAINPOOLP224T1",
        BrainpoolP256r1 = 0x3D => "BRAINPOOLP256R1",
        BrainpoolP256t1 = 0x3E => "BRAINPOOLP256T1",
        BrainpoolP320r1 = 0x3F => "BRAINPOOLP320R1",
        BrainpoolP320t1 = 0x40 => "BRAINPOOLP320T1",
        BrainpoolP384r1 = 0x41 => "BRAINPOOLP384R1",
        BrainpoolP384t1 = 0x42 => "BRAINPOOLP384T1",
        BrainpoolP512r1 = 0x43 => "BRAINPOOLP512R1",
        BrainpoolP512t1 = 0x44 => "BRAINPOOLP512T1",
        /// KMIP 2.0 and later from here on.
        Curve25519 = 0x45 => "CURVE25519",
        Curve448 = 0x46 => "CURVE448",
    }
}

kmip_enum! {
    /// RNG Algorithm (in the Random Number Generator attribute's RNG Parameters).
    pub enum RngAlgorithm {
        Unspecified = 0x01 => "Unspecified",
        Fips186_2 = 0x02 => "FIPS186_2",
        Drbg = 0x03 => "DRBG",
        Nrbg = 0x04 => "NRBG",
        AnsiX9_31 = 0x05 => "ANSIX9_31",
        AnsiX9_62 = 0x06 => "ANSIX9_62",
    }
}

kmip_enum! {
    /// DRBG Algorithm.
    pub enum DrbgAlgorithm {
        Unspecified = 0x01 => "Unspecified",
        DualEc = 0x02 => "Dual_EC",
        Hash = 0x03 => "Hash",
        Hmac = 0x04 => "HMAC",
        Ctr = 0x05 => "CTR",
    }
}

kmip_enum! {
    /// FIPS186 Variation.
    pub enum Fips186Variation {
        Unspecified = 0x01 => "Unspecified",
        GpXOriginal = 0x02 => "GPXOriginal",
        GpXChangeNotice = 0x03 => "GPXChangeNotice",
        XOriginal = 0x04 => "XOriginal",
        XChangeNotice = 0x05 => "XChangeNotice",
        KOriginal = 0x06 => "KOriginal",
        KChangeNotice = 0x07 => "KChangeNotice",
    }
}
