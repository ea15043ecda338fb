//! Randomness through `dispatch`: RNG Retrieve and Seed, and failing closed: with a stuck source, Create and RNG
//! Retrieve fail with a message naming the source while Get keeps serving existing keys.

mod operations_harness;

use kmip::payloads::*;
use kmip::ResultReason;
use operations_harness::*;

#[test]
fn rng_retrieve_serves_the_asked_length_up_to_the_limit() {
    let h = Harness::new();
    let ResponsePayload::RngRetrieve(r) =
        h.ok(&h.alice, V2_1, RngRetrieveRequest { data_length: 32 })
    else {
        panic!()
    };
    assert_eq!(r.data.len(), 32);
    let ResponsePayload::RngRetrieve(again) =
        h.ok(&h.alice, V1_4, RngRetrieveRequest { data_length: 32 })
    else {
        panic!()
    };
    assert_ne!(r.data.expose(), again.data.expose());
    assert_failed(
        &h.one(&h.alice, V2_1, RngRetrieveRequest { data_length: 4097 }),
        ResultReason::InvalidField,
    );
    assert_failed(
        &h.one(&h.alice, V2_1, RngRetrieveRequest { data_length: 0 }),
        ResultReason::InvalidField,
    );
    let usage = h.state.usage.tenant(&h.alice.tenant);
    assert_eq!(usage.random_bytes_served, 64);
}

#[test]
fn rng_seed_reports_the_amount_accepted() {
    let h = Harness::new();
    let ResponsePayload::RngSeed(r) = h.ok(
        &h.alice,
        V2_1,
        RngSeedRequest {
            data: SecretBytes::new(vec![7u8; 48]),
        },
    ) else {
        panic!()
    };
    assert_eq!(r.data_length, Some(48));
    assert_failed(
        &h.one(&h.alice, V2_1, RngSeedRequest::default()),
        ResultReason::InvalidField,
    );
}

#[test]
fn a_failing_source_stops_create_and_rng_retrieve_but_not_get() {
    let healthy = Harness::new();
    let uid = healthy.create_aes(&healthy.alice, V2_1, "kept");
    let key = key_bytes(&healthy.ok(&healthy.alice, V2_1, get(&uid)));

    // Same store, a pool whose only source is stuck.
    let mut failing = Harness::with_pool(failing_pool());
    failing.state.store = std::sync::Arc::clone(&healthy.state.store);
    let create = failing.one(&failing.alice, V2_1, create_aes(256, "never"));
    assert_failed(&create, ResultReason::CryptographicFailure);
    assert!(
        create.result_message.unwrap().contains("stuck-qrng"),
        "the message names the failing source"
    );
    let rng = failing.one(&failing.alice, V1_4, RngRetrieveRequest { data_length: 16 });
    assert_failed(&rng, ResultReason::CryptographicFailure);
    assert!(rng.result_message.unwrap().contains("stuck-qrng"));
    assert_eq!(key_bytes(&failing.ok(&failing.alice, V2_1, get(&uid))), key);
}
