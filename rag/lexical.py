"""Word overlap beside the embeddings: short questions and names the embedding reads loosely.

Two signals, both from the words of the knowledge documents (stop words out, plain suffixes off; diacritics
folded, so "gui xe may" and "gửi xe máy" are the same words):
- `coverage`: the idf-weighted share of the question's words that a chunk contains; it reorders
  the nearest chunks, so "do you speak english" finds the sentence that says "speak ... English".
- `known_share`: the share of the question's words the documents use at all; a question about
  bitcoin or the weather uses words the spa's documents never do, which lowers the confidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from rag.chunking import fold

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
# Vietnamese function words, pronouns and particles, folded ("có" -> "co") and in Messenger shorthand ("ko",
# "dc"). Left out on purpose where folding makes them content words: "dau" (đậu, park), "may" (máy), "muon"
# (muộn, late), "lam" (làm móng).
VIETNAMESE_STOP_WORDS = frozenset(
    [
        "co",
        "ko",
        "k",
        "kh",
        "khong",
        "hong",
        "hok",
        "hem",
        "cho",
        "minh",
        "mik",
        "mk",
        "em",
        "anh",
        "chi",
        "ban",
        "toi",
        "tui",
        "t",
        "oi",
        "a",
        "ah",
        "ak",
        "ha",
        "nha",
        "nhe",
        "nhen",
        "nhi",
        "vay",
        "v",
        "ha",
        "la",
        "thi",
        "gi",
        "j",
        "nao",
        "sao",
        "bao",
        "nhieu",
        "bn",
        "bnhiu",
        "duoc",
        "dc",
        "dk",
        "hay",
        "hoac",
        "va",
        "voi",
        "cua",
        "o",
        "cac",
        "nhung",
        "mot",
        "nay",
        "kia",
        "ay",
        "se",
        "da",
        "dang",
        "roi",
        "nua",
        "can",
        "phai",
        "vui",
        "long",
        "xin",
        "hoi",
        "cam",
        "on",
        "shop",
        "ntn",
        "nhu",
        "the",
        "nao",
        "gium",
        "giup",
        "ve",
        "di",
        "den",
        "tu",
        "ra",
        "vao",
    ]
)
_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ing", "es", "ed", "s")


def stop_words(language: str | None) -> frozenset[str]:
    """The stop words of a language; both lists for a question of unknown language."""
    if language == "en":
        return STOP_WORDS
    if language == "vi":
        return VIETNAMESE_STOP_WORDS
    return STOP_WORDS | VIETNAMESE_STOP_WORDS


def words(text: str, language: str | None = "en") -> list[str]:
    """Content words, lower case without diacritics; English ones with a plain suffix removed ("lockers" -> "locker")."""
    out = []
    stop = stop_words(language)
    for word in _WORD.findall(fold(text).replace("wi-fi", "wifi")):
        if word in stop or len(word) < 2:
            continue
        if language != "vi":
            for suffix in _SUFFIXES:
                if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                    word = word[: -len(suffix)]
                    break
        out.append(word)
    return out


class Lexicon:
    def __init__(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> None:
        languages = languages or ["en"] * len(texts)
        self.chunk_words = [frozenset(words(text, language)) for text, language in zip(texts, languages, strict=True)]
        self.languages = list(languages)
        frequency: dict[str, int] = {}
        per_language: dict[str, dict[str, int]] = {}
        counts: dict[str, int] = {}
        for chunk_words, language in zip(self.chunk_words, languages, strict=True):
            counts[language] = counts.get(language, 0) + 1
            of_language = per_language.setdefault(language, {})
            for word in chunk_words:
                frequency[word] = frequency.get(word, 0) + 1
                of_language[word] = of_language.get(word, 0) + 1
        self.frequency = frequency
        self.per_language = per_language
        self.vocabulary = {language: frozenset(known) for language, known in per_language.items()}
        self._count = len(texts)
        self._counts = counts

    def idf(self, word: str, language: str | None = None) -> float:
        """Inverse document frequency among the chunks of `language` (of all chunks when None)."""
        if language is None:
            return math.log((self._count + 1) / (self.frequency.get(word, 0) + 0.5))
        count = self._counts.get(language, 0)
        return math.log((count + 1) / (self.per_language.get(language, {}).get(word, 0) + 0.5))

    def coverage(self, question_words: Sequence[str], chunk: int) -> float:
        """The idf-weighted share of the words that the chunk contains (idf among chunks of its language)."""
        if not question_words:
            return 0.0
        language = self.languages[chunk]
        total = sum(self.idf(w, language) for w in question_words)
        found = sum(self.idf(w, language) for w in question_words if w in self.chunk_words[chunk])
        return found / total if total > 0 else 0.0

    def known_share(self, question_words: Sequence[str], language: str | None = None) -> float:
        """The share of the words that the documents (of `language`, when given) use."""
        if not question_words:
            return 0.0
        known = self.frequency if language is None else self.vocabulary.get(language, frozenset())
        return sum(1 for w in question_words if w in known) / len(question_words)
