//! Session objects (CKA_TOKEN false or absent) against a real server: made in a read-only session, visible to
//! the application that made them and to no other, destroyed when their session closes, when the application
//! calls C_Finalize, when its process is killed (kill -9), and, for a server killed while they lived, at the
//! server's next start. "Nothing left" is checked with raw KMIP Locate + Get Attributes, not through the module
//! (which hides other applications' session objects).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use kmip::enums::State;
use kmip::payloads::{AttributeNames, GetAttributesRequest, LocateRequest, ResponsePayload};
use qkms_pkcs11::client::ServerLink;
use qkms_pkcs11::config::{Credentials, ModuleConfig};
use qkms_pkcs11::mapping::{session_lease_of, ID_VENDOR};

/// Set in the child process this test starts: it then makes session objects and waits to be killed.
const HOLDER_ENV: &str = "QKMS_TEST_SESSION_OBJECT_HOLDER";
const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// (live, all) session objects of the token's tenant on the server: objects carrying a session lease, and those
/// of them not yet destroyed.
fn session_objects_on_server(server: &common::TestServer) -> (usize, usize) {
    let config = ModuleConfig::from_file(&server.config_path()).unwrap();
    let Credentials::Pem(identity) = &config.tokens[0].credentials else {
        panic!("--init's token has a PEM machine identity");
    };
    let link = ServerLink::new(&config, identity).unwrap();
    link.set_pin(Some(zeroize::Zeroizing::new(server.pin())));
    let uids = match link.call(LocateRequest::default()).unwrap() {
        ResponsePayload::Locate(located) => located.unique_identifiers,
        other => panic!("{other:?}"),
    };
    let (mut live, mut all) = (0, 0);
    for uid in uids {
        let request = GetAttributesRequest {
            unique_identifier: Some(uid),
            attribute_names: AttributeNames::default(),
        };
        let attributes = match link.call(request).unwrap() {
            ResponsePayload::GetAttributes(response) => response.attributes.0,
            other => panic!("{other:?}"),
        };
        if session_lease_of(&attributes).is_some() {
            all += 1;
            if !matches!(
                attributes.state(),
                Some(State::Destroyed | State::DestroyedCompromised)
            ) {
                live += 1;
            }
        }
    }
    assert_eq!(ID_VENDOR, "x");
    (live, all)
}

fn wait_until_none_left(server: &common::TestServer, what: &str) {
    let started = Instant::now();
    loop {
        let (_, all) = session_objects_on_server(server);
        if all == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{all} session object(s) still on the server after {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn start_module(server: &common::TestServer) -> Pkcs11 {
    std::env::set_var("QKMS_PKCS11_CONFIG", server.config_path());
    let pkcs11 = Pkcs11::new(common::module_path()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    pkcs11
}

/// An AES key and a P-256 pair, none with CKA_TOKEN: three session objects.
fn make_session_objects(session: &Session, label: &[u8]) -> Vec<ObjectHandle> {
    let aes = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::ValueLen(32.into()),
                Attribute::Label(label.to_vec()),
            ],
        )
        .unwrap();
    let (public, private) = session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[
                Attribute::EcParams(P256.to_vec()),
                Attribute::Label(label.to_vec()),
            ],
            &[Attribute::Label(label.to_vec()), Attribute::Sign(true)],
        )
        .unwrap();
    vec![aes, public, private]
}

fn rv<T: std::fmt::Debug>(result: Result<T, Error>) -> RvError {
    match result {
        Err(Error::Pkcs11(rv, _)) => rv,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

/// The child's part: make session objects, say so, wait to be killed. A plain run (no variable) does nothing.
#[test]
fn session_object_holder() {
    let Some(config) = std::env::var_os(HOLDER_ENV) else {
        return;
    };
    std::env::set_var("QKMS_PKCS11_CONFIG", config);
    let pkcs11 = Pkcs11::new(std::env::var("QKMS_TEST_MODULE").unwrap()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = pkcs11.get_slots_with_token().unwrap()[0];
    let session = pkcs11.open_ro_session(slot).unwrap();
    let pin = AuthPin::new(std::env::var("QKMS_PIN").unwrap().into());
    session.login(UserType::User, Some(&pin)).unwrap();
    let made = make_session_objects(&session, b"held");
    println!("ready {}", made.len());
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// Starts a holder process; returns it once its session objects exist.
fn start_holder(server: &common::TestServer) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "session_object_holder", "--nocapture"])
        .env(HOLDER_ENV, server.config_path())
        .env("QKMS_TEST_MODULE", common::module_path())
        .env("QKMS_PIN", server.pin())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("ready 3"));
    assert!(ready, "the holder process did not make its session objects");
    child
}

#[test]
fn session_objects_live_with_their_session_application_and_process_and_leave_nothing_behind() {
    let mut server = common::TestServer::start();
    let pin = AuthPin::new(server.pin().into());
    let pkcs11 = start_module(&server);
    let slot = pkcs11.get_slots_with_token().unwrap()[0];

    // A read-only session makes session objects (not token objects); CKA_TOKEN reads false; another session
    // of the same application sees them; closing the session that made them destroys them.
    let maker = pkcs11.open_ro_session(slot).unwrap();
    maker.login(UserType::User, Some(&pin)).unwrap();
    let made = make_session_objects(&maker, b"mine");
    assert_eq!(
        maker
            .get_attributes(made[0], &[AttributeType::Token])
            .unwrap(),
        vec![Attribute::Token(false)]
    );
    assert_eq!(
        rv(maker.generate_key(
            &Mechanism::AesKeyGen,
            &[Attribute::Token(true), Attribute::ValueLen(32.into())],
        )),
        RvError::SessionReadOnly
    );
    let other = pkcs11.open_ro_session(slot).unwrap();
    let label = [Attribute::Label(b"mine".to_vec())];
    assert_eq!(other.find_objects(&label).unwrap().len(), 3);
    assert_eq!(session_objects_on_server(&server).0, 3);
    drop(maker);
    assert_eq!(session_objects_on_server(&server).0, 0);
    assert!(other.find_objects(&label).unwrap().is_empty());

    // C_Finalize: the application's session objects go, and its lease with their records.
    let keeper = pkcs11.open_rw_session(slot).unwrap();
    make_session_objects(&keeper, b"until-finalize");
    assert_eq!(session_objects_on_server(&server).0, 3);
    drop((other, keeper));
    pkcs11.finalize().unwrap();
    wait_until_none_left(&server, "C_Finalize");

    // kill -9 of the application: its connection closes, the server destroys the lease's objects. Meanwhile
    // another application does not see them.
    let mut holder = start_holder(&server);
    assert_eq!(session_objects_on_server(&server), (3, 3));
    let pkcs11 = start_module(&server);
    let look = pkcs11.open_ro_session(slot).unwrap();
    look.login(UserType::User, Some(&pin)).unwrap();
    assert!(look
        .find_objects(&[Attribute::Label(b"held".to_vec())])
        .unwrap()
        .is_empty());
    holder.kill().unwrap();
    holder.wait().unwrap();
    wait_until_none_left(&server, "kill -9 of the application");
    drop(look);
    pkcs11.finalize().unwrap();

    // The server killed while session objects live: its next start destroys them (the lease journal).
    let mut holder = start_holder(&server);
    assert_eq!(session_objects_on_server(&server).0, 3);
    server.stop();
    holder.kill().unwrap();
    holder.wait().unwrap();
    server.restart();
    assert_eq!(session_objects_on_server(&server), (0, 0));
}
