//! content tests (filled in below).
