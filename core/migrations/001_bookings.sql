-- The booking schema: catalogue, customers, bookings and their history.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE services (
    name              text PRIMARY KEY,
    duration_minutes  integer NOT NULL CHECK (duration_minutes > 0),
    price             numeric(10, 2) NOT NULL CHECK (price >= 0),
    active            boolean NOT NULL DEFAULT true
);

CREATE TABLE staff (
    name    text PRIMARY KEY,
    active  boolean NOT NULL DEFAULT true
);

CREATE TABLE staff_services (
    staff    text NOT NULL REFERENCES staff (name),
    service  text NOT NULL REFERENCES services (name),
    PRIMARY KEY (staff, service)
);

-- A customer is whoever writes from one channel sender id (a Messenger PSID,
-- a shell session); name and phone are remembered for the next booking.
CREATE TABLE customers (
    id          bigserial PRIMARY KEY,
    sender_id   text NOT NULL UNIQUE,
    name        text,
    phone       text,
    email       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bookings (
    id                bigserial PRIMARY KEY,
    reference         text NOT NULL UNIQUE,
    customer_id       bigint NOT NULL REFERENCES customers (id),
    customer_name     text NOT NULL,
    customer_phone    text NOT NULL,
    service           text NOT NULL REFERENCES services (name),
    staff             text NOT NULL REFERENCES staff (name),
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL,
    price             numeric(10, 2) NOT NULL,
    status            text NOT NULL DEFAULT 'confirmed'
                      CHECK (status IN ('confirmed', 'cancelled', 'completed', 'no_show')),
    cancellation_fee  numeric(10, 2),
    reminded_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    -- A staff member never has two overlapping active appointments: the
    -- database refuses the second one, whatever the application checked.
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        staff WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (status = 'confirmed')
);

CREATE INDEX bookings_customer_upcoming ON bookings (customer_id, starts_at) WHERE status = 'confirmed';
CREATE INDEX bookings_starts_at ON bookings (starts_at);

-- Every change to a booking, kept for good.
CREATE TABLE booking_history (
    id          bigserial PRIMARY KEY,
    booking_id  bigint NOT NULL REFERENCES bookings (id),
    action      text NOT NULL CHECK (action IN ('created', 'rescheduled', 'cancelled', 'updated')),
    actor       text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    details     jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX booking_history_booking ON booking_history (booking_id, at);

-- Bookings and their history are never deleted; cancelling is a status.
CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are kept for good (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE TRIGGER bookings_keep BEFORE DELETE ON bookings
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER booking_history_keep BEFORE DELETE OR UPDATE ON booking_history
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
