// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Bn254} from "./Bn254.sol";
import {Groth16Key} from "./Groth16Key.sol";

/// @title CohortEnrollmentState - storage, events, errors and root bookkeeping shared by CohortEnrollment
///        (the runtime) and CohortEnrollmentInit (its creation code). Both inherit it, so their storage
///        layouts are the same by construction.
/// @notice Public signals of the standard eligibility circuit, in order (design.md §5):
///         [nullifier, scope, today, trustedIssuerRoot, revocationRoot, recipient].
abstract contract CohortEnrollmentState {
    /// Window (unix seconds, [start, end)), capacity, current enrollment count and the number of root
    /// epochs ever registered. One slot: enroll reads and writes it once.
    struct Config {
        uint64 windowStart;
        uint64 windowEnd;
        uint32 capacity;
        uint32 enrolled;
        uint32 epochCount;
    }

    /// One slot per nullifier: who enrolled it, on which day, and its status.
    struct Record {
        address recipient;
        uint32 day;
        uint8 status;
    }

    /// A root epoch: the (trusted-issuer root, revocation root) pair current after an owner update.
    struct Epoch {
        uint256 issuerRoot;
        uint256 revocationRoot;
    }

    uint8 internal constant NONE = 0;
    uint8 internal constant ENROLLED = 1;
    uint8 internal constant WITHDRAWN = 2;

    /// How many recent root epochs are accepted. A proof made against the roots current at any of the last
    /// ROOT_HISTORY owner updates verifies; older ones are evicted.
    uint256 public constant ROOT_HISTORY = 8;

    address public owner;
    address public pendingOwner;
    Config internal config;
    mapping(uint256 nullifier => Record) internal records;
    /// keccak256(issuerRoot, revocationRoot) => IC0 + scope*IC2 + issuerRoot*IC4 + revocationRoot*IC5: the
    /// constant part of the Groth16 public-input point for this epoch, computed once when the owner registers
    /// it. (0, 0) means unknown or evicted.
    mapping(bytes32 pairKey => uint256[2]) internal epochBase;
    Epoch[ROOT_HISTORY] internal epochs;

    event Enrolled(uint256 indexed nullifier, address indexed recipient, uint256 day);
    event Withdrawn(uint256 indexed nullifier, address indexed recipient, uint256 day);
    event Reopened(uint256 indexed nullifier);
    event RootsUpdated(uint256 indexed epoch, uint256 issuerRoot, uint256 revocationRoot);
    event WindowUpdated(uint64 start, uint64 end);
    event CapacityUpdated(uint32 capacity);
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// Caller is not the owner.
    error NotOwner();
    /// Caller is not the pending owner.
    error NotPendingOwner();
    /// The owner may not be the zero address.
    error ZeroOwner();
    /// windowStart must be before windowEnd.
    error InvalidWindow();
    /// Capacity must be positive and not below the current enrollment count.
    error InvalidCapacity();
    /// A root is not below r: no proof could ever use it.
    error RootNotInField();
    /// Folding these roots gave the point at infinity (never happens for honest roots).
    error DegenerateRoots();

    /// The constant part of the public-input point for (issuerRoot, revocationRoot), from IC0 with the scope
    /// already folded. Cost: 2 ecMul + 2 ecAdd, ~13,000 gas.
    function _epochBasePoint(
        uint256[8] memory ic, // IC0folded(2) IC4(2) IC5(2) unused(2)
        uint256 issuerRoot,
        uint256 revocationRoot
    ) internal view returns (uint256 x, uint256 y) {
        (uint256 ix, uint256 iy) = Groth16Key.mul(ic[2], ic[3], issuerRoot);
        (uint256 rx, uint256 ry) = Groth16Key.mul(ic[4], ic[5], revocationRoot);
        (x, y) = Groth16Key.add(ic[0], ic[1], ix, iy);
        (x, y) = Groth16Key.add(x, y, rx, ry);
        if (x == 0 && y == 0) revert DegenerateRoots();
    }

    function _pairKey(uint256 issuerRoot, uint256 revocationRoot) internal pure returns (bytes32 key) {
        assembly ("memory-safe") {
            mstore(0, issuerRoot)
            mstore(0x20, revocationRoot)
            key := keccak256(0, 0x40)
        }
    }

    /// Registers a new epoch in the ring buffer, evicting the oldest when full (its base point is deleted
    /// unless another live epoch holds the same pair). Cost: ~70,000 gas (new slots), owner-paid.
    function _pushEpoch(uint256 issuerRoot, uint256 revocationRoot, uint256 x, uint256 y) internal {
        Config memory cfg = config;
        uint256 slot = cfg.epochCount % ROOT_HISTORY;
        if (cfg.epochCount >= ROOT_HISTORY) {
            Epoch memory old = epochs[slot];
            bool stillLive = false;
            for (uint256 i = 0; i < ROOT_HISTORY; ++i) {
                if (i != slot && epochs[i].issuerRoot == old.issuerRoot
                    && epochs[i].revocationRoot == old.revocationRoot) {
                    stillLive = true;
                    break;
                }
            }
            if (!stillLive) delete epochBase[_pairKey(old.issuerRoot, old.revocationRoot)];
        }
        epochs[slot] = Epoch(issuerRoot, revocationRoot);
        epochBase[_pairKey(issuerRoot, revocationRoot)] = [x, y];
        config.epochCount = cfg.epochCount + 1;
        emit RootsUpdated(cfg.epochCount, issuerRoot, revocationRoot);
    }

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
}

