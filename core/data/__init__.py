"""Data helpers shared by heads: image folders, paired folders, the offline photo set."""
