//! The ticket state machine: one pure function decides, for every workflow action, who may do it,
//! in which status, what the new status and history row are, and which notification events follow.
//!
//! Checks run in the original's order (role/assignment/creator 403s, then the status 400, then the
//! body), so a caller sees the same error the Django views gave. The HTTP layer only translates
//! raw input into an [`Action`]; a refusal is a [`WorkflowError`] named by meaning, which
//! `crate::error` alone turns into the original's status and body. The database layer writes a
//! [`Transition`] (status, timestamp, history, assignment) in one transaction.

use chrono::{DateTime, Utc};

use crate::domain::ticket::{py_strip, Status};
use crate::domain::user::Role;

/// Stored as the finish comment when the developer gives none (or only whitespace).
pub const DEFAULT_FINISH_COMMENT: &str = "Work completed";
/// Both comment fields are `CharField(max_length=2000)` in the original.
pub const MAX_COMMENT_CHARS: usize = 2000;
const MIN_FINISH_COMMENT_CHARS: usize = 5;
const MIN_REJECT_REASON_CHARS: usize = 10;

const OPEN_FORBIDDEN: &str = "Only administrators can open tickets";
const ASSIGN_FORBIDDEN: &str = "Only administrators can assign tickets to developers";
const START_FORBIDDEN: &str = "Only developers assigned to this ticket can start work";
const FINISH_FORBIDDEN: &str = "Only developers assigned to this ticket can finish work";
const APPROVE_NOT_CREATOR: &str = "Only the ticket creator can approve this ticket";
const APPROVE_WRONG_ROLE: &str = "Only clients or admins can approve tickets";
const REJECT_NOT_CREATOR: &str = "Only the ticket creator can reject this ticket";
const REJECT_WRONG_ROLE: &str = "Only clients or admins can reject tickets";
const NOT_NEW: &str = "Ticket is not in NEW status";
const CANNOT_START: &str = "Ticket cannot be started in current status";
const NOT_IN_PROGRESS: &str = "Ticket is not in progress";
const NOT_AWAITING_APPROVAL: &str = "Ticket is not awaiting approval";
const CREATE_FORBIDDEN: &str =
    "Developers cannot create tickets. Only clients and admins can create tickets.";

/// What the state machine needs to know about a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    pub id: i64,
    pub title: String,
    pub status: Status,
    pub created_by: i64,
    pub assigned_to: Vec<i64>,
}

impl TicketState {
    /// The state to pass with [`Action::Create`], before the row exists.
    pub fn unsaved(created_by: i64, title: impl Into<String>) -> TicketState {
        TicketState {
            id: 0,
            title: title.into(),
            status: Status::New,
            created_by,
            assigned_to: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: i64,
    pub role: Role,
}

/// A developer to assign, already checked by the caller to exist with role SUPPORT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Developer {
    pub id: i64,
    /// `name(u)`: see [`crate::domain::ticket::display_name`].
    pub name: String,
}

/// A text body field exactly as the HTTP layer received it, before trimming: the comment bodies
/// are validated only after the role and status checks, so the raw form has to travel this far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextInput {
    Missing,
    Null,
    /// A boolean, list or object: DRF's `CharField` refuses these but accepts numbers.
    NotAString,
    Value(String),
}

impl From<&str> for TextInput {
    fn from(s: &str) -> TextInput {
        TextInput::Value(s.to_string())
    }
}

/// Python's `repr(float)`: shortest round-trip digits, positional between 1e-4 and 1e16 with at
/// least one fractional digit, otherwise scientific with a signed two-digit exponent.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // `{:e}` gives the shortest round-trip digits, e.g. "-1.25e-7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        let pad = "0".repeat(int_len - digits.len());
        format!("{sign}{digits}{pad}.0")
    } else {
        let (int, frac) = digits.split_at(int_len);
        format!("{sign}{int}.{frac}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `POST /api/tickets/`. The caller validates the body first: a SUPPORT caller with a bad
    /// body gets the 400, not the 403, as in the original.
    Create,
    Open,
    Assign {
        developers: Vec<Developer>,
    },
    StartWork,
    FinishWork {
        comment: TextInput,
    },
    Approve,
    /// The reason arrives in the body field `comment`.
    Reject {
        reason: TextInput,
    },
}

/// An action without its payload, for checks that run before the payload exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Create,
    Open,
    Assign,
    StartWork,
    FinishWork,
    Approve,
    Reject,
}

