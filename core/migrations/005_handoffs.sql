-- A person taking over a conversation: the bot stays quiet while a handoff is open. A handoff closes when
-- staff release it, when the Page inbox passes the thread back, or on its own after a quiet time.
CREATE TABLE handoffs (
    id bigserial PRIMARY KEY,
    sender_id text NOT NULL,
    reason text NOT NULL CHECK (reason IN ('request_human', 'complaint', 'failed')),
    language text CHECK (language IN ('en', 'vi')),
    opened_at timestamptz NOT NULL,
    last_activity_at timestamptz NOT NULL,
    closed_at timestamptz,
    closed_by text,
    CHECK ((closed_at IS NULL) = (closed_by IS NULL))
);
-- at most one open handoff per conversation
CREATE UNIQUE INDEX handoffs_one_open ON handoffs (sender_id) WHERE closed_at IS NULL;
CREATE INDEX handoffs_opened ON handoffs (opened_at);

-- What staff wrote to a customer, for the transcript (marked as staff) and the record.
CREATE TABLE staff_messages (
    id bigserial PRIMARY KEY,
    sender_id text NOT NULL,
    author text NOT NULL,
    text text NOT NULL,
    sent_at timestamptz NOT NULL,
    messaging_type text NOT NULL,
    tag text,
    message_id text
);
CREATE INDEX staff_messages_sender ON staff_messages (sender_id, sent_at);
