"""Groth16: completeness, soundness checks, the verifier's refusal order, key hygiene, batch, malleability."""

from __future__ import annotations

import dataclasses
import random
import secrets
from pathlib import Path

import pytest
from groth16_circuits import chain_r1cs, chain_witness, random_circuit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zkhealth.errors import (
    DevSetupKeyError,
    FieldTypeError,
    InsecureVerifyingKeyError,
    InvalidProofError,
    MalformedProofError,
    NonCanonicalEncodingError,
    PointAtInfinityError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    PublicInputCountError,
    PublicInputOutOfRangeError,
    R1csFormatError,
    VerifyingKeyMismatchError,
    WitnessError,
)
from zkhealth.field import FIELD_Q, FIELD_R
from zkhealth.formats.zkhpk_file import load_proving_key, parse_proving_key, proving_key_to_bytes, save_proving_key
from zkhealth.groth16 import (
    Proof,
    ToxicWaste,
    batch_verify,
    find_invalid,
    prove,
    prove_deterministic,
    prove_no_zk,
    rerandomize,
    setup,
    setup_with_toxic_waste,
    verify,
)
from zkhealth.groth16.generator import G2_GENERATOR
from zkhealth.groth16.r1cs_to_qap import qap_domain_size, qap_entries, root_of_unity
from zkhealth.hazmat import bn254

pytestmark = pytest.mark.prove

N = 12


@pytest.fixture(scope="module")
def keys() -> tuple[object, object]:
    return setup(chain_r1cs(N))


@pytest.fixture(scope="module")
def statement(keys: tuple[object, object]) -> tuple[list[int], list[int], Proof]:
    pk, _ = keys
    witness = chain_witness(N, 5)
    proof = prove(pk, witness)  # type: ignore[arg-type]
    return witness, witness[1:3], proof


# --------------------------------------------------------------------------- QAP structure (security.md G7)


def test_domain_covers_constraints_plus_public_rows() -> None:
    r1cs = chain_r1cs(N)
    a_entries, _, _ = qap_entries(r1cs)
    size = qap_domain_size(r1cs.n_constraints, r1cs.n_public)
    assert size >= r1cs.n_constraints + r1cs.n_public + 1
    public_rows = {(row, wire) for row, wire, coeff in a_entries if row >= r1cs.n_constraints and coeff == 1}
    assert public_rows == {(r1cs.n_constraints + i, i) for i in range(r1cs.n_public + 1)}
    # 13 rows + 3 input rows = 15 -> 16; one more constraint overflows into 32
    assert qap_domain_size(13, 2) == 16 and qap_domain_size(14, 2) == 32


def test_roots_match_the_ntt_module() -> None:
    from zkhealth.hazmat.ntt import intt, ntt

    for log_n in (1, 4, 10):
        w = root_of_unity(log_n)
        assert pow(w, 1 << log_n, FIELD_R) == 1 and pow(w, 1 << (log_n - 1), FIELD_R) != 1
    values = [random.Random(1).randrange(FIELD_R) for _ in range(8)]
    w8 = root_of_unity(3)
    naive = [sum(v * pow(w8, i * k, FIELD_R) for i, v in enumerate(values)) % FIELD_R for k in range(8)]
    assert list(ntt(values)) == naive
    assert list(intt(naive)) == values


# --------------------------------------------------------------------------- known answer with fixed toxic waste


def _closed_form_no_zk(r1cs: object, witness: list[int], toxic: ToxicWaste) -> tuple[int, int, int]:
    """The exponents of A, B, C of the proof with r = s = 0, from the trapdoor (Groth16 §3.2), with the
    Lagrange basis at tau computed naively (product form) as an independent oracle."""
    p = FIELD_R
    tau = toxic.tau
    size = qap_domain_size(r1cs.n_constraints, r1cs.n_public)  # type: ignore[attr-defined]
    omega = root_of_unity(size.bit_length() - 1)
    points = [pow(omega, k, p) for k in range(size)]

    def lagrange(k: int) -> int:
        num, den = 1, 1
        for j, x in enumerate(points):
            if j != k:
                num = num * (tau - x) % p
                den = den * (points[k] - x) % p
        return num * pow(den, -1, p) % p

    basis = [lagrange(k) for k in range(size)]
    a_ent, b_ent, c_ent = qap_entries(r1cs)  # type: ignore[arg-type]

    def poly_at(entries: list[tuple[int, int, int]], wire: int) -> int:
        return sum(c * basis[row] for row, w, c in entries if w == wire) % p

    n_wires, n_public = r1cs.n_wires, r1cs.n_public  # type: ignore[attr-defined]
    a_i = [poly_at(a_ent, i) for i in range(n_wires)]
    b_i = [poly_at(b_ent, i) for i in range(n_wires)]
    c_i = [poly_at(c_ent, i) for i in range(n_wires)]
    a_w = sum(w * x for w, x in zip(witness, a_i, strict=True)) % p
    b_w = sum(w * x for w, x in zip(witness, b_i, strict=True)) % p
    c_w = sum(w * x for w, x in zip(witness, c_i, strict=True)) % p
    private = sum(
        witness[i] * (toxic.beta * a_i[i] + toxic.alpha * b_i[i] + c_i[i]) for i in range(n_public + 1, n_wires)
    )
    # h(tau) t(tau) = A(tau) B(tau) - C(tau)
    c_0 = (private + a_w * b_w - c_w) * pow(toxic.delta, -1, p) % p
    return (toxic.alpha + a_w) % p, (toxic.beta + b_w) % p, c_0


