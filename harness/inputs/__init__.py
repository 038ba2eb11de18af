"""A suite's input files, validated at the boundary: the YAML loader (line numbers, no duplicate
keys), the pydantic shapes of suite.yaml and questions.yaml, the corpus reader, evidence spans and
training pairs. Bad input is one line naming the file, line and item.

May import harness.core only.
"""
