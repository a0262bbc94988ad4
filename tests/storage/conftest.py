"""The S3 server fixture for the storage tests."""

from tests.storage.seaweed import s3_server  # noqa: F401 - a session fixture
