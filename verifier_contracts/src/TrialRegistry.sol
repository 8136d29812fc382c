// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Create3} from "@openzeppelin/contracts/utils/Create3.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Bn254} from "./Bn254.sol";
import {Groth16Key} from "./Groth16Key.sol";
import {TrustRoots} from "./TrustRoots.sol";

/// @title TrialRegistryState - storage, events, errors and shared helpers of TrialRegistry (the runtime) and
///        TrialRegistryInit (its creation code). Both inherit it, so their storage layouts agree by construction.
/// @notice Public signals of the universal eligibility circuit, in order:
///         [nullifier, programHash, scope, today, trustRoot, recipient].
abstract contract TrialRegistryState is TrustRoots, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// The hot slot of a trial: read once and written once by `enroll`. Times are unix seconds.
    struct Trial {
        uint40 windowStart;
        uint40 windowEnd;
        uint32 capacity;
        uint32 enrolled;
        uint32 rootGraceSeconds;
        uint16 requiredPurposes;
        uint16 offeredPurposes;
        uint8 status;
        uint8 flags;
    }

    /// The rest of a trial: owner, sponsor, reward terms, pool, data key and consent amendment.
    struct TrialInfo {
        address owner;
        address sponsor;
        address token;
        uint96 enrollmentReward;
        uint128 pool;
        uint128 paid;
        bytes32 dataKey;
        bytes32 consentAmendment;
    }

    /// A time-bound data-access grant: an encrypted extract for the trial's data key, off-chain.
    struct Grant {
        address patient;
        uint32 expiryDay;
        uint32 revokedDay;
        uint256 trialId;
        uint256 nullifier;
        bytes32 extractHash;
    }

    /// createTrial's parameters (a struct keeps the call within the stack limit).
    struct TrialParams {
        bytes32 externalId; // e.g. the ClinicalTrials.gov id, as a label
        uint256 programHash; // Poseidon hash of the criteria program and trial policy (< r)
        bytes32 consentHash; // hash of the consent document patients sign
        uint16 requiredPurposes; // purposes every consent must include (bitmask)
        uint16 offeredPurposes; // purposes a consent may include (bitmask, superset of required)
        uint40 windowStart;
        uint40 windowEnd;
        uint32 capacity;
        uint32 rootGraceSeconds;
        bool onePerPerson;
        address owner; // the recruiter
        address sponsor; // receives unspent rewards after close
        address rewardToken; // ERC-20 of the reward pool, or 0 for no rewards
        uint96 enrollmentReward;
        uint96[] milestoneRewards; // milestone k (1-based) pays milestoneRewards[k - 1]
        bytes32 dataKey; // X25519 public key that data-access extracts are sealed for
    }

    uint8 internal constant TRIAL_NONE = 0;
    uint8 internal constant TRIAL_ACTIVE = 1;
    uint8 internal constant TRIAL_CLOSED = 2;
    uint8 internal constant FLAG_REWARD = 1;
    uint8 internal constant FLAG_CONSENT_AMENDED = 2;
    uint8 internal constant FLAG_ONE_PER_PERSON = 4;

    uint8 internal constant NONE = 0;
    uint8 internal constant ENROLLED = 1;
    uint8 internal constant WITHDRAWN = 2;
    uint8 internal constant EXPIRED = 3;
    /// Record flag: the enrollment reward was paid.
    uint256 internal constant RECORD_REWARDED = 1 << 248;

    uint256 public trialCount;
    uint256 public grantCount;
    mapping(uint256 trialId => Trial) internal _trials;
    mapping(uint256 trialId => TrialInfo) internal _info;
    mapping(uint256 trialId => uint96[]) internal _milestoneRewards;
    /// Packed record per (trial, nullifier): recipient (bits 0-159), enrolled day (160-191), status (192-199),
    /// consent expiry day (200-231), purposes (232-247), flags (248-255).
    mapping(uint256 trialId => mapping(uint256 nullifier => uint256)) internal _records;
    /// Milestones paid per (trial, nullifier): bit k for milestone k.
    mapping(uint256 trialId => mapping(uint256 nullifier => uint256)) internal _milestonesPaid;
    mapping(uint256 grantId => Grant) internal _grants;
    mapping(address creator => bool) public isTrialCreator;
    /// root => x | (y & 1) << 254 | superseded << 255, where (x, y) = root * IC_trustRoot is the root's term of
    /// the public-input point, computed when the root is published (x < q < 2^254). enroll reads x and the
    /// parity from this one slot and takes y from the caller (`rootPointY`): one storage read per root.
    mapping(uint256 root => uint256) internal _rootWords;

    event TrialCreated(
        uint256 indexed trialId,
        address indexed owner,
        bytes32 indexed externalId,
        uint256 programHash,
        uint256 scope,
        bytes32 consentHash,
        uint40 windowStart,
        uint40 windowEnd,
        uint32 capacity,
        uint32 rootGraceSeconds,
        bool onePerPerson
    );
    event RewardTermsSet(
        uint256 indexed trialId,
        address indexed token,
        address indexed sponsor,
        uint96 enrollmentReward,
        uint96[] milestoneRewards
    );
    /// The recipient is the transaction's sender; it and the consent terms are in the record (`enrollment`).
    /// The consent document is the trial's current one at that block (enroll refuses any other):
    /// TrialCreated's consentHash, or the latest ConsentDocumentUpdated.
    event Enrolled(uint256 indexed trialId, uint256 indexed nullifier);
    event ConsentWithdrawn(uint256 indexed trialId, uint256 indexed nullifier, address indexed recipient);
    event ConsentExpired(uint256 indexed trialId, uint256 indexed nullifier, uint32 expiryDay);
    /// milestone 0 is the enrollment reward.
    event RewardPaid(
        uint256 indexed trialId, uint256 indexed nullifier, address indexed recipient, uint256 milestone, uint256 amount
    );
    event PoolFunded(uint256 indexed trialId, address indexed funder, uint256 amount);
    event PoolReclaimed(uint256 indexed trialId, address indexed sponsor, uint256 amount);
    event TrialClosed(uint256 indexed trialId);
    event WindowUpdated(uint256 indexed trialId, uint40 start, uint40 end);
    event CapacityUpdated(uint256 indexed trialId, uint32 capacity);
    event ConsentDocumentUpdated(uint256 indexed trialId, bytes32 consentHash);
    event DataKeyUpdated(uint256 indexed trialId, bytes32 dataKey);
    event TrialOwnerChanged(uint256 indexed trialId, address indexed previousOwner, address indexed newOwner);
    event TrialCreatorSet(address indexed creator, bool approved);
    event AccessGranted(
        uint256 indexed grantId,
        uint256 indexed trialId,
        uint256 indexed nullifier,
        bytes32 extractHash,
        uint32 expiryDay,
        string uri
    );
    event AccessRevoked(uint256 indexed grantId, uint256 indexed trialId);
    event GrantUsed(uint256 indexed grantId, uint256 indexed trialId, address indexed user);

    /// Folding the roots or the trial constants gave the point at infinity (never happens for honest values).
    error DegeneratePoint();
}