def test_known_answer_fixed_toxic_waste() -> None:
    """With the trapdoor known, every proof element has a closed form in the exponent (Groth16 §3.2)."""
    r1cs, witness = random_circuit(7, 2, 1, 6)
    toxic = ToxicWaste(tau=123456789, alpha=11, beta=22, gamma=33, delta=44)
    pk, vk = setup_with_toxic_waste(r1cs, toxic)
    r, s = 5, 7
    proof = prove_deterministic(pk, witness, r, s)
    p = FIELD_R
    a_0, b_0, c_0 = _closed_form_no_zk(r1cs, witness, toxic)
    a_exp = (a_0 + r * toxic.delta) % p
    b_exp = (b_0 + s * toxic.delta) % p
    c_exp = (c_0 + s * a_exp + r * b_exp - r * s * toxic.delta) % p
    assert proof.a == bn254.g1_mul(bn254.G1_GENERATOR, a_exp)
    assert proof.b == bn254.g2_mul(bn254.G2_GENERATOR, b_exp)
    assert proof.c == bn254.g1_mul(bn254.G1_GENERATOR, c_exp)
    assert vk.delta_g2 == bn254.g2_mul(bn254.G2_GENERATOR, toxic.delta)
    verify(vk, witness[1 : 1 + r1cs.n_public], proof)


def test_prove_is_the_no_zk_proof_rerandomized() -> None:
    """prove() computes the r = s = 0 proof and re-randomises it with its two draws r1, t:
    A = r1^-1 A_0, B = r1 B_0 + t delta, C = C_0 + t A (closed forms from the trapdoor)."""
    r1cs, witness = random_circuit(7, 2, 1, 6)
    toxic = ToxicWaste(tau=987654321, alpha=12, beta=23, gamma=34, delta=45)
    pk, vk = setup_with_toxic_waste(r1cs, toxic)
    proof = prove(pk, witness, rng=random.Random(3))  # type: ignore[arg-type]
    draws = random.Random(3)
    r1, t = draws.randrange(1, FIELD_R), draws.randrange(1, FIELD_R)
    p = FIELD_R
    a_0, b_0, c_0 = _closed_form_no_zk(r1cs, witness, toxic)
    a_exp = a_0 * pow(r1, -1, p) % p
    assert proof.a == bn254.g1_mul(bn254.G1_GENERATOR, a_exp)
    assert proof.b == bn254.g2_mul(bn254.G2_GENERATOR, (r1 * b_0 + t * toxic.delta) % p)
    assert proof.c == bn254.g1_mul(bn254.G1_GENERATOR, (c_0 + t * a_exp) % p)
    verify(vk, witness[1 : 1 + r1cs.n_public], proof)
    # the same draws give the same proof; other draws another proof of the same statement
    assert prove(pk, witness, rng=random.Random(3)) == proof  # type: ignore[arg-type]
    other = prove(pk, witness, rng=random.Random(4))  # type: ignore[arg-type]
    assert other.a != proof.a and other.b != proof.b and other.c != proof.c
    verify(vk, witness[1 : 1 + r1cs.n_public], other)


def test_prove_with_a_0_the_identity_uses_r_and_s() -> None:
    """A key whose alpha cancels A(tau) for this witness makes A_0 the identity, which re-randomisation
    cannot hide (A' would be the identity too): prove() then proves with r = r1, s = t instead."""
    r1cs, witness = random_circuit(7, 2, 1, 6)
    probe = ToxicWaste(tau=55555, alpha=1, beta=23, gamma=34, delta=45)
    a_w = (_closed_form_no_zk(r1cs, witness, probe)[0] - probe.alpha) % FIELD_R
    toxic = dataclasses.replace(probe, alpha=-a_w % FIELD_R)
    pk, vk = setup_with_toxic_waste(r1cs, toxic)
    assert prove_no_zk(pk, witness).a is None
    proof = prove(pk, witness, rng=random.Random(5))  # type: ignore[arg-type]
    draws = random.Random(5)
    r1, t = draws.randrange(1, FIELD_R), draws.randrange(1, FIELD_R)
    assert proof == prove_deterministic(pk, witness, r1, t)
    assert proof.a == bn254.g1_mul(bn254.G1_GENERATOR, r1 * toxic.delta % FIELD_R)
    verify(vk, witness[1 : 1 + r1cs.n_public], proof)


