//! SessionManager: live sessions, their persistence and idle expiry.
