-- The language a customer writes in ('en', 'vi'): replies outside a conversation (reminders, staff
-- messages) and the dashboard use it.
ALTER TABLE customers ADD COLUMN language text CHECK (language IN ('en', 'vi'));
