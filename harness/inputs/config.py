"""Validated shapes of the suite's YAML files (pydantic, unknown fields rejected)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from harness.inputs.yamlfile import scalar_text

DEFAULT_INSTRUCTIONS = (
    "You are an expert on the rules of the sport described in the reference material. "
    "Answer each question in at most ten words."
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A text field keeps what the user wrote: `answer: 6.50` is "6.50", and `answer: true` asks for quotes.
Text = Annotated[str, BeforeValidator(scalar_text)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


class Question(Strict):
    id: Text
    question: Text
    answer: Text
    accept: list[Text] = []
    evidence: list[Text] = []
    tags: list[Text] = []
    source: Text = ""  # where its fact is (file, file#2.1, file@START-END); harness draft writes it
    # set by `harness review --drafts`: drafted by a model, accepted as it was or with its gold edited
    drafted: Literal["unchanged", "edited"] | None = None

    _blank = field_validator("id", "question", "answer")(_not_blank)


class Example(Strict):
    question: Text
    answer: Text


class Chunking(Strict):
    tokens: int = Field(100, gt=0)
    overlap: int = Field(50, ge=0)

    @model_validator(mode="after")
    def _overlap_below_size(self):
        if self.overlap >= self.tokens:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than tokens ({self.tokens})")
        return self


class Generation(Strict):
    max_new_tokens: int = Field(24, gt=0)
    batch_size: int = Field(8, gt=0)  # prompts prefilled together (transformers backend)
    # Rows decoded together, one token each per step (transformers backend): a step reads every weight
    # whatever its rows, so more rows cost less each (harness/models/decoding.py).
    decode_rows: int = Field(32, gt=0)
    prompt_style: Literal["auto", "completion", "chat"] = "auto"
    # Weights of a local transformers generator while answering (training always uses float32).
    # auto: bfloat16 on a GPU that supports it; on a CPU, bfloat16 where it measured at least 1.25x
    # faster than float32 on the model's own shapes (once per machine, harness/core/dtype.py), else float32.
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    # Requests in flight at once to a server (openai backend, and an LLM judge on one): vLLM batches
    # what arrives together. It changes how fast answers come, not what they are.
    max_concurrency: int = Field(16, gt=0)


class JudgeConfig(Strict):
    name: str = "match"
    model: str | None = None  # generator spec for llm/hybrid; default: the suite's generator
    max_new_tokens: int = Field(32, gt=0)


class Calibration(Strict):
    """Human-labelled candidates the judge is checked against (evals/test_judge.py)."""

    file: str = "judge_calibration.yaml"
    min_agreement: float = Field(0.9, ge=0, le=1)
    min_kappa: float = Field(0.75, ge=-1, le=1)


class RealAnswers(Strict):
    """Hand labels of answers the systems really gave, and the judge's limits on them (evals/test_judge.py)."""

    file: str = "judge_real_answers.yaml"
    min_agreement: float = Field(0.9, ge=0, le=1)
    min_kappa: float = Field(0.75, ge=-1, le=1)
    max_gap: float = Field(0.05, ge=0, le=1)  # any one system's judged minus labelled accuracy, either way


class LoraSettings(Strict):
    """LoRA fine-tuning settings; a suite's lora systems may override any of them."""

    rank: int = Field(8, gt=0)
    alpha: int = Field(16, gt=0)
    # PEFT's default. On CPU, drawing dropout masks for every adapted layer was 18% of a training step.
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: Literal["all-linear"] | list[str] = "all-linear"
    epochs: float = Field(2, gt=0)
    learning_rate: float = Field(1e-3, gt=0)
    batch_size: int = Field(8, gt=0)
    max_length: int = Field(64, gt=8)  # prompt + answer tokens; longer pairs are cut
    eval_fraction: float = Field(0.1, ge=0, lt=1)  # held out of training for the eval-loss curve
    seed: int = 0
    phrasings: int | None = Field(None, ge=1)  # at most this many pairs per source; None: all
    # at most this many pairs per fact (harness.training.facts: a pair's fact: id, else clustered); None: all
    pairs_per_fact: int | None = Field(None, ge=1)
    seeds: list[int] | None = None  # one adapter per seed; None: one adapter, trained with `seed`
    # pairs: question/answer pairs of train.yaml, loss on the answers. corpus: the documents themselves,
    # next-token loss on every token of max_length-token chunks (unsupervised, Ovadia et al. 2024).
    train_on: Literal["pairs", "corpus"] = "pairs"
    # The matrix products of training: float32, or bfloat16 autocast (float32 master weights). auto:
    # bfloat16 where generation chose it (a GPU that supports it, a CPU where it measured faster).
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, value):
        if value is not None:
            if not value:
                raise ValueError("must list at least one seed")
            repeated = sorted({s for s in value if value.count(s) > 1})
            if repeated:
                raise ValueError(f"duplicate seeds {repeated}")
        return value


class Decontamination(Strict):
    """A training question closer than this to an evaluation question is a leak."""

    max_ngram_jaccard: float = Field(0.5, gt=0, le=1)  # word 3-grams
    max_cosine: float = Field(0.9, gt=0, le=1)  # embedding cosine similarity
    embedder: str = "minilm"


class Training(Strict):
    file: str = "train.yaml"
    decontamination: Decontamination = Decontamination()
    lora: LoraSettings = LoraSettings()


class Changes(Strict):
    """The change study (harness/inputs/changes.py): which reviewed change set, and how adapters catch up."""

    file: str | None = None  # a file of changes/; None: the only one there (none there: no study)
    # update: the old adapter trained further on the changed material alone (TemporalWiki, 2204.14211);
    # full: a new adapter trained on all the material as it reads after the change
    refresh: Literal["update", "full"] = "update"


class SuiteConfig(Strict):
    """``suite.yaml``. Systems are names of built-in systems or mappings ``{name, kind, ...options}``."""

    name: str | None = None
    instructions: str = DEFAULT_INSTRUCTIONS
    examples: list[Example] = []
    generator: str = "gemma3-270m"
    generation: Generation = Generation()
    chunking: Chunking = Chunking()
    top_k: int = Field(3, gt=0)
    judge: JudgeConfig = JudgeConfig()
    calibration: Calibration = Calibration()
    real_answers: RealAnswers = RealAnswers()
    training: Training = Training()
    changes: Changes = Changes()
    systems: list[str | dict] | None = None
    thresholds: dict[str, dict[str, float]] = {}

    @field_validator("judge", mode="before")
    @classmethod
    def _judge_by_name(cls, value):
        return {"name": value} if isinstance(value, str) else value
