package menus

import (
	"strconv"
	"strings"

	"rosh/router"
)

// LogTopics are the topics /system logging rules may name: RouterOS's for
// what rosh logs. pppoe, ppp and the protocol topics carry both the
// summaries (with info, warning, error) and, with debug,packet, the
// decoded trace of every packet.
var LogTopics = []string{"pppoe", "ppp", "lcp", "pap", "chap", "mschap", "ipcp", "radius",
	"info", "warning", "error", "critical", "debug", "packet", "system", "account", "interface"}

// Topics is a comma list of log topics, each of which may be negated
// with "!" (topics=ppp,!debug).
type Topics struct{}

func (Topics) Parse(_ *Ctx, prop, in string) (string, error) {
	var out []string
	for _, w := range strings.Split(in, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		name := strings.TrimPrefix(w, "!")
		ok := false
		for _, t := range LogTopics {
			ok = ok || t == name
		}
		if !ok {
			return "", errNoMatch(prop)
		}
		out = append(out, w)
	}
	return strings.Join(out, ","), nil
}
func (Topics) Hint() string { return "list of [!]" + strings.Join(LogTopics, " | ") }

// systemLogging is /system logging: which topics go to which action.
func systemLogging() *Menu {
	return &Menu{
		Path:  "/system/logging",
		Help:  "logging rules",
		Items: true,
		Props: []*Prop{
			{Name: "topics", Type: Topics{}, Required: true, Help: "topics an entry must carry (!topic: must not)"},
			{Name: "action", Type: Ref{Menu: "/system/logging/action"}, Default: "memory", Help: "where matching entries go",
				Complete: namesOf("/system/logging/action")},
			{Name: "prefix", Type: String{}, NoDefault: true, Quote: true, Help: "text put before each message"},
			{Name: "disabled", Type: Bool{}, Default: "no", Help: "rule is disabled"},
			commentProp(),
		},
		Columns: []Column{{"topics", "TOPICS"}, {"action", "ACTION"}, {"prefix", "PREFIX"}},
		Flags: []Flag{disabledFlag,
			{Letter: '*', Name: "default", Has: func(_ *Ctx, r *Row) bool { return r.Item != nil && r.Item.Builtin }}},
		Builtins: []map[string]string{
			{"topics": "info"}, {"topics": "error"}, {"topics": "warning"}, {"topics": "critical", "action": "echo"},
		},
		// RouterOS exports a changed default rule by its number; the
		// built-in rules are the table's first items, *1 to *4.
		BuiltinSelector: func(it *router.Item) string { return "*" + strconv.FormatUint(uint64(it.ID), 16) },
	}
}

// systemLoggingAction is /system logging action: memory, echo and disk
// targets (RouterOS's three built-in actions, and any added).
func systemLoggingAction() *Menu {
	return &Menu{
		Path:  "/system/logging/action",
		Help:  "logging actions",
		Items: true,
		Key:   "name",
		Props: []*Prop{
			{Name: "name", Type: String{NonEmpty: true}, Required: true, Help: "action name"},
			{Name: "target", Type: Enum{Values: []string{"disk", "echo", "memory"}}, Required: true, Help: "where entries go"},
			{Name: "memory-lines", Type: Int{Min: 1, Max: 65535}, Default: "1000", Help: "entries the memory buffer keeps"},
			{Name: "disk-file-name", Type: String{NonEmpty: true}, Default: "log", Quote: true, Help: "file name (NAME.0.txt, NAME.1.txt …)"},
			{Name: "disk-lines-per-file", Type: Int{Min: 1, Max: 65535}, Default: "1000", Help: "lines per file before rotating"},
			{Name: "disk-file-count", Type: Int{Min: 1, Max: 65535}, Default: "2", Help: "files kept"},
			{Name: "remember", Type: Bool{}, Default: "yes", Help: "keep echoed entries for later consoles"},
			commentProp(),
		},
		Columns: []Column{{"name", "NAME"}, {"target", "TARGET"}},
		Flags:   []Flag{{Letter: '*', Name: "default", Has: func(_ *Ctx, r *Row) bool { return r.Item != nil && r.Item.Builtin }}},
		Builtins: []map[string]string{
			{"name": "memory", "target": "memory"}, {"name": "disk", "target": "disk"}, {"name": "echo", "target": "echo"},
		},
		BuiltinSelector: func(it *router.Item) string { return "[ find name=" + it.Props["name"] + " ]" },
		Check: func(ctx *Ctx, it *router.Item) error {
			if strings.ContainsAny(it.Props["disk-file-name"], "/\\") || strings.Contains(it.Props["disk-file-name"], "..") {
				return errInvalid("disk-file-name")
			}
			return nil
		},
		InUse: func(ctx *Ctx, it *router.Item) error {
			if ctx.referenced(it.Props["name"], ref{"/system/logging", "action"}) {
				return Errorf("failure: action is in use")
			}
			return nil
		},
	}
}

// logConfig builds the engine's logging rules and actions.
func (t *Tree) logConfig(c *router.Config) router.LogConfig {
	var lc router.LogConfig
	am := t.Menu("/system/logging/action")
	for _, it := range c.Table(am.Path).Items() {
		n := func(p string) int { v, _ := strconv.Atoi(am.Value(it, p)); return v }
		lc.Actions = append(lc.Actions, router.LogAction{
			Name: am.Value(it, "name"), Target: am.Value(it, "target"), MemoryLines: n("memory-lines"),
			DiskFileName: am.Value(it, "disk-file-name"), DiskLinesPerFile: n("disk-lines-per-file"), DiskFileCount: n("disk-file-count"),
		})
	}
	rm := t.Menu("/system/logging")
	for _, it := range c.Table(rm.Path).Items() {
		if rm.Value(it, "disabled") == "yes" {
			continue
		}
		r := router.LogRule{Action: rm.Value(it, "action"), Prefix: rm.Value(it, "prefix")}
		for _, tp := range strings.Split(rm.Value(it, "topics"), ",") {
			if n, ok := strings.CutPrefix(tp, "!"); ok {
				r.NotTopics = append(r.NotTopics, n)
			} else if tp != "" {
				r.Topics = append(r.Topics, tp)
			}
		}
		lc.Rules = append(lc.Rules, r)
	}
	return lc
}
