"""mqtt_bridge package (see DESIGN.md section 1)."""
