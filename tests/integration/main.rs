//! Integration tests of the `rootless-setup` binary against fixture host trees.
