//! Each workflow step's own cases: who may, in which status, what the history and events are,
//! and the body field messages.

use super::*;

// ---- create ------------------------------------------------------------------------------

#[test]
fn developers_cannot_create_tickets() {
    let err = run(
        &TicketState::unsaved(ME, "x"),
        Role::Support,
        Action::Create,
    )
    .unwrap_err();
    assert_eq!(err, WorkflowError::DeveloperCannotCreate);
    assert_eq!(err.http_status(), 403);
    assert_eq!(
        err.body(),
        json!({"detail": "Developers cannot create tickets. Only clients and admins can create tickets."})
    );
}

#[test]
fn creating_a_ticket_writes_no_history_and_announces_it() {
    for role in [Role::Client, Role::Admin] {
        let tr = run(&TicketState::unsaved(ME, "x"), role, Action::Create).unwrap();
        assert_eq!(tr.to, Status::New);
        assert_eq!(tr.history, None);
        assert_eq!(tr.stamp, None);
        assert!(!tr.status_changed);
        assert_eq!(tr.events, vec![Event::TicketCreated]);
        assert_eq!(tr.at, now());
    }
}

// ---- open --------------------------------------------------------------------------------

#[test]
fn client_cannot_open_a_ticket() {
    let err = run(&created_by_me(Status::New), Role::Client, Action::Open).unwrap_err();
    assert_eq!(err.http_status(), 403);
    assert_eq!(
        err.body(),
        json!({"error": "Only administrators can open tickets"})
    );
}

#[test]
fn open_and_assign_refuse_non_admins_before_the_ticket_is_looked_up() {
    for role in [Role::Client, Role::Support] {
        assert_eq!(
            answered(check_before_lookup(&actor(role), ActionKind::Open)),
            Err(forbidden("Only administrators can open tickets"))
        );
        assert_eq!(
            answered(check_before_lookup(&actor(role), ActionKind::Assign)),
            Err(forbidden(
                "Only administrators can assign tickets to developers"
            ))
        );
    }
    for kind in ActionKind::ALL {
        assert_eq!(check_before_lookup(&actor(Role::Admin), kind), Ok(()));
    }
    for kind in [
        ActionKind::Create,
        ActionKind::StartWork,
        ActionKind::Approve,
    ] {
        assert_eq!(check_before_lookup(&actor(Role::Client), kind), Ok(()));
    }
}

#[test]
fn admin_opens_a_new_ticket() {
    let tr = run(&ticket(Status::New), Role::Admin, Action::Open).unwrap();
    assert_eq!((tr.from, tr.to), (Status::New, Status::Opened));
    assert!(tr.status_changed);
    assert_eq!(tr.stamp, Some(Stamp::OpenedAt));
    assert_eq!(
        tr.history,
        Some(HistoryEntry {
            status_from: Some(Status::New),
            status_to: Status::Opened,
            comment: "Ticket opened by admin".to_string(),
        })
    );
    assert_eq!(tr.events, vec![Event::TicketOpened]);
    assert_eq!(tr.assignment, None);
}

#[test]
fn opening_an_opened_ticket_is_refused() {
    let err = run(&ticket(Status::Opened), Role::Admin, Action::Open).unwrap_err();
    assert_eq!(err.http_status(), 400);
    assert_eq!(err.body(), json!({"error": "Ticket is not in NEW status"}));
}

// ---- assign ------------------------------------------------------------------------------

fn assign(devs: Vec<Developer>) -> Action {
    Action::Assign { developers: devs }
}

