#!/usr/bin/env python3
"""End-to-end test of qkms's cryptographic services with PyKMIP (PyPI `pykmip` 0.11.0) as the client.

Drives one protocol version (1.2 or 2.0) over mutual TLS with `ProxyKmipClient` through the calls of issue #5:
Create Key Pair (RSA-2048, EC P-256), Register of an X.509 certificate, Sign / Signature Verify (RSA PKCS#1 v1.5
and PSS with SHA-256, ECDSA with SHA-256), Encrypt / Decrypt (AES-CBC with PKCS#5 padding, AES-GCM, RSA-OAEP) and
MAC (HMAC-SHA256). Every result qkms returns is also checked independently with Python `cryptography`: signatures
are verified and ciphertexts decrypted locally with the keys fetched by Get (or registered by this script), local
signatures and ciphertexts are verified and decrypted by qkms, and HMACs are recomputed.

PyKMIP limits what can be asked: its CryptographicParameters carry no Salt Length or Mask Generator Hashing
Algorithm (so PSS uses qkms's default salt, the hash length, and OAEP uses MGF1 with SHA-1 as KMIP defaults),
and `encrypt` / `decrypt` pass no Additional Data and drop the Authenticated Encryption Tag (so GCM is checked on
its ciphertext only, against AES-CTR from the counter block after J0; before KMIP 1.4, which added the tag field,
qkms refuses GCM encryption).

Exits 0 when every check passed, 1 with the failing check on stderr otherwise.

    python3 crypto.py --host 127.0.0.1 --port 5696 --ca DIR/pki/ca.pem --cert DIR/pki/client.pem \
        --key DIR/pki/client.key --version 2.0
"""

import argparse
import base64
import datetime
import os
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.padding import PKCS7
from cryptography.x509.oid import NameOID
from kmip import enums
from kmip.pie import client as pie_client
from kmip.pie import exceptions as pie_exceptions
from kmip.pie import objects as pie_objects

VERSIONS = {
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}

MESSAGE = b"qkms signs and encrypts for PyKMIP, checked with cryptography"

A = enums.CryptographicAlgorithm
U = enums.CryptographicUsageMask


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)
    print("ok   " + message)


def expect_failure(what, call, *args, **kwargs):
    """Runs a call that qkms must refuse; returns the failure."""
    try:
        call(*args, **kwargs)
    except pie_exceptions.KmipOperationFailure as failure:
        check(failure.status == enums.ResultStatus.OPERATION_FAILED, "%s is refused (%s)" % (what, failure.reason))
        return failure
    raise CheckFailed("%s was accepted" % what)


def public_key_of(client, uid):
    """The public key qkms holds under `uid`, as a `cryptography` object. KMIP's default RSA public key format
    is PKCS#1 (RSAPublicKey), which `cryptography` reads from PEM only; other keys come as SubjectPublicKeyInfo."""
    key = client.get(uid)
    check(isinstance(key, pie_objects.PublicKey), "Get %s returns a public key (%s)" % (uid, key.key_format_type))
    if key.key_format_type == enums.KeyFormatType.PKCS_1:
        pem = b"-----BEGIN RSA PUBLIC KEY-----\n%s-----END RSA PUBLIC KEY-----\n" % base64.encodebytes(key.value)
        return serialization.load_pem_public_key(pem)
    return serialization.load_der_public_key(key.value)


def rsa_key_pair(client, tag):
    public_uid, private_uid = client.create_key_pair(
        A.RSA,
        2048,
        public_name=tag + "-rsa-public",
        public_usage_mask=[U.VERIFY, U.ENCRYPT],
        private_name=tag + "-rsa-private",
        private_usage_mask=[U.SIGN, U.DECRYPT],
    )
    check(public_uid != private_uid, "Create Key Pair RSA-2048 returns two identifiers")
    for uid in (public_uid, private_uid):
        client.activate(uid)
    public = public_key_of(client, public_uid)
    check(isinstance(public, rsa.RSAPublicKey), "the RSA public key parses with cryptography")
    check(public.key_size == 2048, "the RSA public key has 2048 bits")
    private = client.get(private_uid)
    check(isinstance(private, pie_objects.PrivateKey), "Get of the private key returns a private key")
    check(private.cryptographic_algorithm == A.RSA, "the private key is RSA")
    return public_uid, private_uid, public


