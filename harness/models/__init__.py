"""Models: the generator backends and what answers with them.

``base`` (the Generator protocol, the ``BACKENDS`` registry, ``make_generator``), one module per
backend (``hf``, ``openai``, ``llamacpp``; ``adapter`` puts a LoRA adapter on ``hf``; ``hf_dtype``,
``hf_gguf``, ``padding`` and ``stopping`` are ``hf``'s dtype choice, GGUF conversion, batches and stop), the
packaged default (``embedded``), ``hub`` (is a model available offline), ``prompts`` and
``answering`` (prompts in, cached answers out). May import harness.core and harness.inputs only.
No module here imports torch at import time.
"""
from harness.models.adapter import AdapterGenerator
from harness.models.base import BACKENDS, Generator, make_generator
from harness.models.embedded import EMBEDDED, embedded_gguf, embedded_sha
from harness.models.hf import HFGenerator
from harness.models.hub import hub_unavailable_reason
from harness.models.llamacpp import LlamaCppGenerator
from harness.models.openai import OpenAICompatibleGenerator

__all__ = ["BACKENDS", "EMBEDDED", "AdapterGenerator", "Generator", "HFGenerator", "LlamaCppGenerator",
           "OpenAICompatibleGenerator", "embedded_gguf", "embedded_sha", "hub_unavailable_reason",
           "make_generator"]
