"""The scheduled jobs (EventBridge Scheduler -> Lambda): the nightly archive and the hourly reminders."""
