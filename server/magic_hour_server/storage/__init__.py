"""Files: uploads and face crops on a (shared) directory; fetching remote inputs."""
