"""Jinja2 templates for the documents; shipped inside the package as gradegen.templates."""
