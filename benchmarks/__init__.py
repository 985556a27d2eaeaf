"""Benchmarks and the seeded instance generator."""
