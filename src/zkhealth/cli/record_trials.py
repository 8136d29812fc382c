"""Universal trials on the command line: the work behind ``trial new|info``, ``setup``, ``deploy``, ``prove``,
``verify`` and ``enroll`` when the trial file is a universal trial's (``"kind": "universal"``,
:class:`zkhealth.eligibility.record_spec.RecordTrialSpec`), and the ``universal-keys`` group.

A universal trial has no setup and no contract of its own: it uses the one pinned key set (``zkhealth
universal-keys``) and is created in a TrialRegistry. While that key set is a development set, every
verb that uses it prints a warning on stderr.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zkhealth.cli._common import (
    command_seconds,
    emit,
    note,
    parse_day,
    recipient_address,
    release_at_exit,
    timed_spinner,
    write_json_file,
)
from zkhealth.field import parse_field_element

if TYPE_CHECKING:
    from zkhealth.credentials.persons import PersonMembership
    from zkhealth.credentials.trust_roots import TrustRootDocument
    from zkhealth.eligibility.program import Policy

__all__ = [
    "default_consent_document",
    "is_record_trial_file",
    "record_deploy",
    "record_enroll",
    "record_prove",
    "record_setup",
    "record_trial_info",
    "record_trial_new",
    "record_verify",
    "universal_keys_group",
]


def is_record_trial_file(path: Path) -> bool:
    """Whether ``path`` holds a version-2 trial file (anything else goes to the version-1 reader, which names
    what is wrong)."""
    from zkhealth._json import loads_strict, read_limited
    from zkhealth.eligibility.record_spec import RecordTrialSpec
    from zkhealth.errors import EncodingError, ZkHealthError

    try:
        data = read_limited(path, what=str(path), max_bytes=1 << 20, error=EncodingError)
        return RecordTrialSpec.is_record_trial_file(loads_strict(data, what=str(path)))
    except ZkHealthError:
        return False


@contextmanager
def development_keys_notice(ctx: click.Context, circuit: str) -> Iterator[None]:
    """Print the development-key warning once (stderr) for a universal trial, and keep the Python warning quiet
    while the block runs."""
    from zkhealth.eligibility.universal_keys import DEVELOPMENT_WARNING, DevelopmentKeyWarning, pinned_manifest

    if circuit == "universal" and pinned_manifest().is_development:
        note(f"WARNING: {DEVELOPMENT_WARNING}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentKeyWarning)
        yield


def record_trial_new(ctx: click.Context, *, criteria_text: str, metadata: dict[str, str], trial_id: str, out: Path,
                     name: str | None, document: TrustRootDocument | None, trust_roots: tuple[str, ...],
                     window_days: int, policy: Policy, scope: int | None) -> None:
    """``trial new`` for a universal trial: it accepts the current root of the operator's trust-root file
    (``document``) and the explicit ``trust_roots``."""
    from zkhealth.cli._common import criteria_warnings
    from zkhealth.eligibility.program import compile_program
    from zkhealth.eligibility.record_spec import RecordTrialSpec

    compile_program(criteria_text, policy)  # invalid criteria are named first (exit 2 with the clause)
    roots = [parse_field_element(value, what="--trust-root") for value in trust_roots]
    if document is not None:
        roots.append(document.trust_root)
    if not roots:
        raise click.UsageError("give the trust root: --trust trust.json (the operator's trust-root file) or "
                               "--trust-root DECIMAL")
    display = name if name is not None else metadata.get("name", "")
    with development_keys_notice(ctx, "universal"):
        spec = RecordTrialSpec.new(out, criteria_text, circuit="universal", trial_id=trial_id, name=display,
                                   policy=policy, accepted_window_days=window_days,
                                   trust_roots=tuple(dict.fromkeys(roots)), scope=scope)
        spec.save()
        trial = spec.trial()
    universal = trial.universal
    if universal is None:
        raise click.UsageError("a universal trial needs the universal circuit")
    warnings = criteria_warnings(spec.criteria)
    emit(ctx, {"out": str(out), **spec.to_dict(), "warnings": warnings},
         f"wrote {out}: universal trial {trial_id}{f' ({display})' if display else ''}\n"
         f"criteria: {spec.criteria}\nprogram hash {trial.program_hash}; slots {universal.describe_usage()}\n"
         f"no setup needed (the universal key set). next: zkhealth trial info {out}; zkhealth prove {out} ...")


def record_trial_info(ctx: click.Context, path: Path) -> None:
    """``trial info`` for a version-2 trial: the circuit, its size, the program's slots, what a verifier learns."""
    from zkhealth.eligibility.record_spec import RecordTrialSpec
    from zkhealth.eligibility.universal_keys import pinned_manifest

    spec = RecordTrialSpec.load(path)
    with development_keys_notice(ctx, spec.circuit):
        trial = spec.trial()
        payload: dict[str, Any] = {"trial": spec.to_dict(), "public_signals": list(trial.public_signals)}
        lines = [f"trial {spec.trial_id}{f' ({spec.name})' if spec.name else ''}: {spec.circuit} circuit",
                 f"accepted window: {spec.accepted_window_days} day(s); {len(spec.trust_roots)} trust root(s); "
                 f"scope {spec.scope}"]
        if trial.universal is not None:
            manifest = pinned_manifest()
            payload["universal"] = {"program_hash": str(trial.program_hash), "usage": {
                kind: {"used": used, "available": available}
                for kind, (used, available) in trial.universal.usage().items()},
                "constraints": manifest.constraints, "provenance": manifest.provenance,
                "verifying_key_sha256": manifest.verifying_key_sha256}
            lines += [f"program hash {trial.program_hash}",
                      f"slots: {trial.universal.describe_usage()}",
                      f"universal circuit: {manifest.constraints:,} constraints (2^17 domain), key set "
                      f"{manifest.verifying_key_sha256[:16]} ({manifest.provenance}); no setup, no contract of its own"]
        where = "not on-chain yet (off-chain scope)"
        if spec.deployment is not None:
            deployment = spec.deployment
            where = (f"trial {deployment.trial_number} of the TrialRegistry {deployment.address} on chain "
                     f"{deployment.chain_id}")
        lines.append(f"on-chain: {where}")
        lines.append("public signals: " + ", ".join(trial.public_signals))
        lines.append(trial.program.describe())
    emit(ctx, payload, "\n".join(lines))


