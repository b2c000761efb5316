"""Small Wasm guests for tests/test_runtime.py, assembled from WAT in the test process."""
