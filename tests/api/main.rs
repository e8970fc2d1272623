//! The integration suite: every API test runs on SQLite and on PostgreSQL.

mod common;
mod documented;

mod auth;
mod health;
mod meta;
mod migrations;
mod notification_counts;
mod openapi;
mod plumbing;
mod profiles;
mod realtime;
mod tickets;
mod tickets_actions;
mod tickets_assign;
mod tickets_attachments;
mod tickets_crud;
mod tickets_filters;
mod tickets_integrity;
mod tickets_permissions;
mod tickets_sla;
mod tickets_support;
mod users;
mod whatsapp;