def test_prove_computes_no_b1(keys: tuple[object, object], monkeypatch: pytest.MonkeyPatch) -> None:
    """prove() runs the MSMs of A, B and C only; B1 (G1), whose only use is the r B1 term of C, is left out.
    prove_deterministic (caller's r, s) still computes it."""
    import zkhealth.groth16.prover as prover_module

    pk, vk = keys
    witness = chain_witness(N, 5)
    planned: list[str] = []
    plan = prover_module._plan

    def spy(bases: object, name: str, common: object, memo: object) -> object:
        planned.append(name)
        return plan(bases, name, common, memo)  # type: ignore[arg-type]

    monkeypatch.setattr(prover_module, "_plan", spy)
    proof = prove(pk, witness, workers=1)  # type: ignore[arg-type]
    assert set(planned) == {"a", "b2"}
    verify(vk, witness[1:3], proof)  # type: ignore[arg-type]
    planned.clear()
    prove_deterministic(pk, witness, 5, 7, workers=1)  # type: ignore[arg-type]
    assert set(planned) == {"a", "b1", "b2"}


@pytest.mark.slow
def test_pairing_equation_with_py_ecc_oracle(keys: tuple[object, object], statement: tuple[object, ...]) -> None:
    from py_ecc import bn128

    _, vk = keys
    _, public, proof = statement

    def g1(p: tuple[int, int]) -> object:
        return (bn128.FQ(p[0]), bn128.FQ(p[1]))

    def g2(p: tuple[tuple[int, int], tuple[int, int]]) -> object:
        return (bn128.FQ2(list(p[0])), bn128.FQ2(list(p[1])))

    vk_x = vk.gamma_abc_g1[0]  # type: ignore[attr-defined]
    for x, point in zip(public, vk.gamma_abc_g1[1:], strict=True):  # type: ignore[attr-defined]
        vk_x = bn254.g1_add(vk_x, bn254.g1_mul(point, x))
    lhs = bn128.pairing(g2(proof.b), g1(proof.a))  # type: ignore[attr-defined]
    rhs = (
        bn128.pairing(g2(vk.beta_g2), g1(vk.alpha_g1))  # type: ignore[attr-defined]
        * bn128.pairing(g2(vk.gamma_g2), g1(vk_x))  # type: ignore[attr-defined]
        * bn128.pairing(g2(vk.delta_g2), g1(proof.c))  # type: ignore[attr-defined]
    )
    assert lhs == rhs


# --------------------------------------------------------------------------- completeness and soundness


def test_prove_verify(keys: tuple[object, object], statement: tuple[object, ...]) -> None:
    _, vk = keys
    _, public, proof = statement
    verify(vk, public, proof)  # type: ignore[arg-type]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32),
    n_pub=st.integers(0, 3),
    n_priv=st.integers(0, 3),
    n_constraints=st.integers(1, 9),
)
def test_completeness_random_circuits(seed: int, n_pub: int, n_priv: int, n_constraints: int) -> None:
    r1cs, witness = random_circuit(seed, n_pub, n_priv, n_constraints)
    pk, vk = setup(r1cs)
    public = witness[1 : 1 + r1cs.n_public]
    proof = prove(pk, witness)
    verify(vk, public, proof)
    if public:
        wrong = list(public)
        wrong[0] = (wrong[0] + 1) % FIELD_R
        with pytest.raises(InvalidProofError):
            verify(vk, wrong, proof)


def test_wrong_witness_refused(keys: tuple[object, object]) -> None:
    pk, _ = keys
    witness = chain_witness(N, 5)
    bad = list(witness)
    bad[5] = (bad[5] + 1) % FIELD_R
    with pytest.raises(WitnessError):
        prove(pk, bad)  # type: ignore[arg-type]
    with pytest.raises(WitnessError):
        prove(pk, witness[:-1])  # type: ignore[arg-type]
    with pytest.raises(WitnessError):
        prove(pk, [2, *witness[1:]])  # type: ignore[arg-type]
    with pytest.raises(WitnessError):
        prove(pk, [*witness[:-1], witness[-1] + FIELD_R])  # type: ignore[arg-type]


def test_wrong_witness_refused_without_c_matrix(keys: tuple[object, object]) -> None:
    pk, _ = keys
    stripped = dataclasses.replace(pk, c_entries=None, n_constraints=None)  # type: ignore[type-var]
    witness = chain_witness(N, 5)
    bad = list(witness)
    bad[5] = (bad[5] + 1) % FIELD_R
    with pytest.raises(WitnessError):
        prove(stripped, bad)
    prove(stripped, witness)


def test_blinding_factors_are_fresh_and_not_from_random(keys: tuple[object, object]) -> None:
    pk, vk = keys
    witness = chain_witness(N, 5)
    random.seed(1234)
    first = prove(pk, witness)  # type: ignore[arg-type]
    random.seed(1234)
    second = prove(pk, witness)  # type: ignore[arg-type]
    assert first != second
    assert first.a != second.a and first.b != second.b and first.c != second.c
    verify(vk, witness[1:3], second)  # type: ignore[arg-type]