#[test]
fn assign_names_developers_in_ascending_id_order() {
    let t = TicketState {
        assigned_to: vec![],
        ..ticket(Status::Opened)
    };
    let tr = run(
        &t,
        Role::Admin,
        assign(vec![dev(9, "Zed"), dev(3, "Amy Pond")]),
    )
    .unwrap();
    let change = tr.assignment.unwrap();
    assert_eq!(change.new_set, vec![3, 9]);
    assert_eq!(change.names, "Amy Pond, Zed");
    assert_eq!(
        tr.history,
        Some(HistoryEntry {
            status_from: Some(Status::Opened),
            status_to: Status::Opened,
            comment: "Ticket assigned to Amy Pond, Zed".to_string(),
        })
    );
    assert_eq!(
        tr.events,
        vec![Event::DevelopersAssigned {
            newly_added: vec![3, 9]
        }]
    );
    assert!(!tr.status_changed);
    assert_eq!(tr.stamp, None);
}

#[test]
fn assign_with_same_set_writes_no_history() {
    let t = TicketState {
        assigned_to: vec![9, 3],
        ..ticket(Status::InProgress)
    };
    let tr = run(&t, Role::Admin, assign(vec![dev(3, "Amy"), dev(9, "Zed")])).unwrap();
    assert_eq!(tr.history, None);
    assert!(tr.events.is_empty());
    let change = tr.assignment.unwrap();
    assert!(!change.changed());
    assert_eq!(change.names, "Amy, Zed");
    assert_eq!(change.new_set, vec![3, 9]);
}

#[test]
fn assign_notifies_only_newly_added_developers() {
    let t = TicketState {
        assigned_to: vec![3, 4],
        ..ticket(Status::Opened)
    };
    let tr = run(&t, Role::Admin, assign(vec![dev(3, "Amy"), dev(5, "Bo")])).unwrap();
    assert_eq!(
        tr.events,
        vec![Event::DevelopersAssigned {
            newly_added: vec![5]
        }]
    );
    let change = tr.assignment.unwrap();
    assert_eq!(change.removed, vec![4]);
    assert_eq!(change.newly_added, vec![5]);
    assert!(tr.history.is_some());
}

#[test]
fn assign_that_only_removes_writes_history_but_notifies_nobody() {
    let t = TicketState {
        assigned_to: vec![3, 4],
        ..ticket(Status::Opened)
    };
    let tr = run(&t, Role::Admin, assign(vec![dev(3, "Amy")])).unwrap();
    assert!(tr.events.is_empty());
    assert_eq!(tr.history.unwrap().comment, "Ticket assigned to Amy");
    assert_eq!(tr.assignment.unwrap().removed, vec![4]);
}

#[test]
fn assign_is_allowed_on_closed_tickets() {
    let tr = run(
        &ticket(Status::Closed),
        Role::Admin,
        assign(vec![dev(3, "Amy")]),
    )
    .unwrap();
    assert_eq!(tr.to, Status::Closed);
    assert_eq!(tr.history.unwrap().status_from, Some(Status::Closed));
}

#[test]
fn assign_without_developers_is_refused() {
    let err = run(&ticket(Status::Opened), Role::Admin, assign(vec![])).unwrap_err();
    assert_eq!(
        err.body(),
        json!({"assigned_to": ["At least one developer must be assigned"]})
    );
}

// ---- start / finish ----------------------------------------------------------------------

#[test]
fn start_from_opened_moves_to_in_progress_and_tells_the_client() {
    let tr = run(
        &assigned_to_me(Status::Opened),
        Role::Support,
        Action::StartWork,
    )
    .unwrap();
    assert_eq!((tr.from, tr.to), (Status::Opened, Status::InProgress));
    assert_eq!(tr.stamp, Some(Stamp::StartedAt));
    assert_eq!(tr.events, vec![Event::WorkStarted]);
    assert_eq!(tr.history.unwrap().comment, "Work started on ticket");
}

#[test]
fn repeated_start_writes_history_but_no_event() {
    let tr = run(
        &assigned_to_me(Status::InProgress),
        Role::Support,
        Action::StartWork,
    )
    .unwrap();
    assert!(!tr.status_changed);
    assert_eq!(tr.stamp, None);
    assert!(tr.events.is_empty());
    assert_eq!(
        tr.history,
        Some(HistoryEntry {
            status_from: Some(Status::InProgress),
            status_to: Status::InProgress,
            comment: "Work started on ticket".to_string(),
        })
    );
}

