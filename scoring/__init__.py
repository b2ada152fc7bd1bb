"""Pure domain logic: features, valuation, credit risk, rules and explanations."""
