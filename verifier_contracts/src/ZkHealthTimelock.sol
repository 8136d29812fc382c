// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title ZkHealthTimelock - OpenZeppelin's TimelockController, unchanged: the executor of the DAO's proposals
///        and the owner of the registries. Declared here only so the build ships its artifact.
contract ZkHealthTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
