"""What the coordinator describes: frozen pydantic models, no heavy dependencies."""
