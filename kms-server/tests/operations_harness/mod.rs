//! Shared harness for the operation tests: an in-memory `ObjectStore`, server states over a healthy or a failing
//! entropy pool, two tenants, and typed request builders for both protocol families.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use entropy::config::DrbgConfig;
use entropy::source::{EntropySource, SourceError, SourceInfo, SourceKind};
use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes, CryptographicUsageMask, Name};
use kmip::enums::{CryptographicAlgorithm, ObjectType, State};
use kmip::message::BatchErrorContinuationOption;
use kmip::payloads::*;
use kmip::{
    ProtocolVersion, RequestBatchItem, RequestMessage, ResponseBatchItem, ResponseMessage,
    ResultStatus,
};
use kms_server::audit::AuditLog;
use kms_server::dispatch::dispatch;
use kms_server::state::{ServerSettings, ServerState};
use kms_server::store::{IndexQuery, Namespace, ObjectStore, StoreError, StoredObject};
use kms_server::tenant::{Caller, Role, TenantId};

pub const V1_4: ProtocolVersion = ProtocolVersion::V1_4;
pub const V2_1: ProtocolVersion = ProtocolVersion::V2_1;

/// Objects in insertion order; counts `wait_durable` calls.
#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<Vec<StoredObject>>,
    pub durable_waits: AtomicUsize,
}

impl ObjectStore for MemoryStore {
    fn insert(&self, object: &StoredObject) -> Result<(), StoreError> {
        let mut objects = self.objects.lock().unwrap();
        if objects
            .iter()
            .any(|o| o.uid == object.uid && o.namespace() == object.namespace())
        {
            return Err(StoreError::AlreadyExists(object.uid.clone()));
        }
        objects.push(object.clone());
        Ok(())
    }

    fn update(&self, object: &StoredObject) -> Result<(), StoreError> {
        let mut objects = self.objects.lock().unwrap();
        let slot = objects
            .iter_mut()
            .find(|o| o.uid == object.uid && o.namespace() == object.namespace())
            .ok_or_else(|| StoreError::NotFound(object.uid.clone()))?;
        *slot = object.clone();
        Ok(())
    }

    fn get(&self, namespace: Namespace<'_>, uid: &str) -> Result<Option<StoredObject>, StoreError> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .iter()
            .find(|o| o.uid == uid && o.namespace() == namespace)
            .cloned())
    }

    fn remove(&self, namespace: Namespace<'_>, uid: &str) -> Result<(), StoreError> {
        let mut objects = self.objects.lock().unwrap();
        let before = objects.len();
        objects.retain(|o| !(o.uid == uid && o.namespace() == namespace));
        if objects.len() == before {
            return Err(StoreError::NotFound(uid.to_owned()));
        }
        Ok(())
    }

    fn locate(
        &self,
        owner: &TenantId,
        query: &IndexQuery,
        filter: &mut dyn FnMut(&Attributes) -> bool,
    ) -> Result<Vec<String>, StoreError> {
        let objects = self.objects.lock().unwrap();
        Ok(objects
            .iter()
            .filter(|o| o.owner == *owner && !o.internal)
            .filter(|o| {
                query
                    .name
                    .as_ref()
                    .is_none_or(|n| o.attributes.names().any(|x| x.value == *n))
            })
            .filter(|o| {
                query
                    .object_type
                    .is_none_or(|t| o.attributes.object_type() == Some(t))
            })
            .filter(|o| filter(&o.attributes))
            .map(|o| o.uid.clone())
            .collect())
    }

    fn wait_durable(&self) -> Result<(), StoreError> {
        self.durable_waits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A credited "QRNG" that only ever yields the same byte: its health tests latch it off, so the pool fails
/// closed (see `entropy/tests/pool_fail_closed.rs`).
#[derive(Debug)]
struct StuckSource {
    info: SourceInfo,
}

impl EntropySource for StuckSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_samples(&mut self, out: &mut [u8]) -> Result<usize, SourceError> {
        let n = out.len().min(512);
        out[..n].fill(0x42);
        Ok(n)
    }
}

pub fn failing_pool() -> EntropyPool {
    let config = EntropyConfig {
        drbg: DrbgConfig {
            instances: 1,
            seed_timeout_ms: 200,
            ..DrbgConfig::default()
        },
        ..EntropyConfig::default()
    };
    let source = StuckSource {
        info: SourceInfo {
            id: "stuck-qrng".into(),
            kind: SourceKind::CharDevice,
            quantum: true,
            sample_bits: 8,
            min_entropy_per_sample: 8.0,
            credited: true,
        },
    };
    EntropyPool::with_sources(config, vec![Box::new(source)]).unwrap()
}

pub struct Harness {
    /// Holds the audit log's directory for the harness's lifetime.
    pub dir: tempfile::TempDir,
    pub store: Arc<MemoryStore>,
    pub state: ServerState,
    pub alice: Caller,
    pub bob: Caller,
}

fn tenant(name: &str) -> Caller {
    Caller::new(TenantId(name.into()), Role::Tenant)
}

impl Harness {
    pub fn new() -> Self {
        Self::with_pool(EntropyPool::new(EntropyConfig::default()).unwrap())
    }

    pub fn with_pool(entropy: EntropyPool) -> Self {
        let store = Arc::new(MemoryStore::default());
        let dir = tempfile::tempdir().unwrap();
        let audit = AuditLog::open(dir.path().join("audit.log")).unwrap();
        let state = ServerState {
            store: Arc::clone(&store) as Arc<dyn ObjectStore>,
            entropy,
            audit: Arc::new(audit),
            usage: Arc::default(),
            settings: ServerSettings {
                max_rng_retrieve: 4096,
                ..ServerSettings::default()
            },
        };
        Self {
            dir,
            store,
            state,
            alice: tenant("alice"),
            bob: tenant("bob"),
        }
    }

