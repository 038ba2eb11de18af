"""No evaluation question may leak into the training pairs, reworded or lightly edited."""
import pytest

from harness.retrieval import embed_cached
from harness.training.decontam import find_leaks, side_by_side


def test_training_pairs_do_not_leak_evaluation_questions(eval_run):
    suite = eval_run.suite
    if suite.train_pairs is None:
        pytest.skip(f"the suite has no {suite.config.training.file}")
    limits = suite.config.training.decontamination
    embedder = eval_run.models.embedder(limits.embedder)
    leaks = find_leaks([p.question for p in suite.train_pairs], [(q.id, q.question) for q in suite.questions],
                       lambda texts: embed_cached(embedder, texts, eval_run.models.cache),
                       max_ngram_jaccard=limits.max_ngram_jaccard, max_cosine=limits.max_cosine)
    if leaks:
        pytest.fail(f"{len(leaks)} training question(s) too close to evaluation questions "
                    f"(3-gram jaccard > {limits.max_ngram_jaccard} or cosine > {limits.max_cosine}):\n"
                    + side_by_side(leaks), pytrace=False)