def test_no_zk_only_by_name(keys: tuple[object, object]) -> None:
    pk, vk = keys
    witness = chain_witness(N, 5)
    for r, s in ((0, 1), (1, 0), (FIELD_R, 1), (True, 1)):
        with pytest.raises(FieldTypeError):
            prove_deterministic(pk, witness, r, s)  # type: ignore[arg-type]
    first = prove_no_zk(pk, witness)  # type: ignore[arg-type]
    assert prove_no_zk(pk, witness) == first  # type: ignore[arg-type]
    verify(vk, witness[1:3], first)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the verifier's refusals (G1-G5)


@pytest.mark.parametrize("bad", [FIELD_R, 2 * FIELD_R, 2**256 - 1, -1])
def test_public_input_out_of_range(keys: tuple[object, object], statement: tuple[object, ...], bad: int) -> None:
    _, vk = keys
    _, public, proof = statement
    value = public[0] + bad if bad in (FIELD_R, 2 * FIELD_R) else bad  # type: ignore[index]
    with pytest.raises(PublicInputOutOfRangeError) as info:
        verify(vk, [value, public[1]], proof)  # type: ignore[arg-type, index]
    assert info.value.index == 0
    # range first: even with the wrong count and a broken proof
    with pytest.raises(PublicInputOutOfRangeError):
        verify(vk, [value], Proof(a=(1, 3), b=None, c=None))  # type: ignore[arg-type]


def test_public_input_between_r_and_q(keys: tuple[object, object], statement: tuple[object, ...]) -> None:
    _, vk = keys
    _, public, proof = statement
    assert FIELD_R != FIELD_Q
    with pytest.raises(PublicInputOutOfRangeError):
        verify(vk, [FIELD_R + 1, public[1]], proof)  # type: ignore[arg-type, index]


@pytest.mark.parametrize("count", [0, 1, 3])
def test_public_input_count(keys: tuple[object, object], statement: tuple[object, ...], count: int) -> None:
    _, vk = keys
    _, public, proof = statement
    values = (list(public) + [0, 0])[:count]  # type: ignore[call-overload]
    with pytest.raises(PublicInputCountError) as info:
        verify(vk, values, proof)  # type: ignore[arg-type]
    assert (info.value.expected, info.value.got) == (2, count)


def test_public_input_types(keys: tuple[object, object], statement: tuple[object, ...]) -> None:
    _, vk = keys
    _, public, proof = statement
    with pytest.raises(MalformedProofError):
        verify(vk, [True, public[1]], proof)  # type: ignore[arg-type, index]
    with pytest.raises(MalformedProofError):
        verify(vk, [str(public[0]), public[1]], proof)  # type: ignore[arg-type, index]


def _non_subgroup_g2_point() -> tuple[tuple[int, int], tuple[int, int]]:
    x0 = 1
    while True:
        x = (x0, 1)
        rhs = bn254.fq2_add(bn254.fq2_mul(bn254.fq2_sqr(x), x), bn254.TWIST_B)
        y = bn254.fq2_sqrt(rhs)
        if y is not None:
            point = (x, y)
            if not bn254.g2_in_subgroup(point):
                return point
        x0 += 1


def test_proof_point_validation(keys: tuple[object, object], statement: tuple[object, ...]) -> None:
    _, vk = keys
    _, public, proof = statement
    cases: list[tuple[Proof, type[Exception]]] = [
        (dataclasses.replace(proof, a=(1, 3)), PointNotOnCurveError),  # type: ignore[type-var]
        (dataclasses.replace(proof, c=(1, 3)), PointNotOnCurveError),  # type: ignore[type-var]
        (dataclasses.replace(proof, a=(0, 0)), PointAtInfinityError),  # type: ignore[type-var]
        (dataclasses.replace(proof, a=None), PointAtInfinityError),  # type: ignore[type-var]
        (dataclasses.replace(proof, c=None), PointAtInfinityError),  # type: ignore[type-var]
        (dataclasses.replace(proof, b=None), PointAtInfinityError),  # type: ignore[type-var]
        (dataclasses.replace(proof, b=((0, 0), (0, 0))), PointAtInfinityError),  # type: ignore[type-var]
        (dataclasses.replace(proof, a=(proof.a[0] + FIELD_Q, proof.a[1])), NonCanonicalEncodingError),  # type: ignore[attr-defined, index, type-var]
        (dataclasses.replace(proof, b=_non_subgroup_g2_point()), PointNotInSubgroupError),  # type: ignore[type-var]
        (dataclasses.replace(proof, b=((1, 2), (3, 4))), PointNotOnCurveError),  # type: ignore[type-var]
    ]
    for bad, error in cases:
        with pytest.raises(error):
            verify(vk, public, bad)  # type: ignore[arg-type]
    with pytest.raises(MalformedProofError):
        verify(vk, public, dataclasses.replace(proof, a=(1, 2, 3)))  # type: ignore[arg-type, type-var]
    with pytest.raises(MalformedProofError):
        verify(vk, public, "proof")  # type: ignore[arg-type]


