//! `incident`: an incident and support-ticket server that speaks the JSON API of the Django
//! original and notifies every ticket step on WhatsApp (Twilio or Meta), in-app and over a
//! real-time push.
//!
//! # The house, top floor first
//!
//! Imports only point down this list; `tests/architecture.rs` fails on an import that runs up
//! or on an import cycle between any two files of `src/`.
//!
//! - **`main.rs`, [`cli`]**: the binary and its subcommands (`serve`, `migrate`, `create-user`,
//!   `users`, `whatsapp test`, `import-django`, `config`), the ports of Django's management
//!   commands. Every configuration variable is also a flag of the commands that read it,
//!   generated from the one table `config/variables.rs`.
//! - **[`app`]**: builds the router with its layers (CORS, compression, request ids, panics as
//!   500s, security headers, the `ALLOWED_HOSTS` check), starts the delivery worker and the
//!   PostgreSQL listener, and serves (`app/serve.rs`: hyper-util with header-read and keep-alive
//!   timeouts and a connection cap) until a shutdown bounded by `SHUTDOWN_GRACE`.
//! - **[`http`]**: the doors of the JSON API, one module per resource of the original
//!   (`tickets/`, `users`, `profiles`, `auth`, `notifications`, `webhooks/`, `realtime`,
//!   `health`). A handler parses the request (`body`, `pagination`, `extract`), authorizes
//!   through the `AuthUser`/`Admin` extractors, calls a service function and answers with a
//!   response struct that is also the OpenAPI schema of that answer; its `#[utoipa::path]`
//!   documents it, and `http/openapi/` assembles the document from them. Request validation
//!   (field errors in DRF's words) lives here.
//! - **[`service`]**: the use cases, one door for every caller (API, CLI, later the admin
//!   console, WhatsApp replies and background jobs): ticket create/edit/steps/comments/
//!   attachments, users and profiles, login and token refresh, notification retries and stats,
//!   and `import/`, the move of a Django deployment's database (`db/django.rs` reads the
//!   original's tables, `db/import.rs` writes ours).
//!   Typed inputs and the acting user in, typed results or [`error::Error`] out; no axum, no
//!   JSON.
//! - **[`state`]**: `AppState`, what every door shares (the `Db`, configuration, token keys,
//!   the worker's wake-up and health, the push hub and live sessions, caches, throttles and
//!   rates, the shutdown signal), and `state/gates.rs`: the byte budget of uploads in flight
//!   and the bound on answers that inline attachments.
//! - **[`notify`]**: from workflow events to messages: recipients and texts (`events`,
//!   `templates`), the outbox rows a step writes, the in-app pushes (`push`) and the live
//!   WebSocket/SSE sessions that end with the access behind them (`sessions`), the delivery
//!   `worker`, and the WhatsApp providers (`provider/`: Twilio, Meta, log).
//! - **[`auth`]**: the `AuthUser` type, SimpleJWT-compatible tokens, password hashes (argon2id,
//!   Django's PBKDF2 verified and upgraded), login throttling (per user and address, per
//!   address, and the password-check queue: `throttle`, `queue`), per-user rates of ticket
//!   creation and comments (`rate`), the cache of authenticated users.
//! - **[`error`]**: the one error vocabulary, named by meaning (`Refused`, `NotFound`,
//!   `Workflow(WorkflowError)`, `TicketBusy`...). Only `error` turns an error into DRF's status
//!   and body (`error/shapes.rs`, the same structs the OpenAPI document shows).
//! - **[`telemetry`], [`config`]**: logs and metrics; `Config::from_lookup`, the only parser of
//!   configuration (the command line hands it the values of flags, environment and `.env`), one
//!   file per section, and `variables.rs`, the table of every variable.
//! - **[`db`]**: the only SQL and the only dialect code. `Db` is PostgreSQL or SQLite, chosen at
//!   run time; every query is written once and run on either pool (`on_db!`, `on_write!`,
//!   `on_tx!`). Every write goes through `Db::begin` or `Db::write`, which on SQLite take this
//!   process's writer turn (the read pool is `query_only`, so a write that skips them fails at
//!   once). `db/listen.rs` holds LISTEN/NOTIFY: one listener per process for the worker's
//!   wake-ups, the in-app pushes and the ends of sessions. The notification log's counts are
//!   counters kept by triggers (migration 0007); statements are bounded by
//!   `DATABASE_STATEMENT_TIMEOUT` on both engines.
//! - **[`domain`]**: pure rules, no axum and no sqlx: the ticket state machine
//!   (`workflow::apply`, tested as a table of status x action x role), SLA deadlines and breach
//!   flags, roles, phone numbers, the original's date formats.
//!
//! # One workflow step, from request to WhatsApp message
//!
//! `POST /api/tickets/7/assign/` with `{"assigned_to": [3]}`:
//!
//! 1. `app.rs` routes it (`http/mod.rs`, `ticket_routes`) to `http/tickets/actions.rs::assign`.
//!    The `AuthUser` extractor (`http/extract.rs`) reads the Bearer token and asks
//!    `service/login.rs::authenticate` (`auth/jwt.rs`, `auth/cache.rs`, `db/users.rs`).
//! 2. The handler checks the role before the lookup (`service::tickets::check_before_lookup`),
//!    loads the visible ticket (`service::tickets::get` → `db/tickets.rs`), parses the body
//!    (`http/body.rs`) and validates it (`http/tickets/assign.rs`), then calls
//!    `service/tickets.rs::step` with `Step::Assign`.
//! 3. `step` asks the state machine (`domain/workflow/mod.rs::apply`) for the `Transition`,
//!    builds the row after it with refreshed breach flags (`domain/ticket.rs`), and plans the
//!    notifications (`notify/mod.rs::plan_step`: recipients from `db/users.rs`, texts from
//!    `notify/events.rs` and `notify/templates.rs`).
//! 4. `db/tickets.rs::commit_step` writes the ticket (only if its version is unchanged), the
//!    history row, the assignment and the `notification_log` rows (`db/notifications.rs`,
//!    status `PENDING`) in one transaction (`db/pool.rs`, `Db::begin`). A lost race decides the
//!    step again from the new state.
//! 5. After the commit `notify/mod.rs::committed` wakes this process's worker, and through
//!    `notify/push.rs::publish` → `db/listen.rs::notify` the other replicas' workers and every
//!    replica's WebSocket/SSE clients (`http/realtime.rs`).
//! 6. The handler answers with `http/tickets/shapes.rs::TicketAssigned`.
//! 7. `notify/worker.rs` claims the due rows with a lease (`db/notifications.rs::claim_due`),
//!    sends each through `notify/provider/twilio.rs` (a form POST to `Messages.json`), and
//!    records `SENT` with Twilio's `SM...` id, a retry with backoff, or `FAILED` with the code.
//! 8. Twilio's status callback arrives at `http/webhooks/mod.rs::twilio_status`, which checks
//!    the signature (`http/webhooks/signature.rs`) and calls
//!    `service/notifications.rs::record_delivery_status` (`db/notifications.rs`); the status
//!    only moves forward. Admins see it all at `GET /api/notifications/?notification_type=WHATSAPP`.

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
