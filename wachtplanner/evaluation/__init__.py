"""The independent second opinion: every rule, penalty and fairness figure in plain Python."""
