"""Local reference server for the Magic Hour face-detection API."""
