"""boards package (see DESIGN.md section 1)."""
