"""The sandbox test clock: lets an operator move time forward to test 14-day and 60-day rules."""