def record_setup(path: Path) -> None:
    """``setup`` for a universal trial: refused, it needs none."""
    raise click.UsageError(f"{path} is a universal trial: it needs no setup (every universal trial uses the one "
                           "key set; install it once with `zkhealth universal-keys install FILE` or "
                           "`zkhealth universal-keys build`)")


def record_prove(ctx: click.Context, *, path: Path, wallet: Any, recipient: str, document: TrustRootDocument,
                 revocations_paths: tuple[Path, ...], person: PersonMembership | None, today_text: str | None,
                 out: Path) -> None:
    """``prove`` for a universal trial: the wallet's version-2 credentials, the trusted issuers and person registry
    root of the operator's trust-root file, the issuer's revocation tree (the one whose root the registry holds
    for the credential's issuer) and, for a one-per-person trial, the holder's person-registry membership;
    writes the proof JSON (its ``proof`` and ``public`` members are snarkjs's files)."""
    from zkhealth.credentials.dates import date_to_epoch_day, epoch_day_to_date
    from zkhealth.credentials.trees import RevocationTree
    from zkhealth.eligibility.record_spec import RecordTrialSpec
    from zkhealth.eligibility.record_trial import prove_record_eligibility

    spec = RecordTrialSpec.load(path)
    day = parse_day(today_text)
    address = recipient_address(recipient, what="--recipient")
    trusted = document.issuers
    held = {entry.revocation_root for entry in trusted.issuers()}
    with development_keys_notice(ctx, spec.circuit):
        with timed_spinner(ctx, "loading the proving key"):
            spec.load_keys()
        release_at_exit(spec)  # its proving key: not freed one by one when the command returns
        trees = [RevocationTree(where) for where in revocations_paths]
        try:
            current = [tree for tree in trees if tree.root in held] if len(trees) > 1 else trees
            if not current:
                raise click.UsageError("give the revocation tree of your credential's issuer with --revocations "
                                       "(one whose root the trust-root file holds)")
            with timed_spinner(ctx, "checking the criteria, then proving"):
                proof = prove_record_eligibility(
                    spec.trial(), wallet, today=None if day is None else date_to_epoch_day(day),
                    recipient=int(address, 16), trusted=trusted, revocation=current[0], person=person,
                    person_root=document.person_registry_root, scope=spec.scope)
        finally:
            for tree in trees:
                tree.close()
    write_json_file(out, json.loads(proof.to_json()))
    elapsed = command_seconds(ctx)  # the whole command, as the user waits for it (the dedicated path prints the same)
    signals = proof.signals
    proved_day = epoch_day_to_date(signals["today"]).isoformat()
    emit(ctx, {"out": str(out), "circuit": proof.circuit, "nullifier": str(signals["nullifier"]), "today": proved_day,
               "recipient": address, "scope": str(signals["scope"]), "seconds": round(elapsed, 2),
               **({"program_hash": str(signals["program_hash"])} if "program_hash" in signals else {})},
         f"wrote {out} in {elapsed:.1f} s: eligible on {proved_day}, bound to {address}\n"
         f"nullifier {signals['nullifier']} (the same for every proof you make for this trial)")


