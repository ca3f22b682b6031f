//! Integration tests: the real `nj` binary in a sealed temp environment.
