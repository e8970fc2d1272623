//! The console's list pages: a list's address with its filters, and its pager.

use serde::Serialize;

/// Where a list page is and where its neighbours are.
#[derive(Debug, Serialize)]
pub(super) struct Pager {
    page: i64,
    pages: i64,
    prev_url: Option<String>,
    next_url: Option<String>,
}

/// A list's address with its filters (blank ones left out) and a page number.
pub(super) fn list_url(base: &str, query: &[(&str, &str)], page: Option<i64>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in query.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    if let Some(n) = page {
        q.append_pair("page", &n.to_string());
    }
    let q = q.finish();
    if q.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{q}")
    }
}

/// The pager of page `page` of `total` rows, keeping the list's `query`.
pub(super) fn pager(base: &str, query: &[(&str, &str)], page: i64, size: i64, total: i64) -> Pager {
    let pages = ((total + size - 1) / size).max(1);
    Pager {
        page,
        pages,
        prev_url: (page > 1).then(|| list_url(base, query, Some(page - 1))),
        next_url: (page < pages).then(|| list_url(base, query, Some(page + 1))),
    }
}