/// @title CohortEnrollment - one per trial: patients enroll once with a Groth16 eligibility proof.
/// @notice Deployed through CohortEnrollmentInit, which appends the trial's constants to this runtime code
///         (see `TAIL_BYTES`): the verifying key, the scope-folded IC0, the IC points of the per-call
///         signals, a fixed-base table for `today`, the scope, the trial id and the key hash.
///
///         The Groth16 verifier is embedded rather than called: the contract precomputes, per root epoch,
///         IC0 + scope*IC2 + issuerRoot*IC4 + revocationRoot*IC5, so an enrollment pays ecMul only for the
///         nullifier and the recipient, and four ecAdds at most for `today` (docs/onchain.md).
contract CohortEnrollment is CohortEnrollmentState {
    /// Public signal `index` is not below r (security.md K1).
    error InputNotInField(uint256 index);
    /// The proof is for another trial, chain or contract (security.md K3).
    error WrongScope();
    /// The trusted-issuer root is not in any recent epoch.
    error UnknownIssuerRoot();
    /// The revocation root is not in any recent epoch.
    error UnknownRevocationRoot();
    /// Both roots are recent, but were never current together.
    error UnknownRootPair();
    /// `today` is not block day - 1 or block day, block day = block.timestamp / 86400 (security.md S8): the
    /// same window as the Python verifier, which refuses a future day.
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

    // Tail layout, byte offsets from the start of the tail (words of 32 bytes).
    uint256 internal constant TAIL_BYTES = 0x1260; // 147 words
    uint256 internal constant T_IC0 = 0x1c0; // IC0 + scope * IC2
    uint256 internal constant T_IC_NULLIFIER = 0x200; // IC1
    uint256 internal constant T_IC_ISSUER = 0x240; // IC4
    uint256 internal constant T_IC_REVOCATION = 0x280; // IC5
    uint256 internal constant T_IC_RECIPIENT = 0x2c0; // IC6
    uint256 internal constant T_TODAY = 0x300; // d * 16^w * IC3 at T_TODAY + 64 * (15 w + d - 1)
    uint256 internal constant T_SCOPE = 0x1200;
    uint256 internal constant T_TRIAL = 0x1220;
    uint256 internal constant T_KEY_HASH = 0x1240;
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    // ------------------------------------------------------------------ enrollment

    /// Enrolls msg.sender with an eligibility proof. Checks, in order: every signal < r, scope, roots,
    /// `today` in [block day - 1, block day], recipient == msg.sender, window, capacity, unused nullifier,
    /// proof coordinates < q, the Groth16 proof. Only then stores the nullifier and emits Enrolled (security.md K8: a revert
    /// undoes everything, so a failed call leaves the nullifier unused). Nothing depends on the proof bytes
    /// (G6). Cost: ~255,000 gas in total for the transaction, 181,000 of it the pairing.
    function enroll(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[6] calldata publicSignals
    ) external {
        a;
        b;
        c;
        bool inField;
        assembly ("memory-safe") {
            inField := and(
                and(and(lt(calldataload(260), R), lt(calldataload(292), R)), lt(calldataload(324), R)),
                and(and(lt(calldataload(356), R), lt(calldataload(388), R)), lt(calldataload(420), R))
            )
        }
        if (!inField) _revertNotInField(publicSignals);
        if (publicSignals[1] != _tailWord(T_SCOPE)) revert WrongScope();
        uint256[2] storage basePoint = epochBase[_pairKey(publicSignals[3], publicSignals[4])];
        uint256 bx = basePoint[0];
        uint256 by = basePoint[1];
        if (bx == 0 && by == 0) _revertUnknownRoots(publicSignals[3], publicSignals[4]);
        uint256 today = publicSignals[2];
        uint256 blockDay = block.timestamp / 86400;
        if (today + 1 < blockDay || today > blockDay) revert StaleProof();
        if (publicSignals[5] != uint256(uint160(msg.sender))) revert WrongRecipient();
        // Config and Record are read and written as raw slots (one SLOAD and one SSTORE each); the packing
        // follows Solidity's layout: fields from the low-order bits up, in declaration order.
        uint256 cfg;
        assembly ("memory-safe") {
            cfg := sload(config.slot)
        }
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
            // Record(msg.sender, uint32(today), ENROLLED); config.enrolled += 1 (enrolled < capacity < 2^32).
            sstore(recordSlot, or(caller(), or(shl(160, today), shl(192, ENROLLED))))
            sstore(config.slot, add(cfg, shl(160, 1)))
        }
        emit Enrolled(nullifier, msg.sender, today);
    }

    /// Consent withdrawal: the address that enrolled `nullifier` leaves the cohort. The seat is freed; the
    /// nullifier stays used, so the same patient cannot re-enroll in this trial unless the owner reopens it.
    /// Allowed at any time, also after the window closed. Cost: ~35,000 gas.
    function withdraw(uint256 nullifier) external {
        Record storage record = records[nullifier];
        if (record.status != ENROLLED) revert NotEnrolled();
        if (record.recipient != msg.sender) revert NotEnrollee();
        record.status = WITHDRAWN;
        config.enrolled -= 1;
        emit Withdrawn(nullifier, msg.sender, block.timestamp / 86400);
    }

    /// Owner: lets a withdrawn nullifier enroll again (e.g. the patient asked to rejoin).
    function reopen(uint256 nullifier) external onlyOwner {
        if (records[nullifier].status != WITHDRAWN) revert NotWithdrawn();
        delete records[nullifier];
        emit Reopened(nullifier);
    }

    /// Groth16 check with vk_x = epoch base + nullifier*IC1 + today*IC3 + recipient*IC6.
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
            // EIP-196: acc += IC1 * nullifier; acc += IC6 * recipient
            codecopy(scratch, add(tail, T_IC_NULLIFIER), 0x40)
            mstore(add(scratch, 0x40), calldataload(260))
            ok := staticcall(gas(), 7, scratch, 0x60, scratch, 0x40)
            ok := and(ok, staticcall(gas(), 6, acc, 0x80, acc, 0x40))
            codecopy(scratch, add(tail, T_IC_RECIPIENT), 0x40)
            mstore(add(scratch, 0x40), calldataload(420))
            ok := and(ok, staticcall(gas(), 7, scratch, 0x60, scratch, 0x40))
            ok := and(ok, staticcall(gas(), 6, acc, 0x80, acc, 0x40))
            switch lt(today, 0x10000)
            case 1 {
                // Fixed-base 4-bit windows: today = sum d_w 16^w, one ecAdd per non-zero digit.
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

    function _revertNotInField(uint256[6] calldata publicSignals) internal pure {
        for (uint256 i = 0; i < 6; ++i) {
            if (publicSignals[i] >= R) revert InputNotInField(i);
        }
    }

    function _revertUnknownRoots(uint256 issuerRoot, uint256 revocationRoot) internal view {
        bool issuerKnown = false;
        bool revocationKnown = false;
        uint256 live = config.epochCount < ROOT_HISTORY ? config.epochCount : ROOT_HISTORY;
        for (uint256 i = 0; i < live; ++i) {
            if (epochs[i].issuerRoot == issuerRoot) issuerKnown = true;
            if (epochs[i].revocationRoot == revocationRoot) revocationKnown = true;
        }
        if (!issuerKnown) revert UnknownIssuerRoot();
        if (!revocationKnown) revert UnknownRevocationRoot();
        revert UnknownRootPair();
    }

    function _tailWord(uint256 offset) internal pure returns (uint256 word) {
        assembly ("memory-safe") {
            codecopy(0, add(sub(codesize(), TAIL_BYTES), offset), 0x20)
            word := mload(0)
        }
    }

    function _tailPoint(uint256 offset) internal pure returns (uint256 x, uint256 y) {
        x = _tailWord(offset);
        y = _tailWord(offset + 0x20);
    }

    // ------------------------------------------------------------------ owner

    /// Owner: registers (issuerRoot, revocationRoot) as the current epoch. Both must be < r.
    function setRoots(uint256 issuerRoot, uint256 revocationRoot) external onlyOwner {
        _setRoots(issuerRoot, revocationRoot);
    }

    /// Owner: new trusted-issuer root, keeping the current revocation root.
    function setIssuerRoot(uint256 issuerRoot) external onlyOwner {
        (, uint256 revocationRoot) = currentRoots();
        _setRoots(issuerRoot, revocationRoot);
    }

    /// Owner: new revocation root, keeping the current trusted-issuer root.
    function setRevocationRoot(uint256 revocationRoot) external onlyOwner {
        (uint256 issuerRoot,) = currentRoots();
        _setRoots(issuerRoot, revocationRoot);
    }

    function _setRoots(uint256 issuerRoot, uint256 revocationRoot) internal {
        if (issuerRoot >= R || revocationRoot >= R) revert RootNotInField();
        uint256[8] memory ic;
        (ic[0], ic[1]) = _tailPoint(T_IC0);
        (ic[2], ic[3]) = _tailPoint(T_IC_ISSUER);
        (ic[4], ic[5]) = _tailPoint(T_IC_REVOCATION);
        (uint256 x, uint256 y) = _epochBasePoint(ic, issuerRoot, revocationRoot);
        _pushEpoch(issuerRoot, revocationRoot, x, y);
    }

    /// Owner: moves the enrollment window ([start, end), unix seconds).
    function setWindow(uint64 start, uint64 end) external onlyOwner {
        _setWindow(start, end);
    }

    /// Owner: changes the capacity (never below the current count).
    function setCapacity(uint32 newCapacity) external onlyOwner {
        _setCapacity(newCapacity);
    }

    /// Owner: first step of an ownership transfer (a multisig or DAO address works: only msg.sender counts).
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroOwner();
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(owner, newOwner);
    }

    /// Pending owner: completes the transfer.
    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert NotPendingOwner();
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    // ------------------------------------------------------------------ views

    /// uint256(keccak256(abi.encode(block.chainid, address(this), trialId))) >> 3, fixed at deployment.
    function scope() external view returns (uint256) {
        return _tailWord(T_SCOPE);
    }

    function trialId() external view returns (bytes32) {
        return bytes32(_tailWord(T_TRIAL));
    }

    /// keccak256 of the verifying key words as given at deployment (pin it off-chain, security.md G9).
    function verifyingKeyHash() external view returns (bytes32) {
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

    /// Status of a nullifier: 0 unused, 1 enrolled, 2 withdrawn; with the enrolling address and day.
    function enrollment(uint256 nullifier) external view returns (uint8 status, address recipient, uint32 day) {
        Record memory record = records[nullifier];
        return (record.status, record.recipient, record.day);
    }

    /// The current (latest) epoch's roots.
    function currentRoots() public view returns (uint256 issuerRoot, uint256 revocationRoot) {
        uint256 count = config.epochCount;
        Epoch memory e = epochs[(count - 1) % ROOT_HISTORY];
        return (e.issuerRoot, e.revocationRoot);
    }

    /// Number of epochs ever registered; epoch k (k > count - ROOT_HISTORY) sits at index k % ROOT_HISTORY.
    function epochCount() external view returns (uint32) {
        return config.epochCount;
    }

    /// Whether a proof against (issuerRoot, revocationRoot) would pass the root check now.
    function isKnownRootPair(uint256 issuerRoot, uint256 revocationRoot) external view returns (bool) {
        uint256[2] storage point = epochBase[_pairKey(issuerRoot, revocationRoot)];
        return point[0] != 0 || point[1] != 0;
    }
}

