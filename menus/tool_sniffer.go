package menus

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"rosh/link"
	"rosh/router"
)

// MACList is a comma list of MAC addresses, printed upper case.
type MACList struct{}

func (MACList) Parse(_ *Ctx, prop, in string) (string, error) {
	var out []string
	for _, w := range strings.Split(in, ",") {
		if w = strings.TrimSpace(w); w == "" {
			continue
		}
		hw, err := net.ParseMAC(w)
		if err != nil || len(hw) != 6 {
			return "", errInvalid(prop)
		}
		out = append(out, strings.ToUpper(hw.String()))
	}
	return strings.Join(out, ","), nil
}
func (MACList) Hint() string { return "list of MAC addresses" }

// InterfaceList is "all" or a comma list of the host's interfaces.
type InterfaceList struct{}

func (InterfaceList) Parse(ctx *Ctx, prop, in string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(in), "all") || strings.TrimSpace(in) == "" {
		return "all", nil
	}
	var out []string
	for _, w := range strings.Split(in, ",") {
		w = strings.TrimSpace(w)
		if ctx != nil && ctx.Eng != nil && !interfaceExists(ctx, w) {
			return "", Errorf("input does not match any value of %s", prop)
		}
		out = append(out, w)
	}
	return strings.Join(out, ","), nil
}
func (InterfaceList) Hint() string { return "all | list of interfaces" }

