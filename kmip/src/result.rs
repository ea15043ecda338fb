//! Result Status and Result Reason: how a server says what happened to a batch item.

use crate::kmip_enum;

kmip_enum! {
    /// Result Status.
    pub enum ResultStatus {
        Success = 0x00 => "Success",
        OperationFailed = 0x01 => "OperationFailed",
        OperationPending = 0x02 => "OperationPending",
        OperationUndone = 0x03 => "OperationUndone",
    }
}

kmip_enum! {
    /// Result Reason: the KMIP 1.4 values, then the KMIP 2.0 and 2.1 additions (KMIP 2.1 §11).
    pub enum ResultReason {
        ItemNotFound = 0x01 => "ItemNotFound",
        ResponseTooLarge = 0x02 => "ResponseTooLarge",
        AuthenticationNotSuccessful = 0x03 => "AuthenticationNotSuccessful",
        InvalidMessage = 0x04 => "InvalidMessage",
        OperationNotSupported = 0x05 => "OperationNotSupported",
        MissingData = 0x06 => "MissingData",
        InvalidField = 0x07 => "InvalidField",
        FeatureNotSupported = 0x08 => "FeatureNotSupported",
        OperationCanceledByRequester = 0x09 => "OperationCanceledByRequester",
        CryptographicFailure = 0x0A => "CryptographicFailure",
        IllegalOperation = 0x0B => "IllegalOperation",
        PermissionDenied = 0x0C => "PermissionDenied",
        ObjectArchived = 0x0D => "ObjectArchived",
        IndexOutOfBounds = 0x0E => "IndexOutOfBounds",
        ApplicationNamespaceNotSupported = 0x0F => "ApplicationNamespaceNotSupported",
        KeyFormatTypeNotSupported = 0x10 => "KeyFormatTypeNotSupported",
        KeyCompressionTypeNotSupported = 0x11 => "KeyCompressionTypeNotSupported",
        EncodingOptionError = 0x12 => "EncodingOptionError",
        KeyValueNotPresent = 0x13 => "KeyValueNotPresent",
        AttestationRequired = 0x14 => "AttestationRequired",
        AttestationFailed = 0x15 => "AttestationFailed",
        Sensitive = 0x16 => "Sensitive",
        NotExtractable = 0x17 => "NotExtractable",
        ObjectAlreadyExists = 0x18 => "ObjectAlreadyExists",
        // KMIP 2.0 additions (KMIP 2.1 §11, Result Reason Enumeration).
        InvalidTicket = 0x19 => "InvalidTicket",
        UsageLimitExceeded = 0x1A => "UsageLimitExceeded",
        NumericRange = 0x1B => "NumericRange",
        InvalidDataType = 0x1C => "InvalidDataType",
        ReadOnlyAttribute = 0x1D => "ReadOnlyAttribute",
        MultiValuedAttribute = 0x1E => "MultiValuedAttribute",
        UnsupportedAttribute = 0x1F => "UnsupportedAttribute",
        AttributeInstanceNotFound = 0x20 => "AttributeInstanceNotFound",
        AttributeNotFound = 0x21 => "AttributeNotFound",
        AttributeReadOnly = 0x22 => "AttributeReadOnly",
        AttributeSingleValued = 0x23 => "AttributeSingleValued",
        BadCryptographicParameters = 0x24 => "BadCryptographicParameters",
        BadPassword = 0x25 => "BadPassword",
        CodecError = 0x26 => "CodecError",
        IllegalObjectType = 0x28 => "IllegalObjectType",
        IncompatibleCryptographicUsageMask = 0x29 => "IncompatibleCryptographicUsageMask",
        InternalServerError = 0x2A => "InternalServerError",
        InvalidAsynchronousCorrelationValue = 0x2B => "InvalidAsynchronousCorrelationValue",
        InvalidAttribute = 0x2C => "InvalidAttribute",
        InvalidAttributeValue = 0x2D => "InvalidAttributeValue",
        InvalidCorrelationValue = 0x2E => "InvalidCorrelationValue",
        InvalidCsr = 0x2F => "InvalidCSR",
        InvalidObjectType = 0x30 => "InvalidObjectType",
        KeyWrapTypeNotSupported = 0x32 => "KeyWrapTypeNotSupported",
        MissingInitializationVector = 0x34 => "MissingInitializationVector",
        NonUniqueNameAttribute = 0x35 => "NonUniqueNameAttribute",
        ObjectDestroyed = 0x36 => "ObjectDestroyed",
        ObjectNotFound = 0x37 => "ObjectNotFound",
        NotAuthorised = 0x39 => "NotAuthorised",
        ServerLimitExceeded = 0x3A => "ServerLimitExceeded",
        UnknownEnumeration = 0x3B => "UnknownEnumeration",
        UnknownMessageExtension = 0x3C => "UnknownMessageExtension",
        UnknownTag = 0x3D => "UnknownTag",
        UnsupportedCryptographicParameters = 0x3E => "UnsupportedCryptographicParameters",
        UnsupportedProtocolVersion = 0x3F => "UnsupportedProtocolVersion",
        WrappingObjectArchived = 0x40 => "WrappingObjectArchived",
        WrappingObjectDestroyed = 0x41 => "WrappingObjectDestroyed",
        WrappingObjectNotFound = 0x42 => "WrappingObjectNotFound",
        WrongKeyLifecycleState = 0x43 => "WrongKeyLifecycleState",
        ProtectionStorageUnavailable = 0x44 => "ProtectionStorageUnavailable",
        Pkcs11CodecError = 0x45 => "PKCS_11CodecError",
        Pkcs11InvalidFunction = 0x46 => "PKCS_11InvalidFunction",
        Pkcs11InvalidInterface = 0x47 => "PKCS_11InvalidInterface",
        PrivateProtectionStorageUnavailable = 0x48 => "PrivateProtectionStorageUnavailable",
        PublicProtectionStorageUnavailable = 0x49 => "PublicProtectionStorageUnavailable",
        // KMIP 2.1 additions.
        UnknownObjectGroup = 0x4A => "UnknownObjectGroup",
        ConstraintViolation = 0x4B => "ConstraintViolation",
        DuplicateProcessRequest = 0x4C => "DuplicateProcessRequest",
        GeneralFailure = 0x100 => "GeneralFailure",
    }
}

impl ResultReason {
    /// Whether this reason exists in protocol `version` (the 2.x additions are not sent to 1.x clients).
    pub fn defined_in(self, version: crate::ProtocolVersion) -> bool {
        let value = self.to_u32();
        if value <= 0x18 || value == 0x100 {
            true
        } else if value <= 0x49 {
            version.is_v2()
        } else {
            version >= crate::ProtocolVersion::V2_1
        }
    }
}
