//! The message-texts section: the folder of template overrides and the address e-mail links
//! point at.

use std::path::PathBuf;

use super::reader::Reader;

/// `TEMPLATES_DIR` (a folder whose files override the built-in texts one by one; none by default)
/// and `FRONTEND_URL` (the base of the links in e-mails, the original's `http://localhost:8000`).
pub(super) fn read(r: &mut Reader) -> (Option<PathBuf>, String) {
    let templates_dir = r.raw("TEMPLATES_DIR").map(PathBuf::from);
    let raw = r.string("FRONTEND_URL", "http://localhost:8000");
    // Parsed, so the links put in e-mails' HTML as they are carry no quote or bracket.
    let frontend_url = match url::Url::parse(&raw) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.query().is_none()
                && u.fragment().is_none() =>
        {
            u.to_string()
        }
        _ => {
            r.error(format!(
                "FRONTEND_URL={raw:?} must be an http:// or https:// address without a query or fragment"
            ));
            raw
        }
    };
    (
        templates_dir,
        frontend_url.trim_end_matches('/').to_string(),
    )
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn read(dir: Option<&str>, url: Option<&str>) -> Result<(Option<String>, String), String> {
        Config::from_lookup(&|name| match name {
            "TEMPLATES_DIR" => dir.map(str::to_string),
            "FRONTEND_URL" => url.map(str::to_string),
            _ => None,
        })
        .map(|c| {
            let dir = c.templates_dir.map(|d| d.display().to_string());
            (dir, c.frontend_url)
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn templates_dir_is_optional_and_frontend_url_defaults_to_the_originals() {
        assert_eq!(read(None, None), Ok((None, "http://localhost:8000".into())));
        assert_eq!(
            read(
                Some("/etc/incident/templates"),
                Some("https://help.example.com/")
            ),
            Ok((
                Some("/etc/incident/templates".into()),
                "https://help.example.com".into()
            ))
        );
        let bad = read(None, Some("help.example.com")).unwrap_err();
        assert!(bad.contains("FRONTEND_URL"), "{bad}");
    }
}
