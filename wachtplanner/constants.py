"""Constants shared by every layer."""

from typing import Final

DEFAULT_TIMEZONE: Final = "Europe/Brussels"

POINTS_SCALE: Final = 100
"""Points are handled as integers in hundredths (centi-points) by the solver and the checker."""

MINUTES_PER_HOUR: Final = 60