#[test]
fn unassigned_developer_cannot_start_work() {
    let err = run(&ticket(Status::Opened), Role::Support, Action::StartWork).unwrap_err();
    assert_eq!(err.http_status(), 403);
    assert_eq!(
        err.body(),
        json!({"error": "Only developers assigned to this ticket can start work"})
    );
}

#[test]
fn an_admin_in_the_assigned_set_still_cannot_start_work() {
    let err = run(
        &assigned_to_me(Status::Opened),
        Role::Admin,
        Action::StartWork,
    )
    .unwrap_err();
    assert_eq!(
        answer(err),
        forbidden("Only developers assigned to this ticket can start work")
    );
}

#[test]
fn finish_without_comment_stores_work_completed() {
    for input in [TextInput::Missing, "".into(), "   \n\t".into()] {
        let t = assigned_to_me(Status::InProgress);
        let tr = run(&t, Role::Support, finish(input)).unwrap();
        assert_eq!((tr.from, tr.to), (Status::InProgress, Status::Resolved));
        assert_eq!(tr.stamp, Some(Stamp::ResolvedAt));
        assert_eq!(tr.events, vec![Event::WorkFinished]);
        assert_eq!(tr.history.unwrap().comment, "Work completed");
    }
}

#[test]
fn finish_stores_the_comment_trimmed() {
    let t = assigned_to_me(Status::InProgress);
    let tr = run(&t, Role::Support, finish("  Rebooted it  ".into())).unwrap();
    assert_eq!(tr.history.unwrap().comment, "Rebooted it");
}

#[test]
fn finish_comment_messages() {
    let long = "x".repeat(2001);
    let cases: Vec<(TextInput, &str)> = vec![
        (
            "abcd".into(),
            "Comment must be at least 5 characters if provided",
        ),
        (
            "  abcd  ".into(),
            "Comment must be at least 5 characters if provided",
        ),
        (
            long.as_str().into(),
            "Ensure this field has no more than 2000 characters.",
        ),
        (TextInput::Null, "This field may not be null."),
        (TextInput::NotAString, "Not a valid string."),
    ];
    for (input, message) in cases {
        let err = run(
            &assigned_to_me(Status::InProgress),
            Role::Support,
            finish(input),
        );
        let err = err.unwrap_err();
        assert_eq!(answer(err), comment_error(message));
        assert_eq!(err.http_status(), 400);
        assert_eq!(err.body(), json!({"comment": [message]}));
    }
    assert_eq!(finish_comment(&"abcde".into()), Ok("abcde".to_string()));
    let max = "é".repeat(2000);
    assert_eq!(finish_comment(&max.as_str().into()), Ok(max.clone()));
}

#[test]
fn finish_checks_status_before_the_comment() {
    let err = run(
        &assigned_to_me(Status::Opened),
        Role::Support,
        finish("ab".into()),
    );
    assert_eq!(answered(err), Err(conflict("Ticket is not in progress")));
}

#[test]
fn finish_checks_assignment_before_status() {
    let err = run(&ticket(Status::Opened), Role::Support, finish("ab".into()));
    assert_eq!(
        answered(err),
        Err(forbidden(
            "Only developers assigned to this ticket can finish work"
        ))
    );
}

// ---- approve -----------------------------------------------------------------------------

#[test]
fn client_creator_approves_a_resolved_ticket() {
    let tr = run(
        &created_by_me(Status::Resolved),
        Role::Client,
        Action::Approve,
    )
    .unwrap();
    assert_eq!((tr.from, tr.to), (Status::Resolved, Status::Closed));
    assert_eq!(tr.stamp, Some(Stamp::ClosedAt));
    assert_eq!(tr.events, vec![Event::TicketClosed]);
    assert_eq!(
        tr.history.unwrap().comment,
        "Ticket approved and closed by client"
    );
}

