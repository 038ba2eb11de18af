"""The harness's pytest plugin loads through its pytest11 entry points (pyproject.toml)."""
