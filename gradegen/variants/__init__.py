"""Per-student variants: drawing each student's numbers reproducibly, and reading rosters."""
