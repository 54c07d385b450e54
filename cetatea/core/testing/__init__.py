"""Test support shared by the apps' tests (imported by tests only, never by the project)."""
