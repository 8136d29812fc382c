"""web3.py plumbing shared by every contract client: providers, transactions, reverts, the verifier, enrollments.

Providers: ``connect("embedded")`` is py-evm through web3's EthereumTesterProvider (no node, no network);
``connect("http://127.0.0.1:8545")`` reaches any JSON-RPC node (anvil, geth, a hosted endpoint). Every
transaction carries an explicit gas limit: ``estimate_gas`` would re-run py-evm's pairing (~0.65 s) many times.

Reverts are decoded from the contracts' custom errors into :class:`zkhealth.errors.ContractRevertError` with
``error_name`` set (``NullifierUsed`` raises :class:`zkhealth.errors.NullifierAlreadyUsedError`).

Enrollments are read back from ``Enrolled``/``Withdrawn`` logs with a confirmation depth
(:class:`EnrollmentWatcher`): an enrollment is ``PENDING`` until its block is deep enough, ``ENROLLED``
after, and ``REORGED`` when a log seen before has left the canonical chain (docs/security.md K7).
"""

from __future__ import annotations

import ast
import enum
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Final, ParamSpec, TypeVar, cast

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.providers.base import BaseProvider

from zkhealth.chain.build import CONTRACTS, load_artifact
from zkhealth.chain.solidity import (
    NOT_FOLDED,
    key_words,
    public_words,
    scalar_from,
    to_calldata,
    verifier_abi,
)
from zkhealth.errors import (
    ChainError,
    ContractRevertError,
    MalformedProofError,
    NullifierAlreadyUsedError,
    RpcAnswerError,
    ZkHealthError,
)
from zkhealth.groth16.keys import Proof, VerifyingKey

#: Gas limits passed explicitly (never estimated).
VERIFY_GAS: Final[int] = 1_000_000
DEPLOY_VERIFIER_GAS: Final[int] = 4_000_000
ADMIN_GAS: Final[int] = 400_000
#: Default confirmation depth before an enrollment counts as final (about 2.5 minutes on Ethereum).
DEFAULT_CONFIRMATIONS: Final[int] = 12


# --------------------------------------------------------------------------- errors


#: Every shipped artifact whose custom errors :func:`decode_revert` names.
SHIPPED_CONTRACTS: Final[tuple[str, ...]] = tuple(
    name for names in CONTRACTS.values() for name in names
)


@cache
def _error_table() -> dict[bytes, tuple[str, tuple[str, ...]]]:
    """selector -> (error name, argument types), from every shipped artifact's ABI."""
    table: dict[bytes, tuple[str, tuple[str, ...]]] = {}
    for name in SHIPPED_CONTRACTS:
        for item in load_artifact(name)["abi"]:
            if item.get("type") != "error":
                continue
            types = tuple(str(arg["type"]) for arg in item.get("inputs", []))
            signature = f"{item['name']}({','.join(types)})"
            table[bytes(keccak(text=signature))[:4]] = (str(item["name"]), types)
    return table


def decode_revert(data: bytes | str | None) -> ContractRevertError:
    """Turn revert data into a typed exception (not raised). Known custom errors give ``error_name`` (and
    ``NullifierUsed`` gives :class:`NullifierAlreadyUsedError`); anything else gives ``error_name=None``."""
    if isinstance(data, str):
        text = data[2:] if data.startswith("0x") else data
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = b""
    else:
        raw = data or b""
    entry = _error_table().get(raw[:4]) if len(raw) >= 4 else None
    if entry is None:
        return ContractRevertError(f"transaction reverted (data 0x{raw.hex()[:200]})", error_name=None)
    name, types = entry
    args: tuple[Any, ...] = ()
    if types:
        from eth_abi.abi import decode

        try:
            args = tuple(decode(list(types), raw[4:]))
        except Exception:  # noqa: BLE001 - malformed revert data: keep the name, drop the arguments
            args = ()
    shown = f"{name}({', '.join(str(a) for a in args)})"
    if name == "NullifierUsed":
        return NullifierAlreadyUsedError(
            f"reverted with {shown}: this patient is already enrolled in this trial", error_name=name
        )
    return ContractRevertError(f"reverted with {shown}", error_name=name)


