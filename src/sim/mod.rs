//! The tenant simulator: a deterministic synthetic Microsoft 365 tenant and a loopback
//! HTTP server that speaks the Graph and identity-platform wire formats.

pub mod kql;
