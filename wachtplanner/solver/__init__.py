"""Roster solving: compile the scenario to indices, explain infeasibility, solve with CP-SAT."""

from wachtplanner.solver.api import solve
from wachtplanner.solver.params import SolverParams

__all__ = ["SolverParams", "solve"]
