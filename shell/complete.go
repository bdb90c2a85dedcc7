package shell

import (
	"sort"
	"strings"

	"rosh/menus"
	"rosh/router"
)

// Suggestion is one completion candidate with its one-line help.
type Suggestion struct {
	Text string
	Help string
}

// Complete returns what fits at the end of the text typed so far, and the
// byte offset where the word being completed starts. It serves both Tab
// completion and the ? help.
func (s *Shell) Complete(before string) ([]Suggestion, int) {
	toks, err := lex(before)
	if err != nil {
		return nil, len(before)
	}
	// The word under the cursor: empty when the text ends in a space.
	cur := ""
	start := len(before)
	if len(toks) > 0 && !strings.HasSuffix(before, " ") {
		last := toks[len(toks)-1]
		cur = last.Raw
		start = last.Col - 1
		toks = toks[:len(toks)-1]
	}
	path, rest, err := s.walk(toks)
	if err != nil {
		return nil, start
	}
	if len(rest) == 0 {
		return s.completePath(path, cur, start)
	}
	m := s.tree.Menu(path)
	cmd, ok := match(rest[0].Raw, keys(s.Commands(path)))
	if !ok {
		return nil, start
	}
	return s.completeArgs(m, path, cmd, cur, start)
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// completePath offers child menus and commands; "/int" completes inside
// one word ("/interface", "/ppp/se" → "/ppp/secret").
func (s *Shell) completePath(path, cur string, start int) ([]Suggestion, int) {
	prefix := ""
	word := cur
	if strings.Contains(cur, "/") {
		i := strings.LastIndex(cur, "/")
		prefix = cur[:i+1]
		dir := cur[:i]
		p := path
		if strings.HasPrefix(cur, "/") {
			p = "/"
		}
		for _, seg := range strings.Split(strings.Trim(dir, "/"), "/") {
			if seg == "" {
				continue
			}
			if seg == ".." {
				p = parent(p)
				continue
			}
			c, ok := s.resolveChild(p, seg)
			if !ok {
				return nil, start
			}
			p = joinPath(p, c)
		}
		path = p
		word = cur[i+1:]
	}
	var out []Suggestion
	for _, c := range s.tree.Children(path) {
		if strings.HasPrefix(c, word) {
			help := ""
			if m := s.tree.Menu(joinPath(path, c)); m != nil {
				help = m.Help
			}
			out = append(out, Suggestion{Text: prefix + c, Help: help})
		}
	}
	if prefix == "" {
		for name, help := range s.Commands(path) {
			if strings.HasPrefix(name, word) {
				out = append(out, Suggestion{Text: name, Help: help})
			}
		}
	}
	sortSuggestions(out)
	return out, start
}

func sortSuggestions(s []Suggestion) {
	sort.Slice(s, func(i, j int) bool { return s[i].Text < s[j].Text })
}

// completeArgs offers a command's arguments, or the values of the one
// being typed (name=va…).
func (s *Shell) completeArgs(m *menus.Menu, path, cmd, cur string, start int) ([]Suggestion, int) {
	sp := s.spec(m, path, cmd)
	if k, v, isKV := splitKV(cur); isKV {
		return s.completeValue(m, sp, k, v), start + len(k) + 1
	}
	var out []Suggestion
	if sp.props && m != nil {
		for _, p := range m.Props {
			if strings.HasPrefix(p.Name, cur) {
				out = append(out, Suggestion{Text: p.Name + "=", Help: p.Help})
			}
		}
	}
	for _, a := range sp.args {
		if strings.HasPrefix(a, cur) {
			out = append(out, Suggestion{Text: a + "=", Help: "argument"})
		}
	}
	for _, f := range sp.flags {
		if strings.HasPrefix(f, cur) {
			out = append(out, Suggestion{Text: f, Help: "option"})
		}
	}
	if sp.where && strings.HasPrefix("where", cur) {
		out = append(out, Suggestion{Text: "where", Help: "filter by an expression"})
	}
	if (sp.positional != 0) && m != nil {
		s.eng.View(func(c *router.Config) {
			ctx := s.ctx(c)
			var names []string
			if cmd == "scan" {
				for _, h := range s.eng.HostInterfaces() {
					names = append(names, h.Name)
				}
			} else {
				for _, r := range m.Rows(ctx) {
					if n := r.Values["name"]; n != "" {
						names = append(names, n)
					}
				}
			}
			for _, n := range names {
				if strings.HasPrefix(n, cur) {
					out = append(out, Suggestion{Text: n, Help: "item"})
				}
			}
		})
	}
	sortSuggestions(out)
	return out, start
}

func (s *Shell) completeValue(m *menus.Menu, sp commandSpec, key, val string) []Suggestion {
	if m == nil || !sp.props {
		return nil
	}
	p, err := m.ResolveProp(key)
	if err != nil {
		return nil
	}
	var cands []string
	switch t := p.Type.(type) {
	case menus.Bool:
		cands = []string{"yes", "no"}
	case menus.Enum:
		cands = t.Values
	case menus.EnumList:
		// complete the last element of the list
		i := strings.LastIndex(val, ",")
		for _, v := range t.Values {
			cands = append(cands, val[:i+1]+v)
		}
	case menus.Int:
		cands = t.Words
	}
	if p.Complete != nil {
		s.eng.View(func(c *router.Config) { cands = append(cands, p.Complete(s.ctx(c))...) })
	}
	var out []Suggestion
	for _, c := range cands {
		if strings.HasPrefix(c, val) {
			out = append(out, Suggestion{Text: c, Help: p.Type.Hint()})
		}
	}
	sortSuggestions(out)
	return out
}

// Help is what ? prints: every word that fits here with its description.
func (s *Shell) Help(before string) string {
	sugg, _ := s.Complete(before)
	if len(sugg) == 0 {
		return "(nothing fits here)\n"
	}
	w := 0
	for _, x := range sugg {
		if len(x.Text) > w {
			w = len(x.Text)
		}
	}
	var b strings.Builder
	for _, x := range sugg {
		b.WriteString(strings.TrimRight(padRight(x.Text, w+2)+x.Help, " ") + "\n")
	}
	return b.String()
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}
