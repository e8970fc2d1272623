//! The state machine's tests: the whole table of status x action x actor, the error answers
//! pinned through `crate::error`, and the vocabulary. Each step's own cases are in [`steps`].

mod steps;

use super::*;
use chrono::TimeZone;
use serde_json::{json, Value};

// Tests may reach any layer: the JSON answers are pinned through `crate::error`, the one place
// that writes them.
#[cfg(test)]
use crate::error::Error;

const ME: i64 = 7;
const SOMEONE_ELSE: i64 = 999;
const OTHER_DEV: i64 = 500;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap()
}

fn ticket(status: Status) -> TicketState {
    TicketState {
        id: 1,
        title: "Printer on fire".to_string(),
        status,
        created_by: SOMEONE_ELSE,
        assigned_to: vec![OTHER_DEV],
    }
}

fn created_by_me(status: Status) -> TicketState {
    TicketState {
        created_by: ME,
        ..ticket(status)
    }
}

fn assigned_to_me(status: Status) -> TicketState {
    TicketState {
        assigned_to: vec![OTHER_DEV, ME],
        ..ticket(status)
    }
}

fn actor(role: Role) -> Actor {
    Actor { id: ME, role }
}

fn dev(id: i64, name: &str) -> Developer {
    Developer {
        id,
        name: name.to_string(),
    }
}

fn run(t: &TicketState, role: Role, action: Action) -> Result<Transition, WorkflowError> {
    apply(t, &actor(role), action, now())
}

fn finish(comment: TextInput) -> Action {
    Action::FinishWork { comment }
}

fn reject_with(reason: TextInput) -> Action {
    Action::Reject { reason }
}

/// The status and body the API answers a refusal with.
trait Answer {
    fn http_status(&self) -> u16;
    fn body(&self) -> Value;
}

impl Answer for WorkflowError {
    fn http_status(&self) -> u16 {
        Error::from(*self).status().as_u16()
    }

    fn body(&self) -> Value {
        Error::from(*self).body()
    }
}

fn answer(e: WorkflowError) -> (u16, Value) {
    (e.http_status(), e.body())
}

/// A step's outcome with a refusal turned into its status and body.
fn answered<T>(r: Result<T, WorkflowError>) -> Result<T, (u16, Value)> {
    r.map_err(answer)
}

/// A 403 `{"error": message}`.
fn forbidden(message: &str) -> (u16, Value) {
    (403, json!({ "error": message }))
}

/// A 400 `{"error": message}`.
fn conflict(message: &str) -> (u16, Value) {
    (400, json!({ "error": message }))
}

fn comment_error(message: &str) -> (u16, Value) {
    (400, json!({ "comment": [message] }))
}

// ---- the whole state machine as one table ------------------------------------------------

