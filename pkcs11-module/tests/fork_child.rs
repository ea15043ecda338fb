//! After fork(), a child that calls C_Initialize again gets a fresh library that works: it logs in, draws
//! random bytes and signs, over its own connections (the parent's TLS sessions are not shared), while the
//! parent's sessions keep working.
#![allow(unsafe_code)]

mod common;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

/// What the child does; its exit status says how far it got (0: all of it).
fn child_work(module: &std::path::Path, pin: &str) -> i32 {
    let Ok(pkcs11) = Pkcs11::new(module) else {
        return 10;
    };
    if pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .is_err()
    {
        return 11;
    }
    let Ok(slots) = pkcs11.get_slots_with_token() else {
        return 12;
    };
    let Ok(session) = pkcs11.open_rw_session(slots[0]) else {
        return 13;
    };
    if session
        .login(UserType::User, Some(&AuthPin::new(pin.into())))
        .is_err()
    {
        return 14;
    }
    let Ok(random) = session.generate_random_vec(64) else {
        return 15;
    };
    if random.iter().all(|b| *b == 0) {
        return 16;
    }
    // Handles belong to a library instance: the child finds the key again.
    let private = match session.find_objects(&[
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::Label(b"fork-test".to_vec()),
    ]) {
        Ok(found) if found.len() == 1 => found[0],
        _ => return 17,
    };
    match session.sign(&Mechanism::Ecdsa, private, &[3u8; 32]) {
        Ok(signature) if signature.len() == 64 => 0,
        _ => 18,
    }
}

#[test]
fn a_forked_child_initialises_a_fresh_working_library_and_the_parent_keeps_working() {
    let server = common::TestServer::start();
    std::env::set_var("QKMS_PKCS11_CONFIG", server.config_path());
    let module = common::module_path();
    let pkcs11 = Pkcs11::new(&module).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = pkcs11.get_slots_with_token().unwrap()[0];
    let session = pkcs11.open_rw_session(slot).unwrap();
    let pin = server.pin();
    session
        .login(UserType::User, Some(&AuthPin::new(pin.clone().into())))
        .unwrap();
    let p256 = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let (public, private) = session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            // Token objects: a session object would be visible to this application only, not to the child's
            // fresh C_Initialize.
            &[
                Attribute::Token(true),
                Attribute::EcParams(p256),
                Attribute::Verify(true),
            ],
            &[
                Attribute::Token(true),
                Attribute::Sign(true),
                Attribute::Label(b"fork-test".to_vec()),
            ],
        )
        .unwrap();
    // The parent has pooled connections and a random buffer now; the child must not use them.
    session.generate_random_vec(32).unwrap();

    // SAFETY: fork() in a test process; the child only runs `child_work` and then `_exit`s without running
    // destructors or returning into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let status = std::panic::catch_unwind(|| child_work(&module, &pin)).unwrap_or(99);
        // SAFETY: ends the child at once, as a forked child of a multi-threaded process should.
        unsafe { libc::_exit(status) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked; `status` is a valid out pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status),
        "the child did not exit normally: {status}"
    );
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "the child stopped at step {} (see child_work)",
        libc::WEXITSTATUS(status)
    );

    // The parent's session still works after the child's use of the library.
    let signature = session
        .sign(&Mechanism::Ecdsa, private, &[4u8; 32])
        .unwrap();
    session
        .verify(&Mechanism::Ecdsa, public, &[4u8; 32], &signature)
        .unwrap();
}
