"""Scenario sweeps: a grid of what-ifs, each run a Dask task (``wachtplanner sweep``)."""
