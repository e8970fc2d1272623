//! DRF `PageNumberPagination` (20 a page): `count/next/previous/results` with absolute URLs built
//! from the request, `?page=N|last`, and `Invalid page.` for anything else.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::db::PageRow;
use crate::error::Error;
use crate::http::body::{has_null_character, null_characters_in};
use crate::state::AppState;

pub const PAGE_SIZE: i64 = 20;

/// Where the request came from and which page it asks for.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// `scheme://host/path` of the request, without the query.
    pub url: String,
    /// The query pairs in request order.
    pub query: Vec<(String, String)>,
    page: Option<String>,
}

impl FromRequestParts<AppState> for PageRequest {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let base = request_base(parts, state);
        let query: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        // No query value with a NUL byte reaches a handler (PostgreSQL cannot store or compare
        // one): a 400 naming each such parameter, on both engines.
        let with_null: Vec<String> = query
            .iter()
            .filter(|(_, v)| has_null_character(v))
            .map(|(k, _)| k.clone())
            .collect();
        if !with_null.is_empty() {
            return Err(null_characters_in(with_null));
        }
        let page = query
            .iter()
            .rev()
            .find(|(k, _)| k == "page")
            .map(|(_, v)| v.clone());
        Ok(PageRequest {
            url: format!("{base}{}", parts.uri.path()),
            query,
            page,
        })
    }
}

/// The scheme and authority clients reach us at: `PUBLIC_BASE_URL`, else the Host header.
pub fn request_base(parts: &Parts, state: &AppState) -> String {
    if let Some(base) = &state.config.public_base_url {
        return base.clone();
    }
    let host = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_string());
    let scheme = parts
        .headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// A page of 20 (`PageNumberPagination`): `next`/`previous` are absolute URLs or null. The
/// handlers answer with it and the OpenAPI document describes it (`Paginated<TicketList>`...).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Paginated<T> {
    #[schema(example = 42)]
    pub count: i64,
    #[schema(required = true, example = "http://localhost:8000/api/tickets/?page=2")]
    pub next: Option<String>,
    #[schema(required = true)]
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// The slice of rows a page covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub number: i64,
    pub offset: i64,
    pub limit: i64,
    pub pages: i64,
}

impl PageRequest {
    /// Resolves `?page=` against the total; an empty first page is valid, as in Django.
    pub fn window(&self, count: i64) -> Result<Window, Error> {
        let pages = ((count + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        let number = match self.page.as_deref() {
            None | Some("") => 1,
            Some("last") => pages,
            Some(s) => s.parse::<i64>().map_err(|_| Error::InvalidPage)?,
        };
        if number < 1 || number > pages {
            return Err(Error::InvalidPage);
        }
        Ok(Window {
            number,
            offset: (number - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
            pages,
        })
    }

    /// Loads one page and shapes its rows for the answer. Each row of `fetch(offset, limit)`
    /// carries the total (`COUNT(*) OVER ()`), so a page costs one query; only `?page=last` and
    /// an empty page also need `count()`.
    pub async fn load<T, Item, F, Fut, C, CFut, E, CE>(
        &self,
        fetch: F,
        count: C,
        shape: impl Fn(&T) -> Item,
    ) -> Result<Paginated<Item>, Error>
    where
        T: PageRow,
        F: FnOnce(i64, i64) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<T>, E>>,
        C: FnOnce() -> CFut,
        CFut: std::future::Future<Output = Result<i64, CE>>,
        Error: From<E> + From<CE>,
    {
        let (total, w, rows) = self.rows(fetch, count).await?;
        Ok(self.paginate(total, w, rows.iter().map(shape).collect()))
    }

    /// The rows of the requested page, the total and the page's window.
    async fn rows<T, F, Fut, C, CFut, E, CE>(
        &self,
        fetch: F,
        count: C,
    ) -> Result<(i64, Window, Vec<T>), Error>
    where
        T: PageRow,
        F: FnOnce(i64, i64) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<T>, E>>,
        C: FnOnce() -> CFut,
        CFut: std::future::Future<Output = Result<i64, CE>>,
        Error: From<E> + From<CE>,
    {
        let requested = match self.page.as_deref() {
            None | Some("") => Some(1),
            Some("last") => None,
            Some(s) => Some(s.parse::<i64>().map_err(|_| Error::InvalidPage)?),
        };
        match requested {
            Some(n) if n >= 1 => {
                // A page whose offset no integer holds is past the end of any table.
                let offset = (n - 1).checked_mul(PAGE_SIZE).ok_or(Error::InvalidPage)?;
                let rows = fetch(offset, PAGE_SIZE).await?;
                let total = match rows.first() {
                    Some(r) => r.total_count(),
                    None => count().await?,
                };
                let w = self.window(total)?;
                Ok((total, w, rows))
            }
            Some(_) => Err(Error::InvalidPage),
            None => {
                let total = count().await?;
                let w = self.window(total)?;
                let rows = fetch(w.offset, w.limit).await?;
                Ok((total, w, rows))
            }
        }
    }

    /// DRF's `replace_query_param` / `remove_query_param`: the values are grouped by key (as
    /// `parse_qs` does), `page` is set or dropped, and the query is re-encoded sorted by key.
    fn link(&self, page: Option<i64>) -> String {
        let mut grouped: Vec<(&str, Vec<&str>)> = Vec::with_capacity(self.query.len() + 1);
        for (k, v) in self.query.iter().filter(|(k, _)| k != "page") {
            match grouped.iter_mut().find(|(key, _)| key == k) {
                Some((_, values)) => values.push(v),
                None => grouped.push((k, vec![v])),
            }
        }
        let page = page.map(|p| p.to_string());
        if let Some(p) = &page {
            grouped.push(("page", vec![p]));
        }
        if grouped.is_empty() {
            return self.url.clone();
        }
        grouped.sort_by(|a, b| a.0.cmp(b.0));
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                grouped
                    .iter()
                    .flat_map(|(k, values)| values.iter().map(move |v| (*k, *v))),
            )
            .finish();
        format!("{}?{}", self.url, q)
    }

    /// The paginated response body of `results`, whatever their (serializable) shape: what a
    /// handler answers with as `Json<Paginated<Item>>`.
    pub fn paginate<T>(&self, count: i64, w: Window, results: Vec<T>) -> Paginated<T> {
        let next = (w.number < w.pages).then(|| self.link(Some(w.number + 1)));
        // DRF drops `page` entirely for the link to page 1.
        let previous = (w.number > 1).then(|| self.link((w.number > 2).then_some(w.number - 1)));
        Paginated {
            count,
            next,
            previous,
            results,
        }
    }

    /// A free-text parameter's last value, trimmed (empty is absent). More than `max` characters
    /// is a 400 naming the parameter, the same on both engines: SQLite refuses a `LIKE` pattern
    /// over 50,000 bytes, and no search needs that many.
    pub fn text(&self, name: &str, max: usize) -> Result<Option<&str>, Error> {
        match self.param(name).map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) if v.chars().count() > max => Err(Error::field(
                name,
                format!("Ensure this field has no more than {max} characters."),
            )),
            found => Ok(found),
        }
    }

