//! Runs the store conformance suite against [`kb_store::MemoryStore`].

kb_store::store_conformance_tests!(kb_store::testkit::MemoryHarness::new());