/// @title CohortEnrollmentInit - creation code of a CohortEnrollment.
/// @notice Validates the key (6 public signals, every IC non-zero), computes the scope from (chain id, the
///         new contract's address, trial id), folds it into IC0, builds the fixed-base table for `today`,
///         writes the initial state, and returns CohortEnrollment's runtime code followed by the tail.
contract CohortEnrollmentInit is CohortEnrollmentState {
    /// Deployment parameters (a struct keeps the constructor within the stack limit).
    struct Params {
        uint256[] key; // 28 words: alpha beta gamma delta IC0..IC6, G2 in EIP-197 order
        bytes32 trialId;
        uint256 issuerRoot;
        uint256 revocationRoot;
        uint64 windowStart;
        uint64 windowEnd;
        uint32 capacity;
        address owner;
    }

    /// The key does not have the standard eligibility layout (6 public signals).
    error WrongPublicSignalCount();

    /// The 147-word tail (layout: CohortEnrollment's T_* offsets). Cost: 1 ecMul + ~60 ecAdd.
    function _buildTail(uint256[] memory key, uint256 scopeValue, bytes32 trial)
        private
        view
        returns (uint256[] memory tail)
    {
        tail = new uint256[](147);
        for (uint256 i = 0; i < 14; ++i) tail[i] = key[i];
        // IC_k sits at key word 14 + 2k; fold the scope (signal 1, IC2) into IC0.
        (uint256 sx, uint256 sy) = Groth16Key.mul(key[18], key[19], scopeValue);
        (tail[14], tail[15]) = Groth16Key.add(key[14], key[15], sx, sy);
        tail[16] = key[16]; // IC1 nullifier
        tail[17] = key[17];
        tail[18] = key[22]; // IC4 issuer root
        tail[19] = key[23];
        tail[20] = key[24]; // IC5 revocation root
        tail[21] = key[25];
        tail[22] = key[26]; // IC6 recipient
        tail[23] = key[27];
        // today table: entry (w, d) = d * 16^w * IC3 at word 24 + 2 (15 w + d - 1)
        (uint256 bx, uint256 by) = (key[20], key[21]);
        for (uint256 w = 0; w < 4; ++w) {
            uint256 at = 24 + 30 * w;
            tail[at] = bx;
            tail[at + 1] = by;
            for (uint256 d = 2; d <= 15; ++d) {
                uint256 to = at + 2 * (d - 1);
                (tail[to], tail[to + 1]) = Groth16Key.add(tail[to - 2], tail[to - 1], bx, by);
            }
            // 16^(w+1) IC3 = 15 * 16^w IC3 + 16^w IC3
            (bx, by) = Groth16Key.add(tail[at + 28], tail[at + 29], bx, by);
        }
        tail[144] = scopeValue;
        tail[145] = uint256(trial);
        tail[146] = uint256(keccak256(abi.encodePacked(key)));
    }

    function _initState(Params memory p, uint256[] memory tail) private {
        owner = p.owner;
        emit OwnershipTransferred(address(0), p.owner);
        _setWindow(p.windowStart, p.windowEnd);
        _setCapacity(p.capacity);
        if (p.issuerRoot >= Bn254.R || p.revocationRoot >= Bn254.R) revert RootNotInField();
        uint256[8] memory ic;
        (ic[0], ic[1]) = (tail[14], tail[15]);
        (ic[2], ic[3]) = (tail[18], tail[19]);
        (ic[4], ic[5]) = (tail[20], tail[21]);
        (uint256 x, uint256 y) = _epochBasePoint(ic, p.issuerRoot, p.revocationRoot);
        _pushEpoch(p.issuerRoot, p.revocationRoot, x, y);
    }

    constructor(Params memory p) {
        if (Groth16Key.publicSignalCount(p.key) != 6) revert WrongPublicSignalCount();
        Groth16Key.validate(p.key, true);
        if (p.owner == address(0)) revert ZeroOwner();
        // interfaces.md: scope = keccak256(abi.encode(uint256 chainid, address enrollment, bytes32 trialId)) >> 3
        uint256 scopeValue = uint256(keccak256(abi.encode(block.chainid, address(this), p.trialId))) >> 3;
        uint256[] memory tail = _buildTail(p.key, scopeValue, p.trialId);
        _initState(p, tail);
        bytes memory code = abi.encodePacked(type(CohortEnrollment).runtimeCode, tail);
        assembly ("memory-safe") {
            return(add(code, 0x20), mload(code))
        }
    }
}
