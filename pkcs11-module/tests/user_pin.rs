//! The default set-up of `qkms-server --init` (machine certificate + user PIN checked by the server), through the
//! `cryptoki` crate against a real server: random numbers and public objects before C_Login, private objects
//! only after it, the server's retry counter in C_GetTokenInfo, CKR_PIN_INCORRECT then CKR_PIN_LOCKED (also for
//! the right PIN, also after a server restart), and `qkms-server user-pin reset` unlocking it.

mod common;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

fn rv<T: std::fmt::Debug>(result: Result<T, Error>) -> RvError {
    match result {
        Err(Error::Pkcs11(rv, _)) => rv,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

/// (count low, final try, locked) as C_GetTokenInfo reports them.
fn pin_flags(pkcs11: &Pkcs11, slot: Slot) -> (bool, bool, bool) {
    let info = pkcs11.get_token_info(slot).unwrap();
    assert!(info.login_required() && info.user_pin_initialized());
    (
        info.user_pin_count_low(),
        info.user_pin_final_try(),
        info.user_pin_locked(),
    )
}

#[test]
fn public_objects_and_random_before_login_private_after_and_the_pin_locks_after_five_wrong_tries() {
    let mut server = common::TestServer::start();
    std::env::set_var("QKMS_PKCS11_CONFIG", server.config_path());
    let pkcs11 = Pkcs11::new(common::module_path()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = pkcs11.get_slots_with_token().unwrap()[0];
    let pin = AuthPin::new(server.pin().into());
    assert_eq!(pin_flags(&pkcs11, slot), (false, false, false));

    // Before login: random numbers (and seeding) work in a read-only public session.
    let public = pkcs11.open_ro_session(slot).unwrap();
    assert_eq!(public.generate_random_vec(32).unwrap().len(), 32);
    public
        .seed_random(b"caller entropy, mixed in without credit")
        .unwrap();

    // Log in, make a key pair and a secret key, log out.
    let user = pkcs11.open_rw_session(slot).unwrap();
    user.login(UserType::User, Some(&pin)).unwrap();
    let (public_key, private_key) = user
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[
                Attribute::Token(true),
                Attribute::EcParams(vec![
                    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
                ]),
                Attribute::Label(b"pin-ec".to_vec()),
                Attribute::Verify(true),
            ],
            &[
                Attribute::Token(true),
                Attribute::Label(b"pin-ec".to_vec()),
                Attribute::Sign(true),
            ],
        )
        .unwrap();
    let secret = user
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Token(true),
                Attribute::ValueLen(32.into()),
                Attribute::Label(b"pin-aes".to_vec()),
            ],
        )
        .unwrap();
    let label = [Attribute::Label(b"pin-ec".to_vec())];
    assert_eq!(user.find_objects(&label).unwrap().len(), 2);
    user.logout().unwrap();

    // Logged out: the public key is found and read; the private and secret keys are neither found nor usable.
    assert_eq!(public.find_objects(&label).unwrap(), vec![public_key]);
    assert!(public
        .find_objects(&[Attribute::Label(b"pin-aes".to_vec())])
        .unwrap()
        .is_empty());
    assert!(public
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
        .unwrap()
        .is_empty());
    let point = public
        .get_attributes(public_key, &[AttributeType::EcPoint])
        .unwrap();
    assert!(matches!(&point[0], Attribute::EcPoint(p) if p.len() == 67));
    assert_eq!(
        rv(public.get_attributes(private_key, &[AttributeType::Label])),
        RvError::UserNotLoggedIn
    );
    assert_eq!(
        rv(public.sign_init(&Mechanism::Ecdsa, private_key)),
        RvError::UserNotLoggedIn
    );
    assert_eq!(
        rv(public.get_attributes(secret, &[AttributeType::ValueLen])),
        RvError::UserNotLoggedIn
    );

    // Wrong PINs count down on the server: count low, then the final try, then locked.
    let wrong = AuthPin::new("not-the-pin".into());
    for expected in [
        (true, false, false),
        (true, false, false),
        (true, false, false),
        (true, true, false),
    ] {
        assert_eq!(
            rv(user.login(UserType::User, Some(&wrong))),
            RvError::PinIncorrect
        );
        assert_eq!(pin_flags(&pkcs11, slot), expected);
    }
    assert_eq!(
        rv(user.login(UserType::User, Some(&wrong))),
        RvError::PinLocked
    );
    assert_eq!(pin_flags(&pkcs11, slot), (false, false, true));
    assert_eq!(
        rv(user.login(UserType::User, Some(&pin))),
        RvError::PinLocked
    );
    // Locked, public things still work.
    assert_eq!(public.generate_random_vec(8).unwrap().len(), 8);
    drop((public, user));
    pkcs11.finalize().unwrap();

    // The counter is on disk: a restarted server keeps the lock, until an operator resets it.
    server.restart();
    let pkcs11 = Pkcs11::new(common::module_path()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    assert_eq!(pin_flags(&pkcs11, slot), (false, false, true));
    let session = pkcs11.open_ro_session(slot).unwrap();
    assert_eq!(
        rv(session.login(UserType::User, Some(&pin))),
        RvError::PinLocked
    );
    drop(session);
    pkcs11.finalize().unwrap();
    let reset = std::process::Command::new(common::target_dir().join("qkms-server"))
        .args(["user-pin", "reset", "pkcs11", "--config"])
        .arg(server.path().join("qkms.toml"))
        .output()
        .unwrap();
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    server.restart();
    let pkcs11 = Pkcs11::new(common::module_path()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    assert_eq!(pin_flags(&pkcs11, slot), (false, false, false));
    let session = pkcs11.open_ro_session(slot).unwrap();
    session.login(UserType::User, Some(&pin)).unwrap();
    let found = session
        .find_objects(&[Attribute::Label(b"pin-aes".to_vec())])
        .unwrap();
    assert_eq!(found.len(), 1);
    let private_key = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(b"pin-ec".to_vec()),
        ])
        .unwrap()[0];
    let signature = session
        .sign(&Mechanism::Ecdsa, private_key, &[7u8; 32])
        .unwrap();
    assert_eq!(signature.len(), 64);
}
