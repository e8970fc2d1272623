//! Pure rules: roles, phone numbers, date-time formats, ids, the ticket state machine. No axum, no sqlx.

pub mod assign;
pub mod datetime;
pub mod delivery;
pub mod id;
pub mod phone;
pub mod preferences;
pub mod ticket;
pub mod user;
pub mod whatsapp;
pub mod workflow;