#[test]
fn admin_creator_approval_says_admin() {
    let tr = run(
        &created_by_me(Status::WaitingApproval),
        Role::Admin,
        Action::Approve,
    )
    .unwrap();
    let history = tr.history.unwrap();
    assert_eq!(history.comment, "Ticket approved and closed by admin");
    assert_eq!(history.status_from, Some(Status::WaitingApproval));
}

#[test]
fn admin_who_did_not_create_the_ticket_cannot_approve_it() {
    let err = run(&ticket(Status::Resolved), Role::Admin, Action::Approve).unwrap_err();
    assert_eq!(
        err.body(),
        json!({"error": "Only the ticket creator can approve this ticket"})
    );
}

#[test]
fn developer_creator_is_refused_by_role_after_the_creator_check() {
    let err = run(
        &created_by_me(Status::Resolved),
        Role::Support,
        Action::Approve,
    );
    assert_eq!(
        answered(err),
        Err(forbidden("Only clients or admins can approve tickets"))
    );
}

#[test]
fn approving_too_early_returns_the_four_key_body() {
    let err = run(
        &created_by_me(Status::InProgress),
        Role::Client,
        Action::Approve,
    )
    .unwrap_err();
    assert_eq!(err.http_status(), 400);
    assert_eq!(
        err.body(),
        json!({
            "error": "Ticket is not awaiting approval",
            "current_status": "IN_PROGRESS",
            "required_status": ["RESOLVED", "WAITING_APPROVAL"],
            "message": "Developer must finish work before client can approve",
        })
    );
}

// ---- reject ------------------------------------------------------------------------------

#[test]
fn reject_records_the_real_previous_status() {
    for from in [Status::Resolved, Status::WaitingApproval] {
        let reason = "  Still broken on Firefox  ".into();
        let tr = run(&created_by_me(from), Role::Client, reject_with(reason)).unwrap();
        assert_eq!(tr.to, Status::InProgress);
        assert!(tr.status_changed);
        assert_eq!(tr.stamp, Some(Stamp::StartedAt));
        assert_eq!(
            tr.history,
            Some(HistoryEntry {
                status_from: Some(from),
                status_to: Status::InProgress,
                comment: "Rejected: Still broken on Firefox".to_string(),
            })
        );
        assert_eq!(
            tr.events,
            vec![Event::TicketRejected {
                reason: "Still broken on Firefox".to_string()
            }]
        );
    }
}

#[test]
fn reject_reason_messages() {
    let long = "y".repeat(2001);
    let cases: Vec<(TextInput, &str)> = vec![
        (TextInput::Missing, "This field is required."),
        (TextInput::Null, "This field may not be null."),
        (TextInput::NotAString, "Not a valid string."),
        ("".into(), "This field may not be blank."),
        ("    ".into(), "This field may not be blank."),
        (
            long.as_str().into(),
            "Ensure this field has no more than 2000 characters.",
        ),
        (
            "too short".into(),
            "Rejection reason must be at least 10 characters",
        ),
        (
            "  123456789  ".into(),
            "Rejection reason must be at least 10 characters",
        ),
    ];
    for (input, message) in cases {
        let got = run(
            &created_by_me(Status::Resolved),
            Role::Client,
            reject_with(input),
        );
        assert_eq!(answered(got), Err(comment_error(message)), "{message}");
    }
    assert_eq!(
        rejection_reason(&"1234567890".into()),
        Ok("1234567890".to_string())
    );
}

#[test]
fn reject_checks_status_before_the_reason() {
    let err = run(
        &created_by_me(Status::InProgress),
        Role::Client,
        reject_with(TextInput::Missing),
    )
    .unwrap_err();
    assert_eq!(
        err.body(),
        json!({"error": "Ticket is not awaiting approval"})
    );
}

#[test]
fn reject_checks_the_creator_before_anything_else() {
    let err = run(
        &ticket(Status::New),
        Role::Support,
        reject_with(TextInput::Null),
    );
    assert_eq!(
        answered(err),
        Err(forbidden("Only the ticket creator can reject this ticket"))
    );
}
