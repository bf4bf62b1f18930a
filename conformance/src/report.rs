//! The outcome of a run: readable text, JSON and JUnit XML.

use crate::client::Failure;
use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub enum Outcome {
    Pass,
    Fail(Failure),
    Skip(String),
}

/// One check's result.
#[derive(Clone, Debug)]
pub struct CheckResult {
    /// Stable id, e.g. `claims.parallel-one-grant`.
    pub id: &'static str,
    pub group: &'static str,
    /// What it checks, in a sentence.
    pub title: &'static str,
    pub outcome: Outcome,
    pub millis: u128,
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub base: String,
    pub results: Vec<CheckResult>,
    /// Users the run took.
    pub users: usize,
}

impl Report {
    /// (passed, failed, skipped)
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for r in &self.results {
            match r.outcome {
                Outcome::Pass => c.0 += 1,
                Outcome::Fail(_) => c.1 += 1,
                Outcome::Skip(_) => c.2 += 1,
            }
        }
        c
    }

    pub fn ok(&self) -> bool {
        self.counts().1 == 0
    }

    pub fn ids(&self, pick: impl Fn(&Outcome) -> bool) -> Vec<&'static str> {
        self.results
            .iter()
            .filter(|r| pick(&r.outcome))
            .map(|r| r.id)
            .collect()
    }

    pub fn failed(&self) -> Vec<&'static str> {
        self.ids(|o| matches!(o, Outcome::Fail(_)))
    }

    pub fn skipped(&self) -> Vec<&'static str> {
        self.ids(|o| matches!(o, Outcome::Skip(_)))
    }

    /// The last line: `N passed, M failed, K skipped`.
    pub fn summary(&self) -> String {
        let (p, f, s) = self.counts();
        format!("{p} passed, {f} failed, {s} skipped")
    }

    pub fn text(&self) -> String {
        let mut out = format!("maeum-conformance: {}\n", self.base);
        let mut group = "";
        for r in &self.results {
            if r.group != group {
                group = r.group;
                out.push_str(&format!("\n{group}\n"));
            }
            let (mark, detail) = match &r.outcome {
                Outcome::Pass => ("PASS", String::new()),
                Outcome::Skip(why) => ("SKIP", format!("      skipped: {why}\n")),
                Outcome::Fail(f) => {
                    let mut d = format!("      {}\n", f.why);
                    for line in f.exchange.iter().flat_map(|x| x.lines()) {
                        d.push_str(&format!("        {line}\n"));
                    }
                    ("FAIL", d)
                }
            };
            out.push_str(&format!("  {mark}  {}  {}\n{detail}", r.id, r.title));
        }
        out.push_str(&format!("\n{}\n", self.summary()));
        out
    }

    pub fn json(&self) -> Value {
        let (passed, failed, skipped) = self.counts();
        let checks: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                let mut v = json!({"id": r.id, "group": r.group, "title": r.title, "millis": r.millis as u64});
                match &r.outcome {
                    Outcome::Pass => v["outcome"] = json!("passed"),
                    Outcome::Skip(why) => {
                        v["outcome"] = json!("skipped");
                        v["why"] = json!(why);
                    }
                    Outcome::Fail(f) => {
                        v["outcome"] = json!("failed");
                        v["why"] = json!(f.why);
                        v["exchange"] = json!(f.exchange);
                    }
                }
                v
            })
            .collect();
        json!({"base": self.base, "passed": passed, "failed": failed, "skipped": skipped, "checks": checks})
    }

    /// JUnit XML, one test case per check. Written by hand: a dozen lines, where a
    /// JUnit crate would bring its own XML, time and id dependencies.
    pub fn junit(&self) -> String {
        let (_, failed, skipped) = self.counts();
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"maeum-conformance\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\">\n",
            self.results.len()
        );
        for r in &self.results {
            out.push_str(&format!(
                "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
                xml(r.group),
                xml(&format!("{}: {}", r.id, r.title)),
                r.millis as f64 / 1000.0
            ));
            match &r.outcome {
                Outcome::Pass => {}
                Outcome::Skip(why) => out.push_str(&format!("<skipped message=\"{}\"/>", xml(why))),
                Outcome::Fail(f) => out.push_str(&format!(
                    "<failure message=\"{}\">{}</failure>",
                    xml(&f.why),
                    xml(f.exchange.as_deref().unwrap_or(""))
                )),
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("</testsuite>\n");
        out
    }
}

fn xml(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_names_each_check_and_the_failure() {
        let r = Report {
            base: "http://x/api".into(),
            results: vec![
                CheckResult {
                    id: "a.one",
                    group: "a",
                    title: "one",
                    outcome: Outcome::Pass,
                    millis: 1,
                },
                CheckResult {
                    id: "a.two",
                    group: "a",
                    title: "two <&>",
                    outcome: Outcome::Fail(Failure {
                        why: "bad".into(),
                        exchange: Some("> GET /v1/status\n< 500".into()),
                    }),
                    millis: 2,
                },
                CheckResult {
                    id: "b.three",
                    group: "b",
                    title: "three",
                    outcome: Outcome::Skip("needs --admin-cmd".into()),
                    millis: 0,
                },
            ],
            users: 0,
        };
        let text = r.text();
        assert!(
            text.contains("FAIL  a.two") && text.contains("        < 500"),
            "{text}"
        );
        assert!(text.ends_with("1 passed, 1 failed, 1 skipped\n"), "{text}");
        assert_eq!(r.json()["checks"][1]["outcome"], "failed");
        let junit = r.junit();
        assert!(
            junit.contains("two &lt;&amp;&gt;")
                && junit.contains("<skipped message=\"needs --admin-cmd\"/>"),
            "{junit}"
        );
        assert_eq!((r.failed(), r.skipped()), (vec!["a.two"], vec!["b.three"]));
    }
}
