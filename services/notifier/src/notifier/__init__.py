"""Notifier: tells merchants what happened to their payments, refunds, disputes and payouts, by signed webhooks."""
