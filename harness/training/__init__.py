"""Fine-tuning: LoRA adapters trained with TRL and PEFT (``lora``; on the documents themselves:
``corpus``), the cache of trained adapters (``adapters``), training progress, training pairs
synthesized from the corpus (``synth``) and checked against the evaluation questions (``decontam``),
and evaluation questions and training pairs drafted from the corpus for review (``draft``), with
what synthesis and drafting share (``writing``).

May import harness.core, harness.inputs, harness.models and harness.retrieval.
"""
