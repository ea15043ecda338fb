//! One operation with a key held in SoftHSM2 (Debian's `softhsm2`, a software HSM), made two ways in one run:
//! directly with cryptoki on a handle the bench keeps (what SoftHSM2 itself costs), and through the bridge
//! (`Hsm::held_operation`: the connection lock, C_FindObjects by CKA_ID, then the same call), which is what the
//! server does for a KMIP Sign or Encrypt with an HSM-held key. The difference is the bridge's own cost.
//!
//! `cargo bench -p hsm-bridge --bench held --profile dev` (the workspace's dev profile builds dependencies at
//! opt-level 3; SoftHSM2's own code is Debian's optimised build either way)

use criterion::{criterion_group, criterion_main, Criterion};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use hsm_bridge::softhsm::{SoftHsmToken, SOFTHSM2_MODULE};
use hsm_bridge::{HeldKind, HeldOperation, Hsm};

const P256: [u8; 10] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

fn private(id: &[u8]) -> Vec<Attribute> {
    vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Id(id.to_vec()),
    ]
}

/// Generates the bench's keys (EC P-256, RSA-2048, AES-256) as token objects; returns their private handles.
fn keys(session: &Session) -> (ObjectHandle, ObjectHandle, ObjectHandle) {
    let public = |id: &[u8]| {
        vec![
            Attribute::Token(true),
            Attribute::Verify(true),
            Attribute::Id(id.to_vec()),
        ]
    };
    let mut ec_public = public(b"ec");
    ec_public.push(Attribute::EcParams(P256.to_vec()));
    let (_, ec) = session
        .generate_key_pair(&Mechanism::EccKeyPairGen, &ec_public, &private(b"ec"))
        .expect("EC P-256 pair");
    let mut rsa_public = public(b"rsa");
    rsa_public.extend([
        Attribute::ModulusBits(2048.into()),
        Attribute::PublicExponent(vec![1, 0, 1]),
    ]);
    let (_, rsa) = session
        .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &rsa_public, &private(b"rsa"))
        .expect("RSA-2048 pair");
    let aes = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Encrypt(true),
                Attribute::ValueLen(32.into()),
                Attribute::Id(b"aes".to_vec()),
            ],
        )
        .expect("AES-256 key");
    (ec, rsa, aes)
}

fn held(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let token =
        SoftHsmToken::create(dir.path(), "bench-held", "bench-pin").expect("SoftHSM2 token");
    token.activate();
    let hsm = Hsm::connect(token.settings()).expect("bridge connection");
    // The direct path: a second cryptoki context on the same module (already initialised by the bridge).
    let pkcs11 = Pkcs11::new(SOFTHSM2_MODULE).expect("module");
    let _ = pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
    let slot = pkcs11
        .get_slots_with_token()
        .expect("slots")
        .into_iter()
        .find(|slot| {
            pkcs11
                .get_token_info(*slot)
                .is_ok_and(|info| info.label() == "bench-held")
        })
        .expect("the bench token");
    let session = pkcs11.open_rw_session(slot).expect("session");
    // Already logged in through the bridge's session (login state is per application): that answer is fine.
    let _ = session.login(
        UserType::User,
        Some(&AuthPin::new(token.pin.clone().into())),
    );
    let (ec, rsa, aes) = keys(&session);

    let digest = [0x5au8; 32];
    let mut encoded = SHA256_DIGEST_INFO.to_vec();
    encoded.extend(digest);
    let plaintext = vec![0xa5u8; 4096];
    let iv = [7u8; 12];

    c.bench_function("ECDSA P-256 sign, direct C_Sign", |b| {
        b.iter(|| session.sign(&Mechanism::Ecdsa, ec, &digest).expect("sign"))
    });
    c.bench_function("ECDSA P-256 sign, through the bridge", |b| {
        b.iter(|| {
            hsm.held_operation(
                HeldKind::Ec,
                b"ec",
                HeldOperation::EcdsaSign { digest: &digest },
            )
            .expect("sign")
        })
    });
    c.bench_function("RSA-2048 PKCS#1 v1.5 sign, direct C_Sign", |b| {
        b.iter(|| {
            session
                .sign(&Mechanism::RsaPkcs, rsa, &encoded)
                .expect("sign")
        })
    });
    c.bench_function("RSA-2048 PKCS#1 v1.5 sign, through the bridge", |b| {
        b.iter(|| {
            hsm.held_operation(
                HeldKind::Rsa,
                b"rsa",
                HeldOperation::RsaPkcs1Sign { encoded: &encoded },
            )
            .expect("sign")
        })
    });
    c.bench_function("AES-256-GCM encrypt 4 KiB, direct C_Encrypt", |b| {
        b.iter(|| {
            let mut iv = iv;
            let params = GcmParams::new(&mut iv, &[], 128u64.into()).expect("GCM parameters");
            session
                .encrypt(&Mechanism::AesGcm(params), aes, &plaintext)
                .expect("encrypt")
        })
    });
    c.bench_function("AES-256-GCM encrypt 4 KiB, through the bridge", |b| {
        b.iter(|| {
            hsm.held_operation(
                HeldKind::Aes,
                b"aes",
                HeldOperation::AesGcmEncrypt {
                    iv: &iv,
                    aad: &[],
                    tag_bits: 128,
                    plaintext: &plaintext,
                },
            )
            .expect("encrypt")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = held
}
criterion_main!(benches);