    /// A message of `payloads` (batch item ids 1, 2, ...) from `caller`.
    pub fn batch(
        &self,
        caller: &Caller,
        version: ProtocolVersion,
        continuation: Option<BatchErrorContinuationOption>,
        payloads: Vec<RequestPayload>,
    ) -> ResponseMessage {
        let items = payloads
            .into_iter()
            .enumerate()
            .map(|(i, p)| RequestBatchItem::new(p).with_id(vec![i as u8 + 1]))
            .collect();
        let mut request = RequestMessage::new(version, items);
        request.header.batch_error_continuation_option = continuation;
        let response = dispatch(&self.state, caller, request);
        assert_eq!(
            response.header.protocol_version, version,
            "answered in another version"
        );
        response
    }

    pub fn one(
        &self,
        caller: &Caller,
        version: ProtocolVersion,
        payload: impl Into<RequestPayload>,
    ) -> ResponseBatchItem {
        let mut response = self.batch(caller, version, None, vec![payload.into()]);
        assert_eq!(response.items.len(), 1);
        response.items.remove(0)
    }

    /// Runs one item that must succeed and returns its payload.
    pub fn ok(
        &self,
        caller: &Caller,
        version: ProtocolVersion,
        payload: impl Into<RequestPayload>,
    ) -> ResponsePayload {
        let item = self.one(caller, version, payload);
        assert_eq!(
            item.result_status,
            ResultStatus::Success,
            "{:?}: {:?}",
            item.result_reason,
            item.result_message
        );
        item.payload.unwrap()
    }

    pub fn create_aes(&self, caller: &Caller, version: ProtocolVersion, name: &str) -> String {
        match self.ok(caller, version, create_aes(256, name)) {
            ResponsePayload::Create(r) => r.unique_identifier,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn attributes(&self, caller: &Caller, version: ProtocolVersion, uid: &str) -> Attributes {
        match self.ok(caller, version, get_attributes(uid, vec![])) {
            ResponsePayload::GetAttributes(r) => r.attributes.0,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn state_of(&self, caller: &Caller, uid: &str) -> State {
        self.attributes(caller, V2_1, uid).state().unwrap()
    }

    /// The raw stored object (of any namespace), bypassing every check.
    pub fn stored(&self, uid: &str) -> StoredObject {
        self.store
            .objects
            .lock()
            .unwrap()
            .iter()
            .find(|o| o.uid == uid)
            .cloned()
            .expect("stored")
    }
}

pub fn create_aes(bits: i32, name: &str) -> CreateRequest {
    CreateRequest {
        object_type: ObjectType::SymmetricKey,
        attributes: vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
            Attribute::CryptographicLength(bits),
            Attribute::CryptographicUsageMask(CryptographicUsageMask(
                CryptographicUsageMask::ENCRYPT.bits() | CryptographicUsageMask::DECRYPT.bits(),
            )),
            Attribute::Name(Name::text(name)),
        ]
        .into(),
        protection_storage_masks: None,
    }
}

pub fn get(uid: &str) -> GetRequest {
    GetRequest {
        unique_identifier: Some(uid.into()),
        ..GetRequest::default()
    }
}

pub fn get_attributes(
    uid: &str,
    names: Vec<kmip::attributes::AttributeName>,
) -> GetAttributesRequest {
    GetAttributesRequest {
        unique_identifier: Some(uid.into()),
        attribute_names: AttributeNames(names),
    }
}

pub fn activate(uid: &str) -> ActivateRequest {
    ActivateRequest {
        unique_identifier: Some(uid.into()),
    }
}

pub fn destroy(uid: &str) -> DestroyRequest {
    DestroyRequest {
        unique_identifier: Some(uid.into()),
    }
}

pub fn revoke(uid: &str, code: RevocationReasonCode, occurred: Option<i64>) -> RevokeRequest {
    RevokeRequest {
        unique_identifier: Some(uid.into()),
        revocation_reason: RevocationReason {
            code,
            message: None,
        },
        compromise_occurrence_date: occurred.map(DateTime),
    }
}

pub fn locate(attributes: Vec<Attribute>) -> LocateRequest {
    LocateRequest {
        attributes: PayloadAttributes(attributes.into()),
        ..LocateRequest::default()
    }
}

pub fn located(payload: ResponsePayload) -> Vec<String> {
    match payload {
        ResponsePayload::Locate(r) => r.unique_identifiers,
        other => panic!("unexpected {other:?}"),
    }
}

/// The key bytes of a Get response (Raw or Transparent Symmetric Key).
pub fn key_bytes(payload: &ResponsePayload) -> Vec<u8> {
    let ResponsePayload::Get(r) = payload else {
        panic!("unexpected {payload:?}")
    };
    let block = r.object.0.as_ref().unwrap().key_block().unwrap();
    match &block.key_value.as_ref().unwrap().material {
        kmip::objects::KeyMaterial::Bytes(b) => b.to_vec(),
        kmip::objects::KeyMaterial::TransparentSymmetricKey { key } => key.to_vec(),
        other => panic!("unexpected material {other:?}"),
    }
}

pub fn assert_failed(item: &ResponseBatchItem, reason: kmip::ResultReason) {
    assert_eq!(
        item.result_status,
        ResultStatus::OperationFailed,
        "{item:?}"
    );
    assert_eq!(
        item.result_reason,
        Some(reason),
        "{:?}",
        item.result_message
    );
    assert!(
        item.result_message
            .as_deref()
            .is_some_and(|m| !m.is_empty()),
        "no message"
    );
}
