//! The `litellm-rs` binary: a thin shim over `litellm_cli::main`.
fn main() {
    litellm_cli::main()
}
