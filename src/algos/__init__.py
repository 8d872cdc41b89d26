"""Learners: they own the model's optimizer, and one `learn` call is one optimizer step."""