/// @title TrialRegistry - one registry for every trial of the universal eligibility circuit.
/// @notice Deployed through TrialRegistryInit, which appends the universal verifying key, its IC points and a
///         fixed-base table for `today` to this runtime code (`TAIL_BYTES`). A trial is created in one
///         transaction; its constants (IC0 + programHash * IC_program + scope * IC_scope, the program hash, the
///         scope and the consent document hash) are written once as the code of a small data contract at a
///         CREATE3 address derived from the trial id, so `enroll` reads them with one EXTCODECOPY.
///         Enrollment records the patient's consent terms; rewards are paid from the trial's ERC-20 pool.
contract TrialRegistry is TrialRegistryState {
    using SafeERC20 for IERC20;

    /// Public signal `index` is not below r (security.md K1).
    error InputNotInField(uint256 index);
    /// No trial with this id.
    error UnknownTrial();
    /// The trial is closed: no enrollment, no payout, no funding.
    error TrialIsClosed();
    /// `today` is not block day - 1 or block day (UTC days).
    error StaleProof();
    /// block.timestamp is outside [windowStart, windowEnd).
    error WindowClosed();
    /// The cohort is full.
    error CohortFull();
    /// The consent hash is not the trial's current consent document.
    error WrongConsentDocument();
    /// Consent terms: the expiry day is not after today, or a purpose is missing or not offered.
    error InvalidConsentTerms();
    /// This nullifier has already enrolled in this trial (security.md K1/K2).
    error NullifierUsed();
    /// A proof coordinate is not below q.
    error ProofNotCanonical();
    /// The Groth16 proof does not verify.
    error InvalidProof();
    /// The nullifier is not enrolled in this trial.
    error NotEnrolled();
    /// The enrollment was withdrawn.
    error EnrollmentWithdrawn();
    /// The enrollment's consent has expired.
    error ConsentHasExpired();
    /// The consent has not expired yet.
    error ConsentStillActive();
    /// Only the address that enrolled the nullifier may do this.
    error NotEnrollee();
    /// Caller is not the trial's owner.
    error NotTrialOwner();
    /// Caller may not create trials (the registry owner approves creators).
    error NotTrialCreator();
    /// Caller is not the trial's sponsor.
    error NotSponsor();
    /// The reward pool holds less than the payout.
    error PoolUnderfunded();
    /// This milestone was already paid to this nullifier.
    error AlreadyPaid();
    /// No such milestone for this trial.
    error UnknownMilestone();
    /// The trial has no reward token.
    error NoRewards();
    /// The trial is not closed yet.
    error TrialNotClosed();
    /// Invalid trial parameters (window, capacity, program hash, purposes, owner, reward terms).
    error InvalidTrialParameters();
    /// No grant with this id.
    error UnknownGrant();
    /// `rootPointY` is not the y coordinate of trustRoot * IC_trustRoot (see `trustRootPoint`).
    error WrongRootPoint();
    /// Only the patient who gave the grant may revoke it.
    error NotGrantor();
    /// The grant was already revoked.
    error GrantAlreadyRevoked();
    /// A grant's expiry day must be after today.
    error InvalidGrantExpiry();

    // Tail layout: byte offsets from the start of the tail (words of 32 bytes).
    uint256 internal constant TAIL_BYTES = 0x1260; // 147 words
    uint256 internal constant T_IC0 = 0x1c0;
    uint256 internal constant T_IC_NULLIFIER = 0x200;
    uint256 internal constant T_IC_PROGRAM = 0x240;
    uint256 internal constant T_IC_SCOPE = 0x280;
    uint256 internal constant T_IC_ROOT = 0x2c0;
    uint256 internal constant T_IC_RECIPIENT = 0x300;
    uint256 internal constant T_TODAY = 0x340; // d * 16^w * IC_today at T_TODAY + 64 * (15 w + d - 1)
    uint256 internal constant T_KEY_HASH = 0x1240;
    // Bn254.R and Bn254.Q as literals (inline assembly reads only literal constants).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant X_MASK = (1 << 254) - 1;

    constructor() Ownable(msg.sender) {}

    modifier onlyTrialOwner(uint256 trialId) {
        if (msg.sender != _info[trialId].owner) revert NotTrialOwner();
        _;
    }

    // ------------------------------------------------------------------ trials

    /// Create a trial in one transaction. Caller: an approved creator or the registry owner.
    /// Cost: ~2 ecMul for the trial constants, the data contract (~60,000) and the storage.
    function createTrial(TrialParams calldata p) external returns (uint256 trialId) {
        if (msg.sender != owner() && !isTrialCreator[msg.sender]) revert NotTrialCreator();
        if (
            p.windowStart >= p.windowEnd || p.capacity == 0 || p.programHash == 0 || p.programHash >= R
                || p.owner == address(0) || (p.offeredPurposes & p.requiredPurposes) != p.requiredPurposes
                || p.milestoneRewards.length > 255
        ) revert InvalidTrialParameters();
        if (p.rewardToken == address(0) && (p.enrollmentReward != 0 || p.milestoneRewards.length != 0)) {
            revert InvalidTrialParameters();
        }
        if (p.rewardToken != address(0) && p.sponsor == address(0)) revert InvalidTrialParameters();
        trialId = trialCount + 1;
        trialCount = trialId;
        uint256 scopeValue = uint256(keccak256(abi.encode(block.chainid, address(this), trialId))) >> 3;
        (uint256 bx, uint256 by) = _trialBase(p.programHash, scopeValue);
        bytes memory data = abi.encodePacked(
            hex"6100a180600a3d393df300", bx, by, p.programHash, scopeValue, p.consentHash
        );
        Create3.deploy(0, bytes32(trialId), data);
        uint8 flags = (p.rewardToken != address(0) ? FLAG_REWARD : 0) | (p.onePerPerson ? FLAG_ONE_PER_PERSON : 0);
        _trials[trialId] = Trial(
            p.windowStart,
            p.windowEnd,
            p.capacity,
            0,
            p.rootGraceSeconds,
            p.requiredPurposes,
            p.offeredPurposes,
            TRIAL_ACTIVE,
            flags
        );
        TrialInfo storage info = _info[trialId];
        info.owner = p.owner;
        info.sponsor = p.sponsor;
        info.token = p.rewardToken;
        info.enrollmentReward = p.enrollmentReward;
        info.dataKey = p.dataKey;
        for (uint256 i = 0; i < p.milestoneRewards.length; ++i) {
            _milestoneRewards[trialId].push(p.milestoneRewards[i]);
        }
        emit TrialCreated(
            trialId,
            p.owner,
            p.externalId,
            p.programHash,
            scopeValue,
            p.consentHash,
            p.windowStart,
            p.windowEnd,
            p.capacity,
            p.rootGraceSeconds,
            p.onePerPerson
        );
        if (p.rewardToken != address(0)) {
            emit RewardTermsSet(trialId, p.rewardToken, p.sponsor, p.enrollmentReward, p.milestoneRewards);
        }
        if (p.dataKey != bytes32(0)) emit DataKeyUpdated(trialId, p.dataKey);
    }

    /// IC0 + programHash * IC_program + scope * IC_scope. Cost: 2 ecMul + 2 ecAdd.
    function _trialBase(uint256 programHash, uint256 scopeValue) internal view returns (uint256 x, uint256 y) {
        (uint256 px, uint256 py) = Groth16Key.mul(_tailWord(T_IC_PROGRAM), _tailWord(T_IC_PROGRAM + 0x20), programHash);
        (uint256 sx, uint256 sy) = Groth16Key.mul(_tailWord(T_IC_SCOPE), _tailWord(T_IC_SCOPE + 0x20), scopeValue);
        (x, y) = Groth16Key.add(_tailWord(T_IC0), _tailWord(T_IC0 + 0x20), px, py);
        (x, y) = Groth16Key.add(x, y, sx, sy);
        if (x == 0 && y == 0) revert DegeneratePoint();
    }

    /// Address of the trial's constants (a data contract; code = 0x00 followed by 5 words).
    function trialDataAddress(uint256 trialId) public view returns (address) {
        return _trialDataAddress(trialId);
    }

    // ------------------------------------------------------------------ enrollment

    /// Enroll msg.sender in `trialId` with a universal eligibility proof and the patient's consent.
    /// The proof's public signals are [nullifier, programHash, scope, today, trustRoot, recipient]; the call
    /// carries only those the registry does not know: programHash and scope are the trial's (folded into its
    /// constant point at creation, security.md K3) and recipient is msg.sender (K4), so a proof made for another
    /// program, trial, registry, chain or sender fails the pairing (`InvalidProof`).
    /// `rootPointY` is the y coordinate of trustRoot * IC_trustRoot (`trustRootPoint(trustRoot)`): the registry
    /// stores x and y's parity, the caller supplies y, which saves a storage read (a wrong y fails).
    /// `consentTerms` = expiryDay | purposes << 32 | tag << 48, where tag is the top 128 bits of the consent
    /// document hash the patient agreed to: it must be the trial's current document (a recruiter cannot swap
    /// the document under a patient's transaction), the expiry must be after today, the purposes must include
    /// the required ones and only offered ones. Checks, in order: nullifier < r (today is a uint32; a trust
    /// root >= r was never published), the trial exists and is open, trust root known and fresh, `today` in
    /// [block day - 1, block day], window, capacity, consent, unused nullifier, proof coordinates < q, the
    /// Groth16 proof. Then stores the record and, for a trial with rewards, pays the enrollment reward to
    /// msg.sender in the same transaction (pool checked first). Nothing depends on the proof bytes (G6). The
    /// selector is the registry's smallest, so the dispatcher finds it first. Cost: ~258,000 gas without a
    /// reward.
    function enroll(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256 nullifier,
        uint256 trustRoot,
        uint64 trialId,
        uint256 rootPointY,
        uint32 today,
        uint256 consentTerms
    ) external {
        a;
        b;
        c;
        if (nullifier >= R) revert InputNotInField(0);
        uint256 trialSlot;
        uint256 cfg;
        assembly ("memory-safe") {
            mstore(0, trialId)
            mstore(0x20, _trials.slot)
            trialSlot := keccak256(0, 0x40)
            cfg := sload(trialSlot)
        }
        uint256 status = uint8(cfg >> 208);
        if (status != TRIAL_ACTIVE) _revertTrialStatus(status);
        uint256 rx;
        assembly ("memory-safe") {
            mstore(0, trustRoot)
            mstore(0x20, _rootWords.slot)
            rx := sload(keccak256(0, 0x40))
        }
        if (rx == 0) revert UnknownRoot();
        if (rx >> 255 != 0) {
            if (block.timestamp > uint256(_rootStates[trustRoot].supersededAt) + uint32(cfg >> 144)) revert StaleRoot();
        }
        if ((rx >> 254) & 1 != rootPointY & 1) revert WrongRootPoint();
        rx &= X_MASK;
        uint256 blockDay = block.timestamp / 86400;
        if (today > blockDay || today + 1 < blockDay) revert StaleProof();
        if (block.timestamp < uint40(cfg) || block.timestamp >= uint40(cfg >> 40)) revert WindowClosed();
        if (uint32(cfg >> 112) >= uint32(cfg >> 80)) revert CohortFull();
        // Trial constants: [baseX, baseY, programHash, scope, consentHash] from the data contract.
        address dataAddress = _trialDataAddress(trialId);
        uint256 base;
        assembly ("memory-safe") {
            base := mload(0x40)
            extcodecopy(dataAddress, add(base, 0x300), 1, 0xa0)
        }
        uint256 flags = uint8(cfg >> 216);
        {
            // The consent document tag: the top 128 bits of the trial's current consent document hash.
            uint256 document = flags & FLAG_CONSENT_AMENDED != 0
                ? uint256(_info[trialId].consentAmendment)
                : _mword(base, 0x380);
            if (consentTerms >> 48 != document >> 128) revert WrongConsentDocument();
            uint256 purposes = uint16(consentTerms >> 32);
            uint256 required = uint16(cfg >> 176);
            if (
                uint32(consentTerms) <= blockDay || purposes & required != required
                    || purposes & ~uint256(uint16(cfg >> 192)) != 0
            ) revert InvalidConsentTerms();
        }
        uint256 recordSlot;
        uint256 record;
        assembly ("memory-safe") {
            mstore(0, trialId)
            mstore(0x20, _records.slot)
            mstore(0x20, keccak256(0, 0x40))
            mstore(0, nullifier)
            recordSlot := keccak256(0, 0x40)
            record := sload(recordSlot)
        }
        if (record != 0) revert NullifierUsed();
        if (!Bn254.proofIsCanonical()) revert ProofNotCanonical();
        if (!_verify(base, rx, rootPointY, today)) revert InvalidProof();
        // Record: recipient | day << 160 | ENROLLED << 192 | expiry << 200 | purposes << 232 (| rewarded flag).
        // The tag is not stored: the document is the trial's current one at the enrollment's block.
        record = uint256(uint160(msg.sender)) | (blockDay << 160) | (uint256(ENROLLED) << 192)
            | (uint256(uint32(consentTerms)) << 200) | (uint256(uint16(consentTerms >> 32)) << 232);
        uint256 reward = 0;
        if (flags & FLAG_REWARD != 0) {
            reward = _info[trialId].enrollmentReward;
            if (reward != 0) record |= RECORD_REWARDED;
        }
        assembly ("memory-safe") {
            sstore(recordSlot, record)
            sstore(trialSlot, add(cfg, shl(112, 1))) // enrolled += 1 (enrolled < capacity < 2^32)
        }
        emit Enrolled(trialId, nullifier);
        if (reward != 0) _payEnrollmentReward(trialId, nullifier, reward);
    }

    /// Create3.computeAddress(bytes32(trialId)) in assembly (the CREATE2 proxy, then its first CREATE).
    function _trialDataAddress(uint256 trialId) internal view returns (address at) {
        bytes32 proxyHash = Create3.PROXY_INITCODE_HASH;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, or(shl(160, 0xff), address()))
            mstore(add(p, 0x20), trialId)
            mstore(add(p, 0x40), proxyHash)
            let proxy := and(keccak256(add(p, 11), 85), 0xffffffffffffffffffffffffffffffffffffffff)
            mstore(0x15, 0x01)
            mstore(0x14, proxy)
            mstore(0x00, 0xd694)
            at := and(keccak256(0x1e, 0x17), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }

    /// The enrollment reward, under the reentrancy lock (enroll without a reward makes no external call, so
    /// it does not pay for the lock).
    function _payEnrollmentReward(uint256 trialId, uint256 nullifier, uint256 reward) private nonReentrant {
        _payOut(trialId, nullifier, msg.sender, 0, reward);
    }

    function _mword(uint256 base, uint256 offset) private pure returns (uint256 word) {
        assembly ("memory-safe") {
            word := mload(add(base, offset))
        }
    }

    /// Groth16 check with vk_x = trial base + root point + nullifier*IC1 + today*IC_today + recipient*IC6.
    /// The trial base sits at base + 0x300 (from the data contract).
    function _verify(uint256 base, uint256 rx, uint256 ry, uint256 today) internal view returns (bool ok) {
        uint256 tail;
        assembly ("memory-safe") {
            tail := sub(codesize(), TAIL_BYTES)
            let acc := add(base, 0x180)
            let scratch := add(base, 0x1c0)
            mstore(acc, mload(add(base, 0x300)))
            mstore(add(acc, 0x20), mload(add(base, 0x320)))
            // EIP-196: acc += root point; acc += IC1 * nullifier; acc += IC6 * recipient
            mstore(scratch, rx)
            mstore(add(scratch, 0x20), ry)
            ok := staticcall(gas(), 6, acc, 0x80, acc, 0x40)
            codecopy(scratch, add(tail, T_IC_NULLIFIER), 0x40)
            mstore(add(scratch, 0x40), calldataload(260))
            ok := and(ok, staticcall(gas(), 7, scratch, 0x60, scratch, 0x40))
            ok := and(ok, staticcall(gas(), 6, acc, 0x80, acc, 0x40))
            codecopy(scratch, add(tail, T_IC_RECIPIENT), 0x40)
            mstore(add(scratch, 0x40), caller())
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

    function _revertTrialStatus(uint256 status) internal pure {
        if (status == TRIAL_NONE) revert UnknownTrial();
        revert TrialIsClosed();
    }

    function _tailWord(uint256 offset) internal pure returns (uint256 word) {
        assembly ("memory-safe") {
            codecopy(0, add(sub(codesize(), TAIL_BYTES), offset), 0x20)
            word := mload(0)
        }
    }

    /// Stores root * IC_trustRoot's x and y parity for the new root and marks the previous root superseded.
    /// Cost: one ecMul and two storage writes, paid by the publisher.
    function _afterTrustRootPublished(uint256 root, uint256 previous) internal override {
        (uint256 x, uint256 y) = _rootPoint(root);
        if (x == 0) revert DegeneratePoint();
        _rootWords[root] = x | ((y & 1) << 254);
        if (previous != 0) _rootWords[previous] |= 1 << 255;
    }

    function _rootPoint(uint256 root) internal view returns (uint256 x, uint256 y) {
        return Groth16Key.mul(_tailWord(T_IC_ROOT), _tailWord(T_IC_ROOT + 0x20), root);
    }

    // ------------------------------------------------------------------ consent

    /// The enrolling address withdraws its consent: the record is marked withdrawn and the seat freed. The
    /// nullifier stays used (no re-enrollment, hence no second enrollment reward).
    function withdraw(uint256 trialId, uint256 nullifier) external {
        uint256 record = _records[trialId][nullifier];
        _requireEnrolled(record);
        if (address(uint160(record)) != msg.sender) revert NotEnrollee();
        _setStatus(trialId, nullifier, record, WITHDRAWN);
        emit ConsentWithdrawn(trialId, nullifier, msg.sender);
    }

    /// Anyone: mark an enrollment whose consent expired (expiry day <= today) as expired, freeing its seat.
    /// An expired consent counts as withdrawn whether or not this is called.
    function markExpired(uint256 trialId, uint256 nullifier) external {
        uint256 record = _records[trialId][nullifier];
        if (uint8(record >> 192) != ENROLLED) _requireEnrolled(record);
        uint32 expiry = uint32(record >> 200);
        if (expiry > block.timestamp / 86400) revert ConsentStillActive();
        _setStatus(trialId, nullifier, record, EXPIRED);
        emit ConsentExpired(trialId, nullifier, expiry);
    }

    function _setStatus(uint256 trialId, uint256 nullifier, uint256 record, uint8 status) private {
        _records[trialId][nullifier] = (record & ~(uint256(0xff) << 192)) | (uint256(status) << 192);
        _trials[trialId].enrolled -= 1;
    }

    /// Reverts unless the record is enrolled with an unexpired consent: NotEnrolled, EnrollmentWithdrawn,
    /// ConsentHasExpired.
    function _requireEnrolled(uint256 record) internal view {
        uint8 status = uint8(record >> 192);
        if (status == NONE) revert NotEnrolled();
        if (status == WITHDRAWN) revert EnrollmentWithdrawn();
        if (status == EXPIRED || uint32(record >> 200) <= block.timestamp / 86400) revert ConsentHasExpired();
    }

    // ------------------------------------------------------------------ data-access grants

    /// The enrolled patient grants the trial time-bound access to an extract sealed for the trial's data key
    /// (stored off-chain at `uri`; `extractHash` = sha256 of the sealed bytes). Returns the grant id.
    function grantAccess(uint256 trialId, uint256 nullifier, bytes32 extractHash, uint32 expiryDay, string calldata uri)
        external
        returns (uint256 grantId)
    {
        uint256 record = _records[trialId][nullifier];
        _requireEnrolled(record);
        if (address(uint160(record)) != msg.sender) revert NotEnrollee();
        if (expiryDay <= block.timestamp / 86400) revert InvalidGrantExpiry();
        grantId = grantCount + 1;
        grantCount = grantId;
        _grants[grantId] = Grant(msg.sender, expiryDay, 0, trialId, nullifier, extractHash);
        emit AccessGranted(grantId, trialId, nullifier, extractHash, expiryDay, uri);
    }

    /// The patient revokes a grant (data already downloaded cannot be recalled; uses after this are flagged
    /// by the audit trail).
    function revokeAccess(uint256 grantId) external {
        Grant storage grant = _grants[grantId];
        if (grant.patient == address(0)) revert UnknownGrant();
        if (grant.patient != msg.sender) revert NotGrantor();
        if (grant.revokedDay != 0) revert GrantAlreadyRevoked();
        grant.revokedDay = uint32(block.timestamp / 86400);
        emit AccessRevoked(grantId, grant.trialId);
    }

    /// The trial's owner (the data user) records that it used a grant: its client does so when it opens an
    /// extract. Not refused after revocation or expiry (the data may already be in the user's hands): the audit
    /// trail flags such uses. Only the trial's owner may record, so nobody else can fill its trail.
    function recordAccess(uint256 grantId) external {
        Grant storage grant = _grants[grantId];
        if (grant.patient == address(0)) revert UnknownGrant();
        if (msg.sender != _info[grant.trialId].owner) revert NotTrialOwner();
        emit GrantUsed(grantId, grant.trialId, msg.sender);
    }

    // ------------------------------------------------------------------ rewards

    /// Anyone (the sponsor): move `amount` of the trial's token into its pool. The amount actually received
    /// is credited (a fee-on-transfer token credits less).
    function fund(uint256 trialId, uint256 amount) external nonReentrant {
        uint8 status = _trials[trialId].status;
        if (status != TRIAL_ACTIVE) _revertTrialStatus(status);
        TrialInfo storage info = _info[trialId];
        IERC20 token = IERC20(info.token);
        if (address(token) == address(0)) revert NoRewards();
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        info.pool += SafeCast.toUint128(received);
        emit PoolFunded(trialId, msg.sender, received);
    }

    /// Trial owner: pay milestone `milestone` (1-based) to the address that enrolled `nullifier`. Once per
    /// nullifier and milestone; the enrollment must be active; the pool is checked first.
    function payMilestone(uint256 trialId, uint256 nullifier, uint256 milestone)
        external
        nonReentrant
        onlyTrialOwner(trialId)
    {
        uint8 status = _trials[trialId].status;
        if (status != TRIAL_ACTIVE) _revertTrialStatus(status);
        uint256 record = _records[trialId][nullifier];
        _requireEnrolled(record);
        uint96[] storage rewards = _milestoneRewards[trialId];
        if (milestone == 0 || milestone > rewards.length) revert UnknownMilestone();
        uint256 paidBits = _milestonesPaid[trialId][nullifier];
        if (paidBits & (1 << milestone) != 0) revert AlreadyPaid();
        _milestonesPaid[trialId][nullifier] = paidBits | (1 << milestone);
        _payOut(trialId, nullifier, address(uint160(record)), milestone, rewards[milestone - 1]);
    }

    /// Checks the pool, books the payout, then transfers (checks-effects-interactions; the callers hold the
    /// reentrancy lock).
    function _payOut(uint256 trialId, uint256 nullifier, address recipient, uint256 milestone, uint256 amount)
        private
    {
        TrialInfo storage info = _info[trialId];
        uint128 pool = info.pool;
        if (pool < amount) revert PoolUnderfunded();
        info.pool = pool - uint128(amount);
        info.paid += uint128(amount);
        emit RewardPaid(trialId, nullifier, recipient, milestone, amount);
        IERC20(info.token).safeTransfer(recipient, amount);
    }

    /// Trial owner: close the trial (no more enrollments, payouts or funding).
    function closeTrial(uint256 trialId) external onlyTrialOwner(trialId) {
        Trial storage trial = _trials[trialId];
        if (trial.status != TRIAL_ACTIVE) _revertTrialStatus(trial.status);
        trial.status = TRIAL_CLOSED;
        emit TrialClosed(trialId);
    }

    /// Sponsor: after close, take back what the pool still holds.
    function reclaim(uint256 trialId) external nonReentrant {
        TrialInfo storage info = _info[trialId];
        if (msg.sender != info.sponsor) revert NotSponsor();
        if (_trials[trialId].status != TRIAL_CLOSED) revert TrialNotClosed();
        uint256 amount = info.pool;
        info.pool = 0;
        emit PoolReclaimed(trialId, msg.sender, amount);
        if (amount != 0) IERC20(info.token).safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ trial owner

    function setWindow(uint256 trialId, uint40 start, uint40 end) external onlyTrialOwner(trialId) {
        if (start >= end) revert InvalidTrialParameters();
        Trial storage trial = _trials[trialId];
        trial.windowStart = start;
        trial.windowEnd = end;
        emit WindowUpdated(trialId, start, end);
    }

    function setCapacity(uint256 trialId, uint32 newCapacity) external onlyTrialOwner(trialId) {
        Trial storage trial = _trials[trialId];
        if (newCapacity == 0 || newCapacity < trial.enrolled) revert InvalidTrialParameters();
        trial.capacity = newCapacity;
        emit CapacityUpdated(trialId, newCapacity);
    }

    /// A new consent document: enrollments from now on must name it.
    function amendConsent(uint256 trialId, bytes32 consentHash) external onlyTrialOwner(trialId) {
        _info[trialId].consentAmendment = consentHash;
        _trials[trialId].flags |= FLAG_CONSENT_AMENDED;
        emit ConsentDocumentUpdated(trialId, consentHash);
    }

    function setDataKey(uint256 trialId, bytes32 dataKey) external onlyTrialOwner(trialId) {
        _info[trialId].dataKey = dataKey;
        emit DataKeyUpdated(trialId, dataKey);
    }

    function transferTrial(uint256 trialId, address newOwner) external onlyTrialOwner(trialId) {
        if (newOwner == address(0)) revert InvalidTrialParameters();
        emit TrialOwnerChanged(trialId, msg.sender, newOwner);
        _info[trialId].owner = newOwner;
    }

    // ------------------------------------------------------------------ registry owner (the timelock)

    /// Owner: approve (or remove) an address that may create trials.
    function setTrialCreator(address creator, bool approved) external onlyOwner {
        isTrialCreator[creator] = approved;
        emit TrialCreatorSet(creator, approved);
    }

    // ------------------------------------------------------------------ views

    /// keccak256 of the universal verifying key words (pin it off-chain, security.md G9).
    function verifyingKeyHash() external pure returns (bytes32) {
        return bytes32(_tailWord(T_KEY_HASH));
    }

    /// uint256(keccak256(abi.encode(block.chainid, address(this), trialId))) >> 3.
    function trialScope(uint256 trialId) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), trialId))) >> 3;
    }

    function trial(uint256 trialId) external view returns (Trial memory) {
        return _trials[trialId];
    }

    function trialInfo(uint256 trialId) external view returns (TrialInfo memory) {
        return _info[trialId];
    }

    function milestoneRewards(uint256 trialId) external view returns (uint96[] memory) {
        return _milestoneRewards[trialId];
    }

    /// The trial constants from its data contract: program hash, scope and the original consent hash.
    function trialConstants(uint256 trialId)
        external
        view
        returns (uint256 programHash, uint256 scopeValue, bytes32 consentHash)
    {
        address at = _trialDataAddress(trialId);
        if (at.code.length != 0xa1) revert UnknownTrial();
        uint256[3] memory words;
        assembly ("memory-safe") {
            extcodecopy(at, words, 0x41, 0x60)
        }
        return (words[0], words[1], bytes32(words[2]));
    }

    /// The record of a nullifier in a trial: status (0 none, 1 enrolled, 2 withdrawn, 3 expired; an enrolled
    /// record whose expiry day has passed is reported 3), recipient, enrolled day, consent expiry day, purposes,
    /// whether the enrollment reward was paid.
    function enrollment(uint256 trialId, uint256 nullifier)
        external
        view
        returns (uint8 status, address recipient, uint32 day, uint32 consentExpiry, uint16 purposes, bool rewarded)
    {
        uint256 record = _records[trialId][nullifier];
        status = uint8(record >> 192);
        consentExpiry = uint32(record >> 200);
        if (status == ENROLLED && consentExpiry <= block.timestamp / 86400) status = EXPIRED;
        return (
            status,
            address(uint160(record)),
            uint32(record >> 160),
            consentExpiry,
            uint16(record >> 232),
            record & RECORD_REWARDED != 0
        );
    }

    function milestonesPaid(uint256 trialId, uint256 nullifier) external view returns (uint256) {
        return _milestonesPaid[trialId][nullifier];
    }

    function grant(uint256 grantId) external view returns (Grant memory) {
        return _grants[grantId];
    }

    /// Whether a grant can be used today: it exists, is not revoked, has not expired, and its enrollment is
    /// still active.
    function grantIsActive(uint256 grantId) external view returns (bool) {
        Grant memory g = _grants[grantId];
        if (g.patient == address(0) || g.revokedDay != 0 || g.expiryDay <= block.timestamp / 86400) return false;
        uint256 record = _records[g.trialId][g.nullifier];
        return uint8(record >> 192) == ENROLLED && uint32(record >> 200) > block.timestamp / 86400;
    }

    /// root * IC_trustRoot, the root's term of the public-input point: enroll's `rootPointY` is its y.
    function trustRootPoint(uint256 root) external view returns (uint256 x, uint256 y) {
        return _rootPoint(root);
    }
}

