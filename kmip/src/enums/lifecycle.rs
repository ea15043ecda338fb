//! Enumerations describing an object's names, links, state and use (KMIP 1.4 §9.1.3.2, 2.1 §11).

use crate::kmip_enum;

kmip_enum! {
    /// Name Type.
    pub enum NameType {
        UninterpretedTextString = 0x01 => "UninterpretedTextString",
        Uri = 0x02 => "URI",
    }
}

kmip_enum! {
    /// Alternative Name Type (KMIP 1.2 and later).
    pub enum AlternativeNameType {
        UninterpretedTextString = 0x01 => "UninterpretedTextString",
        Uri = 0x02 => "URI",
        ObjectSerialNumber = 0x03 => "ObjectSerialNumber",
        EmailAddress = 0x04 => "EmailAddress",
        DnsName = 0x05 => "DNSName",
        X500DistinguishedName = 0x06 => "X_500DistinguishedName",
        IpAddress = 0x07 => "IPAddress",
    }
}

kmip_enum! {
    /// Key Value Location Type (KMIP 1.2 and later).
    pub enum KeyValueLocationType {
        UninterpretedTextString = 0x01 => "UninterpretedTextString",
        Uri = 0x02 => "URI",
    }
}

kmip_enum! {
    /// State: the object's place in the key lifecycle.
    pub enum State {
        PreActive = 0x01 => "PreActive",
        Active = 0x02 => "Active",
        Deactivated = 0x03 => "Deactivated",
        Compromised = 0x04 => "Compromised",
        Destroyed = 0x05 => "Destroyed",
        DestroyedCompromised = 0x06 => "DestroyedCompromised",
    }
}

kmip_enum! {
    /// Link Type.
    pub enum LinkType {
        CertificateLink = 0x101 => "CertificateLink",
        PublicKeyLink = 0x102 => "PublicKeyLink",
        PrivateKeyLink = 0x103 => "PrivateKeyLink",
        DerivationBaseObjectLink = 0x104 => "DerivationBaseObjectLink",
        DerivedKeyLink = 0x105 => "DerivedKeyLink",
        ReplacementObjectLink = 0x106 => "ReplacementObjectLink",
        ReplacedObjectLink = 0x107 => "ReplacedObjectLink",
        /// KMIP 1.2 and later.
        ParentLink = 0x108 => "ParentLink",
        ChildLink = 0x109 => "ChildLink",
        PreviousLink = 0x10A => "PreviousLink",
        NextLink = 0x10B => "NextLink",
        /// KMIP 1.4 and later.
        Pkcs12CertificateLink = 0x10C => "PKCS_12CertificateLink",
        Pkcs12PasswordLink = 0x10D => "PKCS_12PasswordLink",
        /// KMIP 2.0 and later.
        WrappingKeyLink = 0x10E => "WrappingKeyLink",
    }
}

kmip_enum! {
    /// Revocation Reason Code.
    pub enum RevocationReasonCode {
        Unspecified = 0x01 => "Unspecified",
        KeyCompromise = 0x02 => "KeyCompromise",
        CaCompromise = 0x03 => "CACompromise",
        AffiliationChanged = 0x04 => "AffiliationChanged",
        Superseded = 0x05 => "Superseded",
        CessationOfOperation = 0x06 => "CessationOfOperation",
        PrivilegeWithdrawn = 0x07 => "PrivilegeWithdrawn",
    }
}

kmip_enum! {
    /// Usage Limits Unit.
    pub enum UsageLimitsUnit {
        Byte = 0x01 => "Byte",
        Object = 0x02 => "Object",
    }
}
