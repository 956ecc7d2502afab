"""The grader's reference answers and seeded cases, one module per assignment (not shipped to a class)."""
