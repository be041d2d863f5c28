"""The booking core: settings, the business configuration, the booking rules, dates and times, the database.

Plain Python with no framework: the action server (`actions/`), the dashboard, the Lambda functions and
the jobs all build on it, and none of them pulls in another's framework by importing it.
"""
