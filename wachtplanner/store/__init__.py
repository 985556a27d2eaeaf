"""The published-roster store (SQLite): versions, swaps, feed tokens, audit log."""
