//! The Operation enumeration, and the code form a batch item carries so that an operation this crate does not
//! know still decodes (and is answered with Operation Not Supported instead of failing the whole message).

use std::fmt;

use crate::kmip_enum;

kmip_enum! {
    /// Operation (KMIP 2.1 §11, Operation Enumeration).
    pub enum Operation {
        Create = 0x01 => "Create",
        CreateKeyPair = 0x02 => "CreateKeyPair",
        Register = 0x03 => "Register",
        ReKey = 0x04 => "ReKey",
        DeriveKey = 0x05 => "DeriveKey",
        Certify = 0x06 => "Certify",
        ReCertify = 0x07 => "ReCertify",
        Locate = 0x08 => "Locate",
        Check = 0x09 => "Check",
        Get = 0x0A => "Get",
        GetAttributes = 0x0B => "GetAttributes",
        GetAttributeList = 0x0C => "GetAttributeList",
        AddAttribute = 0x0D => "AddAttribute",
        ModifyAttribute = 0x0E => "ModifyAttribute",
        DeleteAttribute = 0x0F => "DeleteAttribute",
        ObtainLease = 0x10 => "ObtainLease",
        GetUsageAllocation = 0x11 => "GetUsageAllocation",
        Activate = 0x12 => "Activate",
        Revoke = 0x13 => "Revoke",
        Destroy = 0x14 => "Destroy",
        Archive = 0x15 => "Archive",
        Recover = 0x16 => "Recover",
        Validate = 0x17 => "Validate",
        Query = 0x18 => "Query",
        Cancel = 0x19 => "Cancel",
        Poll = 0x1A => "Poll",
        Notify = 0x1B => "Notify",
        Put = 0x1C => "Put",
        ReKeyKeyPair = 0x1D => "ReKeyKeyPair",
        DiscoverVersions = 0x1E => "DiscoverVersions",
        Encrypt = 0x1F => "Encrypt",
        Decrypt = 0x20 => "Decrypt",
        Sign = 0x21 => "Sign",
        SignatureVerify = 0x22 => "SignatureVerify",
        Mac = 0x23 => "MAC",
        MacVerify = 0x24 => "MACVerify",
        RngRetrieve = 0x25 => "RNGRetrieve",
        RngSeed = 0x26 => "RNGSeed",
        Hash = 0x27 => "Hash",
        CreateSplitKey = 0x28 => "CreateSplitKey",
        JoinSplitKey = 0x29 => "JoinSplitKey",
        Import = 0x2A => "Import",
        Export = 0x2B => "Export",
        Log = 0x2C => "Log",
        Login = 0x2D => "Login",
        Logout = 0x2E => "Logout",
        DelegatedLogin = 0x2F => "DelegatedLogin",
        AdjustAttribute = 0x30 => "AdjustAttribute",
        SetAttribute = 0x31 => "SetAttribute",
        SetEndpointRole = 0x32 => "SetEndpointRole",
        Pkcs11 = 0x33 => "PKCS_11",
        Interop = 0x34 => "Interop",
        ReProvision = 0x35 => "ReProvision",
        SetDefaults = 0x36 => "SetDefaults",
        SetConstraints = 0x37 => "SetConstraints",
        GetConstraints = 0x38 => "GetConstraints",
        QueryAsynchronousRequests = 0x39 => "QueryAsynchronousRequests",
        Process = 0x3A => "Process",
        Ping = 0x3B => "Ping",
        /// Provisional (issue #18): ML-KEM encapsulation and decapsulation, numbered as a KMIP 3.0 draft
        /// implementation numbers them; accepted from KMIP 2.1 on.
        Encapsulate = 0x41 => "Encapsulate",
        Decapsulate = 0x42 => "Decapsulate",
    }
}

impl Operation {
    /// The first protocol version that defines this operation: the Operation Enumeration tables of KMIP 1.0
    /// (0x01-0x1C), 1.1 (Re-key Key Pair, Discover Versions), 1.2 (the cryptographic services, RNG, Hash and
    /// split keys), 1.4 (Import, Export), 2.0 and 2.1 allocate one contiguous range each (1.3 added none);
    /// `tests/operation_versions.rs` checks this against a transcription of those tables.
    pub fn introduced_in(self) -> crate::ProtocolVersion {
        use crate::ProtocolVersion as V;
        match self.to_u32() {
            0x01..=0x1C => V::V1_0,
            0x1D..=0x1E => V::V1_1,
            0x1F..=0x29 => V::V1_2,
            0x2A..=0x2B => V::V1_4,
            0x2C..=0x35 => V::V2_0,
            _ => V::V2_1,
        }
    }
}

/// An Operation as it appears on the wire: a known operation, or a code this crate does not define.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationCode {
    Known(Operation),
    /// A code outside the Operation enumeration (vendor extension or garbage): answered with Operation Not
    /// Supported.
    Unknown(u32),
}

impl OperationCode {
    pub fn from_u32(value: u32) -> Self {
        Operation::from_u32(value).map_or(Self::Unknown(value), Self::Known)
    }

    pub fn to_u32(self) -> u32 {
        match self {
            Self::Known(op) => op.to_u32(),
            Self::Unknown(value) => value,
        }
    }

    pub fn known(self) -> Option<Operation> {
        match self {
            Self::Known(op) => Some(op),
            Self::Unknown(_) => None,
        }
    }
}

impl From<Operation> for OperationCode {
    fn from(op: Operation) -> Self {
        Self::Known(op)
    }
}

impl fmt::Display for OperationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Known(op) => write!(f, "{op}"),
            Self::Unknown(value) => write!(f, "unknown operation 0x{value:08X}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unassigned_code_stays_unknown() {
        assert_eq!(
            OperationCode::from_u32(0x8000_0001),
            OperationCode::Unknown(0x8000_0001)
        );
        assert_eq!(OperationCode::from_u32(0x8000_0001).to_u32(), 0x8000_0001);
    }

    #[test]
    fn every_operation_round_trips_through_its_code() {
        for op in Operation::ALL {
            assert_eq!(
                OperationCode::from_u32(op.to_u32()),
                OperationCode::Known(*op)
            );
        }
    }
}
