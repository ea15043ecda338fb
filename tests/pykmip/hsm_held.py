#!/usr/bin/env python3
"""Keys held in an HSM (issue #16 part 3), driven with PyKMIP (PyPI `pykmip` 0.11.0) over mutual TLS.

The server runs with `[hsm] hold_keys = true` and a SoftHSM2 token; a Create / Create Key Pair carrying the
custom attribute `x-qkms-hsm` (1.x Custom Attribute; at 2.0 a Vendor Attribute, vendor "x", name "qkms-hsm",
which PyKMIP cannot encode by itself, so this script teaches its template conversion) = the token label makes
the key inside the HSM. Phases (one per run; `--state FILE` carries identifiers between runs):

  full     create held AES-256, HMAC-SHA256, RSA-2048 and EC P-256 / P-384 keys, use them (signatures verified
           with `cryptography` against the public key from Get, RSA-OAEP ciphertexts made by `cryptography`
           decrypted in the HSM, GCM ciphertext checked for length and determinism, HMAC for determinism), check
           that Get refuses the private and secret values (Not Extractable) and returns the public keys, then
           revoke and destroy them all and check they are unusable.
  create   create a held EC P-256 pair, a held RSA-2048 pair, a held HMAC key and an ordinary (software) AES
           key, and save their identifiers.
  use      use the saved keys (they must work).
  absent   the HSM is away: every held key fails with an error that names the HSM; the software key works.

Exits 0 and prints `PASS PyKMIP VERSION hsm PHASE` when every check passed, 1 with the failing check otherwise.
"""

import argparse
import base64
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from kmip.core import enums
from kmip.core import objects as core_objects
from kmip.core import primitives, utils
from kmip.pie import client as pie_client
from kmip.pie import exceptions as pie_exceptions
from kmip.pie import objects as pie_objects

VERSIONS = {
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}
A = enums.CryptographicAlgorithm
U = enums.CryptographicUsageMask
MESSAGE = b"signed and decrypted inside the HSM, with key material from qkms's pool"
HSM_ATTRIBUTE = "x-qkms-hsm"


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)
    print("ok   " + message)


