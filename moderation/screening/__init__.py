"""Screening: rule filters and toxicity classifiers, plain objects with no app."""
