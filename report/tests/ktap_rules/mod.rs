//! A small reader of KTAP version 1 (the kernel's
//! Documentation/dev-tools/ktap.rst), written for the tests and independent
//! of the renderer: it refuses output that breaks the format's rules and
//! returns the tree of results for the tests to look into.
//!
//! The rules it holds output to:
//! 1. the first line is `KTAP version 1`; every nested block starts with
//!    the same line, and here a plan `1..N` always follows it;
//! 2. a result line is `ok N description` or `not ok N description`,
//!    optionally followed by ` # ` and diagnostic data that may start with
//!    a directive (SKIP, TODO, XFAIL, TIMEOUT, ERROR); TIMEOUT and ERROR
//!    go with `not ok`; the description holds no `#`;
//! 3. results are numbered 1, 2, 3, ... within their block, and a block has
//!    exactly as many results as its plan says, unless the run bailed out;
//! 4. a nested block is indented two spaces deeper than its parent, and the
//!    parent's result line follows it at the parent's indentation;
//! 5. a test with a failing subtest fails itself;
//! 6. diagnostic lines start with `#` at the indentation of their block;
//! 7. `Bail out!` ends the output: nothing but diagnostics may follow;
//! 8. nothing else (no unknown lines, no tabs, no trailing spaces).
#![allow(dead_code)]

/// One test's result.
#[derive(Debug, Clone)]
pub struct Test {
    /// `ok` (true) or `not ok`.
    pub ok: bool,
    /// Its number in its block.
    pub number: usize,
    /// Its description.
    pub name: String,
    /// The directive and its reason, when there is one.
    pub directive: Option<(String, String)>,
    /// Diagnostic lines right before its result line (in its block).
    pub diags: Vec<String>,
    /// Its subtests.
    pub subtests: Vec<Test>,
    /// The plan of its subtests, when it has a block.
    pub plan: Option<usize>,
}

/// A whole KTAP document.
#[derive(Debug)]
pub struct Doc {
    /// The top-level plan.
    pub plan: usize,
    /// The top-level results.
    pub tests: Vec<Test>,
    /// The reason given by `Bail out!`, when the output has one.
    pub bailed: Option<String>,
}

const DIRECTIVES: [&str; 5] = ["SKIP", "TODO", "XFAIL", "TIMEOUT", "ERROR"];

struct Reader<'a> {
    lines: Vec<&'a str>,
    at: usize,
    bailed: Option<String>,
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A result line's parts: ok, number, description, directive and reason.
type Parts = (bool, usize, String, Option<(String, String)>);

/// A result line, without its indentation.
fn result_line(text: &str) -> Option<Result<Parts, String>> {
    let (ok, rest) = if let Some(r) = text.strip_prefix("not ok ") {
        (false, r)
    } else if let Some(r) = text.strip_prefix("ok ") {
        (true, r)
    } else {
        return None;
    };
    Some((|| {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        let number: usize = rest[..digits]
            .parse()
            .map_err(|_| format!("no test number in {text:?}"))?;
        let rest = &rest[digits..];
        let (description, data) = match rest.find(" # ") {
            Some(i) => (&rest[..i], Some(&rest[i + 3..])),
            None if rest.ends_with(" #") => (&rest[..rest.len() - 2], Some("")),
            None => (rest, None),
        };
        if !description.is_empty() && !description.starts_with(' ') {
            return Err(format!("no space after the number in {text:?}"));
        }
        let description = description.trim().to_owned();
        if description.contains('#') {
            return Err(format!("a description holds '#': {text:?}"));
        }
        let directive = data.and_then(|d| {
            let word = d.split(' ').next().unwrap_or("");
            DIRECTIVES
                .contains(&word)
                .then(|| (word.to_owned(), d[word.len()..].trim().to_owned()))
        });
        if let Some((d, _)) = &directive {
            if ok && (d == "TIMEOUT" || d == "ERROR") {
                return Err(format!("{d} goes with `not ok`: {text:?}"));
            }
        }
        Ok((ok, number, description, directive))
    })())
}

