"""Build the OpenAPI document we generate from: the vendored upstream document, the
operations we serve, and our Overlay; report what changed between two built documents;
write the reference docs.

    python -m scripts.apispec --help

`make generate`, `make check-generated` and `make update-spec FROM=...` call it.
"""
