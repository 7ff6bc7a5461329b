"""TraceLift Python backend (the parts that must be Python)."""
