"""The Messenger connector: plain logic behind the WebhookReceiver and ChatOrchestrator handlers."""
