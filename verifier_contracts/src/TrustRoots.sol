// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title TrustRoots - the trust root of eligibility proofs, with freshness, as kept by each consuming contract.
/// @notice The trust root is poseidon([issuer_registry_root, person_registry_root]) (docs/onchain.md): one public
///         root covers the trusted issuers, each issuer's revocation root and the person registry. The owner
///         (the DAO's timelock, or a recruiter) and the publishers it authorises publish new roots; the previous
///         root is then superseded. A consumer accepts the current root, or a superseded one for at most its own
///         grace period (seconds, 0 allowed) after it was superseded; older ones revert `StaleRoot()`.
///         A root that was never published reverts `UnknownRoot()`.
abstract contract TrustRoots is Ownable2Step {
    /// When a root was published and when it stopped being current (0 while current or never published).
    struct RootState {
        uint64 publishedAt;
        uint64 supersededAt;
    }

    /// Scalar field modulus r: roots are field elements.
    uint256 internal constant FIELD_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    uint256 public currentTrustRoot;
    mapping(uint256 root => RootState) internal _rootStates;
    mapping(address publisher => bool) public isPublisher;

    /// A new root is current; `previousRoot` (0 for the first) was superseded at `supersededAt`.
    event TrustRootUpdated(
        uint256 indexed root, uint256 indexed previousRoot, uint64 supersededAt, address indexed publisher
    );
    /// The owner authorised (or deauthorised) a root publisher.
    event PublisherSet(address indexed publisher, bool authorised);

    /// Caller is neither the owner nor an authorised publisher.
    error NotPublisher();
    /// The root was superseded longer ago than the grace period allows.
    error StaleRoot();
    /// The root was never published here.
    error UnknownRoot();
    /// A root must be a non-zero field element.
    error InvalidRoot();

    modifier onlyPublisher() {
        if (msg.sender != owner() && !isPublisher[msg.sender]) revert NotPublisher();
        _;
    }

    /// Owner: authorise or deauthorise a publisher (the registry operator's address).
    function setPublisher(address publisher, bool authorised) external onlyOwner {
        isPublisher[publisher] = authorised;
        emit PublisherSet(publisher, authorised);
    }

    /// Owner or publisher: make `root` the current trust root. Publishing the current root again is a no-op.
    function publishTrustRoot(uint256 root) external onlyPublisher {
        _publishTrustRoot(root);
    }

    function _publishTrustRoot(uint256 root) internal {
        if (root == 0 || root >= FIELD_R) revert InvalidRoot();
        uint256 previous = currentTrustRoot;
        if (root == previous) return;
        uint64 now_ = uint64(block.timestamp);
        if (previous != 0) _rootStates[previous].supersededAt = now_;
        _rootStates[root] = RootState(now_, 0);
        currentTrustRoot = root;
        _afterTrustRootPublished(root, previous);
        emit TrustRootUpdated(root, previous, previous == 0 ? 0 : now_, msg.sender);
    }

    /// Hook for consumers that precompute per-root data (the registry's root point).
    function _afterTrustRootPublished(uint256 root, uint256 previous) internal virtual {}

    /// Reverts `UnknownRoot()` or `StaleRoot()` unless `root` is current or was superseded at most
    /// `graceSeconds` ago.
    function checkTrustRoot(uint256 root, uint256 graceSeconds) public view {
        if (root != 0 && root == currentTrustRoot) return;
        RootState memory state = _rootStates[root];
        if (state.publishedAt == 0) revert UnknownRoot();
        if (block.timestamp > uint256(state.supersededAt) + graceSeconds) revert StaleRoot();
    }

    /// When `root` was published and superseded (0, 0 for an unknown root; supersededAt 0 while current).
    function trustRootState(uint256 root) external view returns (uint64 publishedAt, uint64 supersededAt) {
        RootState memory state = _rootStates[root];
        return (state.publishedAt, state.supersededAt);
    }
}
