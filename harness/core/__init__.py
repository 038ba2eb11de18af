"""What every stage shares: one-line errors, decorator registries, the content-addressed disk
cache, progress lines, and the check that the installed packages are the tested ones.

Imports nothing else from the harness.
"""
