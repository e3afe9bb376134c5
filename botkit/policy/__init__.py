"""Pure decisions: what to disclose, when to hand over, what consent allows."""
