package menus

import (
	"fmt"
	"strings"
)

// PrintTable prints a header and rows with the columns lined up.
func PrintTable(out Output, header []string, rows [][]string) {
	for _, l := range alignColumns(append([][]string{header}, rows...), 2) {
		out.Printf("  %s\n", l)
	}
}

// alignColumns pads every cell but the last of each line to its column's
// width, with gap spaces between columns.
func alignColumns(lines [][]string, gap int) []string {
	var w []int
	for _, l := range lines {
		for i, c := range l {
			if i >= len(w) {
				w = append(w, 0)
			}
			if len(c) > w[i] {
				w[i] = len(c)
			}
		}
	}
	out := make([]string, len(lines))
	for n, l := range lines {
		var b strings.Builder
		for i, c := range l {
			if i > 0 {
				b.WriteString(strings.Repeat(" ", gap))
			}
			if i == len(l)-1 {
				b.WriteString(c)
			} else {
				fmt.Fprintf(&b, "%-*s", w[i], c)
			}
		}
		out[n] = strings.TrimRight(b.String(), " ")
	}
	return out
}

// FlagsLegend is the "Flags: X - disabled, I - invalid" line.
func (m *Menu) FlagsLegend() string {
	if len(m.Flags) == 0 {
		return ""
	}
	parts := make([]string, len(m.Flags))
	for i, f := range m.Flags {
		parts[i] = fmt.Sprintf("%c - %s", f.Letter, f.Name)
	}
	return "Flags: " + strings.Join(parts, ", ")
}

// NeedsQuotes reports whether a value must be quoted on the console.
func NeedsQuotes(v string) bool {
	if v == "" {
		return true
	}
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_.:,/+@*", r):
		default:
			return true
		}
	}
	return false
}

// Quote writes v as a console string literal with escapes.
func Quote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case '"', '\\', '$', '?':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\%02X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ExportValue writes a value for a script: bare when it can be, quoted
// otherwise.
func ExportValue(v string) string {
	if NeedsQuotes(v) {
		return Quote(v)
	}
	return v
}

// detailValue prints a value in a detail view: string properties quoted.
func detailValue(p *Prop, v string) string {
	if p != nil && p.Quote {
		return Quote(v)
	}
	return ExportValue(v)
}

// PrintOptions selects a print variant.
type PrintOptions struct {
	Detail, Terse bool
	// Stats prints the traffic counter columns.
	Stats bool
	// Props limits detail/terse output to these properties (proplist=).
	Props []string
}

const detailWidth = 96

// PrintRows prints rows the way RouterOS does: a flags legend, then either
// aligned columns or, for menus without columns and with detail, numbered
// name=value lines wrapped and indented.
func (m *Menu) PrintRows(out Output, rows []*Row, numbers []int, opt PrintOptions) {
	if m.Single {
		for _, r := range rows {
			var kv [][2]string
			for _, p := range m.Props {
				if v, ok := r.Values[p.Name]; ok {
					kv = append(kv, [2]string{p.Name, v})
				}
			}
			// Live values a single menu shows after its properties.
			for _, k := range SortedPropNames(r.Values) {
				if m.Prop(k) == nil && !strings.HasPrefix(k, ".") {
					kv = append(kv, [2]string{k, r.Values[k]})
				}
			}
			PrintKeyValues(out, kv)
		}
		return
	}
	if m.Line != nil && !opt.Detail && !opt.Terse {
		for _, r := range rows {
			out.Printf("%s\n", m.Line(r))
		}
		return
	}
	fw := len(m.Flags)
	if legend := m.FlagsLegend(); legend != "" && !opt.Terse {
		out.Printf("%s\n", legend)
	}
	if opt.Stats && m.StatsColumns != nil {
		m.printColumns(out, m.StatsColumns, rows, numbers, fw)
		return
	}
	if m.Columns != nil && !opt.Detail && !opt.Terse {
		m.printColumns(out, m.Columns, rows, numbers, fw)
		return
	}
	for i, r := range rows {
		flags := fmt.Sprintf("%-*s", fw, r.Flags)
		if opt.Terse {
			out.Printf("%2d %s %s\n", numbers[i], flags, strings.Join(m.pairs(r, opt, false), " "))
			continue
		}
		prefix := fmt.Sprintf("%2d %s ", numbers[i], flags)
		indent := strings.Repeat(" ", len(prefix))
		if r.Comment != "" {
			out.Printf("%s;;; %s\n", prefix, r.Comment)
			prefix = strings.Repeat(" ", len(prefix))
		}
		line := prefix
		first := true
		for _, pv := range m.pairs(r, opt, true) {
			if !first && len(line)+1+len(pv) > detailWidth {
				out.Printf("%s\n", line)
				line = indent + pv
				continue
			}
			if !first {
				line += " "
			}
			line += pv
			first = false
		}
		out.Printf("%s\n", line)
		if !opt.Terse {
			out.Printf("\n")
		}
	}
}

func (m *Menu) pairs(r *Row, opt PrintOptions, quote bool) []string {
	var out []string
	want := map[string]bool{}
	for _, p := range opt.Props {
		want[p] = true
	}
	for _, p := range m.ItemProps() {
		v, ok := r.Values[p.Name]
		if !ok || (len(want) > 0 && !want[p.Name]) {
			continue
		}
		if quote {
			out = append(out, p.Name+"="+detailValue(p, v))
		} else {
			out = append(out, p.Name+"="+ExportValue(v))
		}
	}
	return out
}

func (m *Menu) printColumns(out Output, columns []Column, rows []*Row, numbers []int, fw int) {
	lead := func(n string, flags string) string { return fmt.Sprintf("%2s %-*s", n, fw, flags) }
	header := []string{}
	for _, c := range columns {
		header = append(header, c.Title)
	}
	lines := [][]string{header}
	for _, r := range rows {
		cells := []string{}
		for _, c := range columns {
			cells = append(cells, r.Values[c.Prop])
		}
		lines = append(lines, cells)
	}
	aligned := alignColumns(lines, 2)
	out.Printf("%s %s\n", lead("#", ""), aligned[0])
	for i, r := range rows {
		// Comments go on their own line above the row, as RouterOS prints them.
		if r.Comment != "" {
			out.Printf("%s ;;; %s\n", lead("", ""), r.Comment)
		}
		out.Printf("%s %s\n", lead(fmt.Sprint(numbers[i]), r.Flags), aligned[i+1])
	}
}
