"""harness draft and harness synth: evidence-first drafts, every check counted, nothing lost.

The generator is the scripted ``drafter`` backend (tests/fakes.py), registered through the real
registry; the embedder is ``bow`` (bags of words), so near-duplicates are exact word matches.
"""
import json

import pytest
import yaml
from fakes import DraftingGenerator
from throwaway import results, run

from harness import cli
from harness.training import writing

MANUAL = """# 1 Opening hours

The front office opens at eight every weekday morning.
Visitors must sign the register at the reception desk.

# 2 Parking

Staff members park in the north car park behind the building.
The south car park is reserved for visitors and for deliveries.

# 3 Safety

Fire drills are held on the first Monday of every month.
Everyone leaves through the nearest marked exit during a drill.
"""


def ok(question, answer):
    return (f" {question}\nAnswer: {answer}\n\nPassage: more text", "")


RULES = {
    # parses at once, a reply in the completion layout
    "front office opens": ok("When does the front office open on weekdays?", "At eight."),
    # unparsable at first; the stricter prompt's reply opens with a line break, then JSON
    "sign the register": ("I am not sure what you mean", '\n{"question": "What must visitors sign?", '
                                                           '"answer": "The register."}'),
    # JSON in prose, with an answer the span does not hold: kept, marked uncertain
    "north car park": ('Sure! {"question": "Where do staff members park?", "answer": "In the garage."} Hope it helps.',
                       ""),
    # invalid JSON, twice: unparsable
    "south car park": ('{"question": "Who may use the south car park?", "answer": }', '{"question": "Who?" "answer"'),
    # evidence quoted that the corpus does not hold
    "Fire drills": ('{"question": "When are fire drills held?", "answer": "Every Friday.", '
                    '"evidence": "Fire drills are held every Friday."}', ""),
    # the question holds its own answer
    "nearest marked exit": ok("Does everyone leave through the nearest marked exit?", "The nearest marked exit."),
}


@pytest.fixture
def suite_dir(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "manual.md").write_text(MANUAL)
    DraftingGenerator.RULES, DraftingGenerator.DEFAULT = dict(RULES), ("", "")
    DraftingGenerator.PROMPTS = []
    return tmp_path