def record_verify(ctx: click.Context, *, path: Path, proof_path: Path, today_text: str | None,
                  recipient: str | None) -> None:
    """``verify`` for a version-2 trial: the universal circuit's verifying key is the pinned one."""
    from zkhealth.credentials.dates import date_to_epoch_day, epoch_day_to_date
    from zkhealth.eligibility.record_spec import RecordTrialSpec
    from zkhealth.formats.snarkjs_json import read_json_bytes

    spec = RecordTrialSpec.load(path)
    day = parse_day(today_text)
    expected = int(recipient_address(recipient, what="--recipient"), 16) if recipient is not None else None
    trial = spec.trial()
    with development_keys_notice(ctx, spec.circuit):
        result = trial.verify(read_json_bytes(proof_path, what=str(proof_path)),
                              today=None if day is None else date_to_epoch_day(day), expected_recipient=expected)
    verified_day = epoch_day_to_date(result.today).isoformat()
    emit(ctx, {"valid": True, "proof": str(proof_path), "nullifier": str(result.nullifier), "today": verified_day,
               "recipient": f"0x{result.recipient:040x}", "trust_root": str(result.trust_root),
               "scope": str(result.scope)},
         f"valid: {proof_path} (nullifier {result.nullifier}, today {verified_day}, "
         f"recipient 0x{result.recipient:040x})")


def record_verify_batch(ctx: click.Context, *, path: Path, proof_paths: Sequence[Path],
                        today_text: str | None) -> tuple[list[dict[str, Any]], str]:
    """``verify-batch`` for a version-2 trial: one row per proof file (valid, refused, duplicate or malformed),
    with :meth:`RecordTrial.verify_each` (a batched pairing check); and where the trust roots came from."""
    from zkhealth.credentials.dates import date_to_epoch_day, epoch_day_to_date
    from zkhealth.eligibility.record_spec import RecordTrialSpec
    from zkhealth.eligibility.record_trial import RecordProof, VerifiedRecordEligibility
    from zkhealth.errors import DuplicateProofError, EncodingError, MalformedProofError
    from zkhealth.formats.snarkjs_json import read_json_bytes

    spec = RecordTrialSpec.load(path)
    day = parse_day(today_text)
    trial = spec.trial()
    outcomes: dict[int, dict[str, Any]] = {}
    parsed: list[tuple[int, RecordProof]] = []
    for position, proof_path in enumerate(proof_paths):
        try:
            parsed.append((position, RecordProof.from_json(read_json_bytes(proof_path, what=str(proof_path)))))
        except (MalformedProofError, EncodingError) as error:
            outcomes[position] = {"status": "malformed", "error": f"{type(error).__name__}: {error}"}
    with development_keys_notice(ctx, spec.circuit):
        results = trial.verify_each([proof for _, proof in parsed],
                                    today=None if day is None else date_to_epoch_day(day))
    for (position, _), result in zip(parsed, results, strict=True):
        if isinstance(result, VerifiedRecordEligibility):
            outcomes[position] = {"status": "valid", "nullifier": str(result.nullifier),
                                  "today": epoch_day_to_date(result.today).isoformat(),
                                  "recipient": f"0x{result.recipient:040x}", "trust_root": str(result.trust_root),
                                  "scope": str(result.scope)}
        else:
            status = "duplicate" if isinstance(result, DuplicateProofError) else "refused"
            outcomes[position] = {"status": status, "error": f"{type(result).__name__}: {result}"}
    rows = [{"proof": str(proof_path), **outcomes[position]} for position, proof_path in enumerate(proof_paths)]
    return rows, f"the trust roots of {path}"


# --------------------------------------------------------------------------- universal-keys


