//! The open-file limit: a server holding thousands of event streams, and a
//! benchmark holding their other ends, need a descriptor each, more than
//! the usual soft limit (1,024) allows. [`raise`] lifts the soft limit to
//! the hard one, which needs no privilege.

/// Raises this process's soft limit on open files to its hard limit;
/// returns the limit now in force (`None` where it cannot be read).
#[cfg(unix)]
pub fn raise() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    // `None` is unlimited; a finite hard limit is the most the soft one
    // may be.
    if let (Some(current), Some(maximum)) = (limit.current, limit.maximum)
        && current < maximum
    {
        limit.current = Some(maximum);
        if setrlimit(Resource::Nofile, limit).is_err() {
            return getrlimit(Resource::Nofile).current;
        }
    }
    limit.current
}

/// Raises this process's soft limit on open files (nothing to do here).
#[cfg(not(unix))]
pub fn raise() -> Option<u64> {
    None
}
