// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// The installed Groth16Verifier of the anonymous vote circuit: signals [nullifier, proposalScope, choice,
/// trustRoot].
interface IVoteVerifier {
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c, uint256[4] calldata s)
        external
        view
        returns (bool);
}

/// Where the electorate's trust root comes from (the TrialRegistry's current trust root).
interface ITrustRootSource {
    function currentTrustRoot() external view returns (uint256);
}

/// @title GovernorAnonymousVoting - one person, one vote, anonymously: OpenZeppelin Governor's counting and
///        vote-weight extension points filled with a zero-knowledge membership proof over the person registry.
/// @notice A vote is `castVoteWithReasonAndParams(proposalId, support, reason, params)` with
///         params = abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c, uint256 nullifier): a Groth16 proof
///         of the vote circuit for the public signals [nullifier, proposalScope(proposalId), support,
///         proposalTrustRoot(proposalId)]. The circuit proves that poseidon([holder_secret]) is a leaf of the
///         person registry under that trust root and that nullifier = poseidon([holder_secret, proposalScope]);
///         `support` is a public input, so the choice cannot be changed by whoever relays the proof. Each
///         nullifier votes once per proposal; the sender's address plays no part (send from a fresh address to
///         stay unlinkable). The electorate is the person registry as of the trust root current when the
///         proposal was created (`proposalTrustRoot`), like a token snapshot. `castVote` without params reverts
///         `VoteProofRequired()`.
abstract contract GovernorAnonymousVoting is Governor {
    /// Votes per proposal (one slot).
    struct Tally {
        uint64 againstVotes;
        uint64 forVotes;
        uint64 abstainVotes;
    }

    IVoteVerifier public immutable voteVerifier;
    ITrustRootSource public immutable trustRootSource;
    uint256 private _quorumVotes;
    mapping(uint256 proposalId => Tally) private _tallies;
    mapping(uint256 proposalId => uint256) private _proposalTrustRoots;
    mapping(uint256 proposalId => mapping(uint256 nullifier => bool)) private _nullifierVoted;

    /// Scalar field modulus r.
    uint256 internal constant FIELD_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    event QuorumUpdated(uint256 oldQuorum, uint256 newQuorum);
    /// One anonymous vote: its nullifier and choice (0 against, 1 for, 2 abstain).
    event AnonymousVoteCast(uint256 indexed proposalId, uint256 indexed nullifier, uint8 support);

    /// A vote needs the membership proof in `params`.
    error VoteProofRequired();
    /// This nullifier already voted on this proposal.
    error NullifierAlreadyVoted();
    /// The membership proof does not verify for this proposal, choice and electorate.
    error InvalidVoteProof();
    /// The nullifier is not below r.
    error NullifierNotInField();
    /// No trust root has been published: there is no electorate yet.
    error NoTrustRoot();
    /// The quorum must be at least one vote.
    error InvalidQuorum();

    constructor(IVoteVerifier verifier, ITrustRootSource roots, uint256 initialQuorum) {
        if (initialQuorum == 0) revert InvalidQuorum();
        voteVerifier = verifier;
        trustRootSource = roots;
        _quorumVotes = initialQuorum;
        emit QuorumUpdated(0, initialQuorum);
    }

    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure virtual override returns (string memory) {
        return "support=bravo&quorum=for,abstain&params=zkhealth-membership-proof";
    }

    /// Votes are anonymous: they are counted per nullifier, not per account, so this is always false. Use
    /// `nullifierHasVoted`.
    function hasVoted(uint256, address) public view virtual override returns (bool) {
        return false;
    }

    function nullifierHasVoted(uint256 proposalId, uint256 nullifier) public view returns (bool) {
        return _nullifierVoted[proposalId][nullifier];
    }

    function proposalVotes(uint256 proposalId)
        public
        view
        returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes)
    {
        Tally memory tally = _tallies[proposalId];
        return (tally.againstVotes, tally.forVotes, tally.abstainVotes);
    }

    /// The trust root whose person registry is this proposal's electorate.
    function proposalTrustRoot(uint256 proposalId) public view returns (uint256) {
        return _proposalTrustRoots[proposalId];
    }

    /// uint256(keccak256(abi.encode(block.chainid, address(this), proposalId))) >> 3: the vote's scope.
    function proposalScope(uint256 proposalId) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), proposalId))) >> 3;
    }

    /// The number of for + abstain votes a proposal needs (one person, one vote: a head count).
    function quorum(uint256) public view virtual override returns (uint256) {
        return _quorumVotes;
    }

    /// Governance: change the quorum.
    function setQuorum(uint256 newQuorum) external onlyGovernance {
        if (newQuorum == 0) revert InvalidQuorum();
        emit QuorumUpdated(_quorumVotes, newQuorum);
        _quorumVotes = newQuorum;
    }

    function _quorumReached(uint256 proposalId) internal view virtual override returns (bool) {
        Tally memory tally = _tallies[proposalId];
        return quorum(proposalSnapshot(proposalId)) <= uint256(tally.forVotes) + tally.abstainVotes;
    }

    function _voteSucceeded(uint256 proposalId) internal view virtual override returns (bool) {
        Tally memory tally = _tallies[proposalId];
        return tally.forVotes > tally.againstVotes;
    }

    /// Weight 1 for a vote that carries a proof (checked in `_countVote`), 0 otherwise.
    function _getVotes(address, uint256, bytes memory params) internal view virtual override returns (uint256) {
        return params.length == 0 ? 0 : 1;
    }

    function _countVote(uint256 proposalId, address, uint8 support, uint256, bytes memory params)
        internal
        virtual
        override
        returns (uint256)
    {
        if (params.length != 0x120) revert VoteProofRequired();
        if (support > 2) revert GovernorInvalidVoteType();
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c, uint256 nullifier) =
            abi.decode(params, (uint256[2], uint256[2][2], uint256[2], uint256));
        if (nullifier >= FIELD_R) revert NullifierNotInField();
        if (_nullifierVoted[proposalId][nullifier]) revert NullifierAlreadyVoted();
        uint256[4] memory signals =
            [nullifier, proposalScope(proposalId), uint256(support), _proposalTrustRoots[proposalId]];
        if (!voteVerifier.verifyProof(a, b, c, signals)) revert InvalidVoteProof();
        _nullifierVoted[proposalId][nullifier] = true;
        Tally storage tally = _tallies[proposalId];
        if (support == 0) tally.againstVotes += 1;
        else if (support == 1) tally.forVotes += 1;
        else tally.abstainVotes += 1;
        emit AnonymousVoteCast(proposalId, nullifier, support);
        return 1;
    }

    /// Records the electorate (the current trust root) of a new proposal.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal virtual override returns (uint256 proposalId) {
        uint256 root = trustRootSource.currentTrustRoot();
        if (root == 0) revert NoTrustRoot();
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        _proposalTrustRoots[proposalId] = root;
    }
}

/// @title ZkHealthGovernor - the patients' DAO: OpenZeppelin Governor with GovernorSettings and
///        GovernorTimelockControl (proposals execute through the TimelockController that owns the registries),
///        and anonymous one-person-one-vote counting. Block-number clock.
contract ZkHealthGovernor is GovernorAnonymousVoting, GovernorSettings, GovernorTimelockControl {
    constructor(
        TimelockController timelock,
        IVoteVerifier verifier,
        ITrustRootSource roots,
        uint48 initialVotingDelay,
        uint32 initialVotingPeriod,
        uint256 initialQuorum
    )
        Governor("zkhealth DAO")
        GovernorSettings(initialVotingDelay, initialVotingPeriod, 0)
        GovernorTimelockControl(timelock)
        GovernorAnonymousVoting(verifier, roots, initialQuorum)
    {}

    function clock() public view override returns (uint48) {
        return uint48(block.number);
    }

    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=blocknumber&from=default";
    }

    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override(Governor, GovernorAnonymousVoting) returns (uint256) {
        return super._propose(targets, values, calldatas, description, proposer);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
