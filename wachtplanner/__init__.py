"""wachtplanner: on-call rosters and practice continuity for Flemish GP circles.

The public API is small on purpose: load a scenario, solve it, check a roster.
Heavy parts (OR-Tools, pandas, icalendar) load only when their function is used.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wachtplanner")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
