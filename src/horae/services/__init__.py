"""Use cases: one module per area; they speak ports and domain, never SQL or HTTP."""
