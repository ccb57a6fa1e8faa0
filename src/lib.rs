//! whalewatch: a terminal console for investigating email threats in a Microsoft 365
//! tenant. Data flows one way: tenant → sync → cache → query → ui; `sim` is a synthetic
//! tenant that speaks the same wire formats. See ARCHITECTURE.md.

// The layers, one crate each, under the names the CLI and the tests use.
pub use whalewatch_cache as cache;
pub use whalewatch_config as config;
pub use whalewatch_console as ui;
pub use whalewatch_model as model;
pub use whalewatch_model::safe_text;
pub use whalewatch_query as query;
pub use whalewatch_sim as sim;
pub use whalewatch_sim::demo;
pub use whalewatch_sync as sync;
pub use whalewatch_tenant as tenant;

pub mod cli;

/// Returns the pages the binary's allocator (mimalloc) holds freed to the system.
/// mimalloc keeps freed pages for reuse and purges them lazily, on later allocations;
/// a console that idles after its loads (the old snapshot and the loaders' scratch
/// freed) would keep them resident. The binary hands this to the console
/// ([`ui::app::RELEASE_FREED_MEMORY`]), which calls it once the loads are in.
pub fn release_freed_memory() {
    // SAFETY: `mi_collect` takes no pointers; it only walks mimalloc's own state.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
