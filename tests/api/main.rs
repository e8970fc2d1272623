//! The integration suite: every API test runs on SQLite and on PostgreSQL.

mod common;
mod console;
mod console_browser;
mod documented;

mod auth;
mod channel_health;
mod edges;
mod email;
mod generated;
mod health;
mod import_django;
mod inputs;
mod meta;
mod migrations;
mod notification_counts;
mod notification_prefs;
mod notification_retention;
mod openapi;
mod plumbing;
mod profiles;
mod realtime;
// A test SMTP server; not every knob is used by every test.
#[allow(dead_code)]
mod smtp_sink;
mod templates;
mod tickets;
mod tickets_actions;
mod tickets_assign;
mod tickets_attachment_limits;
mod tickets_attachments;
mod tickets_crud;
mod tickets_filters;
mod tickets_integrity;
mod tickets_permissions;
mod tickets_rates;
mod tickets_scale;
mod tickets_sla;
mod tickets_support;
// Shared with tests/serve.rs (the kill loop), which uses other parts of it.
#[allow(dead_code)]
mod twilio_fake;
mod users;
mod users_cli;
mod whatsapp;
mod whatsapp_delivery;
mod whatsapp_inbound;
