package shell

import (
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"rosh/menus"
)

// newTestREST returns the REST API of a fresh console; admin's password
// is "pw".
func newTestREST(t testing.TB) (*restAPI, *Shell) {
	sh, _ := newTestShell(t)
	if err := sh.Execute("/user set admin password=pw", 1); err != nil {
		t.Fatal(err)
	}
	return &restAPI{sh: sh.Template(), limiter: newLoginLimiter()}, sh
}

func restCall(a *restAPI, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.SetBasicAuth("admin", "pw")
	w := httptest.NewRecorder()
	a.ServeHTTP(w, req)
	return w
}

// TestRESTSharesTheConsole: what REST adds, the console prints and
// exports, numbered as its own; what the console adds, REST lists.
func TestRESTSharesTheConsole(t *testing.T) {
	a, sh := newTestREST(t)
	if w := restCall(a, "PUT", "/rest/ip/pool", `{"name":"p1","ranges":"10.0.0.2-10.0.0.9","comment":"from rest"}`); w.Code != 200 {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	if err := sh.Execute("/ip pool add name=p2 ranges=10.0.1.0/24", 1); err != nil {
		t.Fatal(err)
	}
	w := restCall(a, "GET", "/rest/ip/pool", "")
	want := `[{".id":"*1","name":"p1","ranges":"10.0.0.2-10.0.0.9","comment":"from rest"},{".id":"*2","name":"p2","ranges":"10.0.1.0/24"}]` + "\n"
	if w.Body.String() != want {
		t.Errorf("GET /rest/ip/pool:\n got %s\nwant %s", w.Body, want)
	}
	if text := sh.ExportText("/ip/pool", defaultExport); !strings.Contains(text, `add comment="from rest" name=p1 ranges=10.0.0.2-10.0.0.9`) {
		t.Errorf("export after a REST add:\n%s", text)
	}
	// A command's key/value block comes back as data.
	restCall(a, "PUT", "/rest/interface/pppoe-client", `{"name":"out","interface":"ether2"}`)
	if w := restCall(a, "POST", "/rest/interface/pppoe-client/monitor", `{".id":"out","once":"true"}`); w.Body.String() != `[{"status":"disabled"}]`+"\n" {
		t.Errorf("monitor: %d %s", w.Code, w.Body)
	}
	// A single menu answers PATCH without an id.
	if w := restCall(a, "PATCH", "/rest/system/identity", `{"name":"edge-1"}`); w.Body.String() != `{"name":"edge-1"}`+"\n" {
		t.Errorf("PATCH /system/identity: %d %s", w.Code, w.Body)
	}
}

// FuzzREST sends arbitrary methods, paths and bodies: the API answers
// with one of its status codes and JSON, never panics, and a request it
// refuses changes nothing.
func FuzzREST(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"GET", "/rest/ppp/secret", ""},                                                // a list
		{"GET", "/rest/ppp/secret/*1", ""},                                             // an id
		{"PUT", "/rest/ppp/secret", `{"name":"a","password":"b"}`},                     // an add
		{"PUT", "/rest/ppp/secret", `{"name":`},                                        // cut JSON
		{"PUT", "/rest/ppp/secret", `{"name":1e400}`},                                  // a number out of range
		{"PUT", "/rest/ip/pool", `{"name":"p","ranges":"10.0.0.9-10.0.0.2"}`},          // bad range
		{"PATCH", "/rest/ppp/profile/default", `{"name":"x"}`},                         // rename a built-in
		{"DELETE", "/rest/ppp/profile/*1", ""},                                         // remove a built-in
		{"POST", "/rest/ppp/secret/print", `{".query":["name=a"],".proplist":"name"}`}, // query
		{"POST", "/rest/ppp/active/remove", `{".id":"*80000001"}`},                     // a dynamic id
		{"POST", "/rest/export", `{"verbose":""}`},                                     // a command with a flag
		{"POST", "/rest/import", `{"file-name":"../../etc/passwd"}`},                   // a file outside the store
		{"GET", "/rest/../rest//ppp", ""},                                              // odd path
		{"PATCH", "/rest/user/admin", `{"password":"\u0000\"\\"}`},                     // odd bytes
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	a, sh := newTestREST(f)
	codes := map[int]bool{200: true, 204: true, 400: true, 401: true, 403: true, 404: true, 405: true, 413: true}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if u, err := url.ParseRequestURI(path); err != nil || u.Path != path || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t") {
			return // not a request line an HTTP client could send
		}
		switch method {
		case "GET", "PUT", "PATCH", "DELETE", "POST", "HEAD":
		default:
			return
		}
		before := sh.ExportText("/", defaultExport)
		w := restCall(a, method, path, body)
		if !codes[w.Code] {
			t.Fatalf("%s %s %q: HTTP %d", method, path, body, w.Code)
		}
		if w.Code != 204 && method != "HEAD" && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s %q: not JSON: %q", method, path, body, w.Body)
		}
		if w.Code >= 400 && sh.ExportText("/", defaultExport) != before {
			t.Fatalf("%s %s %q failed (%d) but changed the configuration", method, path, body, w.Code)
		}
		// Keep the configuration small and the user able to log in.
		sh.Execute("/ppp secret remove [find]", 1)
		sh.Execute("/user set admin password=pw disabled=no address=\"\" group=full", 1)
	})
}

// defaultExport is what the Saver writes.
var defaultExport = menus.ExportOptions{ShowSensitive: true}

// TestLoginLimiter: three failures from an address are free, then the
// answer waits 0.5 s, 1 s, 2 s … up to 8 s; a success, or ten quiet
// minutes, clears the address; other addresses are not slowed.
func TestLoginLimiter(t *testing.T) {
	now := time.Unix(1e9, 0)
	l := newLoginLimiter()
	l.now = func() time.Time { return now }
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	var got []time.Duration
	for i := 0; i < 9; i++ {
		got = append(got, l.failed(a))
	}
	want := []time.Duration{0, 0, 0, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("delays %v, want %v", got, want)
	}
	if d := l.failed(b); d != 0 {
		t.Errorf("another address waits %v", d)
	}
	l.succeeded(a)
	if d := l.failed(a); d != 0 {
		t.Errorf("after a success the first failure waits %v", d)
	}
	l.failed(a)
	l.failed(a)
	now = now.Add(failMemory + time.Second)
	if d := l.failed(a); d != 0 {
		t.Errorf("after ten quiet minutes a failure waits %v", d)
	}
	// The table stays bounded under failures from many addresses.
	for i := 0; i < 3*maxFailAddrs; i++ {
		l.failed(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	if n := len(l.fails); n > maxFailAddrs {
		t.Errorf("%d addresses remembered, bound %d", n, maxFailAddrs)
	}
}