/// Every status x action x (role, assigned?, creator?) combination. Columns: C/A/S = CLIENT,
/// ADMIN, SUPPORT; then `a` = the actor is in `assigned_to`, `c` = the actor created the ticket
/// (`.` = not). Cells: a status code = accepted, ticket ends in that status; `f` = the action's
/// 403; `fd` = developers cannot create; `fc` / `fr` = approve/reject's creator / role 403;
/// `x` = the action's status 400.
const TABLE: &str = "
    action  status  | C..  C.c  Ca.  Cac  | A..  A.c  Aa.  Aac  | S..  S.c  Sa.  Sac
    create  NEW     | NEW  NEW  NEW  NEW  | NEW  NEW  NEW  NEW  | fd   fd   fd   fd
    create  OPN     | NEW  NEW  NEW  NEW  | NEW  NEW  NEW  NEW  | fd   fd   fd   fd
    create  PRG     | NEW  NEW  NEW  NEW  | NEW  NEW  NEW  NEW  | fd   fd   fd   fd
    create  RES     | NEW  NEW  NEW  NEW  | NEW  NEW  NEW  NEW  | fd   fd   fd   fd
    create  WAI     | NEW  NEW  NEW  NEW  | NEW  NEW  NEW  NEW  | fd   fd   fd   fd
    create  CLO     | NEW  NEW  NEW  NEW  | NEW  NEW  NEW  NEW  | fd   fd   fd   fd
    open    NEW     | f    f    f    f    | OPN  OPN  OPN  OPN  | f    f    f    f
    open    OPN     | f    f    f    f    | x    x    x    x    | f    f    f    f
    open    PRG     | f    f    f    f    | x    x    x    x    | f    f    f    f
    open    RES     | f    f    f    f    | x    x    x    x    | f    f    f    f
    open    WAI     | f    f    f    f    | x    x    x    x    | f    f    f    f
    open    CLO     | f    f    f    f    | x    x    x    x    | f    f    f    f
    assign  NEW     | f    f    f    f    | NEW  NEW  NEW  NEW  | f    f    f    f
    assign  OPN     | f    f    f    f    | OPN  OPN  OPN  OPN  | f    f    f    f
    assign  PRG     | f    f    f    f    | PRG  PRG  PRG  PRG  | f    f    f    f
    assign  RES     | f    f    f    f    | RES  RES  RES  RES  | f    f    f    f
    assign  WAI     | f    f    f    f    | WAI  WAI  WAI  WAI  | f    f    f    f
    assign  CLO     | f    f    f    f    | CLO  CLO  CLO  CLO  | f    f    f    f
    start   NEW     | f    f    f    f    | f    f    f    f    | f    f    x    x
    start   OPN     | f    f    f    f    | f    f    f    f    | f    f    PRG  PRG
    start   PRG     | f    f    f    f    | f    f    f    f    | f    f    PRG  PRG
    start   RES     | f    f    f    f    | f    f    f    f    | f    f    x    x
    start   WAI     | f    f    f    f    | f    f    f    f    | f    f    x    x
    start   CLO     | f    f    f    f    | f    f    f    f    | f    f    x    x
    finish  NEW     | f    f    f    f    | f    f    f    f    | f    f    x    x
    finish  OPN     | f    f    f    f    | f    f    f    f    | f    f    x    x
    finish  PRG     | f    f    f    f    | f    f    f    f    | f    f    RES  RES
    finish  RES     | f    f    f    f    | f    f    f    f    | f    f    x    x
    finish  WAI     | f    f    f    f    | f    f    f    f    | f    f    x    x
    finish  CLO     | f    f    f    f    | f    f    f    f    | f    f    x    x
    approve NEW     | fc   x    fc   x    | fc   x    fc   x    | fc   fr   fc   fr
    approve OPN     | fc   x    fc   x    | fc   x    fc   x    | fc   fr   fc   fr
    approve PRG     | fc   x    fc   x    | fc   x    fc   x    | fc   fr   fc   fr
    approve RES     | fc   CLO  fc   CLO  | fc   CLO  fc   CLO  | fc   fr   fc   fr
    approve WAI     | fc   CLO  fc   CLO  | fc   CLO  fc   CLO  | fc   fr   fc   fr
    approve CLO     | fc   x    fc   x    | fc   x    fc   x    | fc   fr   fc   fr
    reject  NEW     | fc   x    fc   x    | fc   x    fc   x    | fc   fr   fc   fr
    reject  OPN     | fc   x    fc   x    | fc   x    fc   x    | fc   fr   fc   fr
    reject  PRG     | fc   x    fc   x    | fc   x    fc   x    | fc   fr   fc   fr
    reject  RES     | fc   PRG  fc   PRG  | fc   PRG  fc   PRG  | fc   fr   fc   fr
    reject  WAI     | fc   PRG  fc   PRG  | fc   PRG  fc   PRG  | fc   fr   fc   fr
    reject  CLO     | fc   x    fc   x    | fc   x    fc   x    | fc   fr   fc   fr
";

fn status_code(code: &str) -> Option<Status> {
    Some(match code {
        "NEW" => Status::New,
        "OPN" => Status::Opened,
        "PRG" => Status::InProgress,
        "RES" => Status::Resolved,
        "WAI" => Status::WaitingApproval,
        "CLO" => Status::Closed,
        _ => return None,
    })
}

fn action_named(name: &str) -> Action {
    match name {
        "create" => Action::Create,
        "open" => Action::Open,
        "assign" => Action::Assign {
            developers: vec![dev(42, "Grace Hopper")],
        },
        "start" => Action::StartWork,
        "finish" => finish("Replaced the fuser".into()),
        "approve" => Action::Approve,
        "reject" => reject_with("Still smoking after the fix".into()),
        other => panic!("unknown action {other}"),
    }
}

fn expected_error(action: &str, code: &str, status: Status) -> (u16, Value) {
    match (action, code) {
        ("create", "fd") => (
            403,
            json!({"detail": "Developers cannot create tickets. Only clients and admins can create tickets."}),
        ),
        ("open", "f") => forbidden("Only administrators can open tickets"),
        ("open", "x") => conflict("Ticket is not in NEW status"),
        ("assign", "f") => forbidden("Only administrators can assign tickets to developers"),
        ("start", "f") => forbidden("Only developers assigned to this ticket can start work"),
        ("start", "x") => conflict("Ticket cannot be started in current status"),
        ("finish", "f") => forbidden("Only developers assigned to this ticket can finish work"),
        ("finish", "x") => conflict("Ticket is not in progress"),
        ("approve", "fc") => forbidden("Only the ticket creator can approve this ticket"),
        ("approve", "fr") => forbidden("Only clients or admins can approve tickets"),
        ("approve", "x") => (
            400,
            json!({
                "error": "Ticket is not awaiting approval",
                "current_status": status.as_str(),
                "required_status": ["RESOLVED", "WAITING_APPROVAL"],
                "message": "Developer must finish work before client can approve",
            }),
        ),
        ("reject", "fc") => forbidden("Only the ticket creator can reject this ticket"),
        ("reject", "fr") => forbidden("Only clients or admins can reject tickets"),
        ("reject", "x") => conflict("Ticket is not awaiting approval"),
        other => panic!("no error code {other:?}"),
    }
}

