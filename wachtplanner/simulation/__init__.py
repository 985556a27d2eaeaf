"""Practice continuity: weekly re-homing of patients, acute demand, emergency points."""