impl ActionKind {
    pub const ALL: [ActionKind; 7] = [
        ActionKind::Create,
        ActionKind::Open,
        ActionKind::Assign,
        ActionKind::StartWork,
        ActionKind::FinishWork,
        ActionKind::Approve,
        ActionKind::Reject,
    ];

    /// The DRF action name the handler ports.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Open => "open_ticket",
            ActionKind::Assign => "assign",
            ActionKind::StartWork => "start_work",
            ActionKind::FinishWork => "finish_work",
            ActionKind::Approve => "approve",
            ActionKind::Reject => "reject",
        }
    }
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Create => ActionKind::Create,
            Action::Open => ActionKind::Open,
            Action::Assign { .. } => ActionKind::Assign,
            Action::StartWork => ActionKind::StartWork,
            Action::FinishWork { .. } => ActionKind::FinishWork,
            Action::Approve => ActionKind::Approve,
            Action::Reject { .. } => ActionKind::Reject,
        }
    }
}

/// Which timestamp column a status change fills, if it is still NULL (never overwritten, so
/// `resolved_at` keeps its first value after a reject and a second finish).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    OpenedAt,
    StartedAt,
    ResolvedAt,
    ClosedAt,
}

impl Stamp {
    pub fn for_status(status: Status) -> Option<Stamp> {
        match status {
            Status::New => None,
            Status::Opened => Some(Stamp::OpenedAt),
            Status::InProgress => Some(Stamp::StartedAt),
            Status::Resolved | Status::WaitingApproval => Some(Stamp::ResolvedAt),
            Status::Closed => Some(Stamp::ClosedAt),
        }
    }

    pub fn column(self) -> &'static str {
        match self {
            Stamp::OpenedAt => "opened_at",
            Stamp::StartedAt => "started_at",
            Stamp::ResolvedAt => "resolved_at",
            Stamp::ClosedAt => "closed_at",
        }
    }
}

/// A `core_tickethistory` row to write, `changed_by` = the actor and `timestamp` = [`Transition::at`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub status_from: Option<Status>,
    pub status_to: Status,
    pub comment: String,
}

/// The assignment set after an `assign`, and how it differs from the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentChange {
    /// Ascending ids: the set to store.
    pub new_set: Vec<i64>,
    /// In the new set but not the old one: the only developers who are notified.
    pub newly_added: Vec<i64>,
    /// In the old set but not the new one (ascending).
    pub removed: Vec<i64>,
    /// `name(u)` of the new set joined with ", " in ascending id order: the history text and the
    /// `assigned_to_names` string of the response.
    pub names: String,
}

impl AssignmentChange {
    pub fn changed(&self) -> bool {
        !self.newly_added.is_empty() || !self.removed.is_empty()
    }
}

/// What happened, for the notification fan-out. Recipients and texts are the notifier's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    TicketCreated,
    TicketOpened,
    DevelopersAssigned { newly_added: Vec<i64> },
    WorkStarted,
    WorkFinished,
    TicketClosed,
    TicketRejected { reason: String },
}

impl Event {
    /// Every event's `code`, e.g. for checking the event names of configured templates.
    pub const CODES: [&'static str; 7] = [
        "ticket_created",
        "ticket_opened",
        "ticket_assigned",
        "work_started",
        "work_finished",
        "ticket_approved",
        "ticket_rejected",
    ];

