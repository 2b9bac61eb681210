//! Connection strings hold passwords; everything we print shows them through here.

const MASK: &str = "***";

/// The connection string (URL or `key=value` form) with any password replaced by `***`.
pub fn redact_database_url(url: &str) -> String {
    let scheme_end = ["postgresql://", "postgres://"]
        .iter()
        .find(|scheme| url.starts_with(**scheme))
        .map(|scheme| scheme.len());
    match scheme_end {
        Some(scheme_end) => redact_url(url, scheme_end),
        None => redact_key_value(url),
    }
}

fn redact_url(url: &str, scheme_end: usize) -> String {
    let (before_query, query) = match url.find('?') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let mut redacted = String::with_capacity(url.len());
    // The last `@` before the query ends the user info, even if a careless password
    // holds an unencoded `@` or `/`.
    match before_query[scheme_end..].rfind('@') {
        Some(at) => {
            let user_info = &before_query[scheme_end..scheme_end + at];
            redacted.push_str(&before_query[..scheme_end]);
            match user_info.split_once(':') {
                Some((user, _password)) => {
                    redacted.push_str(user);
                    redacted.push(':');
                    redacted.push_str(MASK);
                }
                None => redacted.push_str(user_info),
            }
            redacted.push_str(&before_query[scheme_end + at..]);
        }
        None => redacted.push_str(before_query),
    }
    for (index, param) in query.split('&').enumerate() {
        if index > 0 {
            redacted.push('&');
        }
        match param.split_once('=') {
            Some((key, _)) if key.trim_start_matches('?') == "password" => {
                redacted.push_str(key);
                redacted.push('=');
                redacted.push_str(MASK);
            }
            _ => redacted.push_str(param),
        }
    }
    redacted
}

/// `host=... password='a b' ...`: values are bare words or single-quoted with `\` escapes.
fn redact_key_value(conninfo: &str) -> String {
    let mut redacted = String::with_capacity(conninfo.len());
    let mut rest = conninfo;
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else {
            redacted.push_str(rest);
            break;
        };
        let key = rest[..eq].trim();
        let key = key.rsplit(char::is_whitespace).next().unwrap_or(key);
        redacted.push_str(&rest[..=eq]);
        rest = &rest[eq + 1..];
        let leading_spaces = rest.len() - rest.trim_start().len();
        redacted.push_str(&rest[..leading_spaces]);
        rest = &rest[leading_spaces..];
        let value_len = key_value_len(rest);
        if key == "password" {
            redacted.push_str(MASK);
        } else {
            redacted.push_str(&rest[..value_len]);
        }
        rest = &rest[value_len..];
    }
    redacted
}

fn key_value_len(value: &str) -> usize {
    if let Some(quoted) = value.strip_prefix('\'') {
        let mut escaped = false;
        for (at, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '\'' => return at + 2,
                _ => {}
            }
        }
        value.len()
    } else {
        value.find(char::is_whitespace).unwrap_or(value.len())
    }
}

#[cfg(test)]
mod tests {
    use super::redact_database_url as redact;

    #[test]
    fn url_password_is_masked() {
        assert_eq!(
            redact("postgresql://attune:s3cret@db.example:5432/attune"),
            "postgresql://attune:***@db.example:5432/attune"
        );
        assert_eq!(
            redact("postgres://u:p%40ss@h/d?sslmode=disable"),
            "postgres://u:***@h/d?sslmode=disable"
        );
    }

    #[test]
    fn url_password_with_unencoded_at_and_slash_is_masked_whole() {
        assert_eq!(
            redact("postgresql://u:a@b/c@host/db"),
            "postgresql://u:***@host/db"
        );
    }

    #[test]
    fn url_password_query_parameter_is_masked() {
        assert_eq!(
            redact("postgresql://u@h/db?password=hunter2&sslmode=require"),
            "postgresql://u@h/db?password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgresql:///db?password=x"),
            "postgresql:///db?password=***"
        );
    }

    #[test]
    fn url_without_password_is_unchanged() {
        for url in [
            "postgresql://postgres@localhost/postgres",
            "postgresql:///postgres?host=/tmp/xtask-pg-1&user=postgres",
            "postgres://%2Fvar%2Frun%2Fpostgresql/db",
        ] {
            assert_eq!(redact(url), url);
        }
    }

    #[test]
    fn key_value_password_is_masked() {
        assert_eq!(
            redact("host=localhost password=hunter2 user=me"),
            "host=localhost password=*** user=me"
        );
        assert_eq!(
            redact("user=me password = 'with \\' quote and spaces' dbname=x"),
            "user=me password = *** dbname=x"
        );
        assert_eq!(
            redact("host=/tmp dbname=postgres"),
            "host=/tmp dbname=postgres"
        );
    }
}
