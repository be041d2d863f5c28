"""Answers from the business's own documents.

ingest -> chunk (`chunking`) -> embed (`embedding`) -> index (`index`) -> query (`knowledge`).
The command line is `python -m rag build | query | stats | eval`.
"""