def rsa_signatures(client, public_uid, private_uid, public):
    pkcs1 = {
        "cryptographic_algorithm": A.RSA,
        "padding_method": enums.PaddingMethod.PKCS1v15,
        "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
    }
    signature = client.sign(MESSAGE, private_uid, pkcs1)
    check(len(signature) == 256, "Sign RSA PKCS#1 v1.5 SHA-256 returns a 256-byte signature")
    public.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    check(True, "cryptography verifies qkms's PKCS#1 v1.5 signature with the public key from Get")
    valid = client.signature_verify(MESSAGE, signature, public_uid, pkcs1)
    check(valid == enums.ValidityIndicator.VALID, "Signature Verify accepts it: %s" % valid)
    invalid = client.signature_verify(MESSAGE + b"!", signature, public_uid, pkcs1)
    check(invalid == enums.ValidityIndicator.INVALID, "Signature Verify rejects other data: %s" % invalid)

    by_name = {"digital_signature_algorithm": enums.DigitalSignatureAlgorithm.SHA256_WITH_RSA_ENCRYPTION}
    again = client.sign(MESSAGE, private_uid, by_name)
    check(again == signature, "Sign by Digital Signature Algorithm SHA256withRSA is the same (deterministic)")

    pss = {
        "cryptographic_algorithm": A.RSA,
        "padding_method": enums.PaddingMethod.PSS,
        "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
    }
    signature = client.sign(MESSAGE, private_uid, pss)
    public.verify(
        signature,
        MESSAGE,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
        hashes.SHA256(),
    )
    check(True, "cryptography verifies qkms's PSS SHA-256 signature (salt = hash length)")
    valid = client.signature_verify(MESSAGE, signature, public_uid, pss)
    check(valid == enums.ValidityIndicator.VALID, "Signature Verify accepts the PSS signature")
    check(client.sign(MESSAGE, private_uid, pss) != signature, "two PSS signatures differ (random salt)")


def rsa_oaep(client, public_uid, private_uid, public):
    oaep = {
        "cryptographic_algorithm": A.RSA,
        "padding_method": enums.PaddingMethod.OAEP,
        "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
    }
    local_oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA256(), label=None)
    local = public.encrypt(MESSAGE, local_oaep)
    plain = client.decrypt(local, private_uid, oaep)
    check(plain == MESSAGE, "Decrypt RSA-OAEP (SHA-256, MGF1-SHA-1) opens a ciphertext made by cryptography")
    ciphertext, iv = client.encrypt(MESSAGE, public_uid, oaep)
    check(len(ciphertext) == 256 and iv is None, "Encrypt RSA-OAEP returns 256 bytes and no IV")
    check(client.decrypt(ciphertext, private_uid, oaep) == MESSAGE, "Decrypt RSA-OAEP opens qkms's ciphertext")
    expect_failure("Decrypt RSA-OAEP of a corrupted ciphertext", client.decrypt,
                   bytes([ciphertext[0] ^ 1]) + ciphertext[1:], private_uid, oaep)


def ec_key_pair(client, tag):
    public_uid, private_uid = client.create_key_pair(
        A.EC,
        256,
        public_name=tag + "-ec-public",
        public_usage_mask=[U.VERIFY],
        private_name=tag + "-ec-private",
        private_usage_mask=[U.SIGN],
    )
    for uid in (public_uid, private_uid):
        client.activate(uid)
    public = public_key_of(client, public_uid)
    check(
        isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1",
        "Create Key Pair EC 256 makes a P-256 key pair",
    )
    ecdsa = {"digital_signature_algorithm": enums.DigitalSignatureAlgorithm.ECDSA_WITH_SHA256}
    signature = client.sign(MESSAGE, private_uid, ecdsa)
    public.verify(signature, MESSAGE, ec.ECDSA(hashes.SHA256()))
    check(True, "cryptography verifies qkms's ECDSA P-256 SHA-256 signature")
    valid = client.signature_verify(MESSAGE, signature, public_uid, ecdsa)
    check(valid == enums.ValidityIndicator.VALID, "Signature Verify accepts the ECDSA signature")
    invalid = client.signature_verify(MESSAGE + b"!", signature, public_uid, ecdsa)
    check(invalid == enums.ValidityIndicator.INVALID, "Signature Verify rejects the ECDSA signature on other data")
    return public_uid, private_uid


