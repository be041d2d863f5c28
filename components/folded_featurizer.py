"""Sparse count features of text with its diacritics folded away, for Rasa 3.6.

Vietnamese customers write with and without diacritics ("đặt lịch chiều mai", "dat lich chieu mai"),
often both in one conversation. Rasa's CountVectorsFeaturizer sees two unrelated spellings; this
one counts both as the same word and character n-grams, so an example learnt in one spelling is
recognised in the other. Use it beside (not instead of) the plain featurizers, with an alias:

    - name: components.folded_featurizer.FoldedCountVectorsFeaturizer
      alias: folded_char
      analyzer: char_wb
      min_ngram: 2
      max_ngram: 4

Every option of CountVectorsFeaturizer applies. The Rasa server runs in its own environment without
the booking core, so the folding lives here.
"""

from __future__ import annotations

import unicodedata

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import ACTION_NAME, INTENT, INTENT_RESPONSE_KEY, TEXT


def fold(text: str) -> str:
    """Lower case without diacritics: "Đặt Lịch" -> "dat lich"."""
    text = text.lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class FoldedCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer on tokens with their diacritics folded away."""

    def _process_tokens(self, tokens: list[str], attribute: str = TEXT) -> list[str]:
        tokens = super()._process_tokens(tokens, attribute)
        if attribute in (INTENT, ACTION_NAME, INTENT_RESPONSE_KEY):
            return tokens
        return [fold(token) for token in tokens]
