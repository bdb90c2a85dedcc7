package shell

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// expr is a compiled where-expression: print where name~"^MT" and !disabled.
type expr interface {
	eval(get func(prop string) (string, bool)) bool
}

type cmpExpr struct {
	prop, op, val string
	re            *regexp.Regexp
}

type andExpr struct{ l, r expr }
type orExpr struct{ l, r expr }
type notExpr struct{ e expr }
type truthExpr struct{ prop string }

func (e andExpr) eval(g func(string) (string, bool)) bool { return e.l.eval(g) && e.r.eval(g) }
func (e orExpr) eval(g func(string) (string, bool)) bool  { return e.l.eval(g) || e.r.eval(g) }
func (e notExpr) eval(g func(string) (string, bool)) bool { return !e.e.eval(g) }
func (e truthExpr) eval(g func(string) (string, bool)) bool {
	v, ok := g(e.prop)
	return ok && (v == "yes" || v == "true")
}

func (e cmpExpr) eval(g func(string) (string, bool)) bool {
	v, ok := g(e.prop)
	switch e.op {
	case "=":
		return ok && v == e.val || !ok && e.val == ""
	case "!=":
		return !(ok && v == e.val || !ok && e.val == "")
	case "~":
		return ok && e.re.MatchString(v)
	}
	if !ok {
		return false
	}
	c := compareValues(v, e.val)
	switch e.op {
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	case ">=":
		return c >= 0
	}
	return false
}

// compareValues orders numbers numerically, addresses as addresses and
// everything else as text.
func compareValues(a, b string) int {
	if x, err := strconv.ParseFloat(a, 64); err == nil {
		if y, err := strconv.ParseFloat(b, 64); err == nil {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	if x, err := netip.ParseAddr(a); err == nil {
		if y, err := netip.ParseAddr(b); err == nil {
			return x.Compare(y)
		}
	}
	return strings.Compare(a, b)
}

// exprLexer splits a where-expression into words, operators and parens.
type exprTok struct {
	s   string
	col int
	str bool // a quoted string literal
}

func lexExpr(s string, col0 int) ([]exprTok, error) {
	var out []exprTok
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			out = append(out, exprTok{s: string(c), col: col0 + i})
			i++
		case c == '"':
			end, err := skipQuoted(s, i)
			if err != nil {
				return nil, &PosError{Msg: "syntax error", Col: col0 + i}
			}
			v, err := unquote(s[i:end])
			if err != nil {
				return nil, &PosError{Msg: "syntax error", Col: col0 + i}
			}
			out = append(out, exprTok{s: v, col: col0 + i, str: true})
			i = end
		case strings.HasPrefix(s[i:], "!=") || strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">="):
			out = append(out, exprTok{s: s[i : i+2], col: col0 + i})
			i += 2
		case strings.ContainsRune("=~<>!", rune(c)):
			out = append(out, exprTok{s: string(c), col: col0 + i})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t()\"=~<>!", rune(s[j])) {
				j++
			}
			out = append(out, exprTok{s: s[i:j], col: col0 + i})
			i = j
		}
	}
	return out, nil
}

// exprParser parses: or := and {"or"|"||" and}; and := unary {["and"|"&&"] unary};
// unary := ("not"|"!") unary | "(" or ")" | prop [op value].
type exprParser struct {
	toks    []exprTok
	i       int
	resolve func(name string) (string, bool)
	endCol  int
}

func parseExpr(s string, col0 int, resolve func(string) (string, bool)) (expr, error) {
	toks, err := lexExpr(s, col0)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks, resolve: resolve, endCol: col0 + len(s)}
	if len(toks) == 0 {
		return nil, &PosError{Msg: "syntax error", Col: p.endCol}
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, &PosError{Msg: "syntax error", Col: p.toks[p.i].col}
	}
	return e, nil
}

func (p *exprParser) peek() (exprTok, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return exprTok{}, false
}

func (p *exprParser) or() (expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok || t.str || (t.s != "or" && t.s != "||") {
			return l, nil
		}
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orExpr{l, r}
	}
}

func (p *exprParser) and() (expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok || t.s == ")" || (!t.str && (t.s == "or" || t.s == "||")) {
			return l, nil
		}
		if !t.str && (t.s == "and" || t.s == "&&") {
			p.i++
		}
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andExpr{l, r}
	}
}

func (p *exprParser) unary() (expr, error) {
	t, ok := p.peek()
	if !ok {
		return nil, &PosError{Msg: "syntax error", Col: p.endCol}
	}
	if !t.str && (t.s == "not" || t.s == "!") {
		p.i++
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	}
	if !t.str && t.s == "(" {
		p.i++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if t, ok := p.peek(); !ok || t.s != ")" {
			return nil, &PosError{Msg: "syntax error", Col: p.endCol}
		}
		p.i++
		return e, nil
	}
	if t.str || strings.ContainsAny(t.s, "=~<>()") {
		return nil, &PosError{Msg: "syntax error", Col: t.col}
	}
	prop, ok := p.resolve(t.s)
	if !ok {
		return nil, &PosError{Msg: "expected end of command", Col: t.col}
	}
	p.i++
	op, ok := p.peek()
	if !ok || op.str || !isOp(op.s) {
		return truthExpr{prop: prop}, nil
	}
	p.i++
	v, ok := p.peek()
	if !ok || (!v.str && (v.s == "(" || v.s == ")")) {
		return nil, &PosError{Msg: "syntax error", Col: p.endCol}
	}
	p.i++
	e := cmpExpr{prop: prop, op: op.s, val: v.s}
	if op.s == "~" {
		re, err := regexp.Compile(v.s)
		if err != nil {
			return nil, &PosError{Msg: "invalid regular expression", Col: v.col}
		}
		e.re = re
	}
	return e, nil
}

func isOp(s string) bool {
	switch s {
	case "=", "!=", "~", "<", ">", "<=", ">=":
		return true
	}
	return false
}
