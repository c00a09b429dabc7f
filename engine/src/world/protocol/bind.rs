//! Binding arguments into SQL text, and whether a statement returns rows.

/// Whether a statement returns rows, for the Describe reply ('T' or 'n'). The real server
/// knows from the plan; the SQL subset makes the first keyword (or a RETURNING) enough.
pub fn returns_rows(sql: &str) -> bool {
    let upper = sql.trim_start().to_ascii_uppercase();
    ["SELECT", "WITH", "VALUES", "TABLE", "SHOW"]
        .iter()
        .any(|k| upper.starts_with(k))
        || upper.contains(" RETURNING ")
}

/// Substitutes `$1`, `$2`, ... in `sql` by the arguments as SQL literals (what the server does
/// at Bind time, for a server API that takes SQL text). Integers stay bare, NULL stays NULL,
/// everything else is quoted.
pub fn bind(sql: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(sql.len());
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    let mut in_string = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            in_string = !in_string;
        }
        if c == '$' && !in_string && i + 1 < chars.len() && chars[i + 1].is_ascii_digit() {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            let n: usize = chars[i + 1..j]
                .iter()
                .collect::<String>()
                .parse()
                .unwrap_or(0);
            match args.get(n.wrapping_sub(1)) {
                Some(arg) => out.push_str(&literal(arg)),
                // Left as is: the server will report the missing parameter.
                None => out.extend(&chars[i..j]),
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn literal(arg: &str) -> String {
    let is_integer = !arg.is_empty()
        && arg
            .strip_prefix('-')
            .unwrap_or(arg)
            .chars()
            .all(|c| c.is_ascii_digit())
        && arg != "-";
    if is_integer || arg.eq_ignore_ascii_case("NULL") {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "''"))
    }
}
