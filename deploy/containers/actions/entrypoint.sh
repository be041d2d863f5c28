#!/bin/sh
# The action server's start in AWS: the database URL from the task's settings (DB_PASSWORD comes from
# Secrets Manager; it is generated without punctuation, so it needs no escaping), the schema migrated and
# the catalogue seeded (idempotent, under an advisory lock), then rasa-sdk.
set -eu
if [ -z "${DATABASE_URL:-}" ]; then
    DATABASE_URL="postgresql://${DB_USER}:${DB_PASSWORD}@${DB_HOST}:${DB_PORT}/${DB_NAME}?sslmode=require"
    export DATABASE_URL
fi
python -m scripts.stack prepare
exec python -m actions.server --port 5055