@click.group("universal-keys", short_help="The universal circuit's key set: install, build, info.")
def universal_keys_group() -> None:
    """The one key set of the universal eligibility circuit. The verifying key ships with zkhealth; the proving
    key (about 140 MB) is obtained once per machine and checked against the hash pinned in the package."""


@universal_keys_group.command("info")
@click.pass_context
def universal_keys_info(ctx: click.Context) -> None:
    """Print the pinned key set: circuit, shape, hashes, provenance, and whether the proving key is installed."""
    from zkhealth.eligibility.universal_keys import DEVELOPMENT_WARNING, default_proving_key_path, pinned_manifest

    manifest = pinned_manifest()
    where = default_proving_key_path(manifest)
    installed = where.is_file()
    shape = manifest.shape
    lines = [f"circuit {manifest.circuit}: {manifest.constraints:,} constraints; {shape.describe()}",
             f"verifying key sha256 {manifest.verifying_key_sha256}",
             f"proving key sha256 {manifest.proving_key_sha256} ({manifest.proving_key_bytes:,} bytes)",
             f"provenance {manifest.provenance}" + (f", ceremony final hash {manifest.ceremony}"
                                                    if manifest.ceremony else ""),
             f"proving key {'installed at' if installed else 'not installed (expected at)'} {where}"]
    if manifest.is_development:
        lines.append(f"WARNING: {DEVELOPMENT_WARNING}")
    emit(ctx, {**manifest.to_dict(), "proving_key_path": str(where), "installed": installed}, "\n".join(lines))


@universal_keys_group.command("install")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def universal_keys_install(ctx: click.Context, source: Path) -> None:
    """Check SOURCE (the proving key your deployment distributes) against the pinned hash and install it where
    every verb looks for it ($ZKHEALTH_UNIVERSAL_KEY, or the user cache directory). A file that is not the
    pinned key is refused (exit 1) and nothing is written."""
    from zkhealth.eligibility.universal_keys import install_proving_key

    target = install_proving_key(source)
    emit(ctx, {"installed": str(target)}, f"installed the universal proving key at {target}")


@universal_keys_group.command("build")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write the key set (proving key, verifying key, manifest) to this directory.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Processes (default: all cores).")
@click.pass_context
def universal_keys_build(ctx: click.Context, out: Path | None, workers: int | None) -> None:
    """Rebuild the DEVELOPMENT key set from its public seed (2-3 minutes on two cores), check it is byte for
    byte the pinned one, and install its proving key. Anyone can forge proofs for these keys: development and
    demos only."""
    import hashlib

    from zkhealth.eligibility.universal_keys import (
        DEVELOPMENT_WARNING,
        DevelopmentKeyWarning,
        build_development_keys,
        install_proving_key,
        pinned_manifest,
        write_key_set,
    )
    from zkhealth.errors import VerifyingKeyMismatchError
    from zkhealth.formats.zkhpk_file import proving_key_to_bytes

    manifest = pinned_manifest()
    if not manifest.is_development:
        raise click.UsageError("the pinned key set comes from a ceremony: install its proving key with "
                               "`zkhealth universal-keys install FILE`")
    note(f"WARNING: {DEVELOPMENT_WARNING}")
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevelopmentKeyWarning)
        with timed_spinner(ctx, "compiling the universal circuit and running the development setup"):
            pk, _ = build_development_keys(workers=workers)
    data = proving_key_to_bytes(pk)
    if hashlib.sha256(data).hexdigest() != manifest.proving_key_sha256:
        raise VerifyingKeyMismatchError("the rebuilt proving key is not the pinned one (the circuit changed: a new "
                                        "key set is needed)")
    staged = Path(out) if out is not None else None
    if staged is not None:
        write_key_set(pk, staged)
        source = staged / "proving_key.zkhpk"
    else:
        import tempfile

        temporary = tempfile.NamedTemporaryFile(suffix=".zkhpk", delete=False)  # noqa: SIM115 - removed below
        temporary.write(data)
        temporary.close()
        source = Path(temporary.name)
    try:
        target = install_proving_key(source)
    finally:
        if staged is None:
            source.unlink()
    elapsed = time.perf_counter() - started
    emit(ctx, {"installed": str(target), "seconds": round(elapsed, 1)},
         f"built and installed the development proving key at {target} in {elapsed:.0f} s")


