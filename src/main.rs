// See Cargo.toml for why the allocator is mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let _ = whalewatch::ui::app::RELEASE_FREED_MEMORY.set(whalewatch::release_freed_memory);
    whalewatch::cli::main()
}
