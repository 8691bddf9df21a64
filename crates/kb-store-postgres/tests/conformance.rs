//! Runs the store conformance suite against [`PostgresSessionStore`], each
//! case in a schema of its own on the test server (`KB_TEST_POSTGRES_URL`,
//! by default the local PostgreSQL).
//!
//! [`PostgresSessionStore`]: kb_store_postgres::PostgresSessionStore

mod common;

use common::PgHarness;

kb_store::store_conformance_tests!(PgHarness::new());