impl Reader<'_> {
    fn line(&self) -> Option<&str> {
        self.lines.get(self.at).copied()
    }

    /// The block whose version line is the current line, at `depth`.
    fn block(&mut self, depth: usize) -> Result<(usize, Vec<Test>), String> {
        let pad = " ".repeat(2 * depth);
        let here = self.at + 1;
        if self.line() != Some(&format!("{pad}KTAP version 1")) {
            return Err(format!(
                "line {here}: expected `{pad}KTAP version 1`, got {:?}",
                self.line()
            ));
        }
        self.at += 1;
        let plan_line = self.line().unwrap_or("");
        let plan: usize = plan_line
            .strip_prefix(&format!("{pad}1.."))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                format!(
                    "line {}: expected the plan `{pad}1..N`, got {plan_line:?}",
                    self.at + 1
                )
            })?;
        self.at += 1;
        let mut tests: Vec<Test> = Vec::new();
        let mut diags = Vec::new();
        let mut pending: Option<(usize, Vec<Test>)> = None;
        while let Some(line) = self.line() {
            let n = self.at + 1;
            if line.contains('\t') || line.ends_with(' ') {
                return Err(format!("line {n}: a tab or trailing space: {line:?}"));
            }
            if let Some(why) = line.trim_start().strip_prefix("Bail out!") {
                self.bailed = Some(why.trim().to_owned());
                self.at += 1;
                // Only diagnostics may follow.
                while let Some(rest) = self.line() {
                    if !rest.trim_start().starts_with('#') {
                        return Err(format!("line {}: after `Bail out!`: {rest:?}", self.at + 1));
                    }
                    self.at += 1;
                }
                break;
            }
            let indent = indent_of(line);
            if indent < pad.len() {
                break;
            }
            if indent == pad.len() + 2 && line.trim_start() == "KTAP version 1" {
                if pending.is_some() {
                    return Err(format!(
                        "line {n}: two nested blocks without a result between them"
                    ));
                }
                pending = Some(self.block(depth + 1)?);
                if self.bailed.is_some() {
                    // The parent's result never came.
                    break;
                }
                continue;
            }
            if indent != pad.len() {
                return Err(format!(
                    "line {n}: indented {indent} spaces in a block at {}: {line:?}",
                    pad.len()
                ));
            }
            let text = &line[indent..];
            if text.starts_with('#') {
                if !(text == "#" || text.starts_with("# ")) {
                    return Err(format!("line {n}: a diagnostic line is `# text`: {line:?}"));
                }
                diags.push(text.trim_start_matches('#').trim().to_owned());
                self.at += 1;
                continue;
            }
            match result_line(text) {
                None => return Err(format!("line {n}: not a KTAP line: {line:?}")),
                Some(Err(e)) => return Err(format!("line {n}: {e}")),
                Some(Ok((ok, number, name, directive))) => {
                    if number != tests.len() + 1 {
                        return Err(format!(
                            "line {n}: test number {number}, expected {}",
                            tests.len() + 1
                        ));
                    }
                    let (plan, subtests) = match pending.take() {
                        Some((p, s)) => (Some(p), s),
                        None => (None, Vec::new()),
                    };
                    let failing = subtests.iter().any(|s| !s.ok);
                    if failing && ok {
                        return Err(format!("line {n}: `{name}` passes although a subtest failed"));
                    }
                    tests.push(Test {
                        ok,
                        number,
                        name,
                        directive,
                        diags: std::mem::take(&mut diags),
                        subtests,
                        plan,
                    });
                    self.at += 1;
                }
            }
        }
        if pending.is_some() && self.bailed.is_none() {
            return Err(format!(
                "a nested block at depth {} has no result line after it",
                depth + 1
            ));
        }
        if self.bailed.is_none() && tests.len() != plan {
            return Err(format!(
                "a block at depth {depth} plans {plan} tests and has {}",
                tests.len()
            ));
        }
        if self.bailed.is_some() && tests.len() > plan {
            return Err(format!(
                "a block at depth {depth} plans {plan} tests and has {}",
                tests.len()
            ));
        }
        Ok((plan, tests))
    }
}

/// Reads `text` as KTAP version 1, or says which rule it breaks where.
pub fn parse(text: &str) -> Result<Doc, String> {
    let mut r = Reader {
        lines: text.lines().collect(),
        at: 0,
        bailed: None,
    };
    if !text.ends_with('\n') {
        return Err("the output does not end with a line break".to_owned());
    }
    let (plan, tests) = r.block(0)?;
    if r.at != r.lines.len() {
        return Err(format!("line {}: unexpected {:?}", r.at + 1, r.lines[r.at]));
    }
    Ok(Doc {
        plan,
        tests,
        bailed: r.bailed,
    })
}

/// The reader's own rules, on small hand-written documents.
pub fn self_test() {
    let good = "KTAP version 1\n1..2\n  KTAP version 1\n  1..2\n  # why\n  ok 1 a\n  not ok 2 b # ERROR broke\nnot ok 1 s\nok 2 t # SKIP none\n";
    let doc = parse(good).unwrap();
    assert_eq!(doc.tests.len(), 2);
    assert_eq!(doc.tests[0].subtests[0].diags, ["why"]);
    assert_eq!(
        doc.tests[1].directive,
        Some(("SKIP".to_owned(), "none".to_owned()))
    );
    let bad = [
        ("TAP version 13\n1..0\n", "expected `KTAP version 1`"),
        ("KTAP version 1\nok 1 a\n", "expected the plan"),
        (
            "KTAP version 1\n1..2\nok 1 a\nok 3 b\n",
            "test number 3, expected 2",
        ),
        ("KTAP version 1\n1..2\nok 1 a\n", "plans 2 tests and has 1"),
        ("KTAP version 1\n1..1\nok 1 a#b\n", "holds '#'"),
        ("KTAP version 1\n1..1\nok 1 a # ERROR x\n", "goes with `not ok`"),
        (
            "KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  not ok 1 a\nok 1 s\n",
            "passes although a subtest failed",
        ),
        (
            "KTAP version 1\n1..1\n KTAP version 1\n 1..1\n ok 1 a\nok 1 s\n",
            "indented 1 spaces",
        ),
        ("KTAP version 1\n1..1\nhello\nok 1 a\n", "not a KTAP line"),
        (
            "KTAP version 1\n1..2\nok 1 a\nBail out! x\nok 2 b\n",
            "after `Bail out!`",
        ),
        ("KTAP version 1\n1..1\nok 1 a \n", "trailing space"),
    ];
    for (text, why) in bad {
        let e = parse(text).expect_err(text);
        assert!(e.contains(why), "{text:?}: {e}");
    }
    let bailed = parse("KTAP version 1\n1..3\nnot ok 1 a\nBail out! gone\n").unwrap();
    assert_eq!(bailed.bailed.as_deref(), Some("gone"));
}
