package nstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FreeRADIUS is Debian's FreeRADIUS 3 server, run by a test in a
// namespace with a configuration the test writes: one client network and
// secret, a users file, the pap, chap and mschap modules, and a detail
// file that records every accounting request.
type FreeRADIUS struct {
	t   testing.TB
	ns  string
	cfg RadiusConfig
	// Dir holds the configuration; Detail is the detail file.
	Dir, Detail string
	// Out is the server's output (with Debug, `freeradius -X`'s trace).
	Out  *Output
	cmd  *exec.Cmd
	done chan struct{}
}

// RadiusConfig is what StartFreeRADIUS writes.
type RadiusConfig struct {
	// Listen is the address to listen on (only there).
	Listen             string
	AuthPort, AcctPort int
	// Clients is the network requests may come from; Secret theirs.
	Clients, Secret string
	// Users is the users file (rlm_files syntax).
	Users string
	// Debug runs `freeradius -X` (one thread, a full trace in Out);
	// without it the server runs threaded and logs only logins.
	Debug bool
}

// StartFreeRADIUS writes the configuration into a temporary directory
// and starts the server in namespace ns ("" the test's own, for a server
// on loopback); it is killed at cleanup.
func StartFreeRADIUS(t testing.TB, ns string, cfg RadiusConfig) *FreeRADIUS {
	t.Helper()
	dir := t.TempDir()
	f := &FreeRADIUS{t: t, ns: ns, cfg: cfg, Dir: dir, Detail: filepath.Join(dir, "detail")}
	conf := strings.NewReplacer(
		"@DIR@", dir, "@LISTEN@", cfg.Listen, "@AUTH@", fmt.Sprint(cfg.AuthPort), "@ACCT@", fmt.Sprint(cfg.AcctPort),
		"@CLIENTS@", cfg.Clients, "@SECRET@", cfg.Secret,
	).Replace(radiusdConf)
	for name, text := range map[string]string{"radiusd.conf": conf, "users": cfg.Users} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f.Start()
	t.Cleanup(func() {
		f.Stop()
		if t.Failed() {
			out := f.Out.String()
			if len(out) > 20000 {
				out = "…" + out[len(out)-20000:]
			}
			t.Logf("FreeRADIUS in %s wrote:\n%s", ns, out)
		}
	})
	return f
}

// Start starts the server (again, after Stop) and waits until it is ready.
func (f *FreeRADIUS) Start() {
	f.t.Helper()
	args := []string{"-f", "-l", "stdout", "-d", f.Dir}
	if f.cfg.Debug {
		args = []string{"-X", "-d", f.Dir}
	}
	f.Out = &Output{}
	if f.ns == "" {
		f.cmd = exec.Command("freeradius", args...)
	} else {
		f.cmd = Exec(f.ns, "freeradius", args...)
	}
	f.cmd.Stdout, f.cmd.Stderr = f.Out, f.Out
	if err := f.cmd.Start(); err != nil {
		f.t.Fatalf("freeradius: %v", err)
	}
	f.done = make(chan struct{})
	go func() { f.cmd.Wait(); close(f.done) }()
	deadline := time.After(15 * time.Second)
	for !strings.Contains(f.Out.String(), "Ready to process requests") {
		select {
		case <-f.Out.waitChange():
		case <-f.done:
			f.t.Fatalf("freeradius exited:\n%s", f.Out.String())
		case <-deadline:
			f.t.Fatalf("freeradius not ready after 15s:\n%s", f.Out.String())
		}
	}
}

// Stop kills the server and waits for it to end.
func (f *FreeRADIUS) Stop() {
	if f.cmd == nil || f.cmd.Process == nil {
		return
	}
	select {
	case <-f.done:
		return
	default:
	}
	f.cmd.Process.Kill()
	<-f.done
}

// DetailText is the detail file as it is now ("" before the first record).
func (f *FreeRADIUS) DetailText() string {
	b, _ := os.ReadFile(f.Detail)
	return string(b)
}

// Radclient sends one request with FreeRADIUS's radclient from namespace
// ns: kind is auth, acct, disconnect or coa; attrs are "Attr = value"
// lines. It returns radclient's output and error.
func Radclient(ns, server, kind, secret string, attrs ...string) (string, error) {
	cmd := Exec(ns, "radclient", "-x", "-r", "2", "-t", "1", server, kind, secret)
	cmd.Stdin = strings.NewReader(strings.Join(attrs, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// radiusdConf is a FreeRADIUS 3 configuration small enough to read: the
// modules PPP authentication and accounting need, and nothing else.
const radiusdConf = `
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = @DIR@
sbindir = /usr/sbin
logdir = @DIR@
raddbdir = @DIR@
radacctdir = @DIR@
name = freeradius
confdir = @DIR@
modconfdir = @DIR@
run_dir = @DIR@
db_dir = @DIR@
libdir = /usr/lib/freeradius
pidfile = @DIR@/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {
	destination = stdout
	auth = yes
	auth_badpass = no
	auth_goodpass = no
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = no
}
thread pool {
	start_servers = 2
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 4
	max_requests_per_server = 0
}
client rosh {
	ipaddr = @CLIENTS@
	secret = @SECRET@
}
modules {
	pap {
	}
	chap {
	}
	mschap {
		use_mppe = no
	}
	files {
		filename = @DIR@/users
	}
	detail {
		filename = @DIR@/detail
		permissions = 0600
		header = "%t"
		locking = no
	}
}
server default {
	listen {
		type = auth
		ipaddr = @LISTEN@
		port = @AUTH@
	}
	listen {
		type = acct
		ipaddr = @LISTEN@
		port = @ACCT@
	}
	authorize {
		files
		chap
		mschap
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
		Auth-Type CHAP {
			chap
		}
		Auth-Type MS-CHAP {
			mschap
		}
	}
	preacct {
	}
	accounting {
		detail
	}
	post-auth {
		Post-Auth-Type REJECT {
			update reply {
				&Reply-Message := "wrong user name or password"
			}
		}
	}
}
`
