"""Two runs compared (``harness compare``, ``pytest evals --compare-to``), as markdown lines: compare.md,
the scorecard's section and report.html's."""
from __future__ import annotations

from harness.results.model import Comparison


def render_comparison(c: Comparison) -> list[str]:
    """A comparison of two runs (``harness compare``, ``--compare-to``), as markdown lines."""
    lines = [f"`{c.new}` against `{c.old}`: {c.shared} shared questions"
             + (f"; added {', '.join(c.added)}" if c.added else "") + (f"; removed {', '.join(c.removed)}" if c.removed
                                                                       else "") + ".", ""]
    if c.gold_changed:
        lines += [f"- gold answers changed for {', '.join(c.gold_changed)}: their flips may be the gold's", ""]
    if c.run_changes:
        lines += [f"- {what}: `{old}` → `{new}`" for what, (old, new) in c.run_changes.items()] + [""]
    lines += ["| system | before | after | new − old [95% CI] | wrong → right | right → wrong | p | status |",
              "|---|---|---|---|---|---|---|---|"]
    for s in c.systems:
        p = s.paired
        diff = "–" if p.difference is None else (f"{100 * p.difference:+.1f} points [{100 * p.difference_ci[0]:+.0f}, "
                                                 f"{100 * p.difference_ci[1]:+.0f}]")
        status = f"REGRESSION: {s.regression}" if s.regression else "improved" if s.improved else "no significant change"
        pval = "–" if p.p_value is None else f"{p.p_value:.3g}"
        lines.append(f"| {s.system} | {s.old[0]}/{s.old[1]} | {s.new[0]}/{s.new[1]} | {diff} | {p.only_a} | "
                     f"{p.only_b} | {pval} | {status} |")
    if c.after_change:
        lines += ["", "After the documents change (the changed questions):", "",
                  "| system | condition | before | after | wrong → right | right → wrong | p |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {a.system} | {a.condition} | {a.old[0]}/{a.old[1]} | {a.new[0]}/{a.new[1]} | {a.paired.only_a} | "
                  f"{a.paired.only_b} | {'–' if a.paired.p_value is None else f'{a.paired.p_value:.3g}'} |"
                  for a in c.after_change]
    if c.only_old or c.only_new:
        lines += ["", f"- only in the old run: {', '.join(c.only_old) or '–'}; only in the new: "
                      f"{', '.join(c.only_new) or '–'}"]
    for s in c.systems:
        if s.settings:
            lines += ["", f"**{s.system}** settings changed: " + "; ".join(f"`{k}` {old!r} → {new!r}"
                                                                          for k, (old, new) in s.settings.items())]
        if s.flips:
            lines += ["", f"**{s.system}**: {len(s.flips)} answers flipped", "", "| id | flip | old answer | new answer |",
                      "|---|---|---|---|"]
            lines += [f"| {f.id} | {f.direction} | {(f.old_answer or '').replace('|', '/')} | "
                      f"{(f.new_answer or '').replace('|', '/')} |" for f in s.flips]
    return lines
