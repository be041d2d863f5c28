"""Lambda entry points: decorators and one call each; the logic lives in `deploy.connector`."""
