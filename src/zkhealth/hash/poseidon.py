"""Native Poseidon over BN254's scalar field with circomlib's parameters (the oracle for the gadget).

Poseidon (Grassi, Khovratovich, Rechberger, Roy, Schofnegger; USENIX Security 2021, ePrint 2019/458) with
the instance circomlib / circomlibjs use:

* state width ``t = n_inputs + 1`` for 1..16 inputs, S-box ``x^5``, 8 full rounds (4 before and 4 after the
  partial rounds) and ``N_ROUNDS_P[t - 2]`` partial rounds;
* state layout ``[0 (capacity), inputs...]``, output ``state[0]`` after the permutation;
* each round: add round constants, S-box (all cells in full rounds, cell 0 in partial rounds), multiply by
  the MDS matrix ``M`` (``new[i] = sum_j M[i][j] * state[j]``).

The round constants and the Cauchy MDS matrix are *generated* here, with the Grain LFSR procedure of the
paper's reference script ``generate_parameters_grain.sage`` (field=1 for GF(p), sbox=0 for x^alpha, field
size 254 bits), so no opaque table is shipped. ``tests/test_poseidon.py`` ties them, and the optimised
evaluation, to circomlibjs' outputs.

Evaluation uses the optimisation of the paper's Appendix B: constants of the partial rounds are carried
forward through the linear layer so that a partial round adds one scalar, and the MDS matrix of each
partial round is factored into a sparse matrix (first row and first column plus the identity), so a partial
round costs O(t) field multiplications instead of O(t^2). For each width the evaluation is Python source
generated with the loops over cells unrolled (``_generate_source``), compiled once. Constants and code are
built lazily, once per width, and cached.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from zkhealth._bigint import mpz
from zkhealth.errors import EncodingError, FieldRangeError, FieldTypeError
from zkhealth.field import FIELD_R, Fr

__all__ = [
    "MAX_INPUTS",
    "N_ROUNDS_F",
    "N_ROUNDS_P",
    "PoseidonConstants",
    "poseidon",
    "poseidon_constants",
    "poseidon_permutation",
]

#: Number of full rounds for every width (half before, half after the partial rounds).
N_ROUNDS_F: Final[int] = 8
#: Partial rounds for t = 2..17, as in circomlib (``circuits/poseidon.circom``) and circomlibjs.
N_ROUNDS_P: Final[tuple[int, ...]] = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
#: Largest number of inputs (t = 17).
MAX_INPUTS: Final[int] = len(N_ROUNDS_P)

_P: Final[int] = FIELD_R
_ZERO: Final[Any] = mpz(0)
_FIELD_BITS: Final[int] = 254  # bit length of r; the Grain LFSR samples 254-bit integers
_BIT_CHAR_TO_BYTE: Final[bytes] = bytes.maketrans(b"01", b"\x00\x01")


# --------------------------------------------------------------------------- Grain LFSR (paper, Appendix F)


def _grain_bits(t: int, n_rounds_f: int, n_rounds_p: int) -> Iterator[str]:
    """Yield the self-shrunk Grain LFSR output as '0'/'1' strings, in order (one or more bits per item).

    The 80-bit state starts as: field (2 bits, 1 = prime field), S-box (4 bits, 0 = x^alpha), field size
    (12 bits), t (12 bits), R_F (10 bits), R_P (10 bits), then thirty 1 bits, all most significant first.
    Feedback: b[i+80] = b[i+62] ^ b[i+51] ^ b[i+38] ^ b[i+23] ^ b[i+13] ^ b[i]. The first 160 bits are
    discarded; then bits are taken in pairs and the second bit of a pair is output only when the first is 1.

    Speed: the feedback polynomial is f(x) = x^80 + x^62 + x^51 + x^38 + x^23 + x^13 + 1, and over GF(2)
    f(x)^16 = f(x^16), so the sequence also obeys b[i+1280] = b[i+992] ^ b[i+816] ^ b[i+608] ^ b[i+368] ^
    b[i+208] ^ b[i]. Its smallest tap distance is 288, so after 1280 bits made with f itself (18 bits per
    step, f's smallest tap distance), 288 bits come out of one big-int expression (bit k = b[i+k]).
    """
    header = (
        format(1, "02b")
        + format(0, "04b")
        + format(_FIELD_BITS, "012b")
        + format(t, "012b")
        + format(n_rounds_f, "010b")
        + format(n_rounds_p, "010b")
        + "1" * 30
    )
    state = int(header[::-1], 2)  # bit k = b[i + k]
    mask18 = (1 << 18) - 1
    sequence = header
    while len(sequence) < 1280:
        new = ((state >> 62) ^ (state >> 51) ^ (state >> 38) ^ (state >> 23) ^ (state >> 13) ^ state) & mask18
        state = (state >> 18) | (new << 62)
        sequence += format(new, "018b")[::-1]  # oldest bit first
    window = int(sequence[-1280:][::-1], 2)
    mask288 = (1 << 288) - 1
    pending = sequence[80 + 160 :]  # drop the 80 initial bits and the first 160 outputs
    while True:
        blocks = []
        for _ in range(32):
            new = (
                (window >> 992) ^ (window >> 816) ^ (window >> 608) ^ (window >> 368) ^ (window >> 208) ^ window
            ) & mask288
            window = (window >> 288) | (new << 992)
            blocks.append(format(new, "0288b")[::-1])
        raw = pending + "".join(blocks)
        if len(raw) % 2:
            pending, raw = raw[-1], raw[:-1]
        else:
            pending = ""
        selectors = raw[0::2].encode("ascii").translate(_BIT_CHAR_TO_BYTE)  # b"\x00" / b"\x01" per pair
        yield "".join(itertools.compress(raw[1::2], selectors))


class _GrainSampler:
    """Read n-bit big-endian integers from the Grain output stream."""

    def __init__(self, t: int, n_rounds_f: int, n_rounds_p: int) -> None:
        self._chunks = _grain_bits(t, n_rounds_f, n_rounds_p)
        self._buffer = ""

    def integer(self, n_bits: int) -> int:
        while len(self._buffer) < n_bits:
            self._buffer += next(self._chunks)
        bits, self._buffer = self._buffer[:n_bits], self._buffer[n_bits:]
        return int(bits, 2)

    def field_element_rejecting(self) -> int:
        """A uniform element of GF(p): resample until the 254-bit integer is below p (round constants)."""
        while True:
            value = self.integer(_FIELD_BITS)
            if value < _P:
                return value


def _generate_plain(t: int) -> tuple[list[list[int]], list[list[int]]]:
    """Round constants (per round, t each) and the Cauchy MDS matrix, as the reference script makes them."""
    n_rounds_p = N_ROUNDS_P[t - 2]
    sampler = _GrainSampler(t, N_ROUNDS_F, n_rounds_p)
    flat = [sampler.field_element_rejecting() for _ in range((N_ROUNDS_F + n_rounds_p) * t)]
    round_constants = [flat[r * t : (r + 1) * t] for r in range(N_ROUNDS_F + n_rounds_p)]
    # MDS: 2t field elements (254-bit samples taken mod p), resampled until pairwise distinct; then
    # M[i][j] = 1 / (x_i + y_j), resampling if some x_i + y_j = 0 (Cauchy matrix, paper Section 2.3).
    while True:
        samples = [sampler.integer(_FIELD_BITS) % _P for _ in range(2 * t)]
        if len(set(samples)) != 2 * t:
            continue
        xs, ys = samples[:t], samples[t:]
        if any((x + y) % _P == 0 for x in xs for y in ys):
            continue
        mds = [[pow(x + y, -1, _P) for y in ys] for x in xs]
        return round_constants, mds


# --------------------------------------------------------------------------- optimised constants


def _mat_inverse(matrix: list[list[int]]) -> list[list[int]]:
    """Inverse of a square matrix over GF(p) by Gauss-Jordan elimination. O(n^3)."""
    n = len(matrix)
    aug = [list(row) + [1 if i == j else 0 for j in range(n)] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if aug[r][col] % _P), None)
        if pivot is None:
            raise ArithmeticError("singular matrix in Poseidon constant generation")
        aug[col], aug[pivot] = aug[pivot], aug[col]
        inv = pow(aug[col][col], -1, _P)
        aug[col] = [v * inv % _P for v in aug[col]]
        for r in range(n):
            if r != col and aug[r][col]:
                factor = aug[r][col]
                aug[r] = [(a - factor * b) % _P for a, b in zip(aug[r], aug[col], strict=True)]
    return [row[n:] for row in aug]


def _mat_vec(matrix: Sequence[Sequence[int]], vector: Sequence[int]) -> list[int]:
    return [sum(m * v for m, v in zip(row, vector, strict=True)) % _P for row in matrix]


def _vec_mat(vector: Sequence[int], matrix: Sequence[Sequence[int]]) -> list[int]:
    n = len(matrix[0])
    return [sum(vector[i] * matrix[i][j] for i in range(len(vector))) % _P for j in range(n)]


def _mat_mul(a: Sequence[Sequence[int]], b: Sequence[Sequence[int]]) -> list[list[int]]:
    cols = list(zip(*b, strict=True))
    return [[sum(x * y for x, y in zip(row, col, strict=True)) % _P for col in cols] for row in a]


def _mat_pow(matrix: list[list[int]], exponent: int) -> list[list[int]]:
    """matrix^exponent over GF(p) by square-and-multiply (exponent >= 1)."""
    result: list[list[int]] | None = None
    base = matrix
    while exponent:
        if exponent & 1:
            result = base if result is None else _mat_mul(result, base)
        exponent >>= 1
        if exponent:
            base = _mat_mul(base, base)
    if result is None:
        raise ArithmeticError("matrix power with exponent 0")
    return result


@dataclass(frozen=True)
class PoseidonConstants:
    """Poseidon constants for one state width ``t`` (circomlib parameters).

    Plain form (what the in-circuit gadget uses): ``round_constants[r][i]`` is added to cell ``i`` at the
    start of round ``r``; ``mds[i][j]`` is the MDS matrix, applied as ``new[i] = sum_j mds[i][j] * s[j]``.

    Optimised form (what :func:`poseidon` uses; equivalent, see the module docstring):

    * ``partial_constants[k]``: the scalar added to cell 0 in partial round ``k`` (the other cells' constants
      are carried forward through the linear layer);
    * ``second_half_constants``: the constant vector of the first full round after the partial rounds,
      including the carried constants;
    * ``sparse_rows[k]`` (t entries) and ``sparse_columns[k]`` (t - 1 entries): partial round ``k`` multiplies
      by ``[[row], [column | I]]``, i.e. ``new0 = row . s`` and ``new_j = column[j-1] * s0 + s_j``;
    * ``post_partial_matrix``: the dense (t-1) x (t-1) matrix applied to cells 1..t-1 after the last
      partial round (``M_hat^R_P``, M_hat being the lower-right block of ``mds``).
    """

    t: int
    n_rounds_f: int
    n_rounds_p: int
    round_constants: tuple[tuple[int, ...], ...]
    mds: tuple[tuple[int, ...], ...]
    partial_constants: tuple[int, ...]
    second_half_constants: tuple[int, ...]
    sparse_rows: tuple[tuple[int, ...], ...]
    sparse_columns: tuple[tuple[int, ...], ...]
    post_partial_matrix: tuple[tuple[int, ...], ...]


def _optimise(t: int, round_constants: list[list[int]], mds: list[list[int]]) -> PoseidonConstants:
    n_rounds_p = N_ROUNDS_P[t - 2]
    half_f = N_ROUNDS_F // 2
    # 1. Constant carrying (paper, Appendix B). With T = T' + pending, a partial round
    #    T' -> M . S0(T' + eff0 e0) with eff = c + pending and pending' = M . (0, eff_1..eff_{t-1}).
    pending = [0] * t
    partial_constants: list[int] = []
    for k in range(n_rounds_p):
        eff = [(c + p) % _P for c, p in zip(round_constants[half_f + k], pending, strict=True)]
        partial_constants.append(eff[0])
        pending = _mat_vec(mds, [0, *eff[1:]])
    second_half_constants = [(c + p) % _P for c, p in zip(round_constants[half_f + n_rounds_p], pending, strict=True)]
    # 2. Sparse factorisation. M = [[m00, row^T], [col, M_hat]] = diag(1, M_hat) . [[m00, row^T],
    #    [M_hat^-1 col, I]]. diag(1, A) commutes with the partial S-box and with adding to cell 0, so it is
    #    pushed into the next round: after k rounds the pushed factor is diag(1, M_hat^k), and round k uses
    #    [[m00, row^T M_hat^(k-1)], [M_hat^-k col, I]].
    m00 = mds[0][0]
    row = mds[0][1:]
    col = [mds[i][0] for i in range(1, t)]
    m_hat = [r[1:] for r in mds[1:]]
    m_hat_inv = _mat_inverse(m_hat)
    sparse_rows: list[tuple[int, ...]] = []
    sparse_columns: list[tuple[int, ...]] = []
    row_k = list(row)
    col_k = _mat_vec(m_hat_inv, col)
    for k in range(n_rounds_p):
        sparse_rows.append((m00, *row_k))
        sparse_columns.append(tuple(col_k))
        if k + 1 < n_rounds_p:
            row_k = _vec_mat(row_k, m_hat)
            col_k = _mat_vec(m_hat_inv, col_k)
    power = _mat_pow(m_hat, n_rounds_p)  # the factor diag(1, M_hat^R_P) still pending after the rounds
    return PoseidonConstants(
        t=t,
        n_rounds_f=N_ROUNDS_F,
        n_rounds_p=n_rounds_p,
        round_constants=tuple(tuple(r) for r in round_constants),
        mds=tuple(tuple(r) for r in mds),
        partial_constants=tuple(partial_constants),
        second_half_constants=tuple(second_half_constants),
        sparse_rows=tuple(sparse_rows),
        sparse_columns=tuple(sparse_columns),
        post_partial_matrix=tuple(tuple(r) for r in power),
    )


def poseidon_constants(t: int) -> PoseidonConstants:
    """Return the constants for state width ``t`` (2..17), generating and caching them on first use.

    Raises :class:`EncodingError` if ``t`` is out of range, :class:`FieldTypeError` if it is not an int.
    Cost: about 5 ms (t = 2) to 100 ms (t = 17) for the first call per ``t``, then a dictionary lookup.
    """
    if isinstance(t, bool) or not isinstance(t, int):
        raise FieldTypeError(f"Poseidon width must be an int, got {type(t).__name__}")
    if not 2 <= t <= MAX_INPUTS + 1:
        raise EncodingError(f"Poseidon width t={t} not supported (2..{MAX_INPUTS + 1})")
    return _cached_constants(t)


@functools.cache
def _cached_constants(t: int) -> PoseidonConstants:
    round_constants, mds = _generate_plain(t)
    return _optimise(t, round_constants, mds)


# --------------------------------------------------------------------------- evaluation


def _generate_source(t: int, *, first_only: bool) -> str:
    """Python source of the optimised permutation of width ``t``, with every loop over cells unrolled.

    The function takes the ``t`` cells as arguments and returns cell 0 (``first_only``) or the whole state.
    Constants arrive through module-level tuples of the exec namespace, unpacked into locals once per call
    (local loads are the cheapest variable access in CPython). Inside the partial rounds cells 1..t-1 are
    left unreduced (each round adds less than 2^508, so they stay below 2^516); the product with the
    post-partial matrix reduces them. That saves t - 1 reductions per partial round.
    """
    cells = [f"s{i}" for i in range(t)]
    rest = cells[1:]
    mds_names = [f"m{i}_{j}" for i in range(t) for j in range(t)]
    post_names = [f"q{i}_{j}" for i in range(1, t) for j in range(1, t)]

    def sbox(indent: str) -> list[str]:
        lines = []
        for i, s in enumerate(cells):
            lines += [f"{indent}x = {s} + c{i}", f"{indent}y = x * x % p", f"{indent}{s} = y * y * x % p"]
        return lines

    def mix_row(i: int) -> str:
        return "(" + " + ".join(f"m{i}_{j} * {s}" for j, s in enumerate(cells)) + ") % p"

    mix_all = "        " + ", ".join(cells) + " = " + ", ".join(mix_row(i) for i in range(t))
    round_constants = ", ".join(f"c{i}" for i in range(t))
    post_rows = ", ".join("(" + " + ".join(f"q{i}_{j} * s{j}" for j in range(1, t)) + ") % p" for i in range(1, t))
    lines = [
        f"def permute({', '.join(cells)}):",
        "    p = P",
        f"    ({', '.join(mds_names)},) = MDS",
        f"    ({', '.join(post_names)},) = POST",
        f"    for {round_constants} in FIRST_HALF:",
        *sbox("        "),
        mix_all,
        "    s0 += FIRST_PARTIAL_CONSTANT",
        f"    for k, {', '.join(f'r{j}' for j in rest)}, {', '.join(f'w{j}' for j in rest)} in PARTIAL:",
        "        y = s0 * s0 % p",
        "        x = y * y * s0 % p",
        "        s0 = (m0_0 * x + " + " + ".join(f"r{j} * {j}" for j in rest) + " + k) % p",
        *(f"        {j} += w{j} * x" for j in rest),
        f"    {', '.join(rest)}, = {post_rows},",
        f"    for {round_constants} in SECOND_HALF_BUT_LAST:",
        *sbox("        "),
        mix_all,
        f"    {round_constants}, = LAST",
        *sbox("    "),
    ]
    if first_only:
        lines.append("    return " + mix_row(0))
    else:
        lines.append("    return (" + ", ".join(mix_row(i) for i in range(t)) + ",)")
    return "\n".join(lines) + "\n"


def _compile(t: int, *, first_only: bool) -> Callable[..., Any]:
    consts = poseidon_constants(t)
    half_f = consts.n_rounds_f // 2

    def conv(values: Sequence[int]) -> tuple[Any, ...]:
        return tuple(mpz(v) for v in values)

    second_half = [consts.second_half_constants, *consts.round_constants[half_f + consts.n_rounds_p + 1 :]]
    namespace: dict[str, Any] = {
        "P": mpz(_P),
        "MDS": conv([v for row in consts.mds for v in row]),
        "POST": conv([v for row in consts.post_partial_matrix for v in row]),
        "FIRST_HALF": tuple(conv(r) for r in consts.round_constants[:half_f]),
        # Partial round k adds the constant of round k + 1 while it mixes (0 after the last one).
        "FIRST_PARTIAL_CONSTANT": mpz(consts.partial_constants[0]),
        "PARTIAL": tuple(
            (mpz(c), *conv(row[1:]), *conv(col))
            for c, row, col in zip(
                (*consts.partial_constants[1:], 0), consts.sparse_rows, consts.sparse_columns, strict=True
            )
        ),
        "SECOND_HALF_BUT_LAST": tuple(conv(r) for r in second_half[:-1]),
        "LAST": conv(second_half[-1]),
    }
    source = _generate_source(t, first_only=first_only)
    exec(compile(source, f"<poseidon t={t}>", "exec"), namespace)  # our own generated source, no input
    function: Callable[..., Any] = namespace["permute"]
    return function


@functools.cache
def _hash_function(t: int) -> Callable[..., Any]:
    return _compile(t, first_only=True)


@functools.cache
def _permutation_function(t: int) -> Callable[..., Any]:
    return _compile(t, first_only=False)


def _check_input(value: object, index: int) -> int:
    if isinstance(value, Fr):
        return value.value
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldTypeError(f"Poseidon input {index}: expected int, got {type(value).__name__}")
    if not 0 <= value < _P:
        raise FieldRangeError(f"Poseidon input {index}: value is not in [0, r)")
    return int(value)


def poseidon(inputs: Sequence[int]) -> int:
    """Hash 1..16 field elements with circomlib's Poseidon; equal to circomlibjs ``poseidon(inputs)``.

    Enforces: ``inputs`` is a sequence (not a string or bytes) of 1..16 items, each an ``int`` (not
    ``bool``) or :class:`~zkhealth.field.Fr` in ``[0, r)``; nothing is reduced silently.
    Raises :class:`EncodingError` for a wrong count or a non-sequence, :class:`FieldTypeError` for a wrong
    item type, :class:`FieldRangeError` for an item outside ``[0, r)``.
    Cost: one permutation of width ``len(inputs) + 1``, about 60-100 microseconds for two inputs.
    """
    if isinstance(inputs, (str, bytes, bytearray)) or not isinstance(inputs, Sequence):
        raise EncodingError(f"Poseidon inputs must be a sequence of field elements, got {type(inputs).__name__}")
    n = len(inputs)
    if not 1 <= n <= MAX_INPUTS:
        raise EncodingError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {n}")
    return int(_hash_function(n + 1)(_ZERO, *[mpz(_check_input(v, i)) for i, v in enumerate(inputs)]))


def poseidon_permutation(state: Sequence[int]) -> list[int]:
    """Apply the full Poseidon permutation to a state of width 2..17 and return the whole new state.

    ``poseidon(xs) == poseidon_permutation([0, *xs])[0]``. Enforces the same item checks as
    :func:`poseidon`; raises :class:`EncodingError` for an unsupported width. Cost: one permutation.
    """
    if isinstance(state, (str, bytes, bytearray)) or not isinstance(state, Sequence):
        raise EncodingError(f"Poseidon state must be a sequence of field elements, got {type(state).__name__}")
    t = len(state)
    if not 2 <= t <= MAX_INPUTS + 1:
        raise EncodingError(f"Poseidon width t={t} not supported (2..{MAX_INPUTS + 1})")
    values = [mpz(_check_input(v, i)) for i, v in enumerate(state)]
    return [int(v) for v in _permutation_function(t)(*values)]