#[test]
fn every_status_action_and_actor_combination_matches_the_table() {
    let roles = [Role::Client, Role::Admin, Role::Support];
    let mut seen = std::collections::HashSet::new();
    let mut checked = 0;
    for line in TABLE
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .skip(1)
    {
        let (head, cells) = line.split_once('|').unwrap();
        let mut head = head.split_whitespace();
        let (action, status) = (head.next().unwrap(), head.next().unwrap());
        let status = status_code(status).unwrap();
        assert!(seen.insert((action, status)), "duplicate row {line}");
        let cells: Vec<&str> = cells.split(['|', ' ']).filter(|c| !c.is_empty()).collect();
        assert_eq!(cells.len(), 12, "{line}");
        for (i, code) in cells.iter().enumerate() {
            let role = roles[i / 4];
            let assigned = i % 4 >= 2;
            let creator = i % 2 == 1;
            let t = TicketState {
                status,
                created_by: if creator { ME } else { SOMEONE_ELSE },
                assigned_to: if assigned { vec![ME] } else { vec![OTHER_DEV] },
                ..ticket(status)
            };
            let got = run(&t, role, action_named(action));
            let case = format!("{action} {status} {role} assigned={assigned} creator={creator}");
            match status_code(code) {
                Some(to) => {
                    let tr = got.unwrap_or_else(|e| panic!("{case}: expected {to}, got {e:?}"));
                    assert_eq!(tr.to, to, "{case}");
                    assert_eq!(
                        tr.status_changed,
                        action != "create" && to != status,
                        "{case}"
                    );
                }
                None => assert_eq!(
                    answered(got),
                    Err(expected_error(action, code, status)),
                    "{case}"
                ),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, Status::ALL.len() * ActionKind::ALL.len() * 12);
}

// ---- vocabulary and input plumbing -------------------------------------------------------

#[test]
fn event_codes_and_titles_match_the_original() {
    let events = [
        (Event::TicketCreated, "ticket_created", "Ticket Created"),
        (Event::TicketOpened, "ticket_opened", "Ticket Opened"),
        (
            Event::DevelopersAssigned {
                newly_added: vec![1],
            },
            "ticket_assigned",
            "Ticket Assigned",
        ),
        (Event::WorkStarted, "work_started", "Work Started"),
        (Event::WorkFinished, "work_finished", "Work Finished"),
        (Event::TicketClosed, "ticket_approved", "Ticket Approved"),
        (
            Event::TicketRejected {
                reason: String::new(),
            },
            "ticket_rejected",
            "Ticket Rejected",
        ),
    ];
    let codes: Vec<&str> = events.iter().map(|(_, code, _)| *code).collect();
    assert_eq!(codes, Event::CODES);
    for (event, code, title) in events {
        assert_eq!(event.code(), code);
        assert_eq!(event.title(), title);
    }
}

#[test]
fn stamps_follow_the_new_status() {
    assert_eq!(Stamp::for_status(Status::New), None);
    assert_eq!(Stamp::for_status(Status::Opened), Some(Stamp::OpenedAt));
    assert_eq!(
        Stamp::for_status(Status::InProgress),
        Some(Stamp::StartedAt)
    );
    assert_eq!(Stamp::for_status(Status::Resolved), Some(Stamp::ResolvedAt));
    assert_eq!(
        Stamp::for_status(Status::WaitingApproval),
        Some(Stamp::ResolvedAt)
    );
    assert_eq!(Stamp::for_status(Status::Closed), Some(Stamp::ClosedAt));
    assert_eq!(Stamp::ClosedAt.column(), "closed_at");
}

#[test]
fn floats_print_as_python_repr() {
    let cases = [
        (1.0, "1.0"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (5.5, "5.5"),
        (100.0, "100.0"),
        (0.1, "0.1"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.5e-7, "1.5e-07"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e+16"),
        (1.2345e20, "1.2345e+20"),
        (123.456, "123.456"),
        (-2.5, "-2.5"),
        (1e300, "1e+300"),
    ];
    for (f, repr) in cases {
        assert_eq!(py_float_repr(f), repr, "{f}");
    }
}

#[test]
fn errors_map_to_status_and_body() {
    let forbidden = WorkflowError::NotAdmin {
        action: ActionKind::Open,
    };
    assert_eq!(
        (forbidden.http_status(), forbidden.body()),
        (
            403,
            json!({"error": "Only administrators can open tickets"})
        )
    );
    let conflict = WorkflowError::WrongStatus {
        action: ActionKind::Open,
        current: Status::Opened,
        required: &[Status::New],
    };
    assert_eq!(
        (conflict.http_status(), conflict.body()),
        (400, json!({"error": "Ticket is not in NEW status"}))
    );
    assert_eq!(conflict.to_string(), "Ticket is not in NEW status");
}
