// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Bn254} from "./Bn254.sol";
import {Groth16Key} from "./Groth16Key.sol";
import {TrustRoots} from "./TrustRoots.sol";

/// @title CohortEnrollmentState - storage, events, errors and root bookkeeping shared by CohortEnrollment
///        (the runtime) and CohortEnrollmentInit (its creation code); both inherit it, so their storage
///        layouts agree by construction.
/// @notice Public signals of the dedicated (per-trial) eligibility circuit, in order:
///         [nullifier, scope, today, trustRoot, recipient]. The trust root is poseidon([issuer_registry_root,
///         person_registry_root]); it is fresh when current or superseded at most `rootGraceSeconds` ago.
abstract contract CohortEnrollmentState is TrustRoots {
    /// Window (unix seconds, [start, end)), capacity, current count and the root grace period. One slot.
    struct Config {
        uint64 windowStart;
        uint64 windowEnd;
        uint32 capacity;
        uint32 enrolled;
        uint32 rootGraceSeconds;
    }

    /// One slot per nullifier: who enrolled it, on which day, and its status.
    struct Record {
        address recipient;
        uint32 day;
        uint8 status;
    }

    uint8 internal constant NONE = 0;
    uint8 internal constant ENROLLED = 1;
    uint8 internal constant WITHDRAWN = 2;

    Config internal config;
    mapping(uint256 nullifier => Record) internal records;
    /// root => IC0 + scope * IC_scope + root * IC_root (the constant part of the public-input point while this
    /// root is accepted), computed when the root is published. Bit 255 of x is set once the root is superseded.
    mapping(uint256 root => uint256[2]) internal rootBase;

    event Enrolled(uint256 indexed nullifier, address indexed recipient, uint256 day);
    event Withdrawn(uint256 indexed nullifier, address indexed recipient, uint256 day);
    event Reopened(uint256 indexed nullifier);
    event WindowUpdated(uint64 start, uint64 end);
    event CapacityUpdated(uint32 capacity);
    event RootGraceUpdated(uint32 rootGraceSeconds);

    /// windowStart must be before windowEnd.
    error InvalidWindow();
    /// Capacity must be positive and not below the current enrollment count.
    error InvalidCapacity();
    /// Folding a root gave the point at infinity (never happens for honest roots).
    error DegenerateRoot();

    function _setWindow(uint64 start, uint64 end) internal {
        if (start >= end) revert InvalidWindow();
        config.windowStart = start;
        config.windowEnd = end;
        emit WindowUpdated(start, end);
    }

    function _setCapacity(uint32 newCapacity) internal {
        if (newCapacity == 0 || newCapacity < config.enrolled) revert InvalidCapacity();
        config.capacity = newCapacity;
        emit CapacityUpdated(newCapacity);
    }

    function _setRootGrace(uint32 seconds_) internal {
        config.rootGraceSeconds = seconds_;
        emit RootGraceUpdated(seconds_);
    }

    /// (IC0 + scope * IC_scope) + root * IC_root; IC points from wherever the subclass keeps them.
    function _rootBasePoint(uint256 root) internal view returns (uint256 x, uint256 y) {
        (uint256 bx, uint256 by, uint256 ix, uint256 iy) = _foldedIc0AndIcRoot();
        (uint256 rx, uint256 ry) = Groth16Key.mul(ix, iy, root);
        (x, y) = Groth16Key.add(bx, by, rx, ry);
        if (x == 0 && y == 0) revert DegenerateRoot();
    }

    function _foldedIc0AndIcRoot() internal view virtual returns (uint256 bx, uint256 by, uint256 ix, uint256 iy);

    function _afterTrustRootPublished(uint256 root, uint256 previous) internal override {
        (uint256 x, uint256 y) = _rootBasePoint(root);
        rootBase[root] = [x, y];
        if (previous != 0) rootBase[previous][0] |= 1 << 255;
    }
}

