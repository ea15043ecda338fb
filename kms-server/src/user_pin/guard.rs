//! The check in front of the dispatcher for PIN-guarded tenants: a message either proves the user PIN (a
//! Username and Password credential in its header) and runs as usual, or runs as a *public* message that may
//! only reach public objects (and random numbers), as a PKCS#11 token allows before C_Login.
//!
//! Answers a guarded tenant gets from here, without any item running:
//! - a wrong PIN: every item fails with Authentication Not Successful, "user PIN incorrect (tries left: N of M)";
//! - a locked PIN (also a right one once locked): Authentication Not Successful, "user PIN locked (tries left:
//!   0 of M)";
//! - a Username credential without a Password (the module's status probe, which never counts as a try):
//!   Authentication Not Successful, "user PIN status (tries left: N of M)";
//! - a public message with an item that needs the PIN: Permission Denied, "... needs the user PIN ...".
//!
//! The "(tries left: N of M)" text is the machine-readable part the PKCS#11 module reads for CKF_USER_PIN_COUNT_LOW,
//! CKF_USER_PIN_FINAL_TRY and CKF_USER_PIN_LOCKED. Every refusal is recorded in the audit log.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use kmip::attributes::Attributes;
use kmip::enums::ObjectType;
use kmip::message::Credential;
use kmip::payloads::ResponsePayload;
use kmip::{
    Operation, OperationCode, RequestMessage, ResponseBatchItem, ResponseMessage, ResultReason,
};
use ttlv::Value;

use super::registry::{PinCheck, UserPins};
use crate::audit::AuditLog;
use crate::dispatch::registry;
use crate::listener::Dispatcher;
use crate::state::ServerState;
use crate::store::Namespace;
use crate::tenant::Caller;

/// The vendor attribute holding CKA_PRIVATE (written by the PKCS#11 module; KMIP 2.x Vendor Attribute form).
pub const PRIVATE_VENDOR: &str = "x";
pub const PRIVATE_NAME: &str = "pkcs11-private";

/// The dispatcher with the PIN check in front of it.
pub fn guarded(pins: Arc<UserPins>, state: Arc<ServerState>) -> Dispatcher {
    Arc::new(move |caller, request| dispatch_guarded(&pins, &state, caller, request))
}

/// What a message's header presents.
enum Presented<'a> {
    Nothing,
    Pin(&'a [u8]),
    /// Username without Password: asks for the PIN's status.
    StatusProbe,
    Unsupported,
}

fn presented(request: &RequestMessage) -> Presented<'_> {
    let Some(authentication) = &request.header.authentication else {
        return Presented::Nothing;
    };
    match authentication.credentials.first() {
        None => Presented::Nothing,
        Some(Credential::UsernamePassword(credential)) => match &credential.password {
            Some(password) => Presented::Pin(password.expose().as_bytes()),
            None => Presented::StatusProbe,
        },
        Some(_) => Presented::Unsupported,
    }
}

pub fn dispatch_guarded(
    pins: &UserPins,
    state: &ServerState,
    caller: &Caller,
    request: RequestMessage,
) -> ResponseMessage {
    if !pins.guards(&caller.tenant) {
        return crate::dispatch::dispatch(state, caller, request);
    }
    let refusal = match presented(&request) {
        Presented::Pin(pin) => match pins.verify(&caller.tenant, pin) {
            Ok(PinCheck::Verified) => return crate::dispatch::dispatch(state, caller, request),
            Ok(PinCheck::Incorrect { tries_left }) => (
                ResultReason::AuthenticationNotSuccessful,
                format!("user PIN incorrect (tries left: {tries_left} of {})", max_tries(pins, caller)),
            ),
            Ok(PinCheck::Locked) => (
                ResultReason::AuthenticationNotSuccessful,
                format!(
                    "user PIN locked (tries left: 0 of {}): an operator must reset it (qkms-server user-pin reset)",
                    max_tries(pins, caller)
                ),
            ),
            Err(error) => {
                tracing::error!(%error, tenant = %caller.tenant, "user PIN check failed");
                (
                    ResultReason::GeneralFailure,
                    format!("the user PIN cannot be checked: {error}"),
                )
            }
        },
        Presented::StatusProbe => {
            let left = pins.status(&caller.tenant).map_or(0, |s| s.tries_left);
            (
                ResultReason::AuthenticationNotSuccessful,
                format!("user PIN status (tries left: {left} of {})", max_tries(pins, caller)),
            )
        }
        Presented::Unsupported => (
            ResultReason::AuthenticationNotSuccessful,
            "only a Username and Password credential (the user PIN) is accepted".to_owned(),
        ),
        Presented::Nothing => match public_refusal(state, caller, &request) {
            None => {
                let response = crate::dispatch::dispatch(state, caller, request);
                return hide_private_results(state, caller, response);
            }
            Some(message) => (ResultReason::PermissionDenied, message),
        },
    };
    refuse(&state.audit, caller, &request, refusal.0, &refusal.1)
}