def test_tampered_and_swapped(keys: tuple[object, object], statement: tuple[object, ...]) -> None:
    _, vk = keys
    _, public, proof = statement
    g = bn254.G1_GENERATOR
    for bad in (
        dataclasses.replace(proof, a=bn254.g1_add(proof.a, g)),  # type: ignore[attr-defined, type-var]
        dataclasses.replace(proof, c=bn254.g1_add(proof.c, g)),  # type: ignore[attr-defined, type-var]
        dataclasses.replace(proof, b=bn254.g2_add(proof.b, bn254.G2_GENERATOR)),  # type: ignore[attr-defined, type-var]
        Proof(a=proof.c, b=proof.b, c=proof.a),  # type: ignore[attr-defined]
    ):
        with pytest.raises(InvalidProofError):
            verify(vk, public, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidProofError):
        verify(vk, [public[1], public[0]], proof)  # type: ignore[arg-type, index]


# --------------------------------------------------------------------------- key hygiene (G8, G9)


def test_insecure_keys_refused(keys: tuple[object, object], statement: tuple[object, ...]) -> None:
    _, vk = keys
    _, public, proof = statement
    with pytest.raises(InsecureVerifyingKeyError):
        verify(dataclasses.replace(vk, gamma_g2=vk.delta_g2), public, proof)  # type: ignore[attr-defined, arg-type, type-var]
    with pytest.raises(InsecureVerifyingKeyError):
        verify(dataclasses.replace(vk, delta_g2=G2_GENERATOR), public, proof)  # type: ignore[arg-type, type-var]


def test_dev_keys_and_pinning(keys: tuple[object, object], statement: tuple[object, ...]) -> None:
    _, vk = keys
    _, public, proof = statement
    assert vk.provenance == "dev-setup"  # type: ignore[attr-defined]
    with pytest.raises(DevSetupKeyError):
        verify(vk, public, proof, require_production=True)  # type: ignore[arg-type]
    pin = vk.sha256()  # type: ignore[attr-defined]
    verify(vk, public, proof, pinned_sha256=pin)  # type: ignore[arg-type]
    other = dataclasses.replace(vk, gamma_abc_g1=tuple(reversed(vk.gamma_abc_g1)))  # type: ignore[attr-defined, type-var]
    with pytest.raises(VerifyingKeyMismatchError):
        verify(other, public, proof, pinned_sha256=pin)  # type: ignore[arg-type]
    # the hash ignores provenance, so a re-labelled copy of the same key still matches the pin
    assert dataclasses.replace(vk, provenance="unknown").sha256() == pin  # type: ignore[type-var]


# --------------------------------------------------------------------------- batch, re-randomisation


def test_batch_verify_and_find_invalid(keys: tuple[object, object]) -> None:
    pk, vk = keys
    items = []
    for x0 in range(5):
        witness = chain_witness(N, x0 + 2)
        items.append((witness[1:3], prove(pk, witness)))  # type: ignore[arg-type]
    batch_verify(vk, items)  # type: ignore[arg-type]
    batch_verify(vk, [])  # type: ignore[arg-type]
    bad_items = list(items)
    bad_items[3] = (items[3][0], items[2][1])
    with pytest.raises(InvalidProofError):
        batch_verify(vk, bad_items)  # type: ignore[arg-type]
    assert find_invalid(vk, bad_items) == [3]  # type: ignore[arg-type]
    bad_items[0] = ([FIELD_R, 0], items[0][1])
    with pytest.raises(PublicInputOutOfRangeError):
        batch_verify(vk, bad_items)  # type: ignore[arg-type]
    assert find_invalid(vk, bad_items) == [0, 3]  # type: ignore[arg-type]


def test_rerandomized_proof_verifies_and_differs(keys: tuple[object, object], statement: tuple[object, ...]) -> None:
    _, vk = keys
    _, public, proof = statement
    other = rerandomize(vk, proof)  # type: ignore[arg-type]
    assert other != proof and other.a != proof.a  # type: ignore[attr-defined]
    verify(vk, public, other)  # type: ignore[arg-type]
    with pytest.raises(InvalidProofError):
        verify(vk, [public[0], (public[1] + 1) % FIELD_R], other)  # type: ignore[arg-type, index]


# --------------------------------------------------------------------------- proving-key file


def test_proving_key_file_round_trip(keys: tuple[object, object], tmp_path: Path) -> None:
    pk, vk = keys
    path = tmp_path / "chain.zkhpk"
    save_proving_key(pk, path)  # type: ignore[arg-type]
    loaded = load_proving_key(path)
    assert loaded == pk
    witness = chain_witness(N, 9)
    verify(vk, witness[1:3], prove(loaded, witness))  # type: ignore[arg-type]


