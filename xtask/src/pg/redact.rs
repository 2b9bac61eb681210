//! Connection strings hold passwords, in more places than a parser expects: the user info
//! of a URL, a `password` query parameter (percent-encoded or not), a `key=value` setting,
//! a JDBC or SQLAlchemy spelling. Nothing prints a connection string itself; everything
//! shows it through [`describe_database_url`], which keeps only the parts that cannot hold
//! a secret: the scheme, the host and the database, each checked against the characters
//! such a part can have.

/// The connection string as it may be shown: `postgresql://db.example:5432/attune`, or
/// `key=value settings (host db.example, database attune)`. Parts that cannot be read
/// safely are left out.
pub fn describe_database_url(url: &str) -> String {
    let parts = Parts::of(url);
    let mut shown = match &parts.scheme {
        Some(scheme) => format!("{scheme}://"),
        None => "key=value settings".to_owned(),
    };
    match (&parts.scheme, &parts.host, &parts.database) {
        (Some(_), host, database) => {
            shown.push_str(host.as_deref().unwrap_or(""));
            if let Some(database) = database {
                shown.push('/');
                shown.push_str(database);
            }
        }
        (None, None, None) => {}
        (None, host, database) => {
            let named: Vec<String> = [("host", host), ("database", database)]
                .into_iter()
                .filter_map(|(what, value)| value.as_ref().map(|value| format!("{what} {value}")))
                .collect();
            shown.push_str(&format!(" ({})", named.join(", ")));
        }
    }
    shown
}

/// Parses the connection string for the client. An error says what is wrong with it and
/// shows it only as [`describe_database_url`] does.
pub fn parse_database_url(url: &str) -> anyhow::Result<postgres::Config> {
    let shown = describe_database_url(url);
    let fail = |problem: &str| {
        anyhow::anyhow!(
            "invalid database URL {shown}: {problem}; only its scheme, host and database are \
             shown, as the rest may hold a password. Pass \
             postgres://USER:PASSWORD@HOST:PORT/DATABASE, or key=value settings such as \
             `host=HOST dbname=DATABASE`"
        )
    };
    if url.trim() != url {
        return Err(fail("it starts or ends with white space: remove it"));
    }
    if unquoted(url) != url {
        return Err(fail(
            "it is wrapped in quotes (an env file may have kept them): remove them",
        ));
    }
    if let Some(scheme) = &Parts::of(url).scheme {
        if scheme.starts_with("jdbc:") {
            return Err(fail(
                "that is a JDBC URL: drop the `jdbc:` prefix and pass user and password in the \
                 URL",
            ));
        }
        if let Some((base, driver)) = scheme.split_once('+') {
            return Err(fail(&format!(
                "`+{driver}` names a Python driver (SQLAlchemy's spelling): use {base}://"
            )));
        }
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(fail(&format!(
                "the scheme `{scheme}` is not postgres:// or postgresql://"
            )));
        }
    }
    url.parse().map_err(|_| {
        fail(
            "the client cannot read it (an unknown setting, a port that is not a number, an \
             unterminated quote or a stray character)",
        )
    })
}

/// What can be shown of a connection string; `None` for a part absent or unsafe to show.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parts {
    /// `None` for the key=value form.
    scheme: Option<String>,
    host: Option<String>,
    database: Option<String>,
}

impl Parts {
    fn of(url: &str) -> Parts {
        let url = unquoted(url.trim());
        match url.split_once("://") {
            Some((scheme, rest)) => Parts::of_url(scheme, rest),
            None => Parts::of_key_value(url),
        }
    }

    fn of_url(scheme: &str, rest: &str) -> Parts {
        let scheme_chars = |c: char| c.is_ascii_alphanumeric() || "+-.:".contains(c);
        let scheme = (!scheme.is_empty() && scheme.chars().all(scheme_chars))
            .then(|| scheme.to_ascii_lowercase());
        // The last `@` ends the user info, even when a careless password holds `@`, `/`
        // or `?`; what follows is checked character by character before it is shown.
        let after_user = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
        let before_query = after_user.split(['?', '#']).next().unwrap_or_default();
        let (host, database) = match before_query.split_once('/') {
            Some((host, database)) => (host, Some(database)),
            None => (before_query, None),
        };
        Parts {
            scheme,
            host: safe_host(host),
            database: database.and_then(safe_name),
        }
    }

    fn of_key_value(text: &str) -> Parts {
        let mut parts = Parts::default();
        for word in text.split_whitespace() {
            match word.split_once('=') {
                Some(("host" | "hostaddr", value)) => parts.host = safe_host(value),
                Some(("dbname", value)) => parts.database = safe_name(value),
                _ => {}
            }
        }
        parts
    }
}

