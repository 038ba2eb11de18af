"""Fine-tuning: LoRA adapters trained with TRL and PEFT (``lora``), the cache of trained adapters
(``adapters``), training progress, training pairs synthesized from the corpus (``synth``) and
checked against the evaluation questions (``decontam``).

May import harness.core, harness.inputs, harness.models and harness.retrieval.
"""
