"""`harness study`: a grid over one fine-tuned system's settings (grid), run (run), one typed result (model),
its figures (analysis) and its reports (render)."""