@universal_keys_group.command("export-r1cs")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the universal circuit's .r1cs (circom's binary format).")
@click.pass_context
def universal_keys_export_r1cs(ctx: click.Context, out: Path) -> None:
    """Write the universal circuit's constraint system: the input of phase 2 of its ceremony (`zkhealth
    ceremony circuit FOLDER universal FILE`, or snarkjs). Its sha256 is the one the pinned manifest names."""
    import hashlib

    from zkhealth._fileio import atomic_write
    from zkhealth.eligibility.universal import compile_universal_circuit
    from zkhealth.formats.r1cs_file import r1cs_to_bytes

    with timed_spinner(ctx, "compiling the universal circuit"):
        data = r1cs_to_bytes(compile_universal_circuit().r1cs)
    atomic_write(out, data, mode=0o644)
    digest = hashlib.sha256(data).hexdigest()
    emit(ctx, {"out": str(out), "sha256": digest, "bytes": len(data)}, f"wrote {out} (sha256 {digest})")


@universal_keys_group.command("import")
@click.argument("zkey", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--ptau", "ptau_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The ceremony's prepared powers of tau the key was made from (phase1/prepared.ptau).")
@click.option("--ceremony", "ceremony", required=True, metavar="HASH",
              help="The ceremony's final hash for the universal circuit (the `final hash of universal` line that "
              "`zkhealth ceremony verify` printed after its replay): the key's last contribution hash must be it.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the new key set (proving key, verifying key, manifest); must not hold one.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Processes (default: all cores).")
@click.pass_context
def universal_keys_import(ctx: click.Context, zkey: Path, ptau_path: Path, ceremony: str, out: Path,
                          workers: int | None) -> None:
    """Adopt a ceremony's final key (snarkjs .zkey) as the universal key set. First `zkey verify` against the
    universal circuit's .r1cs and the prepared .ptau (a key of another circuit, a tampered key or a chain that
    does not verify: exit 1), then its final hash against --ceremony (exit 1), then a sample proof; only then
    is the key set written, with provenance `ceremony` and the final hash. A release pins it by copying
    manifest.json and verification_key.json into zkhealth/data/universal/ and distributes proving_key.zkhpk
    (`zkhealth universal-keys install`). Replay the ceremony with `zkhealth ceremony verify` first."""
    from zkhealth.eligibility.universal_keys import import_ceremony_zkey
    from zkhealth.formats.ptau_file import read_ptau
    from zkhealth.formats.zkey_file import read_zkey_file

    if (out / "manifest.json").exists():
        raise click.UsageError(f"{out} already holds a key set; choose an empty directory")
    with timed_spinner(ctx, "verifying the key against the universal circuit, then proving a sample witness"):
        manifest = import_ceremony_zkey(read_zkey_file(zkey), read_ptau(ptau_path), out, ceremony=ceremony,
                                        workers=workers)
    emit(ctx, manifest.to_dict(), f"wrote the key set to {out}: provenance {manifest.provenance}, ceremony final "
         f"hash {manifest.ceremony}\nverifying key sha256 {manifest.verifying_key_sha256}\nproving key sha256 "
         f"{manifest.proving_key_sha256}\npin it by copying manifest.json and verification_key.json into "
         "zkhealth/data/universal/")


# --------------------------------------------------------------------------- on-chain (deploy, enroll)


def default_consent_document(spec: Any) -> bytes:
    """The consent text a trial created without ``--consent-document`` records the hash of."""
    return (f"zkhealth trial {spec.trial_id}{f' ({spec.name})' if spec.name else ''}: participation in the trial "
            f"and analysis of the data it collects. Criteria: {spec.criteria}").encode()


def record_deploy(ctx: click.Context, *, path: Path, rpc: str, private_key_file: Path | None, registry: str | None,
                  capacity: int, start: int | None, end: int | None, owner: str | None,
                  consent_document: Path | None, root_grace_seconds: int) -> None:
    """``deploy`` for a universal trial: ``createTrial`` in the TrialRegistry at ``registry`` (one transaction, no
    contract of its own); the trial file records where, and the scope proofs must now carry."""
    import hashlib

    from eth_utils.address import to_checksum_address

    from zkhealth.cli._common import connect_rpc
    from zkhealth.eligibility.record_spec import Deployment, RecordTrialSpec

    spec = RecordTrialSpec.load(path)
    trial = spec.trial()
    w3 = connect_rpc(rpc, private_key_file)
    sender = str(w3.eth.default_account)
    now = int(w3.eth.get_block("latest")["timestamp"])
    window = (start if start is not None else now - 60, end if end is not None else now + 365 * 86_400)
    if window[1] <= window[0]:
        raise click.UsageError("--closes must come after --opens")
    owner_address = to_checksum_address(recipient_address(owner, what="--owner")) if owner else sender
    chain_id = int(w3.eth.chain_id)
    from zkhealth.chain.registry import TrialRegistryClient, TrialTerms

    if registry is None:
        raise click.UsageError("a universal trial is created in a TrialRegistry: give --registry 0xADDRESS")
    document = consent_document.read_bytes() if consent_document is not None else default_consent_document(spec)
    consent_hash = hashlib.sha256(document).digest()
    client_ = TrialRegistryClient(w3, registry)
    with development_keys_notice(ctx, spec.circuit), timed_spinner(ctx, "createTrial"):
        created = client_.create_trial(TrialTerms(
            program_hash=trial.program_hash or 0, consent_hash=consent_hash, window=window, capacity=capacity,
            owner=owner_address, external_id=trial.trial_id, root_grace_seconds=root_grace_seconds,
            one_per_person=spec.policy.one_per_person), sender=sender)
    deployment = Deployment("registry", chain_id, client_.address.lower(), created.trial_id, rpc,
                            created.block_number)
    payload = {"registry": client_.address, "trial_number": created.trial_id, "scope": str(created.scope),
               "consent_sha256": consent_hash.hex(), "block": created.block_number}
    human = (f"created trial {created.trial_id} in the TrialRegistry {client_.address} on chain {chain_id} "
             f"(consent document sha256 {consent_hash.hex()})")
    updated = spec.with_deployment(deployment)
    updated.save()
    emit(ctx, {**payload, "scope": str(updated.scope), "trial": str(path)},
         f"{human}\nrecorded in {path}: scope {updated.scope}; patients prove against this file from now on")


def record_enroll(ctx: click.Context, *, path: Path, proof_path: Path, rpc: str | None, private_key_file: Path | None,
                  purposes: tuple[str, ...], expiry_day: int | None) -> None:
    """``enroll`` for a universal trial: the registry's ``enroll`` with the consent terms; simulated first, so a
    refusal names the contract's error and sends nothing."""
    from zkhealth.cli._common import connect_rpc
    from zkhealth.eligibility.record_spec import RecordTrialSpec
    from zkhealth.eligibility.record_trial import RecordProof
    from zkhealth.formats.snarkjs_json import read_json_bytes

    spec = RecordTrialSpec.load(path)
    deployment = spec.deployment
    if deployment is None or deployment.trial_number is None:
        raise click.UsageError(f"{path} is not on-chain yet (run `zkhealth deploy {path} --rpc URL ...`)")
    number = deployment.trial_number
    proof = RecordProof.from_json(read_json_bytes(proof_path, what=str(proof_path)))
    url = rpc or deployment.rpc
    if url is None:
        raise click.UsageError("give --rpc URL (the trial file records none)")
    w3 = connect_rpc(url, private_key_file)
    signals = proof.signals
    from zkhealth.chain.registry import CONSENT_PURPOSES, ConsentTerms, TrialRegistryClient

    unknown = [p for p in purposes if p not in CONSENT_PURPOSES]
    if unknown:
        raise click.UsageError(f"unknown purpose {unknown[0]!r}; choose from {', '.join(CONSENT_PURPOSES)}")
    chosen = purposes or ("trial-participation",)
    registry = TrialRegistryClient(w3, deployment.address)
    day = int(w3.eth.get_block("latest")["timestamp"]) // 86_400
    consent = ConsentTerms(registry.consent_document(number),
                           sum(CONSENT_PURPOSES[p] for p in set(chosen)),
                           expiry_day if expiry_day is not None else day + 365)
    with development_keys_notice(ctx, spec.circuit), timed_spinner(ctx, "sending enroll"):
        receipt = registry.enroll(number, proof.proof, list(proof.public), consent)
    where = f"trial {number} of the TrialRegistry {deployment.address}"
    emit(ctx, {"enrolled": True, "nullifier": str(signals["nullifier"]),
               "transaction": "0x" + bytes(receipt["transactionHash"]).hex(), "block": int(receipt["blockNumber"]),
               "gas_used": int(receipt["gasUsed"])},
         f"enrolled in {where}: nullifier {signals['nullifier']} in block {int(receipt['blockNumber'])} "
         f"({int(receipt['gasUsed']):,} gas)")