/// @title CohortEnrollment - one per trial, for a dedicated circuit: patients enroll once with a Groth16 proof.
/// @notice Deployed through CohortEnrollmentInit, which appends the trial's constants to this runtime code
///         (`TAIL_BYTES`): the verifying key, IC0 with the scope folded in, the IC points of the per-call signals,
///         a fixed-base table for `today`, the scope, the trial id and the key hash. Per published trust root
///         the contract keeps IC0 + scope * IC_scope + root * IC_root, so an enrollment pays ecMul only for the
///         nullifier and the recipient (docs/onchain.md).
contract CohortEnrollment is CohortEnrollmentState {
    /// Public signal `index` is not below r (security.md K1).
    error InputNotInField(uint256 index);
    /// The proof is for another trial, chain or contract (security.md K3).
    error WrongScope();
    /// `today` is not block day - 1 or block day (UTC days, security.md S8).
    error StaleProof();
    /// The proof's recipient is not msg.sender (security.md K4).
    error WrongRecipient();
    /// block.timestamp is outside [windowStart, windowEnd).
    error WindowClosed();
    /// The cohort has reached its capacity.
    error CohortFull();
    /// This nullifier has already enrolled (security.md K1/K2).
    error NullifierUsed();
    /// A proof coordinate is not below q.
    error ProofNotCanonical();
    /// The Groth16 proof does not verify.
    error InvalidProof();
    /// withdraw: this nullifier is not currently enrolled.
    error NotEnrolled();
    /// withdraw: only the address that enrolled the nullifier may withdraw it.
    error NotEnrollee();
    /// reopen: only a withdrawn nullifier can be reopened.
    error NotWithdrawn();

    uint256 internal constant TAIL_BYTES = 0x1220; // 145 words
    uint256 internal constant T_IC0 = 0x1c0; // IC0 + scope * IC_scope
    uint256 internal constant T_IC_NULLIFIER = 0x200;
    uint256 internal constant T_IC_ROOT = 0x240;
    uint256 internal constant T_IC_RECIPIENT = 0x280;
    uint256 internal constant T_TODAY = 0x2c0; // d * 16^w * IC_today at T_TODAY + 64 * (15 w + d - 1)
    uint256 internal constant T_SCOPE = 0x11c0;
    uint256 internal constant T_TRIAL = 0x11e0;
    uint256 internal constant T_KEY_HASH = 0x1200;
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant X_MASK = (1 << 255) - 1;

    constructor() Ownable(msg.sender) {}

    /// Enrolls msg.sender. Checks, in order: every signal < r, scope, trust root known and fresh, `today` in
    /// [block day - 1, block day], recipient == msg.sender, window, capacity, unused nullifier, proof coordinates
    /// < q, the Groth16 proof. Then stores the nullifier and emits Enrolled (a revert undoes everything, K8).
    /// Cost: ~256,000 gas.
    function enroll(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[5] calldata publicSignals
    ) external {
        a;
        b;
        c;
        bool inField;
        assembly ("memory-safe") {
            inField := and(
                and(and(lt(calldataload(260), R), lt(calldataload(292), R)), lt(calldataload(324), R)),
                and(lt(calldataload(356), R), lt(calldataload(388), R))
            )
        }
        if (!inField) _revertNotInField(publicSignals);
        if (publicSignals[1] != _tailWord(T_SCOPE)) revert WrongScope();
        uint256 cfg;
        assembly ("memory-safe") {
            cfg := sload(config.slot)
        }
        uint256 root = publicSignals[3];
        uint256 bx;
        uint256 by;
        assembly ("memory-safe") {
            mstore(0, root)
            mstore(0x20, rootBase.slot)
            let slot := keccak256(0, 0x40)
            bx := sload(slot)
            by := sload(add(slot, 1))
        }
        if (bx == 0 && by == 0) revert UnknownRoot();
        if (bx >> 255 != 0) {
            if (block.timestamp > uint256(_rootStates[root].supersededAt) + uint32(cfg >> 192)) revert StaleRoot();
            bx &= X_MASK;
        }
        uint256 today = publicSignals[2];
        uint256 blockDay = block.timestamp / 86400;
        if (today > blockDay || today + 1 < blockDay) revert StaleProof();
        if (publicSignals[4] != uint256(uint160(msg.sender))) revert WrongRecipient();
        // Config: windowStart (0-63), windowEnd (64-127), capacity (128-159), enrolled (160-191), grace (192-223).
        if (block.timestamp < uint64(cfg) || block.timestamp >= uint64(cfg >> 64)) revert WindowClosed();
        if (uint32(cfg >> 160) >= uint32(cfg >> 128)) revert CohortFull();
        uint256 nullifier = publicSignals[0];
        uint256 recordSlot;
        uint256 record;
        assembly ("memory-safe") {
            mstore(0, nullifier)
            mstore(0x20, records.slot)
            recordSlot := keccak256(0, 0x40)
            record := sload(recordSlot)
        }
        if (uint8(record >> 192) != NONE) revert NullifierUsed();
        if (!Bn254.proofIsCanonical()) revert ProofNotCanonical();
        if (!_verify(bx, by, today)) revert InvalidProof();
        assembly ("memory-safe") {
            sstore(recordSlot, or(caller(), or(shl(160, today), shl(192, ENROLLED))))
            sstore(config.slot, add(cfg, shl(160, 1)))
        }
        emit Enrolled(nullifier, msg.sender, today);
    }

    /// Consent withdrawal by the enrolling address: the seat is freed; the nullifier stays used.
    function withdraw(uint256 nullifier) external {
        Record storage record = records[nullifier];
        if (record.status != ENROLLED) revert NotEnrolled();
        if (record.recipient != msg.sender) revert NotEnrollee();
        record.status = WITHDRAWN;
        config.enrolled -= 1;
        emit Withdrawn(nullifier, msg.sender, block.timestamp / 86400);
    }

    /// Owner: lets a withdrawn nullifier enroll again.
    function reopen(uint256 nullifier) external onlyOwner {
        if (records[nullifier].status != WITHDRAWN) revert NotWithdrawn();
        delete records[nullifier];
        emit Reopened(nullifier);
    }

    /// Groth16 check with vk_x = root base + nullifier*IC1 + today*IC_today + recipient*IC_recipient.
    function _verify(uint256 bx, uint256 by, uint256 today) internal view returns (bool ok) {
        uint256 base;
        uint256 tail;
        assembly ("memory-safe") {
            base := mload(0x40)
            tail := sub(codesize(), TAIL_BYTES)
            let acc := add(base, 0x180)
            let scratch := add(base, 0x1c0)
            mstore(acc, bx)
            mstore(add(acc, 0x20), by)
            codecopy(scratch, add(tail, T_IC_NULLIFIER), 0x40)
            mstore(add(scratch, 0x40), calldataload(260))
            ok := staticcall(gas(), 7, scratch, 0x60, scratch, 0x40)
            ok := and(ok, staticcall(gas(), 6, acc, 0x80, acc, 0x40))
            codecopy(scratch, add(tail, T_IC_RECIPIENT), 0x40)
            mstore(add(scratch, 0x40), calldataload(388))
            ok := and(ok, staticcall(gas(), 7, scratch, 0x60, scratch, 0x40))
            ok := and(ok, staticcall(gas(), 6, acc, 0x80, acc, 0x40))
            switch lt(today, 0x10000)
            case 1 {
                for { let w := 0 } lt(w, 4) { w := add(w, 1) } {
                    let d := and(shr(shl(2, w), today), 15)
                    if d {
                        codecopy(scratch, add(tail, add(T_TODAY, shl(6, add(mul(w, 15), sub(d, 1))))), 0x40)
                        ok := and(ok, staticcall(gas(), 6, acc, 0x80, acc, 0x40))
                    }
                }
            }
            default {
                codecopy(scratch, add(tail, T_TODAY), 0x40)
                mstore(add(scratch, 0x40), today)
                ok := and(ok, staticcall(gas(), 7, scratch, 0x60, scratch, 0x40))
                ok := and(ok, staticcall(gas(), 6, acc, 0x80, acc, 0x40))
            }
        }
        ok = ok && Bn254.pairingCheck(base, tail);
    }

    function _revertNotInField(uint256[5] calldata publicSignals) internal pure {
        for (uint256 i = 0; i < 5; ++i) {
            if (publicSignals[i] >= R) revert InputNotInField(i);
        }
    }

    function _tailWord(uint256 offset) internal pure returns (uint256 word) {
        assembly ("memory-safe") {
            codecopy(0, add(sub(codesize(), TAIL_BYTES), offset), 0x20)
            word := mload(0)
        }
    }

    function _foldedIc0AndIcRoot() internal pure override returns (uint256 bx, uint256 by, uint256 ix, uint256 iy) {
        return (_tailWord(T_IC0), _tailWord(T_IC0 + 0x20), _tailWord(T_IC_ROOT), _tailWord(T_IC_ROOT + 0x20));
    }

    // ------------------------------------------------------------------ owner

    function setWindow(uint64 start, uint64 end) external onlyOwner {
        _setWindow(start, end);
    }

    function setCapacity(uint32 newCapacity) external onlyOwner {
        _setCapacity(newCapacity);
    }

    /// Owner: how long a superseded trust root stays accepted (seconds, 0 allowed).
    function setRootGrace(uint32 seconds_) external onlyOwner {
        _setRootGrace(seconds_);
    }

    // ------------------------------------------------------------------ views

    /// uint256(keccak256(abi.encode(block.chainid, address(this), trialId))) >> 3, fixed at deployment.
    function scope() external pure returns (uint256) {
        return _tailWord(T_SCOPE);
    }

    function trialId() external pure returns (bytes32) {
        return bytes32(_tailWord(T_TRIAL));
    }

    function verifyingKeyHash() external pure returns (bytes32) {
        return bytes32(_tailWord(T_KEY_HASH));
    }

    function window() external view returns (uint64 start, uint64 end) {
        return (config.windowStart, config.windowEnd);
    }

    function capacity() external view returns (uint32) {
        return config.capacity;
    }

    function enrolledCount() external view returns (uint32) {
        return config.enrolled;
    }

    function rootGraceSeconds() external view returns (uint32) {
        return config.rootGraceSeconds;
    }

    /// Status of a nullifier: 0 unused, 1 enrolled, 2 withdrawn; with the enrolling address and day.
    function enrollment(uint256 nullifier) external view returns (uint8 status, address recipient, uint32 day) {
        Record memory record = records[nullifier];
        return (record.status, record.recipient, record.day);
    }
}