    /// A query parameter's last value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(query: &[(&str, &str)]) -> PageRequest {
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let page = query
            .iter()
            .rev()
            .find(|(k, _)| k == "page")
            .map(|(_, v)| v.clone());
        PageRequest {
            url: "http://h/api/tickets/".into(),
            query,
            page,
        }
    }

    #[test]
    fn links_keep_other_params_and_drop_page_for_page_one() {
        let r = req(&[("page", "2"), ("foo", "bar")]);
        let w = r.window(45).unwrap();
        let body = r.paginate(45, w, Vec::<()>::new());
        assert_eq!(
            body.next.as_deref(),
            Some("http://h/api/tickets/?foo=bar&page=3")
        );
        assert_eq!(
            body.previous.as_deref(),
            Some("http://h/api/tickets/?foo=bar")
        );
    }

    #[test]
    fn links_group_repeated_keys_and_sort_by_key() {
        let r = req(&[("z", "1"), ("a", "x y"), ("z", "2"), ("page", "2")]);
        let body = r.paginate(45, r.window(45).unwrap(), Vec::<()>::new());
        let body = serde_json::to_value(&body).unwrap();
        assert_eq!(body["next"], "http://h/api/tickets/?a=x+y&page=3&z=1&z=2");
        assert_eq!(body["previous"], "http://h/api/tickets/?a=x+y&z=1&z=2");
    }

    #[test]
    fn free_text_parameters_are_trimmed_and_bounded() {
        let r = req(&[("search", "  word  "), ("blank", "  "), ("long", "abcd")]);
        assert_eq!(r.text("search", 4).unwrap(), Some("word"));
        assert_eq!(r.text("blank", 4).unwrap(), None);
        assert_eq!(r.text("missing", 4).unwrap(), None);
        assert_eq!(
            r.text("long", 3).unwrap_err().body(),
            serde_json::json!({"long": ["Ensure this field has no more than 3 characters."]})
        );
    }

    #[test]
    fn invalid_pages() {
        assert!(req(&[("page", "0")]).window(10).is_err());
        assert!(req(&[("page", "2")]).window(10).is_err());
        assert!(req(&[("page", "x")]).window(10).is_err());
        assert_eq!(req(&[("page", "last")]).window(41).unwrap().number, 3);
        assert_eq!(req(&[]).window(0).unwrap().offset, 0);
    }
}
