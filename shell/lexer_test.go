package shell

import (
	"testing"

	"rosh/menus"
)

func TestLex(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{"words", "/ppp secret print", []string{"/ppp", "secret", "print"}, false},
		{"quoted space", `add comment="a b" name=x`, []string{"add", `comment="a b"`, "name=x"}, false},
		{"escaped quote", `add name="a\"b"`, []string{"add", `name="a\"b"`}, false},
		{"bracket with spaces", `set [find name="x y"] disabled=yes`, []string{"set", `[find name="x y"]`, "disabled=yes"}, false},
		{"nested brackets", `remove [find where name=[x]]`, []string{"remove", `[find where name=[x]]`}, false},
		{"comment", "print # a comment", []string{"print"}, false},
		{"tabs", "\tprint\tdetail", []string{"print", "detail"}, false},
		{"unterminated quote", `add name="x`, nil, true},
		{"unbalanced bracket", `set [find`, nil, true},
		{"stray close", `set ]`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := lex(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("lex(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var got []string
			for _, tok := range toks {
				got = append(got, tok.Raw)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("lex(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("lex(%q) = %q, want %q", tt.in, got, tt.want)
				}
			}
		})
	}
}

func TestUnquoteRoundTrip(t *testing.T) {
	for _, v := range []string{"", "plain", "a b", `q"uote`, `back\slash`, "$var", "tab\tnew\nline", "what?", "\x01ctl", "ünï"} {
		got, err := unquote(menus.Quote(v))
		if err != nil || got != v {
			t.Errorf("unquote(Quote(%q)) = %q, %v", v, got, err)
		}
	}
}

func TestDurations(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10", "10s"}, {"10s", "10s"}, {"1m30s", "1m30s"}, {"00:01:30", "1m30s"}, {"1d2h", "1d2h"},
		{"90m", "1h30m"}, {"500ms", "500ms"}, {"1w", "1w"}, {"0", "0s"},
	}
	for _, tt := range tests {
		d, err := menus.ParseDuration(tt.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", tt.in, err)
			continue
		}
		if got := menus.FormatDuration(d); got != tt.want {
			t.Errorf("FormatDuration(ParseDuration(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "x", "10x", "1:2", "00:61:00", "-5", "1m-3s"} {
		if _, err := menus.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func TestWhereExpressions(t *testing.T) {
	vals := map[string]string{"name": "MT-User", "service": "pppoe", "disabled": "no", "limit": "100", "addr": "10.0.0.5"}
	get := func(p string) (string, bool) { v, ok := vals[p]; return v, ok }
	resolve := func(n string) (string, bool) { _, ok := vals[n]; return n, ok }
	tests := []struct {
		in   string
		want bool
	}{
		{`name=MT-User`, true},
		{`name!=MT-User`, false},
		{`name~"^MT"`, true},
		{`name~"^X" or service=pppoe`, true},
		{`name~"^X" and service=pppoe`, false},
		{`not disabled`, true},
		{`!disabled`, true},
		{`limit>99 limit<101`, true},
		{`limit>=101`, false},
		{`addr>10.0.0.4`, true},
		{`(name=a or name=MT-User) and service=pppoe`, true},
		{`name="MT-User"`, true},
	}
	for _, tt := range tests {
		e, err := parseExpr(tt.in, 1, resolve)
		if err != nil {
			t.Errorf("parseExpr(%q): %v", tt.in, err)
			continue
		}
		if got := e.eval(get); got != tt.want {
			t.Errorf("%q = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{``, `name=`, `(name=a`, `name=a)`, `nosuch=1`, `name~"("`, `=a`} {
		if _, err := parseExpr(bad, 1, resolve); err == nil {
			t.Errorf("parseExpr(%q) accepted", bad)
		}
	}
}
