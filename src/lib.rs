//! `incident`: an incident and support-ticket server that speaks the JSON API of the Django
//! original and notifies every ticket step on WhatsApp (Twilio or Meta).
//!
//! Layers (design.md §2): `http` parses and authorizes, `domain` holds the pure rules, `db` is
//! the only module that knows SQL, `notify` turns workflow events into delivered messages.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod notify;
pub mod service;
pub mod state;
pub mod telemetry;