def test_proving_key_file_corruption(keys: tuple[object, object]) -> None:
    pk, _ = keys
    data = bytearray(proving_key_to_bytes(pk))  # type: ignore[arg-type]
    for index in (0, 10, len(data) // 2, len(data) - 1):
        broken = bytearray(data)
        broken[index] ^= 1
        with pytest.raises(R1csFormatError):
            parse_proving_key(bytes(broken))
    with pytest.raises(R1csFormatError):
        parse_proving_key(bytes(data[:-40]))


def test_random_source_is_secrets() -> None:
    """The default blinding source is the OS CSPRNG (a smoke check that nothing imports `random` for it)."""
    import zkhealth.groth16.prover as prover_module

    assert "random" not in vars(prover_module)
    assert isinstance(secrets.SystemRandom(), random.Random)


# --------------------------------------------------------------------------- performance paths (issue 4)


def test_b1_bases_are_prepared_when_a_proof_first_needs_them() -> None:
    """prove() leaves B1's bases unprepared (it never reads them); a later prove_deterministic, which does,
    prepares them and registers a new worker dataset that has them, and its proof is the single-process one."""
    from zkhealth.groth16.prover import PIPELINE_MIN_DOMAIN, _key_state

    n = PIPELINE_MIN_DOMAIN - 3
    pk, vk = setup(chain_r1cs(n), workers=1)
    witness = chain_witness(n, 3)
    verify(vk, witness[1:3], prove(pk, witness, workers=2))
    state = _key_state(pk, b1=False)
    assert "b1" not in state.bases and set(state.bases) == {"a", "b2", "c"}
    first_token = pk._worker_token
    assert first_token != 0
    deterministic = prove_deterministic(pk, witness, 5, 7, workers=2)
    assert "b1" in _key_state(pk, b1=False).bases and pk._worker_token not in (0, first_token)
    assert deterministic == prove_deterministic(pk, witness, 5, 7, workers=1)
    verify(vk, witness[1:3], prove(pk, witness, workers=2))



def test_the_self_check_key_is_prepared_while_the_worker_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key without its C matrix is self-checked after proving; with a worker, the verifying key is prepared
    once while this process waits for the worker's last task. A wrong witness is still refused, and a key
    with its C matrix (checked row by row instead) prepares nothing."""
    import zkhealth.groth16.prover as prover_module
    from zkhealth.groth16.prover import PIPELINE_MIN_DOMAIN

    n = PIPELINE_MIN_DOMAIN - 3
    pk, vk = setup(chain_r1cs(n), workers=1)
    stripped = dataclasses.replace(pk, c_entries=None, n_constraints=None)
    witness = chain_witness(n, 3)
    prepared: list[object] = []
    real = prover_module._prepare_self_check

    def spy(key: object) -> None:
        prepared.append(key)
        real(key)  # type: ignore[arg-type]

    monkeypatch.setattr(prover_module, "_prepare_self_check", spy)
    verify(vk, witness[1:3], prove(stripped, witness, workers=2))
    assert prepared == [stripped]
    bad = list(witness)
    bad[5] = (bad[5] + 1) % FIELD_R
    with pytest.raises(WitnessError):
        prove(stripped, bad, workers=2)
    prepared.clear()
    prove(pk, witness, workers=2)
    assert prepared == []


def test_pipelined_prover_matches_single_process() -> None:
    """workers=2 (the proof's MSM windows shared out dynamically between this process and a worker) gives
    exactly the single-process proof, also after the key's worker dataset was evicted from the registry."""
    from zkhealth.groth16.prover import PIPELINE_MIN_DOMAIN
    from zkhealth.hazmat import parallel

    n = PIPELINE_MIN_DOMAIN - 3  # + 2 public signals + the constant wire = the pipeline's smallest domain
    pk, vk = setup(chain_r1cs(n), workers=1)
    assert pk.domain_size == PIPELINE_MIN_DOMAIN
    witness = chain_witness(n, 3)
    single = prove_deterministic(pk, witness, 5, 7, workers=1)
    assert prove_deterministic(pk, witness, 5, 7, workers=2) == single
    assert pk._worker_token != 0
    for _ in range(parallel.MAX_DATASETS + 1):
        parallel.register(())
    assert prove_deterministic(pk, witness, 5, 7, workers=2) == single
    verify(vk, witness[1:3], single)


def test_fixed_base_batches_match_scalar_multiplication() -> None:
    from zkhealth.groth16._fixed_base import fixed_base_mul_both, g1_fixed_base_mul, g2_fixed_base_mul

    rng = random.Random(11)
    scalars = [0, 1, 2, 3, FIELD_R - 1, FIELD_R - 2, 1 << 253, *(rng.randrange(FIELD_R) for _ in range(40))]
    g1 = g1_fixed_base_mul(bn254.G1_GENERATOR, scalars)
    g2 = g2_fixed_base_mul(bn254.G2_GENERATOR, scalars)
    assert g1[0] is None and g2[0] is None
    assert g1 == [bn254.g1_mul(bn254.G1_GENERATOR, k) for k in scalars]
    assert g2 == [bn254.g2_mul(bn254.G2_GENERATOR, k) for k in scalars]
    assert fixed_base_mul_both(bn254.G1_GENERATOR, scalars, bn254.G2_GENERATOR, scalars[:9]) == (g1, g2[:9])


def test_fixed_base_chunks_over_two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    from zkhealth.groth16 import _fixed_base
    from zkhealth.hazmat import parallel

    monkeypatch.setattr(_fixed_base, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(_fixed_base, "CHUNK", 7)
    rng = random.Random(12)
    g1_scalars = [0, 1, FIELD_R - 1, *(rng.randrange(FIELD_R) for _ in range(30))]
    g2_scalars = [2, FIELD_R - 2, *(rng.randrange(FIELD_R) for _ in range(10))]
    expected = (
        [bn254.g1_mul(bn254.G1_GENERATOR, k) for k in g1_scalars],
        [bn254.g2_mul(bn254.G2_GENERATOR, k) for k in g2_scalars],
    )
    both = _fixed_base.fixed_base_mul_both(
        bn254.G1_GENERATOR, g1_scalars, bn254.G2_GENERATOR, g2_scalars, workers=2
    )
    assert both == expected
    parallel.shutdown()


def test_subgroup_test_of_the_miller_loop_numbers() -> None:
    """The facts miller_loop_checked's proof rests on: f(X) = X^3 - X^2 + X + 6x + 2 kills G2 (psi = [6x^2]
    there) and Res(X^2 - tX + q, f) is coprime to the cofactor c2 (and r to c2)."""
    from math import gcd

    x, q, r, c2 = bn254.BN_X, bn254.Q, bn254.R, bn254.G2_COFACTOR
    t = 6 * x * x + 1
    assert (bn254.SIX_X_SQUARED**3 - bn254.SIX_X_SQUARED**2 + bn254.SIX_X_SQUARED + 6 * x + 2) % r == 0
    # f mod (X^2 - tX + q) = a X + b, using X^2 = tX - q and X^3 = (t^2 - q) X - tq
    a = (t * t - q) - t + 1
    b = -t * q + q + 6 * x + 2
    resultant = b * b + t * a * b + q * a * a
    assert resultant != 0 and gcd(resultant, c2) == 1 and gcd(r, c2) == 1
    # a G2 point never meets an exceptional case in the two Frobenius additions (T = [k]Q, adding [q]Q,
    # then -[q^2]Q): k != +-q and k + q != +-q^2 mod r
    k = 6 * x + 2
    assert all(v % r for v in (k - q, k + q, k + q - q * q, k + q + q * q))


def test_domain_to_coset_is_interpolate_then_coset_evaluate() -> None:
    from zkhealth.hazmat.ntt import coset_ntt, domain_to_coset, intt

    rng = random.Random(3)
    for log_n in (0, 1, 5):
        values = [rng.randrange(FIELD_R) for _ in range(1 << log_n)]
        shift = root_of_unity(log_n + 1)
        assert domain_to_coset(values, shift) == coset_ntt(intt(values), shift)
        assert domain_to_coset(values) == coset_ntt(intt(values))
    from zkhealth.errors import FieldRangeError, InputLengthError, InvalidArgumentError

    with pytest.raises(InputLengthError):
        domain_to_coset([1, 2, 3])
    with pytest.raises(FieldRangeError):
        domain_to_coset([1, FIELD_R])
    with pytest.raises(InvalidArgumentError):
        domain_to_coset([1, 2], root_of_unity(1))  # -1 lies in the size-2 domain


def _twist_point(rng: random.Random) -> tuple[tuple[int, int], tuple[int, int]]:
    while True:
        xx = (rng.randrange(FIELD_Q), rng.randrange(FIELD_Q))
        rhs = bn254.fq2_add(bn254.fq2_mul(bn254.fq2_sqr(xx), xx), bn254.TWIST_B)
        yy = bn254.fq2_sqrt(rhs)
        if yy is not None:
            return (xx, yy)


def _cofactor_points(rng: random.Random) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """A random twist point, and G2 points shifted by torsion of each prime order dividing c2."""
    factors = (10069, 5864401, 1875725156269, 197620364512881247228717050342013327560683201906968909)
    g = bn254.g2_mul(bn254.G2_GENERATOR, rng.randrange(1, FIELD_R))
    out = [_twist_point(rng)]
    for ell in factors:
        torsion = None
        while torsion is None:
            torsion = bn254.g2_mul(_twist_point(rng), FIELD_R * bn254.G2_COFACTOR // ell)
        out += [torsion, bn254.g2_add(g, torsion)]  # type: ignore[list-item]
    return out


def test_miller_loop_checked_agrees_with_pairing_and_subgroup_test() -> None:
    from zkhealth.hazmat import pairing

    rng = random.Random(5)
    pairs = [
        (
            bn254.g1_mul(bn254.G1_GENERATOR, rng.randrange(1, FIELD_R)),
            bn254.g2_mul(bn254.G2_GENERATOR, rng.randrange(1, FIELD_R)),
        )
        for _ in range(3)
    ]
    prepared = [(bn254.g1_mul(bn254.G1_GENERATOR, 9), pairing.prepare_g2(bn254.g2_mul(bn254.G2_GENERATOR, 4)))]
    f, outside = pairing.miller_loop_checked(pairs, prepared)
    assert outside == []
    reference = pairing.miller_loop([*pairs, *prepared])
    assert pairing.final_exponentiation(f) == pairing.final_exponentiation(reference)
    bad = _cofactor_points(rng)
    mixed = [(pairs[0][0], point) for point in bad] + pairs
    _, outside = pairing.miller_loop_checked(mixed)  # type: ignore[arg-type]
    assert outside == list(range(len(bad)))
    assert all(not bn254.g2_in_subgroup(point) for point in bad)


def test_batch_weights_are_distinct_glv_combinations() -> None:
    """The batch weights z1 + z2 lambda (z1, z2 < 2^64) are 2^128 distinct values: the GLV basis is
    Lagrange-reduced, so its shorter vector is a shortest non-zero lattice vector, and it is longer than
    2^126 > sqrt(2) * 2^64 (the largest difference vector of two weight pairs). Also phi = [lambda] on G1."""
    from zkhealth.groth16 import batch
    from zkhealth.hazmat import msm

    v1 = (msm._GLV_A1, msm._GLV_B1)
    v2 = (msm._GLV_A2, msm._GLV_B2)
    for a, b in (v1, v2):
        assert (a + b * msm.GLV_LAMBDA) % FIELD_R == 0
    assert abs(v1[0] * v2[1] - v1[1] * v2[0]) == FIELD_R  # a basis of the whole lattice
    n1 = v1[0] ** 2 + v1[1] ** 2
    n2 = v2[0] ** 2 + v2[1] ** 2
    short, long_ = (v1, v2) if n1 <= n2 else (v2, v1)
    dot = short[0] * long_[0] + short[1] * long_[1]
    assert 2 * abs(dot) <= min(n1, n2)  # Lagrange (Gauss) reduced
    assert min(n1, n2) > 2 ** (2 * 126) > 2 * (2**64) ** 2
    p = bn254.g1_mul(bn254.G1_GENERATOR, 77)
    assert bn254.g1_mul(p, msm.GLV_LAMBDA) == (msm.GLV_BETA * p[0] % FIELD_Q, p[1])
    halves = [(3, 5), (0, 1), (1, 0), (2**64 - 1, 2**64 - 1)]
    points = [p, bn254.G1_GENERATOR, p, p]
    weights = [(z1 + z2 * msm.GLV_LAMBDA) % FIELD_R for z1, z2 in halves]
    expected = [bn254.g1_mul(pt, z) for pt, z in zip(points, weights, strict=True)]
    assert batch._glv_mul_many(points, halves) == expected
    assert all(z1 or z2 for z1, z2 in (batch._weight_halves() for _ in range(100)))


def test_points_outside_g2_refused_by_verify_and_batch(
    keys: tuple[object, object], statement: tuple[object, ...]
) -> None:
    pk, vk = keys
    _, public, proof = statement
    rng = random.Random(9)
    items = [(public, proof)] * 3
    for point in _cofactor_points(rng)[:3]:
        forged = dataclasses.replace(proof, b=point)  # type: ignore[type-var]
        with pytest.raises(PointNotInSubgroupError):
            verify(vk, public, forged)  # type: ignore[arg-type]
        with pytest.raises(PointNotInSubgroupError):
            batch_verify(vk, [*items, (public, forged), *items])  # type: ignore[arg-type]
        assert find_invalid(vk, [*items, (public, forged)]) == [3]  # type: ignore[arg-type]
    # B outside G2 and C off the curve: verify's order says B's error comes first, in both verifiers
    off_curve_c = (proof.c[0], (proof.c[1] + 1) % FIELD_Q)  # type: ignore[attr-defined]
    forged = dataclasses.replace(proof, b=_twist_point(rng), c=off_curve_c)  # type: ignore[type-var]
    with pytest.raises(PointNotInSubgroupError):
        verify(vk, public, forged)  # type: ignore[arg-type]
    with pytest.raises(PointNotInSubgroupError):
        batch_verify(vk, [*items, (public, forged)])  # type: ignore[arg-type]
    # an earlier item's B outside G2 wins over a later malformed item
    bad_b = dataclasses.replace(proof, b=_twist_point(rng))  # type: ignore[type-var]
    with pytest.raises(PointNotInSubgroupError):
        batch_verify(vk, [(public, bad_b), ([FIELD_R, 0], proof)])  # type: ignore[arg-type]
    with pytest.raises(PublicInputOutOfRangeError):
        batch_verify(vk, [([FIELD_R, 0], bad_b), (public, proof)])  # type: ignore[arg-type]
    # decimal-string coordinates take the full validation path and still verify
    as_strings = dataclasses.replace(  # type: ignore[type-var]
        proof,
        b=tuple(tuple(str(v) for v in c) for c in proof.b),  # type: ignore[attr-defined]
    )
    verify(vk, public, as_strings)  # type: ignore[arg-type]
    batch_verify(vk, [(public, as_strings), *items])  # type: ignore[arg-type]
