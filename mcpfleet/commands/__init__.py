"""One module per ``mcpfleet`` sub-command group."""