fn max_tries(pins: &UserPins, caller: &Caller) -> u32 {
    pins.status(&caller.tenant).map_or(0, |s| s.max_tries)
}

/// Why a message without the PIN may not run, if it may not: any item that is not a public one.
fn public_refusal(
    state: &ServerState,
    caller: &Caller,
    request: &RequestMessage,
) -> Option<String> {
    for item in &request.items {
        let operation = item.operation();
        let allowed = match operation {
            Some(OperationCode::Known(
                Operation::DiscoverVersions
                | Operation::Query
                | Operation::RngRetrieve
                | Operation::RngSeed
                | Operation::Locate,
            )) => true,
            Some(OperationCode::Known(
                Operation::Get
                | Operation::GetAttributes
                | Operation::GetAttributeList
                | Operation::SignatureVerify
                | Operation::Encrypt,
            )) => registry::target(&item.payload).is_some_and(|uid| is_public(state, caller, uid)),
            _ => false,
        };
        if !allowed {
            return Some(format!(
                "{} needs the user PIN: without it only random numbers and public objects are reachable",
                operation.map_or_else(|| "this operation".to_owned(), |o| format!("{o:?}"))
            ));
        }
    }
    None
}

/// Whether `uid` names one of the caller's public objects (an absent object is not public).
fn is_public(state: &ServerState, caller: &Caller, uid: &str) -> bool {
    match state.store.get(Namespace::Tenant(&caller.tenant), uid) {
        Ok(Some(object)) => !is_private(&object.attributes),
        _ => false,
    }
}

/// CKA_PRIVATE as the module records it; without the attribute, keys and secrets are private and public keys,
/// certificates and opaque data are public (the module's defaults).
pub fn is_private(attributes: &Attributes) -> bool {
    if let Some(Value::Boolean(private)) = attributes.custom(PRIVATE_VENDOR, PRIVATE_NAME) {
        return *private;
    }
    !matches!(
        attributes.object_type(),
        Some(ObjectType::PublicKey | ObjectType::Certificate | ObjectType::OpaqueObject)
    )
}

/// Locate answers of a public message list public objects only.
fn hide_private_results(
    state: &ServerState,
    caller: &Caller,
    mut response: ResponseMessage,
) -> ResponseMessage {
    for item in &mut response.items {
        if let Some(ResponsePayload::Locate(located)) = &mut item.payload {
            let before = located.unique_identifiers.len();
            located
                .unique_identifiers
                .retain(|uid| is_public(state, caller, uid));
            let hidden = before - located.unique_identifiers.len();
            if let Some(count) = &mut located.located_items {
                *count = count.saturating_sub(i32::try_from(hidden).unwrap_or(i32::MAX));
            }
        }
    }
    response
}

/// Every item of `request` fails with `reason`; the refusal is audited.
pub(crate) fn refuse(
    audit: &AuditLog,
    caller: &Caller,
    request: &RequestMessage,
    reason: ResultReason,
    message: &str,
) -> ResponseMessage {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let items = request
        .items
        .iter()
        .map(|item| {
            ResponseBatchItem::failure(item.operation(), reason, message)
                .with_id(item.unique_batch_item_id.clone())
        })
        .collect();
    let mut response = ResponseMessage::new(request.protocol_version(), now, items);
    response.header.client_correlation_value = request.header.client_correlation_value.clone();
    audit.record_refused_message(Some(caller), Some(request), &response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::attributes::{Attribute, CustomAttribute};

    #[test]
    fn privateness_follows_the_module_attribute_then_the_object_type() {
        let mut public_key = Attributes::new();
        public_key.push(Attribute::ObjectType(ObjectType::PublicKey));
        assert!(!is_private(&public_key));
        let mut secret = Attributes::new();
        secret.push(Attribute::ObjectType(ObjectType::SymmetricKey));
        assert!(is_private(&secret));
        secret.push(Attribute::Custom(CustomAttribute {
            vendor_identification: PRIVATE_VENDOR.into(),
            attribute_name: PRIVATE_NAME.into(),
            value: Value::Boolean(false),
        }));
        assert!(!is_private(&secret));
    }
}
