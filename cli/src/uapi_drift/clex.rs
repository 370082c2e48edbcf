//! The little C lexing the gate needs: comments found and blanked out (line
//! numbers kept), string and character literals stepped over, brace blocks
//! matched.

/// One comment of a C file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// First line (1-based).
    pub start: usize,
    /// Last line (1-based).
    pub end: usize,
    /// Whether it starts a line (only white space before it): a comment
    /// about what follows rather than a remark at the end of a line.
    pub leading: bool,
    /// The text between the markers, as written.
    pub text: String,
}

/// A C file split into code and comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The file with every comment replaced by spaces (newlines kept, so
    /// byte offsets and line numbers are the file's).
    pub code: String,
    /// The comments in file order.
    pub comments: Vec<Comment>,
}

/// The 1-based line of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Splits `src` into code and comments. An unterminated comment runs to the
/// end of the file.
pub fn split(src: &str) -> Split {
    let b = src.as_bytes();
    let mut code = b.to_vec();
    let mut comments = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut line_start = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                line += 1;
                i += 1;
                line_start = i;
            }
            b'"' | b'\'' => i = skip_literal(b, i, &mut line, &mut line_start),
            b'/' if b.get(i + 1) == Some(&b'*') || b.get(i + 1) == Some(&b'/') => {
                let block = b[i + 1] == b'*';
                let start_line = line;
                let leading = b[line_start..i].iter().all(u8::is_ascii_whitespace);
                let body_start = i + 2;
                let (body_end, end) = if block {
                    match src[body_start..].find("*/") {
                        Some(k) => (body_start + k, body_start + k + 2),
                        None => (b.len(), b.len()),
                    }
                } else {
                    let e = src[i..].find('\n').map_or(b.len(), |k| i + k);
                    (e, e)
                };
                for (k, c) in code.iter_mut().enumerate().take(end).skip(i) {
                    if b[k] == b'\n' {
                        line += 1;
                        line_start = k + 1;
                    } else {
                        *c = b' ';
                    }
                }
                comments.push(Comment {
                    start: start_line,
                    end: line,
                    leading,
                    text: src[body_start..body_end].to_owned(),
                });
                i = end;
            }
            _ => i += 1,
        }
    }
    Split {
        // Only whole comments were replaced, by ASCII spaces: still UTF-8.
        code: String::from_utf8(code).unwrap_or_default(),
        comments,
    }
}

/// The offset just past the string or character literal starting at `i`.
fn skip_literal(b: &[u8], i: usize, line: &mut usize, line_start: &mut usize) -> usize {
    let quote = b[i];
    let mut k = i + 1;
    while k < b.len() {
        match b[k] {
            b'\\' => k += 2,
            b'\n' => {
                // An unterminated literal ends at the line's end.
                *line += 1;
                *line_start = k + 1;
                return k + 1;
            }
            c if c == quote => return k + 1,
            _ => k += 1,
        }
    }
    b.len()
}

/// The byte range of the brace block whose `{` is at `open` in `code`
/// (comments already blanked): from `open` to just past its `}`. `None`
/// when it is not closed.
pub fn brace_block(code: &str, open: usize) -> Option<std::ops::Range<usize>> {
    let b = code.as_bytes();
    if b.get(open) != Some(&b'{') {
        return None;
    }
    let (mut depth, mut i) = (0usize, open);
    let (mut line, mut line_start) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                i = skip_literal(b, i, &mut line, &mut line_start);
                continue;
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open..i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_found_and_blanked_with_their_lines() {
        let src = "int a; /* end */\n/*\n * lead\n */\nchar c = '/'; // tail\nchar *s = \"/* no */\";\n";
        let s = split(src);
        assert_eq!(s.code.len(), src.len());
        assert_eq!(s.comments.len(), 3);
        assert_eq!((s.comments[0].start, s.comments[0].leading), (1, false));
        assert_eq!(
            (s.comments[1].start, s.comments[1].end, s.comments[1].leading),
            (2, 4, true)
        );
        assert!(s.comments[1].text.contains("lead"));
        assert_eq!(s.comments[2].text, " tail");
        assert!(s.code.contains("\"/* no */\""));
        assert_eq!(line_of(src, src.find("char *s").unwrap()), 6);
    }

    #[test]
    fn brace_blocks_skip_literals_and_unclosed_is_none() {
        let code = "f() { if (x) { s = \"}\"; c = '}'; } }";
        let open = code.find('{').unwrap();
        assert_eq!(brace_block(code, open), Some(open..code.len()));
        assert_eq!(brace_block("{ {", 0), None);
        assert_eq!(brace_block("x", 0), None);
    }
}
