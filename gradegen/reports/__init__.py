"""Reports from graded results: results.json, gradebooks, feedback and the class summary."""
