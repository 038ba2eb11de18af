"""Results: the per-question records of a run, folded once into a typed ``RunReport`` (every
metric, interval, paired test and gate row), and its serialization, results.json.

May import the layers below it (core to judges, suite); never the renderers or the plugin.
"""
