//! Who the checks act as (tokens for test users) and the operator hooks (caps,
//! pause, the release instant), both provided by the backend team.

use std::process::Command;
use std::sync::Mutex;

/// A user the checks act as.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub token: String,
}

type Hook<A, R> = Box<dyn Fn(A) -> Result<R, String> + Send + Sync>;

/// Where tokens come from.
pub enum Tokens {
    /// `COMMAND {user}`: prints a bearer token for a user id.
    Command(String),
    /// `user token` pairs, used in order; each must be fresh (never used before).
    File(Mutex<std::vec::IntoIter<(String, String)>>),
    /// In-process (tests).
    Function(Hook<String, String>),
}

impl Tokens {
    /// Reads `user token` lines (blank lines and `#` comments skipped).
    pub fn from_file(path: &std::path::Path) -> Result<Tokens, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut pairs = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_whitespace().collect::<Vec<_>>()[..] {
                [user, token] => pairs.push((user.to_string(), token.to_string())),
                _ => {
                    return Err(format!(
                        "{}:{}: expected `user token`",
                        path.display(),
                        n + 1
                    ))
                }
            }
        }
        Ok(Tokens::File(Mutex::new(pairs.into_iter())))
    }

    /// How many users a file holds (None: as many as asked for).
    pub fn limit(&self) -> Option<usize> {
        match self {
            Tokens::File(pairs) => pairs.lock().ok().map(|p| p.len()),
            _ => None,
        }
    }

    /// A token for a new user whose id is `id` (a file decides the id itself).
    pub fn user(&self, id: String) -> Result<User, String> {
        match self {
            Tokens::Command(template) => {
                let token = run_template(template, "{user}", std::slice::from_ref(&id))?;
                let token = token.trim().to_string();
                if token.is_empty() || token.contains(char::is_whitespace) {
                    return Err(format!("--token-cmd printed no single token for {id}"));
                }
                Ok(User { id, token })
            }
            Tokens::File(pairs) => {
                let (id, token) = pairs
                    .lock()
                    .map_err(|_| "token file poisoned".to_string())?
                    .next()
                    .ok_or("--tokens: not enough users in the file")?;
                Ok(User { id, token })
            }
            Tokens::Function(f) => Ok(User {
                token: f(id.clone())?,
                id,
            }),
        }
    }
}

/// The operator hook: `cap ITEM N|none`, `pause`, `resume`, `release-at RFC3339`.
pub enum Admin {
    /// `COMMAND {args}`.
    Command(String),
    /// In-process (tests).
    Function(Hook<Vec<String>, ()>),
}

impl Admin {
    pub fn run(&self, args: &[&str]) -> Result<(), String> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        match self {
            Admin::Command(template) => run_template(template, "{args}", &args).map(drop),
            Admin::Function(f) => f(args),
        }
    }
}

/// Runs `template` with `placeholder` replaced: a word that is exactly the
/// placeholder becomes the values as separate words, one that contains it gets
/// them shell-quoted (for `sh -c '… {args}'`). No shell is involved otherwise.
/// Returns stdout; a failure carries stderr (never stdout, which may be a token).
fn run_template(template: &str, placeholder: &str, values: &[String]) -> Result<String, String> {
    let words = shell_words::split(template).map_err(|e| format!("{template:?}: {e}"))?;
    let mut argv: Vec<String> = Vec::new();
    for w in words {
        if w == placeholder {
            argv.extend(values.iter().cloned());
        } else {
            argv.push(w.replace(placeholder, &shell_words::join(values)));
        }
    }
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| format!("{template:?} is empty"))?;
    let shown = format!("{program} {}", values.join(" "));
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{shown}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_as_words_or_quoted_inside_one() {
        let out = run_template(
            "echo {args} --data-dir 'a b'",
            "{args}",
            &["cap".into(), "x y".into()],
        );
        assert_eq!(out.unwrap(), "cap x y --data-dir a b\n");
        let out = run_template("sh -c 'printf %s {user}'", "{user}", &["it's".into()]);
        assert_eq!(out.unwrap(), "it's");
        assert!(run_template("false {args}", "{args}", &[]).is_err());
    }

    #[test]
    fn a_token_file_hands_out_its_users_in_order_and_then_runs_out() {
        let dir = std::env::temp_dir().join(format!("kit-tokens-{}", std::process::id()));
        std::fs::write(&dir, "# team users\nalice tok-a\n\nbob tok-b\n").unwrap();
        let tokens = Tokens::from_file(&dir).unwrap();
        assert_eq!(tokens.limit(), Some(2));
        let a = tokens.user("ignored".into()).unwrap();
        assert_eq!((a.id.as_str(), a.token.as_str()), ("alice", "tok-a"));
        assert_eq!(tokens.user("x".into()).unwrap().id, "bob");
        assert!(tokens.user("x".into()).is_err());
        std::fs::write(&dir, "alice\n").unwrap();
        assert!(Tokens::from_file(&dir).is_err());
        let _ = std::fs::remove_file(&dir);
    }
}