/// @title TrialRegistryInit - creation code of a TrialRegistry.
/// @notice Validates the universal key (6 public signals, no IC at infinity), builds the fixed-base table for
///         `today`, sets the owner (the DAO's timelock), the initial root publishers and trial creators (their
///         events mark them as part of the deployment), and returns TrialRegistry's runtime code followed by the
///         tail. No trust root yet: the owner or a publisher publishes the first one.
contract TrialRegistryInit is TrialRegistryState {
    /// The key does not have the universal layout (6 public signals).
    error WrongPublicSignalCount();

    constructor(uint256[] memory key, address initialOwner, address[] memory publishers, address[] memory creators)
        Ownable(initialOwner)
    {
        if (Groth16Key.publicSignalCount(key) != 6) revert WrongPublicSignalCount();
        Groth16Key.validate(key, true);
        for (uint256 i = 0; i < publishers.length; ++i) {
            isPublisher[publishers[i]] = true;
            emit PublisherSet(publishers[i], true);
        }
        for (uint256 i = 0; i < creators.length; ++i) {
            isTrialCreator[creators[i]] = true;
            emit TrialCreatorSet(creators[i], true);
        }
        bytes memory code = abi.encodePacked(type(TrialRegistry).runtimeCode, _buildTail(key));
        assembly ("memory-safe") {
            return(add(code, 0x20), mload(code))
        }
    }

    /// The 147-word tail (layout: TrialRegistry's T_* offsets). Cost: ~60 ecAdd.
    function _buildTail(uint256[] memory key) private view returns (uint256[] memory tail) {
        tail = new uint256[](147);
        // Key words: alpha(2) beta(4) gamma(4) delta(4), then IC_k at 14 + 2k: IC0, IC1 nullifier, IC2 program,
        // IC3 scope, IC4 today, IC5 trust root, IC6 recipient.
        for (uint256 i = 0; i < 22; ++i) tail[i] = key[i]; // alpha .. delta, IC0 .. IC3
        tail[22] = key[24]; // IC5 trust root
        tail[23] = key[25];
        tail[24] = key[26]; // IC6 recipient
        tail[25] = key[27];
        (uint256 bx, uint256 by) = (key[22], key[23]); // IC4 today
        for (uint256 w = 0; w < 4; ++w) {
            uint256 at = 26 + 30 * w;
            tail[at] = bx;
            tail[at + 1] = by;
            for (uint256 d = 2; d <= 15; ++d) {
                uint256 to = at + 2 * (d - 1);
                (tail[to], tail[to + 1]) = Groth16Key.add(tail[to - 2], tail[to - 1], bx, by);
            }
            // 16^(w+1) IC4 = 15 * 16^w IC4 + 16^w IC4
            (bx, by) = Groth16Key.add(tail[at + 28], tail[at + 29], bx, by);
        }
        tail[146] = uint256(keccak256(abi.encodePacked(key)));
    }
}
