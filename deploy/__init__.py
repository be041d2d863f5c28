"""Deployment code: the Messenger connector (AWS Lambda handlers) and the local gateway."""
