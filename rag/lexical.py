"""Word overlap beside the embeddings: short questions and names the embedding reads loosely.

Two signals, both from the words of the knowledge documents (stop words out, plain suffixes off):
- `coverage`: the idf-weighted share of the question's words that a chunk contains; it reorders
  the nearest chunks, so "do you speak english" finds the sentence that says "speak ... English".
- `known_share`: the share of the question's words the documents use at all; a question about
  bitcoin or the weather uses words the spa's documents never do, which lowers the confidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "done",
        "i",
        "me",
        "my",
        "mine",
        "we",
        "us",
        "our",
        "you",
        "your",
        "yours",
        "u",
        "ur",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "can",
        "could",
        "will",
        "would",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "into",
        "onto",
        "over",
        "under",
        "up",
        "down",
        "out",
        "off",
        "and",
        "or",
        "but",
        "if",
        "so",
        "not",
        "no",
        "yes",
        "there",
        "here",
        "any",
        "some",
        "all",
        "much",
        "many",
        "more",
        "most",
        "other",
        "than",
        "too",
        "very",
        "just",
        "also",
        "get",
        "got",
        "have",
        "has",
        "had",
        "im",
        "id",
        "ive",
        "youre",
        "ok",
        "okay",
        "please",
        "pls",
        "thanks",
        "hi",
        "hello",
        "hey",
        "whats",
        "there's",
        "what's",
        "it's",
        "i'm",
        "i'd",
        "i've",
        "let",
        "lets",
        "want",
        "wanna",
        "need",
    ]
)
_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ing", "es", "ed", "s")


def words(text: str) -> list[str]:
    """Content words, lower case, with a plain suffix removed ("lockers" -> "locker")."""
    out = []
    for word in _WORD.findall(text.lower().replace("wi-fi", "wifi")):
        if word in STOP_WORDS or len(word) < 2:
            continue
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        out.append(word)
    return out


class Lexicon:
    def __init__(self, texts: Sequence[str]) -> None:
        self.chunk_words = [frozenset(words(text)) for text in texts]
        frequency: dict[str, int] = {}
        for chunk_words in self.chunk_words:
            for word in chunk_words:
                frequency[word] = frequency.get(word, 0) + 1
        self.frequency = frequency
        self._count = len(texts)

    def idf(self, word: str) -> float:
        return math.log((self._count + 1) / (self.frequency.get(word, 0) + 0.5))

    def coverage(self, question_words: Sequence[str], chunk: int) -> float:
        if not question_words:
            return 0.0
        total = sum(self.idf(w) for w in question_words)
        found = sum(self.idf(w) for w in question_words if w in self.chunk_words[chunk])
        return found / total if total > 0 else 0.0

    def known_share(self, question_words: Sequence[str]) -> float:
        if not question_words:
            return 0.0
        return sum(1 for w in question_words if w in self.frequency) / len(question_words)
