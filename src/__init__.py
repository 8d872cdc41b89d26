"""ranktrace: grokking experiments observed through pluggy plugins."""
