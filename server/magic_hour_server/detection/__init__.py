"""Faces in an image: the detector, embeddings, quality, people."""
