"""Training progress in the terminal (step/total, loss, time left), as a transformers callback."""
from __future__ import annotations

from contextlib import ExitStack

from harness.core.progress import progress


def progress_callback(phase: str):
    """A TrainerCallback that reports ``phase`` through harness.core.progress; made on demand, so that
    importing this module does not import transformers."""
    from transformers import TrainerCallback

    class TrainingProgress(TrainerCallback):
        def __init__(self):
            self.stack, self.bar = ExitStack(), None

        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = self.stack.enter_context(progress(phase, total=state.max_steps, unit="steps"))

        def on_step_end(self, args, state, control, **kwargs):
            self.bar.update(1)

        def on_log(self, args, state, control, logs=None, **kwargs):
            losses = {name: logs[key] for name, key in (("loss", "loss"), ("eval loss", "eval_loss"))
                      if logs and key in logs}
            if losses and self.bar is not None:
                self.bar.update(0, **losses)

        def on_train_end(self, args, state, control, **kwargs):
            self.stack.close()

    return TrainingProgress()
