"""Wallet file: Argon2id bounds, authenticated header, typed failures, atomic saves (security.md W1-W6), and
credentials verified before they are stored (issue 13)."""

from __future__ import annotations

import datetime as dt
import json
import os
import struct
from pathlib import Path
from typing import Any

import nacl.secret
import pytest

from zkhealth.credentials import wallet as wallet_module
from zkhealth.credentials.credential import Diagnosis, HealthClaims, subject_commitment
from zkhealth.credentials.issuer import Issuer
from zkhealth.credentials.record import PatientRecord
from zkhealth.credentials.trust import TrustedIssuers
from zkhealth.credentials.wallet import (
    BABYJUBJUB_SUBGROUP_ORDER,
    HEADER_BYTES,
    KDF_CAP,
    KDF_FLOOR,
    MODERATE,
    KdfParams,
    Wallet,
)
from zkhealth.errors import (
    CredentialError,
    CredentialExpiredError,
    CredentialNotYetValidError,
    SignatureError,
    UnknownIssuerError,
    UnsupportedWalletVersionError,
    WalletDecryptionError,
    WalletError,
    WalletFormatError,
    WeakKdfParametersError,
)

pytestmark = pytest.mark.native

PASS = "correct horse battery staple"
FAST = KDF_FLOOR  # the enforced floor: 19 MiB, 2 passes (about 30 ms)
ISSUER = Issuer.generate()
TODAY = dt.date(2026, 3, 2)
CLAIMS = HealthClaims(birth_date=dt.date(1970, 1, 1), diagnoses=(Diagnosis("E11.9", dt.date(2020, 1, 1)),))


def credential_for(wallet: Wallet, *, issuer: Issuer = ISSUER, days: tuple[int, int] = (-30, 335)) -> dict[str, Any]:
    """A version-1 credential (cheap to sign) issued to this wallet's holder commitment."""
    commitment = subject_commitment(wallet.holder_secret)
    return issuer.issue(CLAIMS, subject_commitment=commitment, issued_at=TODAY + dt.timedelta(days=days[0]),
                        expires_at=TODAY + dt.timedelta(days=days[1])).document


@pytest.fixture
def wallet_path(tmp_path: Path) -> Path:
    wallet = Wallet.create(tmp_path / "patient.zkw", PASS, kdf=FAST)
    wallet.add_credential(credential_for(wallet), today=TODAY)
    wallet.save()
    return wallet.path


def _patch(path: Path, offset: int, fmt: str, value: int) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))


def test_round_trip(wallet_path: Path) -> None:
    opened = Wallet.open(wallet_path, PASS)
    first = opened.credentials
    assert len(first) == 1 and first[0]["issuer"] == ISSUER.did
    assert 0 < opened.holder_secret < BABYJUBJUB_SUBGROUP_ORDER
    second = credential_for(opened)
    assert opened.add_credential(json.dumps(second), today=TODAY)
    assert not opened.add_credential(second, today=TODAY)  # the same credential is stored once
    opened.save()
    again = Wallet.open(wallet_path, PASS)
    assert again.credentials == [*first, second]
    assert again.holder_secret == opened.holder_secret


def test_remove_credential_and_find_it_by_id(wallet_path: Path) -> None:
    opened = Wallet.open(wallet_path, PASS)
    documents = [credential_for(opened), credential_for(opened)]
    for document in documents:
        opened.add_credential(document, today=TODAY)
    ids = [int(document["id"].rsplit(":", 1)[1]) for document in documents]
    assert opened.find_credential(ids[1]) == 2 and opened.find_credential(ids[0]) == 1
    assert opened.find_credential(8) is None
    opened.remove_credential(1)
    opened.save()
    again = Wallet.open(wallet_path, PASS)
    assert again.credentials[1] == documents[1]
    assert again.find_credential(ids[0]) is None and again.find_credential(ids[1]) == 1
    for bad in (2, -1, True):
        with pytest.raises(WalletError):
            again.remove_credential(bad)
    again.remove_credential_id(ids[1])
    with pytest.raises(WalletError):
        again.remove_credential_id(ids[1])
    assert len(again.credentials) == 1


