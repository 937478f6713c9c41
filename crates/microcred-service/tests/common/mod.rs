// Each test binary uses a different part of these helpers.
#![allow(dead_code, unreachable_pub)]

#[macro_use]
pub mod backend;
pub mod http;
pub mod pathway;
pub mod server;
pub mod setup;
pub mod status_list;
