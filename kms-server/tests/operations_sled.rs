//! The handlers over the real sealed sled store: a key's whole life through `dispatch`, and the store reopened
//! afterwards still answers for it.

mod operations_harness;

use std::sync::Arc;

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Name};
use kmip::enums::State;
use kmip::payloads::*;
use kmip::{RequestBatchItem, RequestMessage, ResponseBatchItem, ResultStatus};
use kms_server::audit::AuditLog;
use kms_server::dispatch::dispatch;
use kms_server::state::{ServerSettings, ServerState};
use kms_server::store::{Argon2Params, ObjectStore, RootKey, SledStore, StoreOptions};
use kms_server::tenant::{Caller, Role, TenantId};
use operations_harness::*;

fn state(dir: &std::path::Path) -> ServerState {
    let pool = EntropyPool::new(EntropyConfig::default()).unwrap();
    let options = StoreOptions {
        argon2: Argon2Params::insecure_for_tests(),
        ..StoreOptions::default()
    };
    let store = SledStore::open_with_root_key(
        dir.join("store"),
        &RootKey::from_bytes([5; 32]),
        pool.clone(),
        &options,
    )
    .unwrap();
    ServerState {
        store: Arc::new(store) as Arc<dyn ObjectStore>,
        entropy: pool,
        audit: Arc::new(AuditLog::open(dir.join("audit.log")).unwrap()),
        usage: Arc::default(),
        settings: ServerSettings::default(),
    }
}

fn run(
    state: &ServerState,
    caller: &Caller,
    payload: impl Into<RequestPayload>,
) -> ResponseBatchItem {
    let request = RequestMessage::new(V1_4, vec![RequestBatchItem::new(payload)]);
    let mut response = dispatch(state, caller, request);
    let item = response.items.remove(0);
    assert_eq!(
        item.result_status,
        ResultStatus::Success,
        "{:?}",
        item.result_message
    );
    item
}

#[test]
fn a_key_lives_and_dies_in_the_sled_store_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let caller = Caller::new(TenantId("sled-tenant".into()), Role::Tenant);
    let uid = {
        let state = state(dir.path());
        let Some(ResponsePayload::Create(created)) =
            run(&state, &caller, create_aes(256, "sled-key")).payload
        else {
            panic!()
        };
        let uid = created.unique_identifier;
        let found = run(
            &state,
            &caller,
            locate(vec![Attribute::Name(Name::text("sled-key"))]),
        );
        assert_eq!(located(found.payload.unwrap()), vec![uid.clone()]);
        run(&state, &caller, activate(&uid));
        uid
    };
    let state = state(dir.path());
    let key = key_bytes(&run(&state, &caller, get(&uid)).payload.unwrap());
    assert_eq!(key.len(), 32);
    run(
        &state,
        &caller,
        revoke(&uid, RevocationReasonCode::CessationOfOperation, None),
    );
    run(&state, &caller, destroy(&uid));
    let Some(ResponsePayload::GetAttributes(attributes)) =
        run(&state, &caller, get_attributes(&uid, vec![])).payload
    else {
        panic!()
    };
    assert_eq!(attributes.attributes.0.state(), Some(State::Destroyed));
}