def test_adding_a_credential_verifies_it_first(tmp_path: Path) -> None:
    """Issue 13: a forged, foreign, expired or untrusted credential is refused and never stored (so it cannot
    break proving later), for version 1 and version 2 alike."""
    wallet = Wallet.create(tmp_path / "w.zkw", PASS, kdf=FAST)
    other = Wallet.create(tmp_path / "other.zkw", PASS, kdf=FAST)
    good = credential_for(wallet)
    forged = json.loads(json.dumps(good))
    forged["credentialSubject"]["claims"]["birthDate"] = "1960-01-01"
    resigned_elsewhere = json.loads(json.dumps(good))
    resigned_elsewhere["proof"]["proofValue"] = credential_for(wallet)["proof"]["proofValue"]
    cases: list[tuple[dict[str, Any], type[Exception], dict[str, Any]]] = [
        (forged, SignatureError, {}),  # the Ed25519 envelope no longer verifies
        (resigned_elsewhere, SignatureError, {}),
        (credential_for(other), CredentialError, {}),  # issued to another holder commitment
        (credential_for(wallet, days=(-400, -1)), CredentialExpiredError, {}),
        (credential_for(wallet, days=(5, 100)), CredentialNotYetValidError, {}),
        (credential_for(wallet, issuer=Issuer.generate()), UnknownIssuerError, {"trusted_issuers": TrustedIssuers()}),
    ]
    for document, error, options in cases:
        with pytest.raises(error):
            wallet.add_credential(document, today=TODAY, **options)
    assert wallet.credentials == []
    record = ISSUER.issue_record(PatientRecord(birth_date=dt.date(1970, 1, 1), as_of=dt.date(2026, 1, 1)),
                                 subject_commitment=subject_commitment(other.holder_secret), issued_at=TODAY)
    with pytest.raises(CredentialError):
        wallet.add_credential(record.document, today=TODAY)
    trusted = TrustedIssuers()
    trusted.add(ISSUER.public_key)
    assert other.add_credential(record.document, today=TODAY, trusted_issuers=trusted)
    assert wallet.add_credential(good, today=TODAY, trusted_issuers=trusted)
    assert len(wallet.credentials) == 1


def test_passphrase_is_nfc_normalised(tmp_path: Path) -> None:
    Wallet.create(tmp_path / "w", "caf\u00e9", kdf=FAST)
    assert Wallet.open(tmp_path / "w", "cafe\u0301").credentials == []


def test_default_kdf_is_moderate(tmp_path: Path) -> None:
    assert MODERATE.opslimit >= 3 and MODERATE.memlimit >= 256 << 20
    assert Wallet.create.__kwdefaults__ is not None and Wallet.create.__kwdefaults__["kdf"] == MODERATE


def test_wrong_passphrase(wallet_path: Path) -> None:
    with pytest.raises(WalletDecryptionError):
        Wallet.open(wallet_path, PASS + "!")


def test_every_single_bit_flip_in_the_body_fails(wallet_path: Path) -> None:
    original = wallet_path.read_bytes()
    for offset in range(HEADER_BYTES - 24, len(original), 7):  # nonce, ciphertext and tag
        data = bytearray(original)
        data[offset] ^= 0x01
        wallet_path.write_bytes(bytes(data))
        with pytest.raises(WalletDecryptionError):
            Wallet.open(wallet_path, PASS)


def test_salt_bit_flip_fails_authentication(wallet_path: Path) -> None:
    data = bytearray(wallet_path.read_bytes())
    data[25] ^= 0x80  # inside the salt
    wallet_path.write_bytes(bytes(data))
    with pytest.raises(WalletDecryptionError):
        Wallet.open(wallet_path, PASS)


def test_header_kdf_change_fails_authentication(wallet_path: Path) -> None:
    # Raise the ops limit (still within bounds): the header is AAD, so decryption must fail.
    _patch(wallet_path, 8, ">I", FAST.opslimit + 1)
    with pytest.raises(WalletDecryptionError):
        Wallet.open(wallet_path, PASS)


def test_truncation_at_every_length_fails(wallet_path: Path) -> None:
    original = wallet_path.read_bytes()
    lengths = list(range(0, HEADER_BYTES + 17)) + list(range(HEADER_BYTES + 17, len(original), 13))
    for length in lengths:
        wallet_path.write_bytes(original[:length])
        with pytest.raises((WalletDecryptionError, WalletFormatError)) as info:
            Wallet.open(wallet_path, PASS)
        if length >= 4:
            assert info.type is WalletDecryptionError


def test_appended_bytes_fail(wallet_path: Path) -> None:
    wallet_path.write_bytes(wallet_path.read_bytes() + b"\x00")
    with pytest.raises(WalletDecryptionError):
        Wallet.open(wallet_path, PASS)


def test_weak_kdf_parameters_are_refused(wallet_path: Path, tmp_path: Path) -> None:
    _patch(wallet_path, 8, ">I", 1)
    with pytest.raises(WeakKdfParametersError):
        Wallet.open(wallet_path, PASS)
    _patch(wallet_path, 8, ">I", 2)
    _patch(wallet_path, 12, ">Q", 8 << 10)
    with pytest.raises(WeakKdfParametersError):
        Wallet.open(wallet_path, PASS)
    with pytest.raises(WeakKdfParametersError):
        Wallet.create(tmp_path / "weak", PASS, kdf=KdfParams(1, 8 << 10))


def test_excessive_kdf_parameters_are_refused_before_any_work(wallet_path: Path) -> None:
    _patch(wallet_path, 12, ">Q", 4 << 30)
    with pytest.raises(WalletFormatError) as info:
        Wallet.open(wallet_path, PASS)
    assert info.type is WalletFormatError
    _patch(wallet_path, 12, ">Q", FAST.memlimit)
    _patch(wallet_path, 8, ">I", KDF_CAP.opslimit + 1)
    with pytest.raises(WalletFormatError):
        Wallet.open(wallet_path, PASS)


