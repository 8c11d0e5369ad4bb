"""Python SDK for Magic Hour face detection."""
