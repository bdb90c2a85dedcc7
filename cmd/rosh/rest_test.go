package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"rosh/nstest"
)

// restPort is the www service's port in the tests (its namespace is the
// test's own, so no other process holds it).
const restPort = 18080

// curlResult is what curl got: the HTTP status (0: no answer) and body.
type curlResult struct {
	code int
	body string
	took time.Duration
}

// curl runs the real curl in namespace ns against rosh's REST API.
func curl(t *testing.T, ns string, port int, user, method, path, body string) curlResult {
	t.Helper()
	args := []string{"-s", "-m", "20", "-o", "-", "-w", "\n%{http_code}", "-X", method}
	if user != "" {
		args = append(args, "-u", user)
	}
	if body != "" {
		args = append(args, "-H", "Content-Type: application/json", "--data-binary", body)
	}
	args = append(args, fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	start := time.Now()
	out, _ := nstest.Exec(ns, "curl", args...).Output()
	took := time.Since(start)
	s := string(out)
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		t.Fatalf("curl %s %s: no status in %q", method, path, s)
	}
	code, _ := strconv.Atoi(strings.TrimSpace(s[i+1:]))
	return curlResult{code: code, body: s[:i], took: took}
}

// object decodes one JSON object of string values.
func object(t *testing.T, r curlResult) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("not a JSON object of strings: %v: %s", err, r.body)
	}
	return m
}

// array decodes a JSON array of objects of string values.
func array(t *testing.T, r curlResult) []map[string]string {
	t.Helper()
	var a []map[string]string
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		t.Fatalf("not a JSON array of objects: %v: %s", err, r.body)
	}
	return a
}

