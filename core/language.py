"""The language a customer writes in: Vietnamese or English, with or without diacritics.

Vietnamese letters with diacritics settle it; unaccented Vietnamese is told by its words and the
shorthand of Messenger ("ko", "dc", "mik"). A message with nothing to tell ("ok", "0903 123 456", a
button, an emoji) keeps the conversation's language.
"""

from __future__ import annotations

import re
import unicodedata

_VI_LETTERS = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)
# words of unaccented Vietnamese and Messenger shorthand that English messages do not use
_VI_WORDS = frozenset(
    [
        "ko",
        "k",
        "hok",
        "khong",
        "kh",
        "dc",
        "dk",
        "duoc",
        "mik",
        "mk",
        "minh",
        "em",
        "anh",
        "chi",
        "e",
        "hoi",
        "ban",
        "shop",
        "oi",
        "nha",
        "nhe",
        "nhen",
        "ha",
        "nhi",
        "nho",
        "voi",
        "cho",
        "muon",
        "dat",
        "lich",
        "hen",
        "gio",
        "chieu",
        "sang",
        "toi",
        "trua",
        "mai",
        "mot",
        "nay",
        "hom",
        "ngay",
        "thang",
        "tuan",
        "thu",
        "cn",
        "sau",
        "truoc",
        "khi",
        "nao",
        "bao",
        "nhieu",
        "bn",
        "gi",
        "j",
        "sao",
        "vay",
        "roi",
        "lam",
        "duoc",
        "chua",
        "co",
        "khum",
        "hong",
        "huy",
        "doi",
        "xem",
        "gia",
        "tien",
        "bai",
        "xe",
        "toc",
        "mong",
        "chan",
        "da",
        "nong",
        "goi",
        "say",
        "tam",
        "biet",
        "cam",
        "on",
        "cam_on",
        "xin",
        "chao",
        "alo",
        "vang",
        "da",
        "uh",
        "uhm",
        "oke",
        "okie",
        "nhe",
        "ak",
        "ạ",
    ]
)
_NEUTRAL = re.compile(r"^[\W\d_]*$")


def detect(text: str | None, previous: str | None = None) -> str:
    """ "vi" or "en" for `text`; `previous` (the conversation's language) when the text doesn't tell."""
    fallback = previous if previous in ("en", "vi") else "en"
    text = unicodedata.normalize("NFC", text or "").strip()
    if not text or text.startswith("/") or _NEUTRAL.match(text):
        return fallback
    if _VI_LETTERS.search(text):
        return "vi"
    words = re.findall(r"[a-z]+", text.lower())
    if not words:
        return fallback
    vietnamese = sum(word in _VI_WORDS for word in words)
    if len(words) <= 2 and vietnamese == 0:
        return fallback  # "ok", "yes please", a name
    return "vi" if vietnamese * 2 >= len(words) else "en"
