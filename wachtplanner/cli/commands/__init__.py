"""One module per command; each is a thin wrapper around library functions."""
