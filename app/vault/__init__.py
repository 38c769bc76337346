"""The member's data vault: export, move, share under conventions, erase (see docs/vault.md)."""
