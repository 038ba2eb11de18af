"""Renderers of a ``RunReport``: the markdown scorecard, the self-contained report.html, the
terminal summary and the charts. They format; they compute no metric.

May import harness.results and the layers below it.
"""
