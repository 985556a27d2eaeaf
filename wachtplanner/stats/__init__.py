"""Statistics of a checked roster: per doctor, per unit and month, fairness summary, fees."""

from wachtplanner.stats.tables import Statistics, compute_statistics, qualifying_hours

__all__ = ["Statistics", "compute_statistics", "qualifying_hours"]
