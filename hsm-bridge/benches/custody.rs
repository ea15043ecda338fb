//! The cost of one HSM call as the bridge makes it, on SoftHSM2 (Debian's `softhsm2`, a software HSM): wrapping
//! and unwrapping the store's data key with each mechanism, seeding with 64 pool bytes, and connecting
//! (C_Initialize, slot scan, C_OpenSession, C_Login), which every server start and reconnect pays.
//!
//! `cargo bench -p hsm-bridge --bench custody`

use criterion::{criterion_group, criterion_main, Criterion};
use entropy::{EntropyConfig, EntropyPool};
use hsm_bridge::softhsm::SoftHsmToken;
use hsm_bridge::{Hsm, MechanismChoice};

fn custody(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = SoftHsmToken::create(dir.path(), "bench", "bench-pin").expect("SoftHSM2 token");
    token.activate();
    let pool = EntropyPool::new(EntropyConfig::default()).expect("pool");
    let data_key = [0x42u8; 32];
    for (name, choice) in [
        ("aes-key-wrap-pad", MechanismChoice::AesKeyWrapPad),
        ("aes-key-wrap", MechanismChoice::AesKeyWrap),
        ("aes-gcm", MechanismChoice::AesGcm),
    ] {
        let mut settings = token.settings();
        settings.mechanism = choice;
        settings.key_label = format!("bench-{name}");
        let hsm = Hsm::connect(settings).expect("connect");
        hsm.ensure_root_key(&pool).expect("root key");
        let wrapped = hsm.wrap_data_key(&data_key, &pool).expect("wrap");
        c.bench_function(&format!("wrap data key ({name})"), |b| {
            b.iter(|| hsm.wrap_data_key(&data_key, &pool).expect("wrap"))
        });
        c.bench_function(&format!("unwrap data key ({name})"), |b| {
            b.iter(|| hsm.unwrap_data_key(&wrapped).expect("unwrap"))
        });
    }
    let hsm = Hsm::connect(token.settings()).expect("connect");
    c.bench_function("C_SeedRandom 64 pool bytes", |b| {
        b.iter(|| hsm.seed(&pool, 64).expect("seed"))
    });
    drop(hsm);
    c.bench_function(
        "connect (initialize, find token, open session, login)",
        |b| b.iter(|| Hsm::connect(token.settings()).expect("connect")),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = custody
}
criterion_main!(benches);
