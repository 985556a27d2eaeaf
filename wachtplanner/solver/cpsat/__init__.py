"""The CP-SAT encoding: the only package that imports OR-Tools' constraint solver."""
