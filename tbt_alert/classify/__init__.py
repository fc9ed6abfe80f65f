"""Sectors, tiers, reasons and risk: rules, rule evidence, the text model, evaluation."""
