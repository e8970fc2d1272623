//! Reading the ticket requests into the service's typed inputs: the list's query parameters
//! and the ticket serializer's fields (create and admin edits), with DRF's messages and
//! all-errors-at-once reporting.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::db::ticket_list::{ListFilter, TicketOrder};
use crate::domain::assign::Patch;
use crate::domain::ticket::{Category, Priority, Status};
use crate::error::{Error, Result};
use crate::http::body::{Field, Fields, Str};
use crate::http::pagination::PageRequest;
use crate::service::tickets::{NewTicketInput, TicketPatch};

// ---------------------------------------------------------------------------------------------
// The list's filters

/// The longest `?search=` (in characters): longer than any title, and well inside SQLite's
/// 50,000-byte `LIKE` pattern limit even with every character escaped.
pub const MAX_SEARCH_CHARS: usize = 1000;

const NOT_A_CHOICE: &str = "Select a valid choice. {} is not one of the available choices.";

/// Parses a comma-separated list of enum values; an unknown one is reported under the field.
fn parse_list<T>(
    page: &PageRequest,
    field: &str,
    parse: fn(&str) -> Option<T>,
    errors: &mut Map<String, Value>,
) -> Vec<T> {
    let Some(raw) = page.param(field).filter(|v| !v.is_empty()) else {
        return Vec::new();
    };
    let mut values = Vec::new();
    for v in raw.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        match parse(&v.to_ascii_uppercase()) {
            Some(value) => values.push(value),
            None => {
                errors.insert(field.to_string(), json!([NOT_A_CHOICE.replace("{}", v)]));
                break;
            }
        }
    }
    values
}

/// The filters of the list; every bad parameter is reported at once, as a filter form does.
pub fn list_filter(page: &PageRequest) -> Result<ListFilter> {
    let mut errors = Map::new();
    let statuses = parse_list(page, "status", Status::parse, &mut errors);
    let priorities = parse_list(page, "priority", Priority::parse, &mut errors);
    let categories = parse_list(page, "category", Category::parse, &mut errors);
    let order_by = match page.param("ordering").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => {
            let found = TicketOrder::parse(v.trim());
            if found.is_none() {
                errors.insert("ordering".into(), json!([NOT_A_CHOICE.replace("{}", v)]));
            }
            found
        }
    };
    if !errors.is_empty() {
        return Err(Error::Validation(Value::Object(errors)));
    }
    Ok(ListFilter {
        statuses,
        priorities,
        categories,
        search: page.text("search", MAX_SEARCH_CHARS)?.map(str::to_string),
        order_by,
    })
}

// ---------------------------------------------------------------------------------------------
// The ticket serializer's fields

const PRIORITIES: [&str; 3] = ["HIGH", "MEDIUM", "LOW"];
const CATEGORIES: [&str; 4] = ["BUG", "PROBLEM", "SERVICE_DOWN", "NEW_FEATURE"];

/// The writable fields of the ticket serializer, in its field order.
pub struct TicketFields {
    title: Field<String>,
    description: Field<String>,
    project_name: Field<String>,
    priority: Field<String>,
    category: Field<String>,
    assigned_team: Field<String>,
    response_due_at: Field<DateTime<Utc>>,
    resolution_due_at: Field<DateTime<Utc>>,
    estimated_resolution_time: Field<DateTime<Utc>>,
}

/// Validates the ticket fields; `required` is true for create and PUT. SLA fields and the team
/// are read for admins only: clients could bypass the SLA rules with them (§17 item 9).
pub fn ticket_fields(
    data: &Map<String, Value>,
    required: bool,
    admin: bool,
) -> Result<TicketFields> {
    let mut f = Fields::new(data);
    let req = |s: Str| Str { required, ..s };
    let title = f.str("title", req(Str::required()).max(300));
    let description = f.str("description", req(Str::required()));
    let project_name = f.str("project_name", Str::optional().no_blank().max(150));
    let priority = f.choice("priority", false, &PRIORITIES);
    let category = f.choice("category", false, &CATEGORIES);
    let (assigned_team, response_due_at, resolution_due_at, estimated_resolution_time) = if admin {
        (
            f.str("assigned_team", Str::optional().nullable().max(100)),
            f.datetime("response_due_at"),
            f.datetime("resolution_due_at"),
            f.datetime("estimated_resolution_time"),
        )
    } else {
        (Field::Absent, Field::Absent, Field::Absent, Field::Absent)
    };
    f.finish()?;
    Ok(TicketFields {
        title,
        description,
        project_name,
        priority,
        category,
        assigned_team,
        response_due_at,
        resolution_due_at,
        estimated_resolution_time,
    })
}

/// A present value sets the column, `null` clears it, an absent key leaves it.
fn patch<T>(field: Field<T>) -> Patch<T> {
    match field {
        Field::Value(v) => Patch::Set(v),
        Field::Null => Patch::Clear,
        Field::Absent | Field::Invalid => Patch::Unchanged,
    }
}

impl TicketFields {
    pub fn into_new(self) -> NewTicketInput {
        NewTicketInput {
            title: self.title.value().unwrap_or_default(),
            description: self.description.value().unwrap_or_default(),
            project_name: self.project_name.value(),
            priority: self.priority.value().and_then(|p| Priority::parse(&p)),
            category: self.category.value().and_then(|c| Category::parse(&c)),
            assigned_team: self.assigned_team.value(),
            response_due_at: self.response_due_at.value(),
            resolution_due_at: self.resolution_due_at.value(),
            estimated_resolution_time: self.estimated_resolution_time.value(),
        }
    }

    pub fn into_patch(self) -> TicketPatch {
        TicketPatch {
            title: self.title.value(),
            description: self.description.value(),
            project_name: self.project_name.value(),
            priority: self.priority.value().and_then(|p| Priority::parse(&p)),
            category: self.category.value().and_then(|c| Category::parse(&c)),
            assigned_team: patch(self.assigned_team),
            response_due_at: patch(self.response_due_at),
            resolution_due_at: patch(self.resolution_due_at),
            estimated_resolution_time: patch(self.estimated_resolution_time),
        }
    }
}

/// An admin edit may not name the status or the assignment: those change through the actions.
pub fn refuse_workflow_keys(data: &Map<String, Value>) -> Result<()> {
    if data.contains_key("status") {
        return Err(Error::Invalid(
            "Status cannot be changed directly. Use action endpoints (open_ticket, start_work, finish_work, approve, reject).".into(),
        ));
    }
    if data.contains_key("assigned_to") {
        return Err(Error::Invalid(
            "Assignment cannot be changed directly. Use assign action endpoint.".into(),
        ));
    }
    Ok(())
}
