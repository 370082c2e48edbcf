//! A small evaluator of C constant expressions, enough for the values of a
//! uAPI header's `#define`s: integer and character literals, the unary,
//! binary and conditional operators, parentheses, other macros (object-like
//! and function-like, by name) and `_IO(type, nr)`.
//!
//! Arithmetic is on `u64` and wraps, as the header's unsigned constants do;
//! comparisons and logical operators give 0 or 1. Input is bounded: an
//! expression of more than [`MAX_LEN`] bytes, or macros nested deeper than
//! [`MAX_DEPTH`], is an error, never a stack overflow.

use std::collections::BTreeMap;

/// The longest expression evaluated.
pub const MAX_LEN: usize = 4096;
/// How deep macros may expand into each other (and parentheses nest).
pub const MAX_DEPTH: usize = 32;

/// A macro the expressions may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Macro {
    /// `#define NAME body`.
    Object(String),
    /// `#define NAME(params) body`.
    Function(Vec<String>, String),
}

/// The macros an expression may use, by name.
pub type Macros = BTreeMap<String, Macro>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Num(u64),
    Ident(String),
    Punct(&'static str),
}

const PUNCTS: [&str; 25] = [
    "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "(", ")", ",", "?", ":", "+", "-", "*", "/", "%", "&",
    "|", "^", "~", "!", "<", ">",
];

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    if s.len() > MAX_LEN {
        return Err(format!("expression longer than {MAX_LEN} bytes"));
    }
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let text = &s[start..i];
            let digits = text.trim_end_matches(['u', 'U', 'l', 'L']);
            let n = if let Some(h) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
                u64::from_str_radix(h, 16)
            } else if digits.len() > 1 && digits.starts_with('0') {
                u64::from_str_radix(&digits[1..], 8)
            } else {
                digits.parse()
            };
            out.push(Tok::Num(n.map_err(|_| format!("bad number {text:?}"))?));
        } else if c == b'\'' {
            // A one-character literal such as ';' (no escapes in the uAPI).
            match b.get(i + 1..i + 3) {
                Some([ch, b'\'']) if *ch != b'\\' => {
                    out.push(Tok::Num(u64::from(*ch)));
                    i += 3;
                }
                _ => return Err("unsupported character literal".to_owned()),
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[start..i].to_owned()));
        } else {
            let p = PUNCTS
                .iter()
                .find(|p| s[i..].starts_with(*p))
                .ok_or_else(|| format!("unexpected character {:?}", c as char))?;
            out.push(Tok::Punct(p));
            i += p.len();
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    macros: &'a Macros,
    params: BTreeMap<String, u64>,
    depth: usize,
}

fn binary_prec(p: &str) -> Option<u8> {
    Some(match p {
        "||" => 1,
        "&&" => 2,
        "|" => 3,
        "^" => 4,
        "&" => 5,
        "==" | "!=" => 6,
        "<" | ">" | "<=" | ">=" => 7,
        "<<" | ">>" => 8,
        "+" | "-" => 9,
        "*" | "/" | "%" => 10,
        _ => return None,
    })
}

fn apply(op: &str, a: u64, b: u64) -> Result<u64, String> {
    Ok(match op {
        "||" => u64::from(a != 0 || b != 0),
        "&&" => u64::from(a != 0 && b != 0),
        "|" => a | b,
        "^" => a ^ b,
        "&" => a & b,
        "==" => u64::from(a == b),
        "!=" => u64::from(a != b),
        "<" => u64::from(a < b),
        ">" => u64::from(a > b),
        "<=" => u64::from(a <= b),
        ">=" => u64::from(a >= b),
        "<<" => a.checked_shl(u32::try_from(b).unwrap_or(u32::MAX)).unwrap_or(0),
        ">>" => a.checked_shr(u32::try_from(b).unwrap_or(u32::MAX)).unwrap_or(0),
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" => a.checked_div(b).ok_or("division by zero")?,
        "%" => a.checked_rem(b).ok_or("division by zero")?,
        _ => return Err(format!("unknown operator {op}")),
    })
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> Result<(), String> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(format!("expected {p:?}"))
        }
    }

    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(format!("nested deeper than {MAX_DEPTH}"))
        } else {
            Ok(())
        }
    }

    fn conditional(&mut self) -> Result<u64, String> {
        self.deeper()?;
        let c = self.binary(1)?;
        let v = if self.eat("?") {
            let a = self.conditional()?;
            self.expect(":")?;
            let b = self.conditional()?;
            if c != 0 {
                a
            } else {
                b
            }
        } else {
            c
        };
        self.depth -= 1;
        Ok(v)
    }

    fn binary(&mut self, min: u8) -> Result<u64, String> {
        let mut lhs = self.unary()?;
        while let Some(Tok::Punct(p)) = self.peek() {
            let op = *p;
            let Some(prec) = binary_prec(op).filter(|p| *p >= min) else {
                break;
            };
            self.pos += 1;
            let rhs = self.binary(prec + 1)?;
            lhs = apply(op, lhs, rhs)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<u64, String> {
        let op = match self.peek() {
            Some(Tok::Punct(p @ ("~" | "!" | "-" | "+"))) => *p,
            _ => return self.primary(),
        };
        self.pos += 1;
        self.deeper()?;
        let v = self.unary()?;
        self.depth -= 1;
        Ok(match op {
            "~" => !v,
            "!" => u64::from(v == 0),
            "-" => v.wrapping_neg(),
            _ => v,
        })
    }

    fn args(&mut self) -> Result<Vec<u64>, String> {
        self.expect("(")?;
        let mut args = Vec::new();
        if self.eat(")") {
            return Ok(args);
        }
        loop {
            args.push(self.conditional()?);
            if self.eat(")") {
                return Ok(args);
            }
            self.expect(",")?;
        }
    }

    fn primary(&mut self) -> Result<u64, String> {
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(n)
            }
            Some(Tok::Punct("(")) => {
                self.pos += 1;
                let v = self.conditional()?;
                self.expect(")")?;
                Ok(v)
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if let Some(v) = self.params.get(&name) {
                    return Ok(*v);
                }
                if name == "_IO" {
                    // _IOC(_IOC_NONE, type, nr, 0): direction and size are 0.
                    return match self.args()?[..] {
                        [ty, nr] => Ok((ty << 8) | nr),
                        _ => Err("_IO takes two arguments".to_owned()),
                    };
                }
                match self.macros.get(&name) {
                    Some(Macro::Object(body)) => {
                        self.deeper()?;
                        let v = eval_in(body, self.macros, BTreeMap::new(), self.depth)?;
                        self.depth -= 1;
                        Ok(v)
                    }
                    Some(Macro::Function(params, body)) => {
                        let args = self.args()?;
                        if args.len() != params.len() {
                            return Err(format!("{name} takes {} arguments", params.len()));
                        }
                        self.deeper()?;
                        let bound = params.iter().cloned().zip(args).collect();
                        let v = eval_in(body, self.macros, bound, self.depth)?;
                        self.depth -= 1;
                        Ok(v)
                    }
                    None => Err(format!("unknown name {name}")),
                }
            }
            Some(Tok::Punct(p)) => Err(format!("unexpected {p:?}")),
            None => Err("unexpected end of expression".to_owned()),
        }
    }
}

