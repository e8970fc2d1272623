//! Notification preferences: the defaults, your own and an admin's reads and changes, every
//! refused body, a channel turned off writing no row, and quiet hours holding WhatsApp rows
//! (not SYSTEM ones) until they end, at planning and at claim time. The quiet hours are placed
//! around the current time, so the tests hold whenever they run.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use incident::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{Engine, TestApp};
use crate::on_both_engines;
use crate::tickets::{cast_with_numbers, new_ticket, Cast};
use crate::whatsapp::{created, fake_twilio_in_turn, twilio_app, whatsapp_log};

const OWN: &str = "/api/profile/notifications/";
const EVENTS: [&str; 7] = [
    "ticket_created",
    "ticket_opened",
    "ticket_assigned",
    "work_started",
    "work_finished",
    "ticket_approved",
    "ticket_rejected",
];

on_both_engines!(
    preferences_default_to_every_channel_on_in_utc_without_quiet_hours,
    users_change_their_own_preferences_and_admins_anyones,
    bad_preferences_are_400_naming_the_field_and_change_nothing,
    a_channel_turned_off_writes_no_row,
    quiet_hours_around_now_hold_whatsapp_until_they_end_but_not_system,
    quiet_hours_wrapping_midnight_end_the_right_morning,
    a_row_claimed_inside_quiet_hours_waits_for_their_end,
);

