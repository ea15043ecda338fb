//! Binary TTLV decode and encode throughput on three realistic KMIP responses.
//!
//! `cargo bench -p ttlv --bench codec`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ttlv::{binary, tags, Item, Value};

/// Operation enumeration values (KMIP 1.4 §9.1.3.2.27).
const OPERATION_LOCATE: u32 = 0x08;
const OPERATION_GET: u32 = 0x0A;
const OPERATION_RNG_RETRIEVE: u32 = 0x25;
/// Result Status Success, Object Type Private Key, Key Format Type Transparent RSA Private Key, RSA.
const RESULT_SUCCESS: u32 = 0x00;
const OBJECT_TYPE_PRIVATE_KEY: u32 = 0x04;
const KEY_FORMAT_TRANSPARENT_RSA_PRIVATE_KEY: u32 = 0x0A;
const CRYPTOGRAPHIC_ALGORITHM_RSA: u32 = 0x04;

/// Deterministic filler bytes (xorshift): the benchmark needs realistic sizes, not secrets.
fn filler(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A positive Big Integer of exactly `bits` bits (top bit set), like an RSA modulus or prime.
fn big(bits: usize, seed: u64) -> Value {
    let mut bytes = filler(bits / 8, seed);
    bytes[0] |= 0x80;
    let mut positive = vec![0];
    positive.extend_from_slice(&bytes);
    Value::big_integer(&positive)
}

fn response(operation: u32, payload: Vec<Item>) -> Item {
    Item::structure(
        tags::RESPONSE_MESSAGE,
        vec![
            Item::structure(
                tags::RESPONSE_HEADER,
                vec![
                    Item::structure(
                        tags::PROTOCOL_VERSION,
                        vec![
                            Item::new(tags::PROTOCOL_VERSION_MAJOR, Value::Integer(1)),
                            Item::new(tags::PROTOCOL_VERSION_MINOR, Value::Integer(4)),
                        ],
                    ),
                    Item::new(tags::TIME_STAMP, Value::DateTime(1_700_000_000)),
                    Item::new(tags::BATCH_COUNT, Value::Integer(1)),
                ],
            ),
            Item::structure(
                tags::BATCH_ITEM,
                vec![
                    Item::new(tags::OPERATION, Value::Enumeration(operation)),
                    Item::new(tags::RESULT_STATUS, Value::Enumeration(RESULT_SUCCESS)),
                    Item::structure(tags::RESPONSE_PAYLOAD, payload),
                ],
            ),
        ],
    )
}

fn uuid(n: u32) -> String {
    format!(
        "{n:08x}-51ae-4c6e-9d1f-{:012x}",
        u64::from(n).wrapping_mul(0x9E37_79B9_7F4A)
    )
}

fn locate_response(count: u32) -> Item {
    let mut payload = vec![Item::new(tags::LOCATED_ITEMS, Value::Integer(count as i32))];
    payload
        .extend((0..count).map(|n| Item::new(tags::UNIQUE_IDENTIFIER, Value::TextString(uuid(n)))));
    response(OPERATION_LOCATE, payload)
}

fn get_rsa_4096_private_key_response() -> Item {
    let key_material = Item::structure(
        tags::KEY_MATERIAL,
        vec![
            Item::new(tags::MODULUS, big(4096, 1)),
            Item::new(tags::PRIVATE_EXPONENT, big(4096, 2)),
            Item::new(tags::PUBLIC_EXPONENT, Value::big_integer_from_i128(65537)),
            Item::new(tags::P, big(2048, 3)),
            Item::new(tags::Q, big(2048, 4)),
            Item::new(tags::PRIME_EXPONENT_P, big(2048, 5)),
            Item::new(tags::PRIME_EXPONENT_Q, big(2048, 6)),
            Item::new(tags::CRT_COEFFICIENT, big(2048, 7)),
        ],
    );
    let key_block = Item::structure(
        tags::KEY_BLOCK,
        vec![
            Item::new(
                tags::KEY_FORMAT_TYPE,
                Value::Enumeration(KEY_FORMAT_TRANSPARENT_RSA_PRIVATE_KEY),
            ),
            Item::structure(tags::KEY_VALUE, vec![key_material]),
            Item::new(
                tags::CRYPTOGRAPHIC_ALGORITHM,
                Value::Enumeration(CRYPTOGRAPHIC_ALGORITHM_RSA),
            ),
            Item::new(tags::CRYPTOGRAPHIC_LENGTH, Value::Integer(4096)),
        ],
    );
    response(
        OPERATION_GET,
        vec![
            Item::new(
                tags::OBJECT_TYPE,
                Value::Enumeration(OBJECT_TYPE_PRIVATE_KEY),
            ),
            Item::new(tags::UNIQUE_IDENTIFIER, Value::TextString(uuid(42))),
            Item::structure(tags::PRIVATE_KEY, vec![key_block]),
        ],
    )
}

fn rng_retrieve_response(len: usize) -> Item {
    response(
        OPERATION_RNG_RETRIEVE,
        vec![Item::new(tags::DATA, Value::ByteString(filler(len, 9)))],
    )
}

fn codec(c: &mut Criterion) {
    let messages = [
        ("locate_1000_ids", locate_response(1000)),
        (
            "get_rsa4096_transparent",
            get_rsa_4096_private_key_response(),
        ),
        ("rng_retrieve_64k", rng_retrieve_response(64 * 1024)),
    ];
    for (name, item) in &messages {
        let bytes = binary::encode(item).expect("benchmark messages are encodable");
        assert_eq!(
            &binary::decode(&bytes).expect("benchmark messages decode"),
            item
        );
        let mut group = c.benchmark_group(format!("ttlv_binary/{name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(BenchmarkId::new("decode", bytes.len()), |b| {
            b.iter(|| binary::decode(black_box(&bytes)))
        });
        group.bench_function(BenchmarkId::new("encode", bytes.len()), |b| {
            b.iter(|| binary::encode(black_box(item)))
        });
        let mut out = Vec::with_capacity(bytes.len());
        group.bench_function(BenchmarkId::new("encode_into_reused", bytes.len()), |b| {
            b.iter(|| {
                out.clear();
                binary::encode_into(black_box(item), &mut out)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
