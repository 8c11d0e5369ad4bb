"""Faces in a video: decoding, tracking, one entry per person."""
