"""Documents: the plan of a worked solution, one module per output format, the diagram, PDFs."""
