"""File formats to and from domain objects."""