def expect_failure(what, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except pie_exceptions.KmipOperationFailure as failure:
        check(failure.status == enums.ResultStatus.OPERATION_FAILED, "%s is refused (%s: %s)"
              % (what, failure.reason, failure.message))
        return failure
    raise CheckFailed("%s was accepted" % what)


class VendorAttribute(primitives.Struct):
    """A KMIP 2.0 Vendor Attribute: Attribute {Vendor Identification, Attribute Name, Attribute Value}."""

    def __init__(self, vendor, name, value):
        super(VendorAttribute, self).__init__(tag=enums.Tags.ATTRIBUTE)
        self.vendor, self.name, self.text = vendor, name, value

    def write(self, ostream, kmip_version=enums.KMIPVersion.KMIP_2_0):
        body = utils.BytearrayStream()
        for tag, text in ((enums.Tags.VENDOR_IDENTIFICATION, self.vendor), (enums.Tags.ATTRIBUTE_NAME, self.name),
                          (enums.Tags.ATTRIBUTE_VALUE, self.text)):
            primitives.TextString(text, tag=tag).write(body, kmip_version=kmip_version)
        self.length = body.length()
        super(VendorAttribute, self).write(ostream, kmip_version=kmip_version)
        ostream.write(body.buffer)


def teach_vendor_attributes():
    """PyKMIP converts 1.x templates to 2.0 Attributes by attribute name and knows no custom names: convert the
    `x-` ones to Vendor Attributes, the rest as PyKMIP does."""
    convert = core_objects.convert_template_attribute_to_attributes

    def converting(template):
        custom = [a for a in template.attributes if a.attribute_name.value.startswith("x-")]
        template.attributes = [a for a in template.attributes if a not in custom]
        converted = convert(template)
        for attribute in custom:
            vendor, name = attribute.attribute_name.value.split("-", 1)
            converted.attributes.append(VendorAttribute(vendor, name, attribute.attribute_value.value))
        return converted

    core_objects.convert_template_attribute_to_attributes = converting


def hsm_attribute(label):
    return core_objects.Attribute(
        attribute_name=core_objects.Attribute.AttributeName(HSM_ATTRIBUTE),
        attribute_value=primitives.TextString(label, tag=enums.Tags.ATTRIBUTE_VALUE),
    )


class HeldKeys:
    """Makes the pie client's Create / Create Key Pair carry `x-qkms-hsm` while active."""

    def __init__(self, client, label):
        self.proxy, self.label = client.proxy, label

    def __enter__(self):
        proxy, label = self.proxy, self.label
        self.create, self.create_key_pair = proxy.create, proxy.create_key_pair

        def create(object_type, template_attribute, credential=None):
            template_attribute.attributes.append(hsm_attribute(label))
            return self.create(object_type, template_attribute, credential)

        def create_key_pair(batch=False, common_template_attribute=None, private_key_template_attribute=None,
                            public_key_template_attribute=None, credential=None):
            common_template_attribute.attributes.append(hsm_attribute(label))
            return self.create_key_pair(batch, common_template_attribute, private_key_template_attribute,
                                        public_key_template_attribute, credential)

        proxy.create, proxy.create_key_pair = create, create_key_pair
        return self

    def __exit__(self, *exc):
        self.proxy.create, self.proxy.create_key_pair = self.create, self.create_key_pair
        return False


def public_key(client, uid):
    key = client.get(uid)
    check(isinstance(key, pie_objects.PublicKey), "Get of public key %s answers its value" % uid)
    if key.key_format_type == enums.KeyFormatType.PKCS_1:
        pem = b"-----BEGIN RSA PUBLIC KEY-----\n%s-----END RSA PUBLIC KEY-----\n" % base64.encodebytes(key.value)
        return serialization.load_pem_public_key(pem)
    return serialization.load_der_public_key(key.value)


def refuses_value(client, uid, what):
    failure = expect_failure("Get of the held %s" % what, client.get, uid)
    check(failure.reason == enums.ResultReason.NOT_EXTRACTABLE, "the reason is Not Extractable (%s)" % failure.reason)
    check("HSM" in failure.message, "the message says the key is in an HSM")


def create_keys(client, label, tag):
    with HeldKeys(client, label):
        rsa_public, rsa_private = client.create_key_pair(
            A.RSA, 2048, public_name=tag + "-rsa-public", public_usage_mask=[U.VERIFY, U.ENCRYPT],
            private_name=tag + "-rsa-private", private_usage_mask=[U.SIGN, U.DECRYPT])
        ec_public, ec_private = client.create_key_pair(
            A.EC, 256, public_name=tag + "-ec-public", public_usage_mask=[U.VERIFY],
            private_name=tag + "-ec-private", private_usage_mask=[U.SIGN])
        mac_uid = client.create(A.HMAC_SHA256, 256, name=tag + "-hmac", cryptographic_usage_mask=[U.MAC_GENERATE])
    soft_uid = client.create(A.AES, 256, name=tag + "-software-aes", cryptographic_usage_mask=[U.ENCRYPT, U.DECRYPT])
    keys = {"rsa_public": rsa_public, "rsa_private": rsa_private, "ec_public": ec_public,
            "ec_private": ec_private, "mac": mac_uid, "software_aes": soft_uid}
    for uid in keys.values():
        client.activate(uid)
    check(True, "Create Key Pair RSA-2048 and EC P-256 and Create HMAC-SHA256 with x-qkms-hsm = %r" % label)
    return keys


PKCS1 = {"cryptographic_algorithm": A.RSA, "padding_method": enums.PaddingMethod.PKCS1v15,
         "hashing_algorithm": enums.HashingAlgorithm.SHA_256}
PSS = {"cryptographic_algorithm": A.RSA, "padding_method": enums.PaddingMethod.PSS,
       "hashing_algorithm": enums.HashingAlgorithm.SHA_256}
OAEP = {"cryptographic_algorithm": A.RSA, "padding_method": enums.PaddingMethod.OAEP,
        "hashing_algorithm": enums.HashingAlgorithm.SHA_1}
OAEP_SHA256 = dict(OAEP, hashing_algorithm=enums.HashingAlgorithm.SHA_256)
ECDSA = {"digital_signature_algorithm": enums.DigitalSignatureAlgorithm.ECDSA_WITH_SHA256}
CBC = {"cryptographic_algorithm": A.AES, "block_cipher_mode": enums.BlockCipherMode.CBC,
       "padding_method": enums.PaddingMethod.PKCS5}


def use_keys(client, keys):
    rsa = public_key(client, keys["rsa_public"])
    signature = client.sign(MESSAGE, keys["rsa_private"], PKCS1)
    rsa.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    check(True, "the HSM's RSA PKCS#1 v1.5 signature verifies with cryptography")
    check(client.signature_verify(MESSAGE, signature, keys["rsa_public"], PKCS1) == enums.ValidityIndicator.VALID,
          "Signature Verify with the public key accepts it")
    pss = client.sign(MESSAGE, keys["rsa_private"], PSS)
    rsa.verify(pss, MESSAGE, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    check(True, "the HSM's RSA-PSS signature verifies with cryptography")
    ciphertext = rsa.encrypt(MESSAGE, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(),
                                                   label=None))
    check(client.decrypt(ciphertext, keys["rsa_private"], OAEP) == MESSAGE,
          "Decrypt RSA-OAEP (SHA-1, KMIP's default) inside the HSM opens a ciphertext made by cryptography")
    failure = expect_failure("Decrypt RSA-OAEP SHA-256 (SoftHSM2 does OAEP with SHA-1 only)", client.decrypt,
                             ciphertext, keys["rsa_private"], OAEP_SHA256)
    check(failure.reason == enums.ResultReason.FEATURE_NOT_SUPPORTED and "HSM" in failure.message,
          "the refusal is Feature Not Supported and says the HSM lacks it")
    expect_failure("Decrypt RSA-OAEP of a corrupted ciphertext", client.decrypt,
                   ciphertext[:-1] + bytes([ciphertext[-1] ^ 1]), keys["rsa_private"], OAEP)

    ec_key = public_key(client, keys["ec_public"])
    signature = client.sign(MESSAGE, keys["ec_private"], ECDSA)
    ec_key.verify(signature, MESSAGE, ec.ECDSA(hashes.SHA256()))
    check(True, "the HSM's ECDSA P-256 signature (DER) verifies with cryptography")
    check(client.signature_verify(MESSAGE, signature, keys["ec_public"], ECDSA) == enums.ValidityIndicator.VALID,
          "Signature Verify with the public key accepts it")

    _, first = client.mac(MESSAGE, keys["mac"], A.HMAC_SHA256)
    _, again = client.mac(MESSAGE, keys["mac"], A.HMAC_SHA256)
    _, other = client.mac(MESSAGE + b"!", keys["mac"], A.HMAC_SHA256)
    check(len(first) == 32 and first == again and first != other,
          "MAC HMAC-SHA256 inside the HSM: 32 bytes, the same for the same data, different for other data")

    for uid, what in ((keys["rsa_private"], "RSA private key"), (keys["ec_private"], "EC private key"),
                      (keys["mac"], "HMAC key")):
        refuses_value(client, uid, what)

    ciphertext, iv = client.encrypt(MESSAGE, keys["software_aes"], CBC)
    check(client.decrypt(ciphertext, keys["software_aes"], CBC, iv) == MESSAGE,
          "the software AES key encrypts and decrypts beside them")


def held_aes(client, label, version):
    with HeldKeys(client, label):
        uid = client.create(A.AES, 256, name="held-aes", cryptographic_usage_mask=[U.ENCRYPT, U.DECRYPT])
    client.activate(uid)
    gcm = {"cryptographic_algorithm": A.AES, "block_cipher_mode": enums.BlockCipherMode.GCM}
    refuses_value(client, uid, "AES key")
    failure = expect_failure("Encrypt AES-CBC with a held AES key", client.encrypt, MESSAGE, uid, CBC)
    check("AES-GCM" in failure.message, "the message says held keys encrypt with AES-GCM")
    if version != enums.KMIPVersion.KMIP_1_2:
        iv = os.urandom(12)
        first, _ = client.encrypt(MESSAGE, uid, gcm, iv)
        again, _ = client.encrypt(MESSAGE, uid, gcm, iv)
        check(len(first) == len(MESSAGE) and first == again and first != MESSAGE,
              "Encrypt AES-GCM inside the HSM (PyKMIP drops the tag; the round trip is in hsm_held_keys.rs)")
    return uid


def absent(client, keys):
    for uid, call in ((keys["rsa_private"], lambda: client.sign(MESSAGE, keys["rsa_private"], PKCS1)),
                      (keys["ec_private"], lambda: client.sign(MESSAGE, keys["ec_private"], ECDSA)),
                      (keys["mac"], lambda: client.mac(MESSAGE, keys["mac"], A.HMAC_SHA256))):
        failure = expect_failure("using held key %s while its HSM is away" % uid, call)
        check("HSM" in failure.message and uid in failure.message, "the message names the key and the HSM")
    public_key(client, keys["ec_public"])
    ciphertext, iv = client.encrypt(MESSAGE, keys["software_aes"], CBC)
    check(client.decrypt(ciphertext, keys["software_aes"], CBC, iv) == MESSAGE,
          "the software AES key keeps working while the HSM is away")


def destroy_all(client, uids):
    for uid in uids:
        client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
        client.destroy(uid)
    check(True, "revoked and destroyed %d objects" % len(uids))


def run(args):
    version = VERSIONS[args.version]
    if version != enums.KMIPVersion.KMIP_1_2:
        teach_vendor_attributes()
    client = pie_client.ProxyKmipClient(hostname=args.host, port=args.port, cert=args.cert, key=args.key,
                                        ca=args.ca, kmip_version=version)
    with client:
        if args.phase == "full":
            keys = create_keys(client, args.hsm, "full-" + args.version)
            use_keys(client, keys)
            aes = held_aes(client, args.hsm, version)
            destroy_all(client, list(keys.values()) + [aes])
            expect_failure("Sign with a destroyed held key", client.sign, MESSAGE, keys["ec_private"], ECDSA)
            with HeldKeys(client, "no-such-token"):
                failure = expect_failure("Create in an HSM the server does not hold keys in", client.create,
                                         A.AES, 256)
            check("no-such-token" in failure.message, "the refusal names the token")
        elif args.phase == "create":
            keys = create_keys(client, args.hsm, "kept")
            use_keys(client, keys)
            with open(args.state, "w") as state:
                json.dump(keys, state)
        else:
            with open(args.state) as state:
                keys = json.load(state)
            if args.phase == "use":
                use_keys(client, keys)
            else:
                absent(client, keys)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5696)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--version", choices=sorted(VERSIONS), default="1.2")
    parser.add_argument("--hsm", required=True, help="the label of the token that holds keys")
    parser.add_argument("--phase", choices=["full", "create", "use", "absent"], default="full")
    parser.add_argument("--state", help="file keeping the identifiers between phases")
    args = parser.parse_args()
    try:
        run(args)
    except (CheckFailed, InvalidSignature) as failure:
        print("FAIL %s: %s" % (type(failure).__name__, failure), file=sys.stderr)
        return 1
    except Exception as error:  # an exception from PyKMIP is a failed check too
        print("FAIL %s: %s" % (type(error).__name__, error), file=sys.stderr)
        return 1
    print("PASS PyKMIP %s hsm %s" % (args.version, args.phase))
    return 0


if __name__ == "__main__":
    sys.exit(main())
