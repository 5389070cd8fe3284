//! Helpers shared by the provider integration tests (`mod common;` in each test file):
//! [`golden`], the golden-file harness of the `golden*` tests, and [`http`], the backends,
//! requests and stream helpers of the `*_http` tests against the fake upstreams.
#![allow(dead_code, clippy::unwrap_used)] // Not every test file uses every helper.

pub mod golden;
pub mod http;
