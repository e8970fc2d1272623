//! The use cases: what a caller can do with tickets, users, logins and notifications, whichever
//! door it comes through (the JSON API, the admin console, WhatsApp replies, the CLI, background
//! jobs). Service functions take typed inputs and the acting user and return typed results or
//! typed errors; they know neither axum nor JSON.

pub mod console;
pub mod console_dashboard;
pub mod diagnostics;
pub mod import;
pub mod login;
pub mod notifications;
pub mod preferences;
pub mod preview;
pub mod realtime;
pub mod tickets;
pub mod users;
pub mod whatsapp_inbound;
