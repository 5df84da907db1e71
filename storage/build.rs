//! Lance's build scripts need `protoc`; `tools/protoc` (wired in `.cargo/config.toml`) falls back to
//! the binary of `protoc-bin-vendored`. Depending on it here is what makes cargo download it.
fn main() {
    let _ = protoc_bin_vendored::protoc_bin_path();
    println!("cargo:rerun-if-changed=build.rs");
}