def _revert_failures() -> tuple[type[BaseException], ...]:
    """Exception classes that mean "the EVM reverted": web3's, and eth-tester's (embedded provider)."""
    try:
        from eth_tester.exceptions import TransactionFailed
    except ImportError:  # eth-tester is optional: RPC-only installs lack it
        return (ContractLogicError,)
    return (ContractLogicError, TransactionFailed)


REVERTED: Final[tuple[type[BaseException], ...]] = _revert_failures()


def _revert_data(exc: BaseException) -> bytes | str | None:
    """The revert data carried by web3's ContractLogicError or, on py-evm, eth-tester's TransactionFailed
    (whose first argument, or its cause's, holds the raw bytes)."""
    if isinstance(exc, ContractLogicError):
        data = exc.data
        if isinstance(data, Mapping):
            data = data.get("data")
        return data
    chain: list[BaseException | None] = [exc, exc.__cause__, exc.__context__]
    for item in chain:
        if item is None or not item.args:
            continue
        first = item.args[0]
        if isinstance(first, bytes):
            return first
        if isinstance(first, str):
            # eth-tester formats the raw bytes with repr(): "execution reverted: b'...'"
            at = max(first.find("b'"), first.find('b"'))
            if at >= 0:
                try:
                    value = ast.literal_eval(first[at:])
                except (ValueError, SyntaxError):
                    continue
                if isinstance(value, bytes):
                    return value
    return None


# --------------------------------------------------------------------------- providers


