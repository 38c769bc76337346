"""Pure, verifiable engine for cooperative decisions (standard library only)."""
