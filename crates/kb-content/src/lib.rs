//! Default Kingdom Builder content as data, and the descriptors built from it.
