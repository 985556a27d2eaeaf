"""Writers: calendar feeds, spreadsheets and reports. They never call the solver."""
