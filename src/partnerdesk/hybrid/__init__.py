"""Azure Hybrid Benefit and Reserved Instance savings calculator (rule R7)."""
