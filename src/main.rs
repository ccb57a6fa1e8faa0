// See Cargo.toml for why the allocator is mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    whalewatch::cli::main()
}