fn users_path(id: i64) -> String {
    format!("/api/users/{id}/notifications/")
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (status, answer) = app.put(path, token, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

async fn preferences_default_to_every_channel_on_in_utc_without_quiet_hours(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (_, token) = app.user_token("carla", Role::Client).await;
    let (status, body) = app.get(OWN, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["time_zone"], "UTC");
    assert_eq!(body["quiet_hours"], Value::Null);
    let events = body["events"].as_object().unwrap();
    assert_eq!(events.len(), EVENTS.len());
    for event in EVENTS {
        assert_eq!(
            events[event],
            json!({"EMAIL": true, "WHATSAPP": true}),
            "{event}"
        );
    }
}

async fn users_change_their_own_preferences_and_admins_anyones(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (client_id, client) = app.user_token("carla", Role::Client).await;
    let (dev_id, dev) = app.user_token("dev", Role::Support).await;

    let body = put(
        &app,
        OWN,
        &client,
        json!({"events": {"ticket_opened": {"WHATSAPP": false, "SYSTEM": true}},
               "time_zone": "Africa/Cairo", "quiet_hours": {"start": "22:00", "end": "07:00"}}),
    )
    .await;
    assert_eq!(
        body["events"]["ticket_opened"],
        json!({"EMAIL": true, "WHATSAPP": false})
    );
    assert_eq!(body["time_zone"], "Africa/Cairo");
    assert_eq!(
        body["quiet_hours"],
        json!({"start": "22:00", "end": "07:00"})
    );
    // A second change merges: only what it names changes.
    let body = put(
        &app,
        OWN,
        &client,
        json!({"events": {"work_started": {"EMAIL": false}}}),
    )
    .await;
    assert_eq!(body["events"]["ticket_opened"]["WHATSAPP"], false);
    assert_eq!(body["events"]["work_started"]["EMAIL"], false);
    assert_eq!(body["time_zone"], "Africa/Cairo");
    let (_, read_back) = app.get(OWN, &client).await;
    assert_eq!(read_back, body);

    // The admin sees and changes anyone's.
    let (status, seen) = app.get(&users_path(client_id), &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen, body);
    let changed = put(
        &app,
        &users_path(client_id),
        &admin,
        json!({"quiet_hours": null, "events": {"ticket_opened": {"WHATSAPP": true}}}),
    )
    .await;
    assert_eq!(changed["quiet_hours"], Value::Null);
    assert_eq!(changed["events"]["ticket_opened"]["WHATSAPP"], true);
    let (_, own) = app.get(OWN, &client).await;
    assert_eq!(own, changed);

    // Nobody else may, and an unknown user is a 404.
    let forbidden = json!({"detail": "You do not have permission to perform this action."});
    let (status, body) = app.get(&users_path(client_id), &dev).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden.clone()));
    let (status, body) = app
        .put(&users_path(dev_id), &client, json!({"time_zone": "UTC"}))
        .await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden));
    let (status, body) = app.get(&users_path(999_999), &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "No User matches the given query."}));
    let (status, _) = app.get(OWN, "not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn bad_preferences_are_400_naming_the_field_and_change_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (_, token) = app.user_token("carla", Role::Client).await;
    let cases = [
        (
            json!({"events": {"ticket_burnt": {"EMAIL": false}}}),
            json!({"events": {"ticket_burnt": ["\"ticket_burnt\" is not a valid event."]}}),
        ),
        (
            json!({"events": {"ticket_created": {"SMS": false}}}),
            json!({"events": {"ticket_created": {"SMS": ["\"SMS\" is not a valid channel."]}}}),
        ),
        (
            json!({"events": {"ticket_created": {"SYSTEM": false}}}),
            json!({"events": {"ticket_created": {"SYSTEM": ["In-app (SYSTEM) notifications cannot be turned off."]}}}),
        ),
        (
            json!({"events": {"ticket_created": {"EMAIL": "off"}}}),
            json!({"events": {"ticket_created": {"EMAIL": ["Must be a valid boolean."]}}}),
        ),
        (
            json!({"events": ["ticket_created"]}),
            json!({"events": ["Expected a dictionary of items but got type \"list\"."]}),
        ),
        (
            json!({"time_zone": "Mars/Olympus_Mons"}),
            json!({"time_zone": ["A valid timezone is required."]}),
        ),
        (
            json!({"time_zone": null}),
            json!({"time_zone": ["This field may not be null."]}),
        ),
        (
            json!({"quiet_hours": {"start": "25:00", "end": "7:00"}}),
            json!({"quiet_hours": {
                "start": ["Time has wrong format. Use one of these formats instead: hh:mm."],
                "end": ["Time has wrong format. Use one of these formats instead: hh:mm."]}}),
        ),
        (
            json!({"quiet_hours": {"start": "22:00"}}),
            json!({"quiet_hours": {"end": ["This field is required."]}}),
        ),
        (
            json!({"quiet_hours": {"start": "22:00", "end": "22:00"}}),
            json!({"quiet_hours": {"end": ["Quiet hours must end at another time than they start."]}}),
        ),
        (
            json!({"quiet_hours": "22:00-07:00"}),
            json!({"quiet_hours": ["Expected a dictionary of items but got type \"str\"."]}),
        ),
        // Every bad field at once; the good ones are not applied either.
        (
            json!({"events": {"work_started": {"EMAIL": false}, "nope": {}}, "time_zone": "Nowhere",
                   "quiet_hours": {"start": "23:00", "end": "06:00"}}),
            json!({"events": {"nope": ["\"nope\" is not a valid event."]},
                   "time_zone": ["A valid timezone is required."]}),
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = app.put(OWN, &token, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer, expected, "{body}");
    }
    let (_, stored) = app.get(OWN, &token).await;
    assert_eq!(stored["time_zone"], "UTC");
    assert_eq!(stored["quiet_hours"], Value::Null);
    assert_eq!(stored["events"]["work_started"]["EMAIL"], true);
}

/// The WhatsApp and SYSTEM rows as (recipient, channel, status), in id order.
async fn rows(app: &TestApp) -> Vec<(i64, String, String)> {
    incident::on_db!(&app.db, p => sqlx::query_as(
        "SELECT recipient_id, notification_type, status FROM notification_log ORDER BY id")
        .fetch_all(p)
        .await)
    .unwrap()
}

/// The admin's WhatsApp row's `next_attempt_at`.
async fn next_attempt(app: &TestApp) -> DateTime<Utc> {
    incident::on_db!(&app.db, p => sqlx::query_scalar(
        "SELECT next_attempt_at FROM notification_log WHERE notification_type = 'WHATSAPP'")
        .fetch_one(p)
        .await)
    .unwrap()
}

async fn admin_id(app: &TestApp) -> i64 {
    app.login("admin").await["user"]["id"].as_i64().unwrap()
}

async fn a_channel_turned_off_writes_no_row(engine: Engine) {
    let fake = fake_twilio_in_turn(Vec::new(), created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    let admin = admin_id(&app).await;
    put(
        &app,
        OWN,
        &c.admin,
        json!({"events": {"ticket_created": {"WHATSAPP": false}}}),
    )
    .await;
    new_ticket(&app, &c.client).await;
    // WhatsApp off for that event; e-mail stays on by default.
    assert_eq!(
        rows(&app).await,
        [
            (admin, "EMAIL".to_string(), "PENDING".to_string()),
            (admin, "SYSTEM".to_string(), "SENT".to_string())
        ],
        "only the in-app row"
    );
    // Another event still reaches the admin on WhatsApp.
    put(
        &app,
        OWN,
        &c.admin,
        json!({"events": {"ticket_created": {"WHATSAPP": true}}}),
    )
    .await;
    new_ticket(&app, &c.client).await;
    assert_eq!(whatsapp_log(&app, &c.admin).await.len(), 1);
}

/// Quiet hours from an hour ago to an hour from now on `zone`'s clock; returns the body to
/// send and the instant they end.
fn window_around_now(zone: Tz) -> (Value, DateTime<Utc>) {
    let local = Utc::now().with_timezone(&zone).naive_local();
    let minute = |t: NaiveDateTime| t.with_second(0).unwrap().with_nanosecond(0).unwrap();
    let start = minute(local - Duration::hours(1));
    let end = minute(local + Duration::hours(1));
    let ends_at = zone
        .from_local_datetime(&end)
        .earliest()
        .unwrap()
        .with_timezone(&Utc);
    let body = json!({"time_zone": zone.name(), "quiet_hours": {
        "start": start.format("%H:%M").to_string(), "end": end.format("%H:%M").to_string()}});
    (body, ends_at)
}

/// The admin's WhatsApp row: held, PENDING, saying why; the fake received nothing.
async fn assert_held(
    app: &TestApp,
    c: &Cast,
    fake: &wiremock::MockServer,
    until: DateTime<Utc>,
    zone: &str,
) {
    let log = whatsapp_log(app, &c.admin).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["status"], "PENDING");
    let reason = log[0]["error_message"].as_str().unwrap();
    let end = until
        .with_timezone(&zone.parse::<Tz>().unwrap())
        .format("%H:%M");
    assert_eq!(reason, format!("Held for quiet hours until {end} {zone}"));
    assert_eq!(next_attempt(app).await, until);
    assert_eq!(app.deliver_due().await, 0, "nothing is due before the end");
    assert!(fake.received_requests().await.unwrap().is_empty());
}

async fn quiet_hours_around_now_hold_whatsapp_until_they_end_but_not_system(engine: Engine) {
    let fake = fake_twilio_in_turn(Vec::new(), created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    // New York keeps daylight saving time: the end is read on its wall clock.
    let (body, until) = window_around_now(chrono_tz::America::New_York);
    put(&app, OWN, &c.admin, body).await;
    new_ticket(&app, &c.client).await;
    let admin = admin_id(&app).await;
    let in_app: Vec<_> = rows(&app)
        .await
        .into_iter()
        .filter(|r| r.1 == "SYSTEM")
        .collect();
    assert_eq!(
        in_app,
        [(admin, "SYSTEM".to_string(), "SENT".to_string())],
        "the in-app row is not delayed"
    );
    assert_held(&app, &c, &fake, until, "America/New_York").await;
    // At the end both held rows go: the WhatsApp message and the e-mail.
    let sent = app.worker().deliver_due_at(until).await.unwrap();
    assert_eq!(sent, 2);
    assert_eq!(whatsapp_log(&app, &c.admin).await[0]["status"], "SENT");
    assert_eq!(fake.received_requests().await.unwrap().len(), 1);
}

/// A fixed-offset zone whose clock now shows an hour in `hours` (`Etc/GMT-3` is UTC+3).
fn zone_where_the_hour_is(hours: std::ops::RangeInclusive<u32>) -> Tz {
    (-12..=14)
        .map(|offset: i32| {
            let name = match offset {
                0 => "Etc/GMT".to_string(),
                o if o > 0 => format!("Etc/GMT-{o}"),
                o => format!("Etc/GMT+{}", -o),
            };
            name.parse::<Tz>().unwrap()
        })
        .find(|z| hours.contains(&Utc::now().with_timezone(z).hour()))
        .unwrap()
}

async fn quiet_hours_wrapping_midnight_end_the_right_morning(engine: Engine) {
    let fake = fake_twilio_in_turn(Vec::new(), created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    // Before midnight the hold runs to tomorrow's 07:00; after midnight to this morning's.
    for (hours, days_ahead) in [(22..=22, 1), (1..=5, 0)] {
        let zone = zone_where_the_hour_is(hours);
        put(
            &app,
            OWN,
            &c.admin,
            json!({"time_zone": zone.name(), "quiet_hours": {"start": "22:00", "end": "07:00"}}),
        )
        .await;
        let today = Utc::now().with_timezone(&zone).date_naive();
        let morning = (today + Duration::days(days_ahead))
            .and_hms_opt(7, 0, 0)
            .unwrap();
        let until = zone
            .from_local_datetime(&morning)
            .unwrap()
            .with_timezone(&Utc);
        let ticket = new_ticket(&app, &c.client).await;
        assert_held(&app, &c, &fake, until, zone.name()).await;
        let (status, _) = app
            .delete(&format!("/api/tickets/{ticket}/"), &c.admin)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
}

async fn a_row_claimed_inside_quiet_hours_waits_for_their_end(engine: Engine) {
    let fake = fake_twilio_in_turn(Vec::new(), created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    new_ticket(&app, &c.client).await;
    // Planned outside quiet hours (none yet); they start before the worker claims the row, as
    // when a retry falls inside them.
    let (body, until) = window_around_now(chrono_tz::Europe::Berlin);
    put(&app, OWN, &c.admin, body).await;
    assert_eq!(app.deliver_due().await, 0, "claimed, then held: not sent");
    assert_held(&app, &c, &fake, until, "Europe/Berlin").await;
    // The WhatsApp message and the e-mail, both held, go at the end.
    assert_eq!(app.worker().deliver_due_at(until).await.unwrap(), 2);
    assert_eq!(fake.received_requests().await.unwrap().len(), 1);
}
