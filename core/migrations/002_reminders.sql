-- The reminder job (deploy/jobs/reminder.py): find due reminders fast and keep a trace of each one.
-- `bookings.reminded_at` (001) is set in the transaction that sends the reminder; rescheduling clears it.

-- Confirmed bookings not reminded yet, by start time: what the hourly job scans.
CREATE INDEX bookings_reminder_due ON bookings (starts_at)
    WHERE status = 'confirmed' AND reminded_at IS NULL;

-- A reminder is part of a booking's history ('reminded': sent, or refused for good by Messenger).
ALTER TABLE booking_history DROP CONSTRAINT booking_history_action_check;
ALTER TABLE booking_history ADD CONSTRAINT booking_history_action_check
    CHECK (action IN ('created', 'rescheduled', 'cancelled', 'updated', 'reminded'));

-- The archive job reads one day of booking changes at a time.
CREATE INDEX booking_history_at ON booking_history (at);