// waitREST waits until the www service answers.
func waitREST(t *testing.T, ns string, port int, user string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for curl(t, ns, port, user, "GET", "/rest/system/identity", "").code != 200 {
		if time.Now().After(deadline) {
			t.Fatalf("the REST API on port %d never answered", port)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRESTAPI drives rosh's REST API with curl: every verb on several
// menus, the errors RouterOS returns (bad JSON, unknown properties, bad
// values, unknown items and paths, wrong credentials, too few rights),
// the slowing of repeated login failures, /ip service following its own
// configuration; then the console shows what REST changed, and all of it
// survives a restart with the same configuration file.
func TestRESTAPI(t *testing.T) {
	pair := nstest.NewPair(t)
	ns := pair.AC
	r := nstest.StartRosh(t, roshBin, ns)
	r.Send(fmt.Sprintf("/ip service set www port=%d disabled=no", restPort), "/user set admin password=s3cret")
	const admin = "admin:s3cret"
	waitREST(t, ns, restPort, admin)
	do := func(method, path, body string, wantCode int) curlResult {
		t.Helper()
		res := curl(t, ns, restPort, admin, method, path, body)
		if res.code != wantCode {
			t.Fatalf("%s %s %s: HTTP %d, want %d: %s", method, path, body, res.code, wantCode, res.body)
		}
		return res
	}
	wantError := func(res curlResult, code int, detail string) {
		t.Helper()
		var e struct {
			Error   int    `json:"error"`
			Message string `json:"message"`
			Detail  string `json:"detail"`
		}
		if err := json.Unmarshal([]byte(res.body), &e); err != nil || e.Error != code || e.Detail != detail {
			t.Errorf("error body %s, want error %d detail %q", res.body, code, detail)
		}
	}

	// PUT adds and answers the new object, the way RouterOS prints it.
	pool := object(t, do("PUT", "/rest/ip/pool", `{"name":"pool1","ranges":"10.1.0.2-10.1.0.200"}`, 200))
	if want := map[string]string{".id": "*1", "name": "pool1", "ranges": "10.1.0.2-10.1.0.200"}; !reflect.DeepEqual(pool, want) {
		t.Errorf("PUT /ip/pool answered %v, want %v", pool, want)
	}
	do("PUT", "/rest/ppp/profile", `{"name":"prof1","local-address":"10.1.0.1","remote-address":"pool1"}`, 200)
	sec := object(t, do("PUT", "/rest/ppp/secret", `{"name":"alice","password":"pw1","profile":"prof1","service":"pppoe"}`, 200))
	if sec[".id"] != "*1" || sec["name"] != "alice" || sec["profile"] != "prof1" || sec["disabled"] != "false" {
		t.Errorf("PUT /ppp/secret answered %v", sec)
	}
	do("PUT", "/rest/ppp/secret", `{"name":"carol","password":"pw3"}`, 200)

	// Errors, and nothing changes.
	wantError(do("PUT", "/rest/ppp/secret", `{"name":"bob",`, 400), 400, "JSON parse error: unexpected EOF")
	wantError(do("PUT", "/rest/ppp/secret", `["name"]`, 400), 400, "JSON parse error: json: cannot unmarshal array into Go value of type map[string]interface {}")
	wantError(do("PUT", "/rest/ppp/secret", `{"name":"bob","colour":"red"}`, 400), 400, "unknown parameter colour")
	wantError(do("PUT", "/rest/ppp/secret", `{"name":"bob","service":"gopher"}`, 400), 400, "input does not match any value of service")
	wantError(do("PUT", "/rest/ppp/secret", `{"name":"alice","password":"x"}`, 400), 400, "failure: entry already exists")
	wantError(do("PATCH", "/rest/ppp/secret/alice", `{"profile":"nosuch"}`, 400), 400, "input does not match any value of profile")
	wantError(do("DELETE", "/rest/ppp/profile/default", "", 400), 400, "failure: can not remove default entry")
	wantError(do("DELETE", "/rest/ip/pool/pool1", "", 400), 400, "failure: pool is in use")
	wantError(do("GET", "/rest/ppp/secret/nobody", "", 404), 404, "")
	wantError(do("PATCH", "/rest/ppp/secret/*99", `{"password":"x"}`, 404), 404, "")
	wantError(do("GET", "/rest/no/such/menu", "", 404), 404, "")
	wantError(do("POST", "/rest/ppp/secret/frobnicate", `{}`, 400), 400, "no such command or directory")

	// GET: the list, one item by name or id, filters, .proplist.
	if list := array(t, do("GET", "/rest/ppp/secret", "", 200)); len(list) != 2 || list[0]["name"] != "alice" || list[1]["name"] != "carol" {
		t.Errorf("GET /ppp/secret: %v", list)
	}
	byName := object(t, do("GET", "/rest/ppp/secret/alice", "", 200))
	byID := object(t, do("GET", "/rest/ppp/secret/*1", "", 200))
	if !reflect.DeepEqual(byName, byID) || byName["password"] != "pw1" {
		t.Errorf("GET by name %v and by id %v differ", byName, byID)
	}
	if list := array(t, do("GET", "/rest/ppp/secret?name=carol&.proplist=.id,name", "", 200)); !reflect.DeepEqual(list, []map[string]string{{".id": "*2", "name": "carol"}}) {
		t.Errorf("GET ?name=carol&.proplist=.id,name: %v", list)
	}
	if list := array(t, do("GET", "/rest/ip/pool/used", "", 200)); len(list) != 0 {
		t.Errorf("GET /ip/pool/used: %v", list)
	}
	if prof := array(t, do("GET", "/rest/ppp/profile?default=true", "", 200)); len(prof) != 1 || prof[0]["name"] != "default" {
		t.Errorf("GET /ppp/profile?default=true: %v", prof)
	}

	// PATCH sets and answers the changed object; DELETE removes.
	sec = object(t, do("PATCH", "/rest/ppp/secret/alice", `{"password":"pw2","disabled":"true","comment":"via rest"}`, 200))
	if sec["password"] != "pw2" || sec["disabled"] != "true" || sec["comment"] != "via rest" {
		t.Errorf("PATCH answered %v", sec)
	}
	if res := do("DELETE", "/rest/ppp/secret/carol", "", 204); res.body != "" {
		t.Errorf("DELETE answered a body: %q", res.body)
	}
	do("GET", "/rest/ppp/secret/carol", "", 404)

	// POST runs commands: monitor, print, set on a single menu, export.
	do("PUT", "/rest/interface/pppoe-client", `{"name":"PPPoE-Out","interface":"ether3","user":"u","password":"p"}`, 200)
	if mon := array(t, do("POST", "/rest/interface/pppoe-client/monitor", `{"numbers":"PPPoE-Out","once":""}`, 200)); !reflect.DeepEqual(mon, []map[string]string{{"status": "disabled"}}) {
		t.Errorf("monitor: %v", mon)
	}
	if act := array(t, do("POST", "/rest/ppp/active/print", `{}`, 200)); len(act) != 0 {
		t.Errorf("/ppp/active/print: %v", act)
	}
	do("POST", "/rest/system/identity/set", `{"name":"R1"}`, 200)
	var exp struct{ Ret string }
	json.Unmarshal([]byte(do("POST", "/rest/export", "", 200).body), &exp)
	for _, want := range []string{"/system identity\nset name=R1\n", "add comment=\"via rest\" disabled=yes name=alice profile=prof1 service=pppoe\n"} {
		if !strings.Contains(exp.Ret, want) {
			t.Errorf("export does not contain %q:\n%s", want, exp.Ret)
		}
	}
	if strings.Contains(exp.Ret, "pw2") || strings.Contains(exp.Ret, "s3cret") {
		t.Errorf("export shows passwords:\n%s", exp.Ret)
	}

	// Credentials: none, wrong, a read-only user.
	wantError(curl(t, ns, restPort, "", "GET", "/rest/ppp/secret", ""), 401, "")
	wantError(curl(t, ns, restPort, "admin:wrong", "GET", "/rest/ppp/secret", ""), 401, "")
	do("PUT", "/rest/user", `{"name":"viewer","group":"read","password":"v"}`, 200)
	if users := array(t, do("GET", "/rest/user", "", 200)); len(users) != 2 || users[1]["password"] != "" {
		t.Errorf("GET /user shows %v (passwords are never shown)", users)
	}
	if res := curl(t, ns, restPort, "viewer:v", "GET", "/rest/ppp/secret", ""); res.code != 200 {
		t.Errorf("read user GET: %d %s", res.code, res.body)
	}
	wantError(curl(t, ns, restPort, "viewer:v", "PUT", "/rest/ppp/secret", `{"name":"eve"}`), 403, "not enough permissions")

	// Repeated failures from one address are slowed: three are free, then
	// each waits twice as long as the one before (0.5 s, 1 s, 2 s), so the
	// sixth takes 2 s at least (TestLoginLimiter checks the schedule and
	// its reset exactly, on a clock of its own).
	var took []time.Duration
	for i := 0; i < 6; i++ {
		took = append(took, curl(t, ns, restPort, "admin:wrong", "GET", "/rest/ppp/secret", "").took)
	}
	if took[5] < 1900*time.Millisecond {
		t.Errorf("failed logins took %v: the 6th should have waited 2 s", took)
	}
	do("GET", "/rest/system/identity", "", 200) // a success clears the record

	// /ip service follows its own configuration, even when REST changes
	// it: an address= that leaves 127.0.0.1 out closes the door.
	do("PATCH", "/rest/ip/service/www", `{"address":"10.9.9.0/24"}`, 200)
	if res := curl(t, ns, restPort, admin, "GET", "/rest/ppp/secret", ""); res.code != 0 {
		t.Errorf("from an address not allowed: HTTP %d, want no answer", res.code)
	}
	r.Send(`/ip service set www address=127.0.0.0/8`)
	waitREST(t, ns, restPort, admin)

	// The console sees what REST did.
	out := r.Poll("/ppp secret print detail", "alice", 5*time.Second)
	if !regexp.MustCompile(`(?s)X\s+;;; via rest\s+name="alice" service=pppoe caller-id="" password="pw2" profile=prof1`).MatchString(out) {
		t.Errorf("the console shows:\n%s", out)
	}
	if strings.Contains(out, "carol") {
		t.Errorf("carol, removed over REST, is still there:\n%s", out)
	}

	// A restart with the same configuration file keeps all of it, and
	// the REST API is back on its port with its password.
	if err := r.Quit(); err != nil {
		t.Fatalf("quit: %v", err)
	}
	r2 := nstest.StartRosh(t, roshBin, ns, "--config", r.Config) // the later --config wins
	out = r2.Poll("/ppp secret print detail", "alice", 10*time.Second)
	if !strings.Contains(out, `;;; via rest`) || !strings.Contains(out, `password="pw2"`) || strings.Contains(out, "carol") {
		t.Errorf("after a restart the console shows:\n%s", out)
	}
	waitREST(t, ns, restPort, admin)
	if sec := object(t, do("GET", "/rest/ppp/secret/alice", "", 200)); sec["password"] != "pw2" || sec["disabled"] != "true" {
		t.Errorf("after a restart GET /ppp/secret/alice: %v", sec)
	}
	if res := curl(t, ns, restPort, "viewer:v", "GET", "/rest/ppp/secret", ""); res.code != 200 {
		t.Errorf("after a restart the read user gets HTTP %d", res.code)
	}
}

// TestMetricsScrape brings up 12 emulated subscribers against a rosh
// access concentrator over a veth pair: 10 with the right password and
// 2 with a wrong one. Prometheus's endpoint, scraped with curl, says
// exactly that, and promtool finds nothing wrong with the exposition. The
// REST API lists the live sessions and disconnects one.
func TestMetricsScrape(t *testing.T) {
	const port = 19436
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	lines := []string{
		fmt.Sprintf("/ip service set metrics port=%d disabled=no", port),
		fmt.Sprintf("/ip service set www port=%d disabled=no", restPort),
		"/ip pool add name=subs ranges=10.0.0.2-10.0.0.101",
		"/ppp profile add local-address=10.0.0.1 name=subs remote-address=subs",
		"/interface pppoe-server server add default-profile=subs disabled=no interface=ether3 service-name=isp authentication=chap",
	}
	for i := 1; i <= 12; i++ {
		pw := fmt.Sprintf("pw%d", i)
		if i > 10 {
			pw = "not-what-they-send"
		}
		lines = append(lines, fmt.Sprintf("/ppp secret add name=user%d password=%s profile=subs service=pppoe", i, pw))
	}
	ac.Send(lines...)
	ac.Poll("/ppp secret print count-only", "12", 10*time.Second)
	scrape := func() string {
		t.Helper()
		out, err := nstest.Exec(pair.AC, "curl", "-sf", "-m", "10", fmt.Sprintf("http://127.0.0.1:%d/metrics", port)).Output()
		if err != nil {
			t.Fatalf("scraping: %v", err)
		}
		return string(out)
	}
	sample := func(text, series string) string {
		for _, l := range strings.Split(text, "\n") {
			if v, ok := strings.CutPrefix(l, series+" "); ok {
				return v
			}
		}
		return "absent"
	}

	var emOut strings.Builder
	em := nstest.Exec(pair.Client, roshBin, "emulate", "--interface", "ether2", "--sessions", "12", "--rate", "0",
		"--user-pattern", "user%d", "--password", "pw%d", "--auth", "chap", "--keepalive", "0", "--timeout", "10s", "--hold", "-1s")
	em.Stdout, em.Stderr = &emOut, &emOut
	if err := em.Start(); err != nil {
		t.Fatal(err)
	}
	ac.Poll("/ppp active print count-only", "10", 15*time.Second)
	during := scrape()
	for series, want := range map[string]string{
		`rosh_sessions{role="server",state="up"}`:                       "10",
		`rosh_pool_used_addresses{pool="subs"}`:                         "10",
		`rosh_pool_addresses{pool="subs"}`:                              "100",
		`rosh_interface_receive_bytes_total{interface="<pppoe-user1>"}`: sample(during, `rosh_interface_receive_bytes_total{interface="<pppoe-user1>"}`),
	} {
		if got := sample(during, series); got != want || got == "absent" {
			t.Errorf("while up: %s = %s, want %s", series, got, want)
		}
	}
	// The live sessions over REST: /ppp active with RouterOS's dynamic
	// ids, /ip pool used; DELETE disconnects one (it was up: no failure).
	active := array(t, curl(t, pair.AC, restPort, "admin:", "GET", "/rest/ppp/active", ""))
	if used := array(t, curl(t, pair.AC, restPort, "admin:", "GET", "/rest/ip/pool/used", "")); len(active) != 10 || len(used) != 10 {
		t.Fatalf("REST lists %d active sessions and %d used addresses, want 10 and 10: %v", len(active), len(used), active)
	}
	if id := active[0][".id"]; !regexp.MustCompile(`^\*8[0-9A-F]{7}$`).MatchString(id) || active[0]["service"] != "pppoe" {
		t.Errorf("/ppp active item: %v", active[0])
	}
	if res := curl(t, pair.AC, restPort, "admin:", "DELETE", "/rest/ppp/active/"+active[0][".id"], ""); res.code != 204 {
		t.Errorf("DELETE /rest/ppp/active/%s: %d %s", active[0][".id"], res.code, res.body)
	}
	ac.Poll("/ppp active print count-only", "9", 5*time.Second)
	em.Process.Signal(os.Interrupt) // --hold -1s: until Ctrl-C, then hang up
	err := em.Wait()
	var ee *exec.ExitError
	if !(err != nil && errors.As(err, &ee) && ee.ExitCode() == 1) {
		t.Fatalf("rosh emulate: %v (want exit status 1: two subscribers fail)\n%s", err, emOut.String())
	}
	ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	after := scrape()
	for series, want := range map[string]string{
		`rosh_session_setups_total{role="server"}`:                                      "10",
		`rosh_session_failures_total{role="server",reason="auth-failed"}`:               "2",
		`rosh_auth_total{role="server",method="chap",result="success"}`:                 "10",
		`rosh_auth_total{role="server",method="chap",result="failure"}`:                 "2",
		`rosh_sessions{role="server",state="up"}`:                                       "0",
		`rosh_pool_used_addresses{pool="subs"}`:                                         "0",
		`rosh_pppoe_discovery_frames_total{role="server",code="PADS",direction="sent"}`: "12",
		`rosh_keepalive_timeouts_total{role="server"}`:                                  "0",
	} {
		if got := sample(after, series); got != want {
			t.Errorf("after: %s = %s, want %s", series, got, want)
		}
	}
	if n := strings.Count(after, `rosh_session_failures_total{`); n != 1 {
		t.Errorf("%d failure reasons, want only auth-failed:\n%s", n, after)
	}
	for _, code := range []string{"PADI", "PADR"} {
		v, _ := strconv.Atoi(sample(after, fmt.Sprintf(`rosh_pppoe_discovery_frames_total{role="server",code="%s",direction="received"}`, code)))
		if v < 12 {
			t.Errorf("%s received: %d, want at least 12", code, v)
		}
	}
	// promtool lints the exposition as Prometheus would ingest it.
	f := filepath.Join(t.TempDir(), "scrape.txt")
	os.WriteFile(f, []byte(after), 0o644)
	for _, text := range []string{during, after} {
		cmd := exec.Command("promtool", "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s\n--- scrape:\n%s", err, out, text)
		}
	}
	if t.Failed() {
		t.Logf("scrape after the run:\n%s\nrosh emulate:\n%s", after, emOut.String())
	}
}