def certificate(client, tag):
    """Register a certificate made here (self-signed, P-256) and read it back byte for byte."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, tag)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    uid = client.register(pie_objects.X509Certificate(der, masks=[U.VERIFY], name=tag + "-certificate"))
    check(isinstance(uid, str) and uid != "", "Register of an X.509 certificate returns %r" % uid)
    fetched = client.get(uid)
    check(isinstance(fetched, pie_objects.X509Certificate), "Get returns an X.509 certificate")
    check(fetched.value == der, "Get returns the registered DER byte for byte")
    parsed = x509.load_der_x509_certificate(fetched.value)
    check(parsed.subject == name, "the certificate's subject is %s" % tag)
    _, attributes = client.get_attributes(uid, ["Object Type"])
    types = [a.attribute_value.value for a in attributes if a.attribute_name.value == "Object Type"]
    check(types == [enums.ObjectType.CERTIFICATE], "Get Attributes: Object Type Certificate: %s" % types)
    return uid


def aes(client, tag, version):
    material = os.urandom(32)
    uid = client.register(
        pie_objects.SymmetricKey(A.AES, 256, material, masks=[U.ENCRYPT, U.DECRYPT], name=tag + "-aes")
    )
    client.activate(uid)

    cbc = {
        "cryptographic_algorithm": A.AES,
        "block_cipher_mode": enums.BlockCipherMode.CBC,
        "padding_method": enums.PaddingMethod.PKCS5,
    }
    ciphertext, iv = client.encrypt(MESSAGE, uid, cbc)
    check(iv is not None and len(iv) == 16, "Encrypt AES-CBC without an IV returns the 16-byte IV qkms drew")
    check(len(ciphertext) == (len(MESSAGE) // 16 + 1) * 16, "the CBC ciphertext is PKCS#5-padded")
    decryptor = Cipher(algorithms.AES(material), modes.CBC(iv)).decryptor()
    unpadder = PKCS7(128).unpadder()
    local = unpadder.update(decryptor.update(ciphertext) + decryptor.finalize()) + unpadder.finalize()
    check(local == MESSAGE, "cryptography decrypts qkms's AES-256-CBC ciphertext")
    check(client.decrypt(ciphertext, uid, cbc, iv) == MESSAGE, "Decrypt AES-CBC with that IV opens it")

    given_iv = os.urandom(16)
    padder = PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(material), modes.CBC(given_iv)).encryptor()
    local = encryptor.update(padder.update(MESSAGE) + padder.finalize()) + encryptor.finalize()
    ciphertext, iv = client.encrypt(MESSAGE, uid, cbc, given_iv)
    check(ciphertext == local and iv is None, "Encrypt AES-CBC with a given IV equals cryptography's, no IV back")
    check(client.decrypt(local, uid, cbc, given_iv) == MESSAGE, "Decrypt opens cryptography's CBC ciphertext")
    expect_failure("Decrypt AES-CBC without the IV", client.decrypt, local, uid, cbc)

    # GCM. KMIP 1.4 added the Authenticated Encryption Tag: before it qkms refuses (a ciphertext without its tag
    # could never be decrypted). From 1.4 PyKMIP reads the tag but `encrypt` drops it, so check the ciphertext
    # against GCTR (AES-CTR from inc32(J0) = IV || 00000002 for a 96-bit IV).
    gcm = {"cryptographic_algorithm": A.AES, "block_cipher_mode": enums.BlockCipherMode.GCM}
    if version < enums.KMIPVersion.KMIP_1_4:
        failure = expect_failure("Encrypt AES-GCM at KMIP %s" % version.value, client.encrypt, MESSAGE, uid, gcm)
        check(failure.reason == enums.ResultReason.FEATURE_NOT_SUPPORTED, "... as Feature Not Supported")
        return uid
    ciphertext, iv = client.encrypt(MESSAGE, uid, gcm)
    check(iv is not None and len(iv) == 12, "Encrypt AES-GCM without an IV returns the 12-byte IV qkms drew")
    decryptor = Cipher(algorithms.AES(material), modes.CTR(iv + b"\x00\x00\x00\x02")).decryptor()
    check(decryptor.update(ciphertext) + decryptor.finalize() == MESSAGE,
          "qkms's AES-GCM ciphertext matches GCTR computed by cryptography")
    expect_failure("Decrypt AES-GCM without the tag (PyKMIP cannot send one)", client.decrypt, ciphertext, uid, gcm, iv)
    return uid


def mac(client, tag):
    material = os.urandom(32)
    uid = client.register(
        pie_objects.SymmetricKey(A.HMAC_SHA256, 256, material, masks=[U.MAC_GENERATE], name=tag + "-hmac")
    )
    client.activate(uid)
    mac_uid, tag_bytes = client.mac(MESSAGE, uid, A.HMAC_SHA256)
    check(mac_uid == uid, "MAC names the key used")
    local = hmac.HMAC(material, hashes.SHA256())
    local.update(MESSAGE)
    check(tag_bytes == local.finalize(), "MAC HMAC-SHA256 equals cryptography's HMAC")

    created = client.create(
        A.HMAC_SHA256, 256, name=tag + "-hmac-created", cryptographic_usage_mask=[U.MAC_GENERATE]
    )
    client.activate(created)
    _, first = client.mac(MESSAGE, created, A.HMAC_SHA256)
    key = client.get(created)
    local = hmac.HMAC(key.value, hashes.SHA256())
    local.update(MESSAGE)
    check(first == local.finalize(), "MAC with a server-created HMAC key equals cryptography's with its Get value")
    return uid, created


def crypto_services(args, version):
    tag = "pykmip-crypto-%s-%d" % (args.version, os.getpid())
    with pie_client.ProxyKmipClient(
        hostname=args.host,
        port=args.port,
        cert=args.cert,
        key=args.key,
        ca=args.ca,
        config_file=os.devnull,
        kmip_version=version,
    ) as client:
        public_uid, private_uid, public = rsa_key_pair(client, tag)
        rsa_signatures(client, public_uid, private_uid, public)
        rsa_oaep(client, public_uid, private_uid, public)
        ec_public, ec_private = ec_key_pair(client, tag)
        cert_uid = certificate(client, tag)
        aes_uid = aes(client, tag, version)
        mac_uid, mac_created = mac(client, tag)

        expect_failure("Sign with the public key", client.sign, MESSAGE, public_uid,
                       {"digital_signature_algorithm": enums.DigitalSignatureAlgorithm.SHA256_WITH_RSA_ENCRYPTION})
        expect_failure("Encrypt with an HMAC key", client.encrypt, MESSAGE, mac_uid,
                       {"block_cipher_mode": enums.BlockCipherMode.CBC})

        for uid in (public_uid, private_uid, ec_public, ec_private, aes_uid, mac_uid, mac_created):
            client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
        expect_failure("Sign with a revoked key", client.sign, MESSAGE, private_uid,
                       {"digital_signature_algorithm": enums.DigitalSignatureAlgorithm.SHA256_WITH_RSA_ENCRYPTION})
        for uid in (public_uid, private_uid, ec_public, ec_private, aes_uid, mac_uid, mac_created, cert_uid):
            client.destroy(uid)
        check(True, "every object made here is destroyed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5696)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--version", choices=sorted(VERSIONS), default="1.2")
    args = parser.parse_args()
    try:
        crypto_services(args, VERSIONS[args.version])
    except (CheckFailed, InvalidSignature) as failure:
        print("FAIL %s: %s" % (type(failure).__name__, failure), file=sys.stderr)
        return 1
    except Exception as error:  # an exception from PyKMIP is a failed check too, with its type for the report
        print("FAIL %s: %s" % (type(error).__name__, error), file=sys.stderr)
        return 1
    print("PASS PyKMIP %s cryptographic services" % args.version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