// toolSniffer is /tool sniffer: a capture of the frames rosh sends and
// receives on its interfaces, kept in memory for save or written to a
// pcap file as they come, and quick, which shows them live.
func toolSniffer() *Menu {
	return &Menu{
		Path:   "/tool/sniffer",
		Help:   "packet sniffer",
		Single: true,
		Props: []*Prop{
			{Name: "filter-interface", Type: InterfaceList{}, Default: "all", Help: "interfaces to capture on", Complete: hostInterfaceNames},
			{Name: "filter-mac-address", Type: MACList{}, NoDefault: true, Help: "keep only frames from or to these MACs"},
			{Name: "filter-stream", Type: Bool{}, Default: "no", Help: "drop frames to the streaming server (rosh does not stream)"},
			{Name: "file-name", Type: String{}, NoDefault: true, Quote: true, Help: "pcap file frames are written to"},
			{Name: "file-limit", Type: Int{Min: 10, Max: 1 << 22}, Default: "1000", Help: "file size limit, KiB"},
			{Name: "memory-limit", Type: Int{Min: 10, Max: 1 << 22}, Default: "100", Help: "memory kept for save, KiB"},
		},
		Builtins: []map[string]string{{}},
		Decorate: func(ctx *Ctx, r *Row) {
			running, n := false, uint64(0)
			if sn, ok := ctx.Eng.Live().(router.Sniffing); ok {
				running, n = sn.SnifferRunning()
			}
			r.Values["running"] = yesNo(running)
			r.Values["captured"] = utoa(n)
		},
		Commands: []*Command{
			{Name: "start", Help: "start capturing", Run: snifferStart},
			{Name: "stop", Help: "stop capturing", Run: func(ctx *Ctx, _ *Invocation) error {
				sn, err := sniffing(ctx)
				if err != nil {
					return err
				}
				return sn.SnifferStop()
			}},
			{Name: "save", Help: "save the captured frames to a pcap file", Args: []string{"file-name"}, Run: snifferSave},
			{Name: "quick", Help: "show frames as they come", Args: []string{"interface", "mac-address", "duration"}, Run: snifferQuick},
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func sniffing(ctx *Ctx) (router.Sniffing, error) {
	sn, ok := ctx.Eng.Live().(router.Sniffing)
	if !ok {
		return nil, router.ErrNotRunning
	}
	return sn, nil
}

// snifferConfig reads /tool sniffer's settings.
func snifferConfig(ctx *Ctx) (router.SnifferConfig, string) {
	var cfg router.SnifferConfig
	var file string
	ctx.View(func(c *Ctx) {
		m := c.Tree.Menu("/tool/sniffer")
		for _, it := range c.Cfg.Table(m.Path).Items() {
			if v := m.Value(it, "filter-interface"); v != "all" {
				cfg.Interfaces = strings.Split(v, ",")
			}
			cfg.MACs = parseMACs(m.Value(it, "filter-mac-address"))
			file = m.Value(it, "file-name")
			kib := func(p string) int64 { n, _ := strconv.ParseInt(m.Value(it, p), 10, 64); return n << 10 }
			cfg.FileLimit, cfg.MemoryLimit = kib("file-limit"), kib("memory-limit")
		}
	})
	return cfg, file
}

func parseMACs(list string) []net.HardwareAddr {
	var out []net.HardwareAddr
	for _, w := range strings.Split(list, ",") {
		if hw, err := net.ParseMAC(w); err == nil {
			out = append(out, hw)
		}
	}
	return out
}

func snifferStart(ctx *Ctx, _ *Invocation) error {
	sn, err := sniffing(ctx)
	if err != nil {
		return err
	}
	cfg, file := snifferConfig(ctx)
	if file != "" {
		if cfg.FileName, err = ctx.filePath(file); err != nil {
			return err
		}
	}
	return sn.SnifferStart(cfg)
}

func snifferSave(ctx *Ctx, inv *Invocation) error {
	name := inv.Args["file-name"]
	if name == "" {
		return Errorf("failure: file-name must be specified")
	}
	path, err := ctx.filePath(name)
	if err != nil {
		return err
	}
	sn, err := sniffing(ctx)
	if err != nil {
		return err
	}
	return sn.SnifferSave(path)
}

func (c *Ctx) filePath(name string) (string, error) {
	if c.FilePath == nil {
		return "", Errorf("failure: no file storage")
	}
	return c.FilePath(name)
}

// snifferQuick prints each frame on one line as it comes, until Ctrl-C
// on a terminal (or duration=), for duration (default 5s) in a script.
func snifferQuick(ctx *Ctx, inv *Invocation) error {
	sn, err := sniffing(ctx)
	if err != nil {
		return err
	}
	cfg, _ := snifferConfig(ctx)
	if v, ok := inv.Args["interface"]; ok {
		var list string
		if list, err = (InterfaceList{}).Parse(ctx, "interface", v); err != nil {
			return err
		}
		cfg.Interfaces = nil
		if list != "all" {
			cfg.Interfaces = strings.Split(list, ",")
		}
	}
	if v, ok := inv.Args["mac-address"]; ok {
		var list string
		if list, err = (MACList{}).Parse(ctx, "mac-address", v); err != nil {
			return err
		}
		cfg.MACs = parseMACs(list)
	}
	d := 5 * time.Second
	if inv.Out.Interactive() {
		d = 0
	}
	if v, ok := inv.Args["duration"]; ok {
		if d, err = ParseDuration(v); err != nil || d <= 0 {
			return errInvalid("duration")
		}
	}
	start := time.Now()
	n := 0
	inv.Out.Printf("%-10s %8s %5s %-3s %-17s  %-17s  %s\n", "INTERFACE", "TIME", "NUM", "DIR", "SRC-MAC", "DST-MAC", "PACKET")
	return sn.SnifferQuick(cfg, d, inv.Out.Stop(), func(f router.SniffedFrame) {
		n++
		dir, src, dst := "<-", "", ""
		if f.Dir == link.Sent {
			dir = "->"
		}
		if len(f.Data) >= 12 {
			dst, src = strings.ToUpper(net.HardwareAddr(f.Data[:6]).String()), strings.ToUpper(net.HardwareAddr(f.Data[6:12]).String())
		}
		inv.Out.Printf("%-10s %8s %5d %-3s %-17s  %-17s  %s\n", f.Interface, fmt.Sprintf("%.3f", f.Time.Sub(start).Seconds()), n, dir, src, dst, quickDesc(router.DescribeFrame(f.Data)))
	})
}

// quickDesc drops the MACs the columns already show from a discovery
// frame's description.
func quickDesc(s string) string {
	f := strings.Fields(s)
	if len(f) >= 5 && f[3] == ">" && strings.HasPrefix(f[0], "PAD") {
		return strings.Join(append([]string{f[0], f[1]}, f[5:]...), " ")
	}
	return s
}