def test_unknown_version(wallet_path: Path) -> None:
    _patch(wallet_path, 4, ">H", 2)
    with pytest.raises(UnsupportedWalletVersionError):
        Wallet.open(wallet_path, PASS)


def test_bad_magic_and_ids(wallet_path: Path) -> None:
    original = wallet_path.read_bytes()
    wallet_path.write_bytes(b"ZKHX" + original[4:])
    with pytest.raises(WalletFormatError):
        Wallet.open(wallet_path, PASS)
    wallet_path.write_bytes(original)
    _patch(wallet_path, 6, ">B", 9)
    with pytest.raises(WalletFormatError):
        Wallet.open(wallet_path, PASS)


@pytest.mark.parametrize("salt_length", [0, 8, 15, 17, 32])
def test_salt_length_other_than_16(wallet_path: Path, salt_length: int) -> None:
    _patch(wallet_path, 20, ">B", salt_length)
    with pytest.raises(WalletFormatError):
        Wallet.open(wallet_path, PASS)


def test_two_wallets_same_passphrase_differ(tmp_path: Path) -> None:
    a = Wallet.create(tmp_path / "a", PASS, kdf=FAST)
    b = Wallet.create(tmp_path / "b", PASS, kdf=FAST)
    data_a, data_b = a.path.read_bytes(), b.path.read_bytes()
    assert data_a[21:37] != data_b[21:37]  # salts
    assert a._key != b._key
    assert a.holder_secret != b.holder_secret


def test_saving_twice_uses_fresh_nonces(wallet_path: Path) -> None:
    opened = Wallet.open(wallet_path, PASS)
    opened.save()
    first = wallet_path.read_bytes()
    opened.save()
    second = wallet_path.read_bytes()
    assert first[37:61] != second[37:61]
    assert first[61:] != second[61:]


def test_no_nonce_repeats_over_many_encryptions() -> None:
    key = bytes(32)
    salt = bytes(16)
    nonces = set()
    count = 100_000
    for _ in range(count):
        sealed = wallet_module._seal(key, FAST, salt, b"x")
        nonces.add(sealed[37:61])
    assert len(nonces) == count


def test_no_caller_nonce_api() -> None:
    import inspect

    for name, function in inspect.getmembers(wallet_module, inspect.isfunction):
        if name.startswith("_") and name != "_seal":
            continue
        assert "nonce" not in inspect.signature(function).parameters, name
    for name, method in inspect.getmembers(Wallet, inspect.isfunction):
        assert "nonce" not in inspect.signature(method).parameters, name


def test_header_is_authenticated_data(wallet_path: Path) -> None:
    data = wallet_path.read_bytes()
    key = Wallet.open(wallet_path, PASS)._key
    header = data[:HEADER_BYTES]
    plaintext = nacl.secret.Aead(key).decrypt(data[HEADER_BYTES:], header, header[-24:])
    assert b"holderSecret" in plaintext
    with pytest.raises(Exception):  # noqa: B017 - libsodium's CryptoError: the AAD matters
        nacl.secret.Aead(key).decrypt(data[HEADER_BYTES:], b"", header[-24:])


def test_repr_hides_secrets(wallet_path: Path) -> None:
    opened = Wallet.open(wallet_path, PASS)
    text = repr(opened) + str(opened)
    assert str(opened.holder_secret) not in text
    assert opened._key.hex() not in text
    assert PASS not in text
    assert "redacted" in text


def test_wallet_cannot_be_pickled(wallet_path: Path) -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Wallet.open(wallet_path, PASS))


def test_create_refuses_to_overwrite(wallet_path: Path) -> None:
    with pytest.raises(WalletError):
        Wallet.create(wallet_path, PASS, kdf=FAST)
    Wallet.create(wallet_path, PASS, kdf=FAST, overwrite=True)


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WalletError):
        Wallet.create(tmp_path / "w", "", kdf=FAST)


def test_atomic_save_keeps_the_old_file_on_crash(wallet_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = wallet_path.read_bytes()
    opened = Wallet.open(wallet_path, PASS)
    before_credentials = opened.credentials
    opened.add_credential(credential_for(opened), today=TODAY)

    def crash(src: str, dst: str) -> None:
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        opened.save()
    monkeypatch.undo()
    assert wallet_path.read_bytes() == before
    assert Wallet.open(wallet_path, PASS).credentials == before_credentials
    assert [p.name for p in wallet_path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_file_permissions_are_private(wallet_path: Path) -> None:
    assert wallet_path.stat().st_mode & 0o077 == 0


def test_decrypted_garbage_is_a_format_error(tmp_path: Path) -> None:
    opened = Wallet.create(tmp_path / "w", PASS, kdf=FAST)
    sealed = wallet_module._seal(opened._key, FAST, opened._salt, b'{"format": "other"}')
    opened.path.write_bytes(sealed)
    with pytest.raises(WalletFormatError):
        Wallet.open(opened.path, PASS)
