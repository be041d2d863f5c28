"""The language a customer writes in: Vietnamese or English, with or without diacritics.

Three kinds of evidence, in order:
- letters only Vietnamese uses (ă â đ ê ô ơ ư, and tone marks English never has) settle it;
- other accented letters ("café", "résumé") go to `lingua`, restricted to English and Vietnamese;
- unaccented text (Vietnamese typed without diacritics, Messenger shorthand, Telex or VNI leftovers
  such as "chieuf" or "die6m") goes to a naive Bayes model of character n-grams and words, trained on
  first use from `language_samples.txt` (the project's own labelled sentences), with lingua's
  opinion as one more vote. Lingua alone reads most unaccented Vietnamese as English.

Text is repaired first: decomposed diacritics are composed, UTF-8 read as Windows-1252 ("Ä‘áº·t")
is read again. A message with nothing to tell ("ok", "yes", "0903 123 456", "15h", a name, a
button payload, an emoji) keeps the conversation's language.

`python -m core.language` rebuilds `language_samples.txt` from the NLU training data (data/nlu/).
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

SAMPLES = Path(__file__).with_name("language_samples.txt")
LANGUAGES = ("en", "vi")

# letters with a horn, breve or circumflex, đ, and tone marks that no English loanword carries
_VI_ONLY = re.compile(r"[ăâđêôơưạảãẹẻẽịỉĩọỏõụủũỳỵỷỹấầẩẫậắằẳẵặếềểễệốồổỗộớờởỡợứừửữự]", re.I)
_ACCENTED = re.compile(r"[à-ÿ]", re.I)
_MOJIBAKE = re.compile(r"Ã.|Ä[‘\x90]|Æ[°¡]|á[º»¼½¾]")
_TOKEN = re.compile(r"\S+")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
_LETTERS = re.compile(r"[^\W\d_]+")
# words customers of both languages use: no evidence either way (the staff's names neither)
_NEUTRAL_WORDS = frozenset(
    [
        "ok",
        "okay",
        "oke",
        "okie",
        "okee",
        "okela",
        "k",
        "yes",
        "yeah",
        "yep",
        "yup",
        "no",
        "nope",
        "hi",
        "hello",
        "helo",
        "hey",
        "hii",
        "bye",
        "byebye",
        "thanks",
        "thank",
        "thx",
        "tks",
        "ty",
        "sorry",
        "sr",
        "pls",
        "lol",
        "haha",
        "hihi",
        "hehe",
        "wow",
        "omg",
        "spa",
        "massage",
        "facial",
        "manicure",
        "pedicure",
        "mani",
        "pedi",
        "nail",
        "nails",
        "swedish",
        "reflexology",
        "am",
        "pm",
        "h",
        "min",
        "ls",
    ]
)
_SHORT = 2  # a message of at most this many words must be clear to change the language
_CLEAR = 0.9  # posterior a short message needs


def repair(text: str | None) -> str:
    """Composed Unicode; text that was UTF-8 read as Windows-1252 read again."""
    text = unicodedata.normalize("NFC", text or "").strip()
    if _MOJIBAKE.search(text):
        for codec in ("cp1252", "latin-1"):
            try:
                text = unicodedata.normalize("NFC", text.encode(codec).decode("utf-8"))
                break
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
    return text


def strip_marks(text: str) -> str:
    """Lower case without diacritics: "Đặt lịch" -> "dat lich"."""
    text = text.lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _content_words(text: str) -> list[str]:
    """The words of a message that can tell a language: no numbers, times, phones, emails, references."""
    words = []
    for token in _TOKEN.findall(text):
        if _EMAIL.match(token):
            continue
        if _VNI.search(token):
            token = _VNI_DIGITS.sub("", token)
        if any(c.isdigit() for c in token):
            continue  # "0903", "15h30", "3pm", "t7", "LS-7K2M9P"
        for word in _LETTERS.findall(token):
            if word.lower() not in _NEUTRAL_WORDS and strip_marks(word) not in _staff_names():
                words.append(word)
    return words


# VNI typing leftovers: tone and vowel digits after a vowel ("die6m", "chie6u2", "da9t")
_VNI = re.compile(r"^[^\W\d_]*[aeiouy][1-9][^\W\d_]*(?:[1-9][^\W\d_]*)?$", re.I)
_VNI_DIGITS = re.compile(r"[1-9]")


class _NaiveBayes:
    """Words and their character n-grams; each word's evidence is capped, so one long English word in a
    Vietnamese sentence ("e muon reschedule qua thu 6") does not outweigh the rest."""

    cap = 3.0

    def __init__(self, rows: list[tuple[str, str]]):
        counts = {lang: Counter() for lang in LANGUAGES}
        self.words = {lang: Counter() for lang in LANGUAGES}
        docs = Counter()
        for lang, text in rows:
            for word in _LETTERS.findall(strip_marks(text)):
                counts[lang].update(_features(word))
                self.words[lang][word] += 1
            docs[lang] += 1
        vocabulary = set().union(*counts.values())
        self.unknown = {}
        self.logp: dict[str, dict[str, float]] = {}
        for lang in LANGUAGES:
            total = sum(counts[lang].values()) + len(vocabulary)
            self.logp[lang] = {f: math.log((c + 1) / total) for f, c in counts[lang].items()}
            self.unknown[lang] = math.log(1 / total)
        self.vocabulary = vocabulary

    def is_vietnamese_word(self, word: str) -> bool:
        vi, en = self.words["vi"][word], self.words["en"][word]
        return vi >= 2 and vi > 3 * en

    def known(self, word: str) -> bool:
        return bool(self.words["vi"][word] or self.words["en"][word])

    def untelex(self, word: str) -> str:
        """A word typed with Telex keys left in ("chieuf", "ddatj", "tieenf") as the plain syllable, when
        that syllable is a Vietnamese word and the typed one is no known word."""
        if self.known(word):
            return word
        plain = word[:-1] if word[-1:] in "sfrxj" and _VOWEL.search(word[:-1]) else word
        for pair, single in (("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"), ("uw", "u")):
            plain = plain.replace(pair, single)
        return plain if plain != word and self.is_vietnamese_word(plain) else word

    def word_margin(self, word: str) -> float:
        feats = [f for f in _features(word) if f in self.vocabulary]
        if not feats:
            return 0.0
        vi = sum(self.logp["vi"].get(f, self.unknown["vi"]) for f in feats)
        en = sum(self.logp["en"].get(f, self.unknown["en"]) for f in feats)
        return max(-self.cap, min(self.cap, (vi - en) / 2))


def _features(word: str) -> list[str]:
    padded = f" {word} "
    feats = ["w:" + word]
    for n in (1, 2, 3, 4):
        feats.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return feats


_VOWEL = re.compile(r"[aeiouy]")


def load_samples(path: Path = SAMPLES) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        lang, _, text = line.partition("\t")
        if lang in LANGUAGES and text.strip():
            rows.append((lang, text.strip()))
    return rows


@lru_cache(maxsize=1)
def _staff_names() -> frozenset[str]:
    from core.business import business

    return frozenset(strip_marks(name) for name in business().staff)


@lru_cache(maxsize=1)
def _model() -> _NaiveBayes:
    return _NaiveBayes(load_samples())


@lru_cache(maxsize=1)
def _lingua():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.VIETNAMESE).build()


def _lingua_vi(text: str) -> float:
    from lingua import Language

    return _lingua().compute_language_confidence(text, Language.VIETNAMESE)


def vi_probability(words: list[str]) -> float:
    """How likely a message (its content words, repaired) is Vietnamese.

    A word with a letter only Vietnamese uses counts as fully Vietnamese; the naive Bayes model reads the
    other words without diacritics; lingua's reading counts where the text has accents it can use
    (on unaccented Vietnamese it leans English, so there it has no vote)."""
    model = _model()
    margin = sum(
        model.cap if _VI_ONLY.search(word) else model.word_margin(model.untelex(strip_marks(word))) for word in words
    )
    if _ACCENTED.search(" ".join(words)):
        lingua = min(max(_lingua_vi(" ".join(words)), 1e-3), 1 - 1e-3)
        margin += math.log(lingua / (1 - lingua))
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, margin))))


def detect(text: str | None, previous: str | None = None) -> str:
    """ "vi" or "en" for `text`; `previous` (the conversation's language) when the text doesn't tell."""
    fallback = previous if previous in LANGUAGES else "en"
    text = repair(text)
    if not text or text.startswith("/"):
        return fallback
    words = _content_words(text)
    if not words:
        return fallback  # "ok", "0903 123 456", "15h", "Mai", an emoji
    if len(words) <= 4 and all(w[:1].isupper() and w[1:].islower() for w in words) and not _VI_ONLY.search(text):
        return fallback  # a name on its own: "Sarah Johnson", "Nguyen Thi Lan"
    p = vi_probability(words)
    if len(words) <= _SHORT and max(p, 1 - p) < _CLEAR:
        return fallback
    return "vi" if p >= 0.5 else "en"


def build_samples(nlu_dir: Path, path: Path = SAMPLES) -> int:
    """Write the labelled sentences the model learns from: every NLU training example, Vietnamese ones
    (files vi_*.yml, or with Vietnamese letters) also without diacritics."""
    import yaml

    annotation = re.compile(r"\[([^\]]+)\](?:\([^)]+\)|\{[^}]+\})")
    rows: dict[str, str] = {}
    for file in sorted(nlu_dir.glob("*.yml")):
        for block in yaml.safe_load(file.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                text = annotation.sub(r"\1", line.strip().removeprefix("- ").strip())
                if not text:
                    continue
                vi = file.name.startswith("vi_") or bool(_VI_ONLY.search(text))
                vi = vi or bool(_ACCENTED.search(text)) and _lingua_vi(text) > 0.5
                rows.setdefault(text, "vi" if vi else "en")
                if vi:
                    rows.setdefault(strip_marks(text), "vi")
    lines = [f"{lang}\t{text}" for text, lang in rows.items()]
    path.write_text(
        "# language<TAB>sentence: built by `python -m core.language` from data/nlu/\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return len(lines)


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    print(f"{build_samples(root / 'data' / 'nlu')} sentences -> {SAMPLES}", file=sys.stderr)
