//! The `litellm-rs` binary: a thin shim over `litellm_cli::main`, with mimalloc as the global
//! allocator (the proxy allocates many small, short-lived buffers per request; see
//! docs/performance.md for the measurement).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    litellm_cli::main()
}
