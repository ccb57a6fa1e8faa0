//! The tenant simulator: a deterministic synthetic Microsoft 365 tenant and a loopback
//! HTTP server that speaks the Graph and identity-platform wire formats.

pub mod bench;
pub mod demo;
pub mod kql;
pub mod params;
pub mod rng;
pub mod server;
pub mod stats;
pub mod world;

pub use params::WorldParams;
pub use world::World;