def _fast_pairing_vm() -> type[Any]:
    """A PragueVM whose ecPairing precompile (0x08) runs zkhealth.hazmat.pairing instead of py_ecc.

    Same input validation as EIP-197 (length multiple of 192, coordinates < q, G1 on curve, G2 on the twist
    and in the r-torsion, (0, 0) as infinity) and the same gas (EIP-1108: 45,000 + 34,000 per pair), so
    results and gas match; only the wall time drops from ~0.65 s to ~40 ms per 4-pair call."""
    from eth._utils.address import force_bytes_to_address
    from eth._utils.padding import pad32
    from eth.exceptions import VMError
    from eth.vm.forks.prague import PragueVM
    from eth.vm.forks.prague.computation import PRAGUE_PRECOMPILES, PragueComputation
    from eth.vm.forks.prague.state import PragueState

    from zkhealth.field import FIELD_Q
    from zkhealth.hazmat.bn254 import g1_is_on_curve, g2_in_subgroup, g2_is_on_curve
    from zkhealth.hazmat.pairing import pairing_product_is_one

    def ecpairing(computation: Any) -> Any:
        data = bytes(computation.msg.data)
        if len(data) % 192:
            raise VMError("Invalid ECPAIRING parameters")
        computation.consume_gas(45_000 + 34_000 * (len(data) // 192), reason="ECPAIRING Precompile")
        pairs: list[Any] = []
        for start in range(0, len(data), 192):
            words = [int.from_bytes(data[start + 32 * i : start + 32 * i + 32], "big") for i in range(6)]
            if any(w >= FIELD_Q for w in words):
                raise VMError("Invalid ECPAIRING parameters")
            x1, y1, x_im, x_re, y_im, y_re = words
            p1 = None if (x1, y1) == (0, 0) else (x1, y1)
            if p1 is not None and not g1_is_on_curve(p1):
                raise VMError("Invalid ECPAIRING parameters")
            p2 = None if (x_im, x_re, y_im, y_re) == (0, 0, 0, 0) else ((x_re, x_im), (y_re, y_im))
            if p2 is not None and not (g2_is_on_curve(p2) and g2_in_subgroup(p2)):
                raise VMError("Invalid ECPAIRING parameters")
            pairs.append((p1, p2))
        computation.output = pad32(b"\x01" if pairing_product_is_one(pairs) else b"\x00")
        return computation

    precompiles = dict(PRAGUE_PRECOMPILES)
    precompiles[force_bytes_to_address(b"\x08")] = ecpairing
    computation = type("FastPairingComputation", (PragueComputation,), {"_precompiles": precompiles})
    state = type("FastPairingState", (PragueState,), {"computation_class": computation})
    return type("FastPairingPragueVM", (PragueVM,), {"_state_class": state})


def embedded_provider(*, fast_pairing: bool = False) -> BaseProvider:
    """A fresh in-process py-evm chain (EthereumTesterProvider, Prague rules, ten funded accounts).

    ``fast_pairing=True`` swaps py-evm's ecPairing implementation for zkhealth's (see :func:`_fast_pairing_vm`):
    identical results and gas, ~15 times faster; use the default for an independent EVM."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider

    if fast_pairing:
        backend = PyEVMBackend(vm_configuration=((0, _fast_pairing_vm()),))
    else:
        backend = PyEVMBackend()
    return cast(BaseProvider, EthereumTesterProvider(EthereumTester(backend)))


def connect(provider: str | BaseProvider = "embedded", *, timeout: float = 30.0) -> Web3:
    """A Web3 for ``"embedded"`` (py-evm), an ``http(s)://`` RPC URL, or a provider object.

    Sets ``default_account`` to the node's first account when it has one. Raises :class:`ChainError` when
    the node does not answer. Cost: one RPC round trip."""
    if isinstance(provider, BaseProvider):
        w3 = Web3(provider)
    elif provider == "embedded":
        w3 = Web3(embedded_provider())
    elif isinstance(provider, str) and provider.startswith(("http://", "https://")):
        w3 = Web3(Web3.HTTPProvider(provider, request_kwargs={"timeout": timeout}))
    else:
        raise ChainError("provider must be 'embedded', an http(s):// RPC URL or a web3 provider")
    try:
        accounts = w3.eth.accounts
    except Exception as exc:  # noqa: BLE001 - any transport failure means "no node here"
        raise ChainError(f"cannot reach the node: {exc}") from exc
    if accounts:
        w3.eth.default_account = accounts[0]
    return w3


def use_private_key(w3: Web3, private_key: str) -> str:
    """Sign ``w3``'s transactions locally with ``private_key`` (``0x`` optional + 64 hex digits) and make its
    address the default account; returns the address. Raises :class:`ChainError` for a malformed key."""
    import re

    from eth_account import Account
    from web3.middleware import SignAndSendRawMiddlewareBuilder

    if not re.fullmatch(r"(0x)?[0-9a-fA-F]{64}", private_key):
        raise ChainError("a private key is 32 bytes of hex")
    account = Account.from_key(private_key)
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
    w3.eth.default_account = account.address
    return str(account.address)


# --------------------------------------------------------------------------- transactions


def sender_address(w3: Web3, sender: str | None) -> str:
    """``sender`` checksummed, or the node's default account (:class:`ChainError` when there is none)."""
    return _sender(w3, sender)


def _sender(w3: Web3, sender: str | None) -> str:
    if sender is not None:
        return to_checksum_address(sender)
    default = w3.eth.default_account
    if not default:
        raise ChainError("no sender given and the node has no default account")
    return to_checksum_address(str(default))


def _send(w3: Web3, tx: dict[str, Any]) -> Any:
    """Send a transaction with its explicit gas; wait for the receipt; decode a revert. Cost: one execution
    (plus one eth_call replay when a node mines a reverted transaction)."""
    try:
        tx_hash = w3.eth.send_transaction(cast(Any, tx))
    except REVERTED as exc:
        raise decode_revert(_revert_data(exc)) from exc
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=600)
    if receipt["status"] != 1:
        replay = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")}
        try:
            # Replayed on the mined block: its timestamp is the one the transaction saw (a refusal that
            # depends on time, such as StaleRoot, reproduces), and a reverted transaction changed no state.
            w3.eth.call(cast(Any, replay), receipt["blockNumber"])
        except REVERTED as exc:
            raise decode_revert(_revert_data(exc)) from exc
        raise ContractRevertError("transaction reverted (out of gas or no revert data)", error_name=None)
    return receipt


_P = ParamSpec("_P")
_R = TypeVar("_R")


def rpc_boundary(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Make ``function`` (a client method that talks to a node) fail only with the library's errors: a
    revert becomes :class:`ContractRevertError` (decoded), a node that cannot be reached :class:`ChainError`,
    and anything else web3 raises on an answer it cannot read (undecodable call results, malformed logs)
    :class:`RpcAnswerError`. Library errors pass through unchanged."""

    @functools.wraps(function)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except ZkHealthError:
            raise
        except REVERTED as exc:
            raise decode_revert(_revert_data(exc)) from exc
        except (ConnectionError, TimeoutError) as exc:
            raise ChainError(f"{function.__name__}: the node does not answer ({exc})"[:300]) from exc
        except Exception as exc:  # noqa: BLE001 - web3 raises many unrelated classes for one bad answer
            if type(exc).__module__.startswith(("requests", "urllib3", "aiohttp")):
                raise ChainError(f"{function.__name__}: the node does not answer ({exc})"[:300]) from exc
            raise RpcAnswerError(
                f"{function.__name__}: the node's answer is unusable ({type(exc).__name__}: {exc})"[:300]
            ) from exc

    return guarded


def guard_rpc_methods(cls: type[_R]) -> type[_R]:
    """Apply :func:`rpc_boundary` to every public method of a client class."""
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(value):
            setattr(cls, name, rpc_boundary(value))
    return cls


@rpc_boundary
def transact(w3: Web3, call: Any, *, sender: str | None = None, gas: int = ADMIN_GAS) -> Any:
    """Send a contract function call (``contract.functions.f(...)``) as a transaction with an explicit gas
    limit; return the receipt or raise the decoded :class:`ContractRevertError`."""
    tx = call.build_transaction({"from": _sender(w3, sender), "gas": gas})
    return _send(w3, dict(tx))


def simulate(w3: Web3, call: Any, *, sender: str | None = None, gas: int = ADMIN_GAS) -> None:
    """Run a contract function call with ``eth_call`` (no transaction, no gas spent) and raise the decoded
    :class:`ContractRevertError` if it would revert. Cost: one execution on the node."""
    tx = {"from": _sender(w3, sender), "gas": gas}
    try:
        call.call(cast(Any, tx))
    except REVERTED as exc:
        raise decode_revert(_revert_data(exc)) from exc


def transact_checked(w3: Web3, call: Any, *, sender: str | None = None, gas: int = ADMIN_GAS) -> Any:
    """:func:`simulate`, then :func:`transact`: a call that would revert raises its decoded custom error
    without sending anything. The transaction is mined in a later block than the one simulated, so a refusal
    that depends on time or on another transaction can still come from the chain (then decoded the same way).
    Cost: two executions."""
    simulate(w3, call, sender=sender, gas=gas)
    return transact(w3, call, sender=sender, gas=gas)


def _transact(w3: Web3, call: Any, sender: str | None, gas: int) -> Any:
    return transact(w3, call, sender=sender, gas=gas)


def _deploy_receipt(w3: Web3, artifact: str, args: Sequence[Any], sender: str | None, gas: int) -> Any:
    """Deploy an artifact; the receipt of the deployment (``contractAddress`` checked to be set)."""
    data = load_artifact(artifact)
    factory = w3.eth.contract(abi=data["abi"], bytecode=data["bytecode"])
    tx = factory.constructor(*args).build_transaction({"from": _sender(w3, sender), "gas": gas})
    receipt = _send(w3, dict(tx))
    if not receipt["contractAddress"]:
        raise ChainError(f"deploying {artifact} returned no contract address")
    return receipt


def deploy_receipt(w3: Web3, artifact: str, args: Sequence[Any], sender: str | None, gas: int) -> Any:
    """Deploy a shipped artifact with constructor ``args`` and an explicit gas limit; the deployment's receipt
    (its ``contractAddress`` checked to be set). A revert raises the decoded custom error."""
    return _deploy_receipt(w3, artifact, args, sender, gas)


def _deploy(w3: Web3, artifact: str, args: Sequence[Any], sender: str | None, gas: int) -> ChecksumAddress:
    return to_checksum_address(_deploy_receipt(w3, artifact, args, sender, gas)["contractAddress"])


# --------------------------------------------------------------------------- verifier


@rpc_boundary
def deploy_verifier(
    w3: Web3,
    vk: VerifyingKey,
    *,
    fold: tuple[int, int] | None = None,
    sender: str | None = None,
    gas: int = DEPLOY_VERIFIER_GAS,
) -> Contract:
    """Install a Groth16Verifier for ``vk``. No compiler is involved.

    ``fold=(index, value)`` folds public signal ``index``, fixed for this deployment, into IC0: the verifier
    then takes the other signals only and saves one ecMul + ecAdd (~6,300 gas) per call. The EVM validates
    the key (curve, subgroup, gamma != delta, delta != G2 generator). Returns the contract with the ABI of
    :func:`~zkhealth.chain.solidity.verifier_abi`. Cost: ~0.6 MGas + 200 gas per byte of key."""
    words = key_words(vk)
    n_public = (len(words) - 16) // 2
    if fold is None:
        index, value = NOT_FOLDED, 0
    else:
        index, value = fold
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n_public:
            raise MalformedProofError("fold index out of range")
        value = scalar_from(value, "folded value")
        n_public -= 1
    address = _deploy(w3, "Groth16VerifierInit", (words, index, value), sender, gas)
    return w3.eth.contract(address=address, abi=cast(Any, verifier_abi(n_public) + _errors_abi("Groth16Verifier")))


def _errors_abi(name: str) -> list[dict[str, Any]]:
    return [item for item in load_artifact(name)["abi"] if item.get("type") == "error"]


@rpc_boundary
def verify_on_chain(verifier: Contract, proof: Proof, public_signals: Sequence[int]) -> bool:
    """Call ``verifyProof`` (eth_call, explicit gas). True or False; a revert (signal >= r, coordinate >= q)
    raises :class:`ContractRevertError` with the custom error's name. Cost: one pairing on the node."""
    a, b, c = to_calldata(proof)
    try:
        return bool(verifier.functions.verifyProof(a, b, c, public_words(public_signals)).call({"gas": VERIFY_GAS}))
    except REVERTED as exc:
        raise decode_revert(_revert_data(exc)) from exc


@rpc_boundary
def verify_proof_gas(w3: Web3, verifier: Contract, proof: Proof, public_signals: Sequence[int]) -> int:
    """Gas used by ``verifyProof`` sent as a transaction (what a benchmark compares). Cost: one pairing."""
    a, b, c = to_calldata(proof)
    call = verifier.functions.verifyProof(a, b, c, public_words(public_signals))
    return int(_transact(w3, call, None, VERIFY_GAS)["gasUsed"])


# --------------------------------------------------------------------------- enrollment helpers


def recipient_address(recipient: int) -> ChecksumAddress:
    """The address a proof's ``recipient`` signal names (the 160-bit address as an integer).
    Raises :class:`MalformedProofError` for a value that is not a 160-bit integer."""
    if isinstance(recipient, bool) or not isinstance(recipient, int) or not 0 <= recipient < 2**160:
        raise MalformedProofError("the recipient signal is not a 160-bit address")
    return to_checksum_address("0x" + recipient.to_bytes(20, "big").hex())


def call_or_raise(fn: Callable[[], Any]) -> Any:
    """Run a contract ``.call()`` thunk and turn a revert into a typed exception."""
    try:
        return fn()
    except REVERTED as exc:
        raise decode_revert(_revert_data(exc)) from exc


# --------------------------------------------------------------------------- events and confirmations


class EnrollmentStatus(enum.Enum):
    """Lifecycle of an enrollment as seen from logs."""

    PENDING = "pending"  # the log exists but is not yet deep enough (or a withdrawal is not)
    ENROLLED = "enrolled"  # the Enrolled log has the required confirmations
    WITHDRAWN = "withdrawn"  # a confirmed Withdrawn log follows the enrollment
    REORGED = "reorged"  # a log seen earlier is no longer in the canonical chain


@dataclass(frozen=True)
class EnrollmentRecord:
    """One enrollment of one nullifier, with where its log sits and how deep it is."""

    nullifier: int
    recipient: str
    day: int
    block_number: int
    block_hash: bytes
    transaction_hash: bytes
    log_index: int
    confirmations: int
    status: EnrollmentStatus


_ENROLLED_TOPIC: Final[bytes] = bytes(keccak(text="Enrolled(uint256,address,uint256)"))
_WITHDRAWN_TOPIC: Final[bytes] = bytes(keccak(text="Withdrawn(uint256,address,uint256)"))


def _ask(method: str, call: Callable[[], Any]) -> Any:
    """Ask the node; any failure of the transport or of web3's decoding of the answer is a :class:`ChainError`
    (:class:`RpcAnswerError` for an answer web3 could not read)."""
    try:
        return call()
    except ChainError:
        raise
    except Exception as exc:  # noqa: BLE001 - web3 raises many unrelated classes for one bad answer
        raise RpcAnswerError(f"{method}: the node's answer is unusable ({type(exc).__name__}: {exc})"[:300]) from None


_MISSING: Final[object] = object()


def _field(answer: Any, name: str, where: str, *, default: Any = _MISSING) -> Any:
    """``answer[name]`` of a mapping the node returned (:class:`RpcAnswerError` when absent)."""
    if not isinstance(answer, Mapping):
        raise RpcAnswerError(f"{where}: the node's answer is not an object")
    if name not in answer:
        if default is not _MISSING:
            return default
        raise RpcAnswerError(f"{where}: {name} is missing")
    return answer[name]


def _hex_bytes(value: Any, where: str) -> bytes:
    """Bytes, or ``0x`` hex text, from the node."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and len(value) <= 1 << 20:
        text = value[2:] if value.startswith("0x") else value
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    raise RpcAnswerError(f"{where}: expected bytes as hex text")


def _word(value: Any, where: str) -> bytes:
    data = _hex_bytes(value, where)
    if len(data) != 32:
        raise RpcAnswerError(f"{where}: expected 32 bytes, got {len(data)}")
    return data


def _block_number(value: Any, where: str) -> int:
    """A non-negative number from the node (an int, or ``0x`` hex text), at most 2^64."""
    if isinstance(value, str) and value.startswith("0x") and 2 < len(value) <= 18:
        try:
            value = int(value, 16)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
        raise RpcAnswerError(f"{where}: expected a non-negative number")
    return value


@guard_rpc_methods
class EnrollmentWatcher:
    """Follows one CohortEnrollment's logs and reports each enrollment's status.

    ``confirmations`` is the depth (1 = in the latest block) at which an enrollment is ``ENROLLED``; the
    string ``"finalized"`` uses the node's finalized block instead. The default is never ``latest`` alone
    (docs/security.md K7). A log that was seen by an earlier :meth:`poll` and is gone (or whose block hash
    changed) is reported ``REORGED``. Cost per poll: one eth_getLogs plus one eth_getBlock."""

    def __init__(
        self,
        w3: Web3,
        address: str,
        *,
        from_block: int = 0,
        confirmations: int | str = DEFAULT_CONFIRMATIONS,
    ) -> None:
        if confirmations != "finalized" and (
            isinstance(confirmations, bool) or not isinstance(confirmations, int) or confirmations < 1
        ):
            raise ChainError("confirmations must be a positive int or 'finalized'")
        self._w3 = w3
        self._address = to_checksum_address(address)
        self._from_block = from_block
        self._confirmations = confirmations
        self._seen: dict[tuple[bytes, int], EnrollmentRecord] = {}
        self._reorged: dict[tuple[bytes, int], EnrollmentRecord] = {}

    def _logs(self) -> list[Any]:
        topics = ["0x" + _ENROLLED_TOPIC.hex(), "0x" + _WITHDRAWN_TOPIC.hex()]
        query: Any = {"address": self._address, "fromBlock": self._from_block, "toBlock": "latest", "topics": [topics]}
        logs = _ask("eth_getLogs", lambda: self._w3.eth.get_logs(query))
        if not isinstance(logs, list | tuple):
            raise RpcAnswerError("eth_getLogs: the node's answer is not a list of logs")
        return list(logs)

    def _final_block(self, latest: int) -> int:
        if self._confirmations == "finalized":
            block = _ask("eth_getBlockByNumber", lambda: self._w3.eth.get_block("finalized"))
            return _block_number(_field(block, "number", "the finalized block"), "the finalized block")
        return latest - int(self._confirmations) + 1

    def poll(self) -> list[EnrollmentRecord]:
        """Current status of every enrollment seen so far, in log order (reorged ones last).

        Every answer of the node is checked before it is used (:class:`RpcAnswerError` otherwise): a log has
        its three topics of 32 bytes, 32 bytes of data, hashes of 32 bytes and non-negative numbers."""
        latest = _block_number(_ask("eth_blockNumber", lambda: self._w3.eth.block_number), "eth_blockNumber")
        final = self._final_block(latest)
        records: dict[int, EnrollmentRecord] = {}
        current: dict[tuple[bytes, int], EnrollmentRecord] = {}
        for position, log in enumerate(self._logs()):
            where = f"eth_getLogs[{position}]"
            if _field(log, "removed", where, default=False):
                continue
            topics = _field(log, "topics", where)
            if not isinstance(topics, list | tuple) or len(topics) != 3:
                raise RpcAnswerError(f"{where}: expected 3 topics")
            topics = [_word(topic, f"{where}.topics") for topic in topics]
            data = _hex_bytes(_field(log, "data", where), f"{where}.data")
            if len(data) != 32:
                raise RpcAnswerError(f"{where}: expected 32 bytes of data")
            nullifier = int.from_bytes(topics[1], "big")
            if topics[2][:12] != bytes(12):
                raise RpcAnswerError(f"{where}: the recipient topic is not an address")
            recipient = to_checksum_address(topics[2][-20:])
            day = int.from_bytes(data, "big")
            block_number = _block_number(_field(log, "blockNumber", where), f"{where}.blockNumber")
            key = (_word(_field(log, "transactionHash", where), f"{where}.transactionHash"),
                   _block_number(_field(log, "logIndex", where), f"{where}.logIndex"))
            block_hash = _word(_field(log, "blockHash", where), f"{where}.blockHash")
            confirmed = block_number <= final
            depth = max(0, latest - block_number + 1)
            if topics[0] == _ENROLLED_TOPIC:
                record = EnrollmentRecord(
                    nullifier=nullifier,
                    recipient=recipient,
                    day=day,
                    block_number=block_number,
                    block_hash=block_hash,
                    transaction_hash=key[0],
                    log_index=key[1],
                    confirmations=depth,
                    status=EnrollmentStatus.ENROLLED if confirmed else EnrollmentStatus.PENDING,
                )
                records[nullifier] = record
                current[key] = record
            elif topics[0] != _WITHDRAWN_TOPIC:
                raise RpcAnswerError(f"{where}: a log of another event than the ones asked for")
            elif nullifier in records:
                enrolled = records[nullifier]
                status = EnrollmentStatus.WITHDRAWN if confirmed else EnrollmentStatus.PENDING
                records[nullifier] = replace(enrolled, status=status)
                current[key] = records[nullifier]
        for key, record in self._seen.items():
            if key not in current:
                self._reorged[key] = replace(record, status=EnrollmentStatus.REORGED, confirmations=0)
        for key in current:
            self._reorged.pop(key, None)
        self._seen = current
        return list(records.values()) + list(self._reorged.values())


@rpc_boundary
def enrollments(
    w3: Web3,
    address: str,
    *,
    from_block: int = 0,
    confirmations: int | str = DEFAULT_CONFIRMATIONS,
) -> list[EnrollmentRecord]:
    """One-shot listing of enrollments from logs (see :class:`EnrollmentWatcher`; a single poll cannot see a
    reorg, keep a watcher for that)."""
    return EnrollmentWatcher(w3, address, from_block=from_block, confirmations=confirmations).poll()
