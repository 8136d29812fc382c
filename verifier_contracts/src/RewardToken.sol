// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title RewardToken - OpenZeppelin's ERC20 with an owner who mints: the reward token of the demo and of local
///        test chains. A real sponsor funds trials in any ERC-20 (a stablecoin, say); nothing in the registry
///        depends on this contract.
contract RewardToken is ERC20, Ownable {
    constructor(string memory name_, string memory symbol_, address initialOwner)
        ERC20(name_, symbol_)
        Ownable(initialOwner)
    {}

    /// Owner: mint `amount` to `to`.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
