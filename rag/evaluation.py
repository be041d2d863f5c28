"""Retrieval quality on the calibration sets in tests/data/.

- in-domain questions with the document that answers them: recall@1, recall@3, MRR, the share
  answered (confidence at or above the threshold) and, of those, answered from the right document;
- questions the documents cannot answer: the share the assistant abstains on.

One pair of sets per language (`SETS`), each looked up in its language, as the assistant does for a
conversation in it; the Vietnamese in-domain figures are also given for questions with and without
diacritics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from core.settings import PROJECT_ROOT
from rag.chunking import fold
from rag.knowledge import Knowledge

QUESTIONS_FILE = PROJECT_ROOT / "tests" / "data" / "rag_questions.yml"
UNANSWERABLE_FILE = PROJECT_ROOT / "tests" / "data" / "rag_unanswerable.txt"
SETS = {  # language -> (in-domain questions, unanswerable questions)
    "en": (QUESTIONS_FILE, UNANSWERABLE_FILE),
    "vi": (
        PROJECT_ROOT / "tests" / "data" / "rag_questions_vi.yml",
        PROJECT_ROOT / "tests" / "data" / "rag_unanswerable_vi.txt",
    ),
}
RANK_DEPTH = 10


@dataclass(frozen=True)
class Report:
    threshold: float
    questions: int
    recall_at_1: float
    recall_at_3: float
    mrr: float
    answered: float  # share of in-domain questions answered
    precision: float  # of those answered, the share answered from the right document
    unanswerable: int
    abstention: float  # share of unanswerable questions the assistant declines
    language: str = "en"
    recall_at_1_with_diacritics: float | None = None  # in-domain questions written with diacritics (or None)
    recall_at_1_without_diacritics: float | None = None

    def lines(self) -> list[str]:
        split = (
            [
                f"  recall@1 with diacritics {self.recall_at_1_with_diacritics:.3f}   "
                f"without {self.recall_at_1_without_diacritics:.3f}"
            ]
            if self.recall_at_1_with_diacritics is not None and self.recall_at_1_without_diacritics is not None
            else []
        )
        return [
            f"[{self.language}] in-domain questions: {self.questions}",
            f"  recall@1 {self.recall_at_1:.3f}   recall@3 {self.recall_at_3:.3f}   MRR {self.mrr:.3f}",
            *split,
            f"  answered {self.answered:.3f}   answer precision {self.precision:.3f}   (threshold {self.threshold:.2f})",
            f"unanswerable questions: {self.unanswerable}",
            f"  abstention {self.abstention:.3f}",
        ]


@dataclass(frozen=True)
class Ranking:
    sources: list[str]  # distinct source documents, best first
    confidence: float


def load_questions(path: Path = QUESTIONS_FILE) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(row["question"], row["source"]) for row in data["questions"]]


def load_unanswerable(path: Path = UNANSWERABLE_FILE) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def rank(knowledge: Knowledge, question: str, language: str | None = None) -> Ranking:
    found = knowledge.retrieve(question, RANK_DEPTH, language)
    return Ranking(list(dict.fromkeys(hit.chunk.source for hit in found.hits)), found.confidence)


def has_diacritics(text: str) -> bool:
    return fold(text) != text.lower()


def score(
    rankings: list[tuple[Ranking, str]],
    declines: list[Ranking],
    threshold: float,
    language: str = "en",
    accented: list[bool] | None = None,
) -> Report:
    """The report for rankings of in-domain questions (with their expected source) and of unanswerable ones;
    `accented` marks the questions written with diacritics (for the split of recall@1)."""
    ranks = [r.sources.index(source) + 1 if source in r.sources else 0 for r, source in rankings]
    answered = [(r, n) for (r, _), n in zip(rankings, ranks, strict=True) if r.confidence >= threshold]
    count = len(rankings)

    def recall_where(wanted: bool) -> float | None:
        if not accented:
            return None
        chosen = [n for n, a in zip(ranks, accented, strict=True) if a == wanted]
        return sum(n == 1 for n in chosen) / len(chosen) if chosen else None

    return Report(
        threshold=threshold,
        questions=count,
        recall_at_1=sum(n == 1 for n in ranks) / count,
        recall_at_3=sum(1 <= n <= 3 for n in ranks) / count,
        mrr=sum(1 / n for n in ranks if n) / count,
        answered=len(answered) / count,
        precision=sum(n == 1 for _, n in answered) / len(answered) if answered else 0.0,
        unanswerable=len(declines),
        abstention=sum(r.confidence < threshold for r in declines) / len(declines),
        language=language,
        recall_at_1_with_diacritics=recall_where(True),
        recall_at_1_without_diacritics=recall_where(False),
    )


def evaluate(knowledge: Knowledge, thresholds: list[float] | None = None, language: str = "en") -> list[Report]:
    """Reports on the language's calibration sets, at its configured threshold or at each of `thresholds`."""
    questions_file, unanswerable_file = SETS[language]
    questions = load_questions(questions_file)
    rankings = [(rank(knowledge, q, language), source) for q, source in questions]
    declines = [rank(knowledge, q, language) for q in load_unanswerable(unanswerable_file)]
    accented = [has_diacritics(q) for q, _ in questions] if language != "en" else None
    return [score(rankings, declines, t, language, accented) for t in (thresholds or [knowledge.threshold(language)])]
