package shell

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"rosh/menus"
	"rosh/router"
)

// script10k is a 10,000-line configuration script: pools, profiles and
// secrets, the shape of an ISP box's local user database.
func script10k() string {
	var b strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "/ip pool add name=pool%d ranges=10.%d.0.1-10.%d.0.254\n", i, i, i)
		fmt.Fprintf(&b, "/ppp profile add name=plan%d local-address=10.255.%d.1 remote-address=pool%d rate-limit=%dM/%dM\n", i, i, i, i+1, 2*i+2)
	}
	for i := 0; i < 9800; i++ {
		fmt.Fprintf(&b, "/ppp secret add name=user%05d password=pw%d profile=plan%d service=pppoe\n", i, i, i%100)
	}
	return b.String()
}

// BenchmarkScript10k executes a 10,000-line script into an empty
// configuration with persistence on, as `rosh < script` does.
func BenchmarkScript10k(b *testing.B) {
	script := script10k()
	for i := 0; i < b.N; i++ {
		sh, _ := newTestShell(b)
		saver := router.NewSaver(filepath.Join(b.TempDir(), "config.rsc"), func() []byte {
			return []byte(sh.ExportText("/", menus.ExportOptions{ShowSensitive: true}))
		})
		sh.eng.OnChange(saver.Changed)
		if failed := sh.RunScript(strings.NewReader(script), nil); failed != 0 {
			b.Fatalf("%d lines failed", failed)
		}
		if err := saver.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/10000, "µs/line")
}