    /// The original's event code, stored with SYSTEM notifications (one of `CODES`).
    pub fn code(&self) -> &'static str {
        match self {
            Event::TicketCreated => "ticket_created",
            Event::TicketOpened => "ticket_opened",
            Event::DevelopersAssigned { .. } => "ticket_assigned",
            Event::WorkStarted => "work_started",
            Event::WorkFinished => "work_finished",
            Event::TicketClosed => "ticket_approved",
            Event::TicketRejected { .. } => "ticket_rejected",
        }
    }

    /// The SYSTEM notification subject: the code with words capitalised.
    pub fn title(&self) -> &'static str {
        match self {
            Event::TicketCreated => "Ticket Created",
            Event::TicketOpened => "Ticket Opened",
            Event::DevelopersAssigned { .. } => "Ticket Assigned",
            Event::WorkStarted => "Work Started",
            Event::WorkFinished => "Work Finished",
            Event::TicketClosed => "Ticket Approved",
            Event::TicketRejected { .. } => "Ticket Rejected",
        }
    }
}

/// Everything one accepted action changes. For `Create`, `from` and `to` are both NEW and
/// `status_changed` is false: the row is inserted, not updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub from: Status,
    pub to: Status,
    /// Set only when the status changes, and written only if the column is still NULL.
    pub stamp: Option<Stamp>,
    pub history: Option<HistoryEntry>,
    pub assignment: Option<AssignmentChange>,
    pub events: Vec<Event>,
    pub status_changed: bool,
    /// The `now` given to [`apply`]: the value for the stamp, the history row and `updated_at`.
    pub at: DateTime<Utc>,
}

/// Why the state machine refused a step, named by meaning. The texts (`Display`) are the
/// original's; [`crate::error`] turns each into its DRF status and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// `open_ticket` or `assign` by a non-admin.
    #[error("{}", not_admin_text(*action))]
    NotAdmin { action: ActionKind },
    /// `start_work` or `finish_work` by someone who is not a developer assigned to the ticket.
    #[error("{}", not_assigned_text(*action))]
    NotAssigned { action: ActionKind },
    /// `approve` or `reject` by someone other than the ticket's creator.
    #[error("{}", not_creator_text(*action))]
    NotCreator { action: ActionKind },
    /// `approve` or `reject` by the creator when the creator is a developer.
    #[error("{}", wrong_role_text(*action))]
    WrongRole { action: ActionKind },
    /// Ticket creation by a developer.
    #[error("{CREATE_FORBIDDEN}")]
    DeveloperCannotCreate,
    /// The action is not possible in the ticket's status (`approve` has its own variant).
    #[error("{}", wrong_status_text(*action))]
    WrongStatus {
        action: ActionKind,
        current: Status,
        required: &'static [Status],
    },
    /// `approve` on a ticket that is neither RESOLVED nor WAITING_APPROVAL.
    #[error("{NOT_AWAITING_APPROVAL}")]
    NotAwaitingApproval { current: Status },
    /// `assign` with an empty developer list.
    #[error("At least one developer must be assigned")]
    NoDevelopers,
    /// The reject reason is missing.
    #[error("This field is required.")]
    CommentRequired,
    /// The comment is JSON `null`.
    #[error("This field may not be null.")]
    CommentNull,
    /// The comment is a boolean, list or object.
    #[error("Not a valid string.")]
    CommentNotAString,
    /// The reject reason is empty after trimming.
    #[error("This field may not be blank.")]
    CommentBlank,
    /// Over [`MAX_COMMENT_CHARS`] characters after trimming.
    #[error("Ensure this field has no more than {MAX_COMMENT_CHARS} characters.")]
    CommentTooLong,
    /// A finish comment under 5 characters (blank is allowed: it means the default).
    #[error("Comment must be at least {MIN_FINISH_COMMENT_CHARS} characters if provided")]
    CommentTooShort,
    /// A reject reason under 10 characters.
    #[error("Rejection reason must be at least {MIN_REJECT_REASON_CHARS} characters")]
    ReasonTooShort,
}

