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
    /// Result Reason (KMIP 1.4 values; the 2.x additions follow them).
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
        GeneralFailure = 0x100 => "GeneralFailure",
    }
}
