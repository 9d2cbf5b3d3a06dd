"""The year-end 述职评议考核: rectification items (整改) and the evaluation pack (RULES.md §10)."""