/// @title CohortEnrollmentInit - creation code of a CohortEnrollment.
/// @notice Validates the key (5 public signals, every IC non-zero), computes the scope from (chain id, the new
///         contract's address, trial id), folds it into IC0, builds the fixed-base table for `today`, writes the
///         initial state (owner, publishers, window, capacity, grace, the first trust root) and returns
///         CohortEnrollment's runtime code followed by the tail.
contract CohortEnrollmentInit is CohortEnrollmentState {
    struct Params {
        uint256[] key; // 26 words: alpha beta gamma delta IC0..IC5, G2 in EIP-197 order
        bytes32 trialId;
        uint256 trustRoot; // 0: none yet
        uint64 windowStart;
        uint64 windowEnd;
        uint32 capacity;
        uint32 rootGraceSeconds;
        address owner;
        address[] publishers;
    }

    /// The key does not have the dedicated v2 layout (5 public signals).
    error WrongPublicSignalCount();

    uint256 private constant _TAIL_WORDS = 145;

    constructor(Params memory p) Ownable(p.owner) {
        if (Groth16Key.publicSignalCount(p.key) != 5) revert WrongPublicSignalCount();
        Groth16Key.validate(p.key, true);
        uint256 scopeValue = uint256(keccak256(abi.encode(block.chainid, address(this), p.trialId))) >> 3;
        uint256[] memory tail = _buildTail(p.key, scopeValue, p.trialId);
        // The first root's base point needs the folded IC0 and IC_root before the runtime exists.
        _ic0x = tail[14];
        _ic0y = tail[15];
        _icRootX = tail[18];
        _icRootY = tail[19];
        _setWindow(p.windowStart, p.windowEnd);
        _setCapacity(p.capacity);
        _setRootGrace(p.rootGraceSeconds);
        for (uint256 i = 0; i < p.publishers.length; ++i) {
            isPublisher[p.publishers[i]] = true;
            emit PublisherSet(p.publishers[i], true);
        }
        if (p.trustRoot != 0) _publishTrustRoot(p.trustRoot);
        bytes memory code = abi.encodePacked(type(CohortEnrollment).runtimeCode, tail);
        assembly ("memory-safe") {
            return(add(code, 0x20), mload(code))
        }
    }

    uint256 private transient _ic0x;
    uint256 private transient _ic0y;
    uint256 private transient _icRootX;
    uint256 private transient _icRootY;

    function _foldedIc0AndIcRoot() internal view override returns (uint256 bx, uint256 by, uint256 ix, uint256 iy) {
        return (_ic0x, _ic0y, _icRootX, _icRootY);
    }

    /// The 145-word tail (layout: CohortEnrollment's T_* offsets). Cost: 1 ecMul + ~60 ecAdd.
    function _buildTail(uint256[] memory key, uint256 scopeValue, bytes32 trial)
        private
        view
        returns (uint256[] memory tail)
    {
        tail = new uint256[](_TAIL_WORDS);
        for (uint256 i = 0; i < 14; ++i) tail[i] = key[i];
        // IC_k at key word 14 + 2k: IC0, IC1 nullifier, IC2 scope, IC3 today, IC4 trust root, IC5 recipient.
        (uint256 sx, uint256 sy) = Groth16Key.mul(key[18], key[19], scopeValue);
        (tail[14], tail[15]) = Groth16Key.add(key[14], key[15], sx, sy);
        tail[16] = key[16];
        tail[17] = key[17];
        tail[18] = key[22];
        tail[19] = key[23];
        tail[20] = key[24];
        tail[21] = key[25];
        (uint256 bx, uint256 by) = (key[20], key[21]);
        for (uint256 w = 0; w < 4; ++w) {
            uint256 at = 22 + 30 * w;
            tail[at] = bx;
            tail[at + 1] = by;
            for (uint256 d = 2; d <= 15; ++d) {
                uint256 to = at + 2 * (d - 1);
                (tail[to], tail[to + 1]) = Groth16Key.add(tail[to - 2], tail[to - 1], bx, by);
            }
            (bx, by) = Groth16Key.add(tail[at + 28], tail[at + 29], bx, by);
        }
        tail[142] = scopeValue;
        tail[143] = uint256(trial);
        tail[144] = uint256(keccak256(abi.encodePacked(key)));
    }
}