impl WorkflowError {
    /// The request body field the error is about, for the errors that are about one.
    pub fn field(&self) -> Option<&'static str> {
        use WorkflowError::*;
        match self {
            NoDevelopers => Some("assigned_to"),
            CommentRequired | CommentNull | CommentNotAString | CommentBlank | CommentTooLong
            | CommentTooShort | ReasonTooShort => Some("comment"),
            NotAdmin { .. }
            | NotAssigned { .. }
            | NotCreator { .. }
            | WrongRole { .. }
            | DeveloperCannotCreate
            | WrongStatus { .. }
            | NotAwaitingApproval { .. } => None,
        }
    }

    /// True for the refusals of who is asking (the 403s); false for the ticket's status and the
    /// body's content.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            WorkflowError::NotAdmin { .. }
                | WorkflowError::NotAssigned { .. }
                | WorkflowError::NotCreator { .. }
                | WorkflowError::WrongRole { .. }
                | WorkflowError::DeveloperCannotCreate
        )
    }
}

/// The statuses `approve` and `reject` accept.
pub const AWAITING_APPROVAL: &[Status] = &[Status::Resolved, Status::WaitingApproval];
/// What the original told a client who approves too early.
pub const APPROVE_TOO_EARLY: &str = "Developer must finish work before client can approve";

fn not_admin_text(action: ActionKind) -> &'static str {
    match action {
        ActionKind::Assign => ASSIGN_FORBIDDEN,
        _ => OPEN_FORBIDDEN,
    }
}

fn not_assigned_text(action: ActionKind) -> &'static str {
    match action {
        ActionKind::FinishWork => FINISH_FORBIDDEN,
        _ => START_FORBIDDEN,
    }
}

fn not_creator_text(action: ActionKind) -> &'static str {
    match action {
        ActionKind::Reject => REJECT_NOT_CREATOR,
        _ => APPROVE_NOT_CREATOR,
    }
}

fn wrong_role_text(action: ActionKind) -> &'static str {
    match action {
        ActionKind::Reject => REJECT_WRONG_ROLE,
        _ => APPROVE_WRONG_ROLE,
    }
}

fn wrong_status_text(action: ActionKind) -> &'static str {
    match action {
        ActionKind::Open => NOT_NEW,
        ActionKind::StartWork => CANNOT_START,
        ActionKind::FinishWork => NOT_IN_PROGRESS,
        _ => NOT_AWAITING_APPROVAL,
    }
}

/// The checks `open_ticket` and `assign` make before looking the ticket up, so a non-admin gets
/// 403 even for a missing id. Other actions pass here; [`apply`] repeats this check.
pub fn check_before_lookup(actor: &Actor, kind: ActionKind) -> Result<(), WorkflowError> {
    match kind {
        ActionKind::Open | ActionKind::Assign if actor.role != Role::Admin => {
            Err(WorkflowError::NotAdmin { action: kind })
        }
        _ => Ok(()),
    }
}

/// Decides one workflow step. Pure: the caller loads `ticket`, then writes the [`Transition`].
pub fn apply(
    ticket: &TicketState,
    actor: &Actor,
    action: Action,
    now: DateTime<Utc>,
) -> Result<Transition, WorkflowError> {
    check_before_lookup(actor, action.kind())?;
    match action {
        Action::Create => create(actor, now),
        Action::Open => open(ticket, now),
        Action::Assign { developers } => assign(ticket, developers, now),
        Action::StartWork => start_work(ticket, actor, now),
        Action::FinishWork { comment } => finish_work(ticket, actor, &comment, now),
        Action::Approve => approve(ticket, actor, now),
        Action::Reject { reason } => reject(ticket, actor, &reason, now),
    }
}

fn create(actor: &Actor, now: DateTime<Utc>) -> Result<Transition, WorkflowError> {
    if actor.role == Role::Support {
        return Err(WorkflowError::DeveloperCannotCreate);
    }
    Ok(Transition {
        from: Status::New,
        to: Status::New,
        stamp: None,
        history: None,
        assignment: None,
        events: vec![Event::TicketCreated],
        status_changed: false,
        at: now,
    })
}

