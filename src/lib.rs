//! SentinelOne Management API client.