def draft(suite_dir, capsys, *extra):
    code = cli.main(["draft", "--suite", str(suite_dir), "--generator", "drafter:x", "--embedder", "bow",
                     "--cache-dir", str(suite_dir / ".cache"), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_check_is_counted_in_one_summary_line(suite_dir, capsys):
    code, out, err = draft(suite_dir, capsys, "--questions", "6", "--pairs-per-chunk", "0")
    assert code == 0, err
    assert out.splitlines()[0] == (
        "drafted 3 questions and 0 training pairs with drafter:x: 1 documents, 3 sections, 6 facts; spread "
        "proportional by length (manual.md 3 from 2 sections); 8 replies, 2 retried with a stricter prompt, "
        "1 unparsable, 1 with evidence not in the corpus, 1 answers not in their span (marked uncertain), "
        "0 duplicates, 1 answered by the question alone, 0 training pairs too close to a question")
    drafted = yaml.safe_load((suite_dir / "questions.draft.yaml").read_text())
    assert [d["question"] for d in drafted] == ["When does the front office open on weekdays?",
                                                "What must visitors sign?", "Where do staff members park?"]
    first = drafted[0]
    assert first == {"id": "d001", "question": "When does the front office open on weekdays?", "answer": "At eight.",
                     "evidence": ["The front office opens at eight every weekday morning."],
                     "source": first["source"], "section": "1 Opening hours", "status": "draft"}
    start, end = map(int, first["source"].split("@")[1].split("-"))
    assert MANUAL[start:end] == first["evidence"][0]  # verbatim, where the source says
    assert drafted[2]["uncertain"] is True and "uncertain" not in drafted[1]
    assert not (suite_dir / "train.draft.yaml").exists()  # no pairs: no file, never an empty one
    assert not (suite_dir / "questions.yaml").exists()


def test_facts_are_drawn_again_until_the_questions_asked_for_are_drafted(suite_dir, capsys):
    # The first round asks the 2nd, 4th and 6th facts: one parses after a retry, one never parses, one
    # answers itself. Short of 2 with 1 of 3 kept, the next round asks the other 3 facts: 2 are kept.
    code, out, err = draft(suite_dir, capsys, "--questions", "3", "--pairs-per-chunk", "0")
    assert code == 0, err
    assert out.splitlines()[0] == (
        "drafted 3 questions and 0 training pairs with drafter:x: 1 documents, 3 sections, 6 facts; spread "
        "proportional by length (manual.md 3 from 2 sections); 8 replies, 2 retried with a stricter prompt, "
        "1 unparsable, 1 with evidence not in the corpus, 1 answers not in their span (marked uncertain), "
        "0 duplicates, 1 answered by the question alone, 0 training pairs too close to a question; "
        "3 more facts asked to make up for dropped drafts")
    drafted = yaml.safe_load((suite_dir / "questions.draft.yaml").read_text())
    assert [d["question"] for d in drafted] == ["What must visitors sign?", "When does the front office open on weekdays?",
                                                "Where do staff members park?"]


def test_training_pairs_come_in_phrasings_and_leaks_are_dropped(suite_dir, capsys):
    DraftingGenerator.RULES = {  # rewordings first: their question holds the words of the facts' rules
        "When does the front office": ("On weekdays, at what time does the front office open?", ""),
        "Who may use": ("nonsense", '{"question": "Who is allowed to use the south car park?"}'),
        "Which exit": ("Which exit does everyone use during a drill?", ""),  # no new wording: a duplicate
        "front office opens": ok("When does the front office open on weekdays?", "At eight."),
        "south car park": ok("Who may use the south car park?", "Visitors and deliveries."),
        "nearest marked exit": ok("Which exit does everyone use during a drill?", "The nearest marked exit."),
    }
    code, out, err = draft(suite_dir, capsys, "--questions", "1", "--pairs-per-chunk", "1", "--phrasings", "2")
    assert code == 0, err
    # the question: the middle fact (south car park); pairs: the longest fact of each section, each
    # reworded once; the pair of the fact the question asks about repeats the question: a leak
    assert out.splitlines()[0] == (
        "drafted 1 questions and 4 training pairs with drafter:x: 1 documents, 3 sections, 6 facts; spread "
        "proportional by length (manual.md 1 from 1 sections); 8 replies, 1 retried with a stricter prompt, "
        "0 unparsable, 0 with evidence not in the corpus, 0 answers not in their span (marked uncertain), "
        "1 duplicates, 0 answered by the question alone, 1 training pairs too close to a question")
    pairs = yaml.safe_load((suite_dir / "train.draft.yaml").read_text())
    assert [p["question"] for p in pairs] == [
        "When does the front office open on weekdays?", "On weekdays, at what time does the front office open?",
        "Who is allowed to use the south car park?", "Which exit does everyone use during a drill?"]
    assert pairs[0]["source"] == pairs[1]["source"] != pairs[2]["source"]  # phrasings of one fact share its source
    assert [p["fact"] for p in pairs] == [p["source"] for p in pairs]  # and its fact: the sentence drafted from
    assert all(p["status"] == "draft" for p in pairs)


def test_duplicates_are_counted_and_an_earlier_draft_is_never_overwritten(suite_dir, capsys):
    DraftingGenerator.RULES["sign the register"] = ok("When does the front office open on weekdays?", "At eight.")
    draft(suite_dir, capsys, "--questions", "6", "--pairs-per-chunk", "0")
    first = (suite_dir / "questions.draft.yaml").read_text()
    code, out, _ = draft(suite_dir, capsys, "--questions", "6", "--pairs-per-chunk", "0")
    assert "1 duplicates" in out.splitlines()[0]
    assert (suite_dir / "questions.draft.yaml").read_text() == first
    assert "questions.draft.2.yaml" in out
    code, out, _ = draft(suite_dir, capsys, "--questions", "6", "--pairs-per-chunk", "0", "--append")
    assert "drafted 0 questions" in out.splitlines()[0]  # all already in the draft: counted as duplicates
    assert code == 2 and yaml.safe_load((suite_dir / "questions.draft.yaml").read_text()) == yaml.safe_load(first)


def test_a_generator_that_cannot_draft_stops_after_the_first_batch(suite_dir, capsys):
    facts = "\n".join(f"Rule {i} says that every visitor number {i} must wear a badge." for i in range(20))
    (suite_dir / "corpus" / "manual.md").write_text(f"# 1 Badges\n\n{facts}\n")
    DraftingGenerator.RULES = {}
    code, _, err = draft(suite_dir, capsys, "--questions", "20", "--pairs-per-chunk", "0")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("error: drafting questions: 0 of the first 8 replies of drafter:x parsed, even asked again "
                          "with a stricter prompt; stopped before the other 12.")
    assert len(DraftingGenerator.PROMPTS) == 16  # 8, and 8 stricter: the other 12 never asked
    assert not list(suite_dir.glob("*.yaml"))


def test_replies_are_cached_so_a_rerun_asks_nothing(suite_dir, capsys):
    draft(suite_dir, capsys, "--questions", "6", "--pairs-per-chunk", "0")
    asked = len(DraftingGenerator.PROMPTS)
    draft(suite_dir, capsys, "--questions", "6", "--pairs-per-chunk", "0")
    assert asked == 8 and len(DraftingGenerator.PROMPTS) == asked


def test_the_embedded_default_is_called_weak(monkeypatch):
    class Embedded:
        identity = "hf:gemma3-270m@sha256:abc"

    assert "is weak" in writing.weak_note(Embedded())
    assert writing.weak_note(type("Other", (), {"identity": "openai:big@url"})()) == ""


def test_synth_keeps_train_yaml_and_never_writes_an_empty_file(suite_dir, capsys):
    (suite_dir / "questions.yaml").write_text('- {id: q1, question: "When do drills happen?", answer: Mondays}\n')
    (suite_dir / "train.yaml").write_text('- {question: "Who parks north?", answer: Staff., source: manual.md}\n')
    before = (suite_dir / "train.yaml").read_text()
    pairs = json.dumps([{"question": "Where is the reception desk?", "answer": "At the entrance."}])
    DraftingGenerator.RULES, DraftingGenerator.DEFAULT = {}, (f"\n{pairs}\n", "")  # opens with a line break
    args = ["synth", "--suite", str(suite_dir), "--generator", "drafter:x", "--embedder", "bow",
            "--cache-dir", str(suite_dir / ".cache"), "--pairs-per-chunk", "1"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert (suite_dir / "train.yaml").read_text() == before
    assert "written to" in out and "train.2.yaml" in out
    assert yaml.safe_load((suite_dir / "train.2.yaml").read_text())[0]["question"] == "Where is the reception desk?"
    DraftingGenerator.DEFAULT = ("no json here", "still none")
    (suite_dir / ".cache").rename(suite_dir / ".old-cache")
    assert cli.main(args) == 2
    assert "0 of the first" in capsys.readouterr().err
    assert not (suite_dir / "train.3.yaml").exists()


def test_a_suite_of_documents_alone_says_to_run_harness_draft(project):
    for name in ("questions.yaml", "train.yaml", "judge_calibration.yaml", "judge_real_answers.yaml"):
        (project.path / "suite" / name).unlink(missing_ok=True)
    outcome = run(project)
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["ERROR: *suite/questions.yaml: questions file is missing: draft questions from "
                                  "corpus/ with `harness draft --suite *suite`, then accept them with "
                                  "`harness review --drafts --suite *suite`"])
    assert "Traceback" not in outcome.stdout.str() + outcome.stderr.str()


def test_a_run_never_reads_a_draft_file(project):
    for name in ("questions.draft.yaml", "train.draft.yaml", "questions.draft.2.yaml"):
        (project.path / "suite" / name).write_text("this: [is not: a valid {draft\n")  # would stop any reader
    outcome = run(project, "--systems", "rag-bow")
    assert outcome.ret == 0, outcome.stdout.str()
    assert "draft" not in json.dumps(results(project)["results"])


def test_free_text_runs_past_line_breaks_where_answers_stop(monkeypatch):
    """Drafting's own stop rules, on the server path: a reply that opens with a line break is kept."""
    from openai_standin import StandIn

    from harness.inputs.config import Generation
    from harness.models import make_generator
    from harness.models.writing import write

    reply = '\n{"question": "Who steers?", "answer": "The cox."}\nAnswer: more\n\nPassage: next example'

    class Completing(StandIn):
        def reply(self, path, body, short):
            out = super().reply(path, body, short)
            out["choices"][0]["text"] = reply
            return out

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with Completing() as server:
        gen = make_generator(f"openai:m@{server.url}", Generation(prompt_style="completion"), ".")
        gen.complete(["JSON:"])
        assert "\n" in server.requests[-1]["body"]["stop"]  # an answer stops at a line break: "" from a real server
        assert write(gen, ["JSON:"], 32, stop=("\nPassage:",)) == [
            '{"question": "Who steers?", "answer": "The cox."}\nAnswer: more']
        sent = server.requests[-1]["body"]["stop"]
    assert "\n" not in sent and sent[0] == "\nPassage:"


def test_the_transformers_backend_writes_free_text(tiny_lm, tmp_path):
    from harness.inputs.config import Generation
    from harness.models import make_generator
    from harness.models.writing import _hf_stop_ids, write

    gen = make_generator(str(tiny_lm), Generation(dtype="float32", batch_size=2), tmp_path)
    got = []
    out = write(gen, ["how many players ?", "the team", "the ball"], 6, done=lambda i, r: got.extend(i),
                stop=("\nQuestion:",))
    assert len(out) == 3 and all(isinstance(o, str) for o in out) and sorted(got) == [0, 1, 2]
    assert _hf_stop_ids(gen.tokenizer) == [2]  # the end of text only


def test_review_accepts_edits_and_rejects_drafts_into_the_suite(suite_dir, capsys, monkeypatch):
    from harness.suite import load_suite

    draft(suite_dir, capsys, "--questions", "6", "--pairs-per-chunk", "0")
    assert len(yaml.safe_load((suite_dir / "questions.draft.yaml").read_text())) == 3
    (suite_dir / "train.draft.yaml").write_text(yaml.safe_dump([
        {"question": q, "answer": "In the north car park.", "source": "manual.md@143-204", "status": "draft"}
        for q in ("Where is parking?", "Where do staff members park?", "Where do staff members leave their cars?",
                  "Where are staff cars parked?")]))  # "all" at the second pair accepts the two after it too
    replies = iter(["y", "e At 8 a.m.", "skip", "n", "all"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(replies))
    assert cli.main(["review", "--drafts", "--suite", str(suite_dir)]) == 0
    assert "4 accepted as drafted, 1 accepted with the gold edited, 1 rejected" in capsys.readouterr().out
    suite = load_suite(suite_dir)
    assert [(q.id, q.answer, q.drafted) for q in suite.questions] == [("d001", "At eight.", "unchanged"),
                                                                      ("d002", "At 8 a.m.", "edited")]
    assert suite.questions[0].source.startswith("manual.md@") and suite.questions[0].evidence
    statuses = [d["status"] for d in yaml.safe_load((suite_dir / "questions.draft.yaml").read_text())]
    assert statuses == ["accepted", "edited", "draft"]  # the skipped one waits for the next review
    assert [(p.question, p.drafted) for p in suite.train_pairs] == [
        ("Where do staff members park?", "unchanged"), ("Where do staff members leave their cars?", "unchanged"),
        ("Where are staff cars parked?", "unchanged")]

    replies = iter(["y"])  # a second review asks only what is still pending, then ends at end of input
    monkeypatch.setattr("builtins.input", lambda prompt: next(replies))
    assert cli.main(["review", "--drafts", "--suite", str(suite_dir)]) == 0
    assert [q.id for q in load_suite(suite_dir).questions] == ["d001", "d002", "d003"]


def test_a_copied_worked_example_and_an_answer_in_other_tenses_are_dropped(suite_dir, capsys):
    DraftingGenerator.RULES = {  # the 2nd and 5th facts are asked first; the rest reply nothing
        "sign the register": ok("When have visitors signed the register?", "When they had signed the register."),
        "Fire drills": ok("When does the city library open on a Sunday?", "At seven."),
    }
    code, out, err = draft(suite_dir, capsys, "--questions", "2", "--pairs-per-chunk", "0")
    line = (out + err).splitlines()[0]
    assert "1 answered by the question alone" in line and "1 questions sharing no word with their passage" in line
    assert "drafted 0 questions" in line and not (suite_dir / "questions.draft.yaml").exists()