/// A step that moves the ticket to `to` and writes a history row from the real previous status.
fn move_to(
    ticket: &TicketState,
    to: Status,
    comment: String,
    events: Vec<Event>,
    now: DateTime<Utc>,
) -> Transition {
    let status_changed = ticket.status != to;
    Transition {
        from: ticket.status,
        to,
        stamp: if status_changed {
            Stamp::for_status(to)
        } else {
            None
        },
        history: Some(HistoryEntry {
            status_from: Some(ticket.status),
            status_to: to,
            comment,
        }),
        assignment: None,
        events,
        status_changed,
        at: now,
    }
}

fn open(ticket: &TicketState, now: DateTime<Utc>) -> Result<Transition, WorkflowError> {
    if ticket.status != Status::New {
        return Err(wrong_status(ActionKind::Open, ticket, &[Status::New]));
    }
    Ok(move_to(
        ticket,
        Status::Opened,
        "Ticket opened by admin".to_string(),
        vec![Event::TicketOpened],
        now,
    ))
}

fn assign(
    ticket: &TicketState,
    mut developers: Vec<Developer>,
    now: DateTime<Utc>,
) -> Result<Transition, WorkflowError> {
    // The history text lists names in id order whatever order the caller found them in.
    developers.sort_by_key(|d| d.id);
    developers.dedup_by_key(|d| d.id);
    if developers.is_empty() {
        return Err(WorkflowError::NoDevelopers);
    }
    let new_set: Vec<i64> = developers.iter().map(|d| d.id).collect();
    let newly_added: Vec<i64> = new_set
        .iter()
        .copied()
        .filter(|id| !ticket.assigned_to.contains(id))
        .collect();
    let mut removed: Vec<i64> = ticket
        .assigned_to
        .iter()
        .copied()
        .filter(|id| !new_set.contains(id))
        .collect();
    removed.sort_unstable();
    removed.dedup();
    let names = developers
        .iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let change = AssignmentChange {
        new_set,
        newly_added,
        removed,
        names,
    };
    // The original wrote a history row on every call; an unchanged set is not an event (issue fix).
    let history = change.changed().then(|| HistoryEntry {
        status_from: Some(ticket.status),
        status_to: ticket.status,
        comment: format!("Ticket assigned to {}", change.names),
    });
    let events = if change.newly_added.is_empty() {
        Vec::new()
    } else {
        vec![Event::DevelopersAssigned {
            newly_added: change.newly_added.clone(),
        }]
    };
    Ok(Transition {
        from: ticket.status,
        to: ticket.status,
        stamp: None,
        history,
        assignment: Some(change),
        events,
        status_changed: false,
        at: now,
    })
}

fn is_assigned_developer(ticket: &TicketState, actor: &Actor) -> bool {
    actor.role == Role::Support && ticket.assigned_to.contains(&actor.id)
}