fn eval_in(expr: &str, macros: &Macros, params: BTreeMap<String, u64>, depth: usize) -> Result<u64, String> {
    let mut p = Parser {
        toks: lex(expr)?,
        pos: 0,
        macros,
        params,
        depth,
    };
    let v = p.conditional()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected {:?} after the expression", p.toks[p.pos]));
    }
    Ok(v)
}

/// The value of `expr`, with `macros` for the names it uses.
pub fn eval(expr: &str, macros: &Macros) -> Result<u64, String> {
    eval_in(expr, macros, BTreeMap::new(), 0)
}

/// The value of the function-like macro `name` applied to `args`.
pub fn call(name: &str, args: &[u64], macros: &Macros) -> Result<u64, String> {
    match macros.get(name) {
        Some(Macro::Function(params, body)) if params.len() == args.len() => {
            let bound = params.iter().cloned().zip(args.iter().copied()).collect();
            eval_in(body, macros, bound, 0)
        }
        Some(Macro::Function(params, _)) => Err(format!("{name} takes {} arguments", params.len())),
        Some(Macro::Object(_)) => Err(format!("{name} is not a function-like macro")),
        None => Err(format!("unknown macro {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(defs: &[(&str, &str)]) -> Macros {
        defs.iter()
            .map(|(n, b)| (n.to_string(), Macro::Object(b.to_string())))
            .collect()
    }

    #[test]
    fn literals_operators_and_precedence() {
        let none = Macros::new();
        assert_eq!(eval("(1 << 16)", &none), Ok(65536));
        assert_eq!(eval("0xffff", &none), Ok(0xffff));
        assert_eq!(eval("1 + 2 * 3", &none), Ok(7));
        assert_eq!(eval("4 | 2 & 3", &none), Ok(6));
        assert_eq!(eval("3 == 3 ? 5 : 6", &none), Ok(5));
        assert_eq!(eval("~0U & 0xff", &none), Ok(0xff));
        assert_eq!(eval("';'", &none), Ok(0x3b));
        assert_eq!(eval("_IO(';', 100 + 17)", &none), Ok(0x3b75));
    }

    #[test]
    fn macros_expand_by_name_and_with_arguments() {
        let mut ms = m(&[("A", "(1 << 0)"), ("B", "(1 << 2)"), ("MASK", "(A | B)")]);
        ms.insert(
            "F".to_owned(),
            Macro::Function(vec!["s".to_owned()], "(s & B ? (s & MASK) == B : 1)".to_owned()),
        );
        assert_eq!(eval("MASK", &ms), Ok(5));
        assert_eq!(call("F", &[4], &ms), Ok(1));
        assert_eq!(call("F", &[5], &ms), Ok(0));
        assert_eq!(call("F", &[1], &ms), Ok(1));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let none = Macros::new();
        assert!(eval("1 +", &none).is_err());
        assert!(eval("1 / 0", &none).is_err());
        assert!(eval("NOPE", &none).unwrap_err().contains("NOPE"));
        assert!(eval("1 << 99", &none).is_ok());
        assert!(eval(&"(".repeat(100), &none).unwrap_err().contains("nested"));
        assert!(eval(&"1+".repeat(3000), &none).unwrap_err().contains("longer"));
        let selfref = m(&[("X", "X + 1")]);
        assert!(eval("X", &selfref).unwrap_err().contains("nested"));
    }
}
