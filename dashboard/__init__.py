"""The admin dashboard: a JSON API over conversations, bookings and the knowledge index, and the page that uses it."""
