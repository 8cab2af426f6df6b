"""inbox_followup: interview follow-up reminders and drafts; it never sends mail."""

__version__ = "0.1.0"