/// The text between one pair of matching quotes around it, or the text itself.
fn unquoted(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    text
}

/// Host names, addresses and ports, a socket directory percent-encoded, several hosts
/// separated by commas; nothing that could be a user, a password or a query.
fn safe_host(host: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._%,[]".contains(c);
    let valid = |part: &str| {
        let (name, port) = match part.rsplit_once(':') {
            // An IPv6 address in brackets holds colons of its own.
            Some((name, port)) if !port.contains(']') => (name, Some(port)),
            _ => (part, None),
        };
        !name.is_empty()
            && name
                .chars()
                .all(|c| allowed(c) || (c == ':' && part.starts_with('[')))
            && port.is_none_or(|port| !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()))
    };
    (!host.is_empty() && host.split(',').all(valid)).then(|| host.to_owned())
}

/// A database name as it appears in a URL path: letters, digits, `_`, `-`, `.`, `$`.
fn safe_name(name: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.$".contains(c);
    (!name.is_empty() && name.chars().all(allowed)).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form a password was seen to leak through, with the password in it.
    const LEAKY_FORMS: &[&str] = &[
        "postgresql+psycopg2://attune:s3cretPW@db.example:5432/attune",
        "postgress://attune:s3cretPW@db.example/attune",
        " postgresql://attune:s3cretPW@db.example/attune",
        "\"postgresql://attune:s3cretPW@db.example/attune\"",
        "'postgresql://attune:s3cretPW@db.example/attune'",
        "jdbc:postgresql://db.example:5432/attune?user=attune&password=s3cretPW",
        "host=db.example user=attune password=s3cretPW dbname=attune sslmode=bogus",
        "host=db.example password='s3cretPW",
        "postgresql://db.example/attune?pass%77ord=s3cretPW&sslmode=bogus",
        "postgresql://attune:s3cretPW@db.example:port/attune",
        "postgresql://attune:s3c?retPW@db.example/attune?sslmode=bogus",
        "postgresql://db.example/attune?user=a@s3cretPW&x=1",
    ];

    #[test]
    fn no_form_shows_the_password_and_each_malformed_one_is_refused() {
        for url in LEAKY_FORMS {
            let shown = describe_database_url(url);
            assert!(!shown.contains("s3c"), "{url}: {shown}");
            // The last form is a valid URL to the client (its host is the text after `@`).
            match parse_database_url(url) {
                Err(err) => {
                    let err = format!("{err:#}");
                    assert!(!err.contains("s3c"), "{url}: {err}");
                    assert!(err.starts_with("invalid database URL"), "{err}");
                }
                Ok(_) => assert_eq!(url, LEAKY_FORMS.last().unwrap()),
            }
        }
    }

    #[test]
    fn each_problem_is_named() {
        let problem = |url: &str| format!("{:#}", parse_database_url(url).unwrap_err());
        assert!(problem(LEAKY_FORMS[0]).contains("use postgresql://"));
        assert!(problem(LEAKY_FORMS[1]).contains("the scheme `postgress`"));
        assert!(problem(LEAKY_FORMS[2]).contains("white space"));
        assert!(problem(LEAKY_FORMS[3]).contains("wrapped in quotes"));
        assert!(problem(LEAKY_FORMS[5]).contains("a JDBC URL"));
        assert!(problem(LEAKY_FORMS[6]).contains("cannot read it"));
    }

    #[test]
    fn scheme_host_and_database_are_shown() {
        assert_eq!(
            describe_database_url(LEAKY_FORMS[0]),
            "postgresql+psycopg2://db.example:5432/attune"
        );
        assert_eq!(
            describe_database_url("postgresql://u:a@b/c@host/db?password=x"),
            "postgresql://host/db"
        );
        assert_eq!(
            describe_database_url("postgres://%2Fvar%2Frun%2Fpostgresql/db"),
            "postgres://%2Fvar%2Frun%2Fpostgresql/db"
        );
        assert_eq!(
            describe_database_url("postgresql://[::1]:5432,h2:5433/db"),
            "postgresql://[::1]:5432,h2:5433/db"
        );
        assert_eq!(
            describe_database_url(LEAKY_FORMS[6]),
            "key=value settings (host db.example, database attune)"
        );
        assert_eq!(
            describe_database_url(LEAKY_FORMS[9]),
            "postgresql:///attune"
        );
    }

    #[test]
    fn good_urls_parse() {
        for url in [
            "postgresql://postgres@localhost/postgres",
            "postgres://u:p%40ss@h:5432/d?sslmode=disable",
            "host=/tmp dbname=postgres user=postgres",
        ] {
            parse_database_url(url).unwrap();
        }
    }
}
