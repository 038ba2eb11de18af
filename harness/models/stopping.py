"""Where a transformers generator's reply stops: at EOS, or at its first line break once it holds text.

torch and transformers are imported only when a batch is generated.
"""
from __future__ import annotations

from functools import cache

# In every answer's cache key (answering.Answerer._key): where a reply stops. 2: at EOS, or at a line break
# once the reply holds text (line breaks before any text pass); 1 stopped at the first line break, so a
# reply that opened with one was empty.
STOP_RULE = 2


def line_tokens(model, tokenizer):
    """Per token id, as the tokenizer decodes it alone (so SentencePiece, byte-level and byte-fallback
    spellings of a line break all count): (holds a line break, holds text, holds a line break after
    its text). Special tokens decode to nothing, as they do in an answer; ids past the tokenizer's
    vocabulary (an output layer padded wider) are neither."""
    import torch

    config = model.config
    config = getattr(config, "text_config", None) or config
    known = len(tokenizer)
    size = max(known, getattr(config, "vocab_size", 0) or 0)
    pieces = tokenizer.batch_decode([[i] for i in range(known)], skip_special_tokens=True)
    pieces += [""] * (size - known)
    kinds = [[("\n" in p), bool(p.strip()), ("\n" in p.lstrip())] for p in pieces]
    return torch.tensor(kinds, dtype=torch.bool, device=model.device).unbind(1)


@cache
def first_line_criteria():
    """The StoppingCriteria class of HFGenerator._first_line (transformers is imported only when used)."""
    import torch
    from transformers import StoppingCriteria

    class FirstLine(StoppingCriteria):
        """Per row: stop at a line break once the reply holds text. Computed from the reply's tokens alone
        at every step (no state), so a deferred or repeated check gives the same answer."""

        def __init__(self, start: int, breaks, text, ends_line):
            self.start, self.breaks, self.text, self.ends_line = start, breaks, text, ends_line

        def __call__(self, input_ids, scores, **kwargs):
            reply = input_ids[:, self.start:].to(self.breaks.device)
            if reply.shape[1] == 0:
                return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            last = reply[:, -1]
            wrote = self.text[reply[:, :-1]].any(dim=1)
            return ((self.breaks[last] & wrote) | self.ends_line[last]).to(input_ids.device)

    return FirstLine
