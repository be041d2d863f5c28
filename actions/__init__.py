"""The action server of the booking assistant, and the booking core it is built on.

rasa-sdk imports every module of this package and registers each concrete
``Action``; the plain modules (settings, business, db, timeparse, slots) hold
the logic and are what the tests, the dashboard and the jobs import.
"""
