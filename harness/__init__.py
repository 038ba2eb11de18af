"""The harness: a library and a pytest plugin that evaluate RAG against fine-tuning.

The packages read as the data flow, and each imports only the ones before it
(import-linter checks it: pyproject.toml, ``[tool.importlinter]``):

- ``core``: errors, registries, the disk cache, progress, the environment check;
- ``inputs``: a suite's files (YAML, corpus, evidence spans, training pairs), validated;
- ``models``: generator backends, prompts, cached answering;
- ``retrieval``: chunking, embedders, retrievers, rerankers, the retrieval pipeline;
- ``training``: LoRA adapters, training pairs synthesized and decontaminated;
- then the system kinds (the top-level ``systems`` package) and ``judges`` (judges, human labels
  and reviews);
- ``suite``: a suite folder loaded into one object; ``contexts``: the models of one process, shared by
  every system and judge; ``run``: one evaluation, each system's answers and verdicts;
- ``results``: the records of a run into one typed ``RunReport``, the gate, the statistics;
- ``render``: the scorecard, report.html and charts, each drawn from a ``RunReport``;
- ``plugin``, ``cli`` and ``sweep``: the pytest plugin and the command line, glue only.
"""
import logging

# torchao (the gptq extra brings it; transformers and peft import it) logs its missing CUDA kernels and
# its pytree registrations at every model load: noise on a CPU, never a fault of the user's run.
for _name in ("torchao", "torch.utils._pytree"):
    logging.getLogger(_name).setLevel(logging.ERROR)