fn start_work(
    ticket: &TicketState,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Transition, WorkflowError> {
    if !is_assigned_developer(ticket, actor) {
        return Err(WorkflowError::NotAssigned {
            action: ActionKind::StartWork,
        });
    }
    if !matches!(ticket.status, Status::Opened | Status::InProgress) {
        let required = &[Status::Opened, Status::InProgress];
        return Err(wrong_status(ActionKind::StartWork, ticket, required));
    }
    // A repeated start still answers 200 and leaves its history row, as the original did, but it
    // no longer re-notifies the client about work that had already started.
    let events = if ticket.status == Status::Opened {
        vec![Event::WorkStarted]
    } else {
        Vec::new()
    };
    Ok(move_to(
        ticket,
        Status::InProgress,
        "Work started on ticket".to_string(),
        events,
        now,
    ))
}

fn finish_work(
    ticket: &TicketState,
    actor: &Actor,
    comment: &TextInput,
    now: DateTime<Utc>,
) -> Result<Transition, WorkflowError> {
    if !is_assigned_developer(ticket, actor) {
        return Err(WorkflowError::NotAssigned {
            action: ActionKind::FinishWork,
        });
    }
    if ticket.status != Status::InProgress {
        let required = &[Status::InProgress];
        return Err(wrong_status(ActionKind::FinishWork, ticket, required));
    }
    let comment = finish_comment(comment)?;
    Ok(move_to(
        ticket,
        Status::Resolved,
        comment,
        vec![Event::WorkFinished],
        now,
    ))
}

/// Approve and reject share their 403s: creator first, then role.
fn check_creator(
    ticket: &TicketState,
    actor: &Actor,
    action: ActionKind,
) -> Result<(), WorkflowError> {
    if ticket.created_by != actor.id {
        return Err(WorkflowError::NotCreator { action });
    }
    if !matches!(actor.role, Role::Client | Role::Admin) {
        return Err(WorkflowError::WrongRole { action });
    }
    Ok(())
}

fn awaits_approval(status: Status) -> bool {
    AWAITING_APPROVAL.contains(&status)
}

fn wrong_status(
    action: ActionKind,
    ticket: &TicketState,
    required: &'static [Status],
) -> WorkflowError {
    WorkflowError::WrongStatus {
        action,
        current: ticket.status,
        required,
    }
}

fn approve(
    ticket: &TicketState,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Transition, WorkflowError> {
    check_creator(ticket, actor, ActionKind::Approve)?;
    if !awaits_approval(ticket.status) {
        return Err(WorkflowError::NotAwaitingApproval {
            current: ticket.status,
        });
    }
    // The original said "by client" even when an admin creator approved (§17 item 16).
    let by = if actor.role == Role::Admin {
        "admin"
    } else {
        "client"
    };
    Ok(move_to(
        ticket,
        Status::Closed,
        format!("Ticket approved and closed by {by}"),
        vec![Event::TicketClosed],
        now,
    ))
}

fn reject(
    ticket: &TicketState,
    actor: &Actor,
    reason: &TextInput,
    now: DateTime<Utc>,
) -> Result<Transition, WorkflowError> {
    check_creator(ticket, actor, ActionKind::Reject)?;
    if !awaits_approval(ticket.status) {
        let required = AWAITING_APPROVAL;
        return Err(wrong_status(ActionKind::Reject, ticket, required));
    }
    let reason = rejection_reason(reason)?;
    // `move_to` records the real previous status; the original always wrote RESOLVED (§17 item 16).
    Ok(move_to(
        ticket,
        Status::InProgress,
        format!("Rejected: {reason}"),
        vec![Event::TicketRejected { reason }],
        now,
    ))
}

/// The `finish_work` body field `comment`: optional; blank means [`DEFAULT_FINISH_COMMENT`].
pub fn finish_comment(input: &TextInput) -> Result<String, WorkflowError> {
    let value = match input {
        TextInput::Missing => return Ok(DEFAULT_FINISH_COMMENT.to_string()),
        TextInput::Null => return Err(WorkflowError::CommentNull),
        TextInput::NotAString => return Err(WorkflowError::CommentNotAString),
        TextInput::Value(s) => py_strip(s),
    };
    if value.is_empty() {
        return Ok(DEFAULT_FINISH_COMMENT.to_string());
    }
    let chars = value.chars().count();
    if chars > MAX_COMMENT_CHARS {
        return Err(WorkflowError::CommentTooLong);
    }
    if chars < MIN_FINISH_COMMENT_CHARS {
        return Err(WorkflowError::CommentTooShort);
    }
    Ok(value.to_string())
}

/// The `reject` body field `comment`: required, trimmed, 10 to 2000 characters.
pub fn rejection_reason(input: &TextInput) -> Result<String, WorkflowError> {
    let value = match input {
        TextInput::Missing => return Err(WorkflowError::CommentRequired),
        TextInput::Null => return Err(WorkflowError::CommentNull),
        TextInput::NotAString => return Err(WorkflowError::CommentNotAString),
        TextInput::Value(s) => py_strip(s),
    };
    if value.is_empty() {
        return Err(WorkflowError::CommentBlank);
    }
    let chars = value.chars().count();
    if chars > MAX_COMMENT_CHARS {
        return Err(WorkflowError::CommentTooLong);
    }
    if chars < MIN_REJECT_REASON_CHARS {
        return Err(WorkflowError::ReasonTooShort);
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests;
