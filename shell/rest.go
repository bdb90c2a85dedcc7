package shell

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"rosh/menus"
	"rosh/router"
)

// The REST API, as RouterOS v7 serves it on its www service: a JSON
// wrapper around console commands. Every request becomes a Request that
// runs through Do — the console's own code path — so a change made over
// HTTP is checked, applied and saved exactly like a typed one.
//
//	GET    /rest/<menu>            print: a JSON array of objects
//	GET    /rest/<menu>/<id|name>  one object
//	PUT    /rest/<menu>            add; answers the new object
//	PATCH  /rest/<menu>/<id|name>  set; answers the changed object
//	DELETE /rest/<menu>/<id|name>  remove; answers 204 and no body
//	POST   /rest/<menu>/<command>  any command, arguments in a JSON object
//
// Values are strings both ways (yes/no properties as "true"/"false"),
// items carry ".id" ("*1"), errors are {"error":400,"message":"Bad
// Request","detail":"…"}.

// maxBody bounds a request's JSON body.
const maxBody = 1 << 20

// restAPI serves /rest for one console template.
type restAPI struct {
	sh      *Shell
	limiter *loginLimiter
}

// restError is an HTTP error in RouterOS's JSON form.
type restError struct {
	Code   int
	Detail string
}

func (e *restError) Error() string { return e.Detail }

func badRequest(format string, args ...any) *restError {
	return &restError{Code: http.StatusBadRequest, Detail: fmt.Sprintf(format, args...)}
}

var errNotFound = &restError{Code: http.StatusNotFound}

func writeError(w http.ResponseWriter, e *restError) {
	// RouterOS's order: error, message, detail.
	body := struct {
		Error   int    `json:"error"`
		Message string `json:"message"`
		Detail  string `json:"detail,omitempty"`
	}{e.Code, http.StatusText(e.Code), e.Detail}
	w.Header().Set("Content-Type", "application/json")
	if e.Code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="rosh"`)
	}
	w.WriteHeader(e.Code)
	json.NewEncoder(w).Encode(body)
}

func (a *restAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/rest")
	if !ok || (rest != "" && rest[0] != '/') {
		writeError(w, errNotFound)
		return
	}
	group, rerr := a.login(r)
	if rerr != nil {
		writeError(w, rerr)
		return
	}
	if group == "read" && !(r.Method == http.MethodGet || r.Method == http.MethodPost && strings.HasSuffix(rest, "/print")) {
		writeError(w, &restError{Code: http.StatusForbidden, Detail: "not enough permissions"})
		return
	}
	out, rerr := a.serve(r, strings.Trim(rest, "/"))
	if rerr != nil {
		writeError(w, rerr)
		return
	}
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

// login checks HTTP Basic credentials against /user. Failures from one
// address beyond a few are answered more and more slowly.
func (a *restAPI) login(r *http.Request) (string, *restError) {
	addr := remoteAddr(r)
	user, pass, ok := r.BasicAuth()
	var group string
	if ok {
		a.sh.eng.View(func(c *router.Config) { group, ok = menus.Login(a.sh.tree, c, user, pass, addr) })
	}
	if !ok {
		time.Sleep(a.limiter.failed(addr))
		a.sh.eng.Log.Add("system,error,critical", "login failure for user %s from %s via rest", user, addr)
		return "", &restError{Code: http.StatusUnauthorized}
	}
	a.limiter.succeeded(addr)
	return group, nil
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// serve maps a method and path to a Request and the Result to JSON.
func (a *restAPI) serve(r *http.Request, rest string) ([]byte, *restError) {
	var segs []string
	if rest != "" {
		segs = strings.Split(rest, "/")
	}
	menu, tail := a.splitMenu(segs)
	switch r.Method {
	case http.MethodGet:
		if menu == "" || len(tail) > 1 {
			return nil, errNotFound
		}
		q := r.URL.Query()
		args := map[string]string{}
		for k, v := range q {
			if k != ".proplist" && len(v) > 0 {
				args[k] = v[0]
			}
		}
		proplist := splitList(q.Get(".proplist"))
		recs, err := a.print(menu, args)
		if err != nil {
			return nil, err
		}
		if len(tail) == 1 {
			rec := a.pick(menu, recs, tail[0])
			if rec == nil {
				return nil, errNotFound
			}
			return encodeRecord(rec, proplist), nil
		}
		return encodeRecords(recs, proplist), nil
	case http.MethodPut:
		if menu == "" || len(tail) != 0 {
			return nil, errNotFound
		}
		args, err := readArgs(r)
		if err != nil {
			return nil, err
		}
		res, derr := a.sh.Do(Request{Path: menu, Command: "add", Args: args})
		if derr != nil {
			return nil, doError(derr)
		}
		return a.object(menu, res.ID)
	case http.MethodPatch:
		if menu == "" || len(tail) > 1 {
			return nil, errNotFound
		}
		args, err := readArgs(r)
		if err != nil {
			return nil, err
		}
		if len(tail) == 0 {
			if m := a.sh.tree.Menu(menu); m == nil || !m.Single {
				return nil, errNotFound
			}
			if _, derr := a.sh.Do(Request{Path: menu, Command: "set", Args: args}); derr != nil {
				return nil, doError(derr)
			}
			return a.object(menu, "")
		}
		id, rerr := a.idOf(menu, tail[0])
		if rerr != nil {
			return nil, rerr
		}
		args["numbers"] = id
		if _, derr := a.sh.Do(Request{Path: menu, Command: "set", Args: args}); derr != nil {
			return nil, doError(derr)
		}
		return a.object(menu, id)
	case http.MethodDelete:
		if menu == "" || len(tail) != 1 {
			return nil, errNotFound
		}
		id, rerr := a.idOf(menu, tail[0])
		if rerr != nil {
			return nil, rerr
		}
		if _, derr := a.sh.Do(Request{Path: menu, Command: "remove", Args: map[string]string{"numbers": id}}); derr != nil {
			return nil, doError(derr)
		}
		return nil, nil
	case http.MethodPost:
		if len(segs) == 0 {
			return nil, errNotFound
		}
		path := "/" + strings.Join(segs[:len(segs)-1], "/")
		cmd := segs[len(segs)-1]
		args, err := readArgs(r)
		if err != nil {
			return nil, err
		}
		if cmd == "print" {
			proplist := splitList(args[".proplist"])
			delete(args, ".proplist")
			recs, err := a.print(path, args)
			if err != nil {
				return nil, err
			}
			return encodeRecords(recs, proplist), nil
		}
		res, derr := a.sh.Do(Request{Path: path, Command: cmd, Args: args})
		if derr != nil {
			return nil, doError(derr)
		}
		switch {
		case len(res.Records) > 0:
			return encodeRecords(res.Records, nil), nil
		case res.ID != "":
			return encodeRecord([][2]string{{"ret", res.ID}}, nil), nil
		case res.Text != "":
			return encodeRecord([][2]string{{"ret", res.Text}}, nil), nil
		}
		return []byte("[]\n"), nil
	}
	return nil, &restError{Code: http.StatusMethodNotAllowed}
}

// splitMenu finds the longest prefix of segs that is a menu: the rest is
// an item reference (or nothing).
func (a *restAPI) splitMenu(segs []string) (string, []string) {
	for n := len(segs); n > 0; n-- {
		p := "/" + strings.Join(segs[:n], "/")
		if a.sh.tree.Menu(p) != nil {
			return p, segs[n:]
		}
	}
	return "", segs
}

func (a *restAPI) print(menu string, args map[string]string) ([][][2]string, *restError) {
	res, err := a.sh.Do(Request{Path: menu, Command: "print", Args: args})
	if err != nil {
		return nil, doError(err)
	}
	return res.Records, nil
}

// pick finds an item by .id or by name.
func (a *restAPI) pick(menu string, recs [][][2]string, ref string) [][2]string {
	key := "name"
	if m := a.sh.tree.Menu(menu); m != nil && m.Key != "" {
		key = m.Key
	}
	for _, rec := range recs {
		if strings.HasPrefix(ref, "*") && strings.EqualFold(get(rec, ".id"), ref) {
			return rec
		}
	}
	for _, rec := range recs {
		if v, ok := lookup(rec, key); ok && v == ref {
			return rec
		}
	}
	return nil
}

// idOf resolves a reference in the URL to the item's .id, so that a
// rename by PATCH still answers with the item.
func (a *restAPI) idOf(menu, ref string) (string, *restError) {
	recs, err := a.print(menu, nil)
	if err != nil {
		return "", err
	}
	rec := a.pick(menu, recs, ref)
	if rec == nil || get(rec, ".id") == "" {
		return "", errNotFound
	}
	return get(rec, ".id"), nil
}

// object answers the item id (or a single menu's only item).
func (a *restAPI) object(menu, id string) ([]byte, *restError) {
	recs, err := a.print(menu, nil)
	if err != nil {
		return nil, err
	}
	if id == "" && len(recs) > 0 {
		return encodeRecord(recs[0], nil), nil
	}
	if rec := a.pick(menu, recs, id); rec != nil {
		return encodeRecord(rec, nil), nil
	}
	return nil, errNotFound
}

func get(rec [][2]string, k string) string {
	v, _ := lookup(rec, k)
	return v
}

func lookup(rec [][2]string, k string) (string, bool) {
	for _, kv := range rec {
		if kv[0] == k {
			return kv[1], true
		}
	}
	return "", false
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// readArgs decodes a JSON object body into string arguments. RouterOS
// takes numbers and booleans too, and writes every value as a string.
// An empty body is no arguments.
func readArgs(r *http.Request) (map[string]string, *restError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, badRequest("could not read the request body")
	}
	if len(body) > maxBody {
		return nil, &restError{Code: http.StatusRequestEntityTooLarge}
	}
	args := map[string]string{}
	if len(bytes.TrimSpace(body)) == 0 {
		return args, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, badRequest("JSON parse error: %v", err)
	}
	if dec.More() {
		return nil, badRequest("JSON parse error: data after the object")
	}
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			args[k] = x
		case json.Number:
			args[k] = x.String()
		case bool:
			args[k] = strconv.FormatBool(x)
		case []any:
			if k != ".query" {
				return nil, badRequest("invalid value of %s: expected a string", k)
			}
			// .query: name=value conditions, all of which must hold.
			for _, q := range x {
				s, ok := q.(string)
				n, val, found := strings.Cut(s, "=")
				if !ok || !found {
					return nil, badRequest("unsupported query %v", q)
				}
				args[n] = val
			}
		default:
			return nil, badRequest("invalid value of %s: expected a string", k)
		}
	}
	return args, nil
}

// doError words a Request's error for the REST API.
func doError(err error) *restError {
	var pe *PosError
	switch {
	case errors.Is(err, ErrNoSuchMenu), errors.Is(err, ErrNoSuchCommand):
		return &restError{Code: http.StatusBadRequest, Detail: "no such command or directory"}
	case errors.Is(err, menus.ErrNoSuchItem):
		return &restError{Code: http.StatusNotFound, Detail: "no such item"}
	case errors.Is(err, menus.ErrUnknownProp):
		return badRequest("unknown parameter")
	case errors.As(err, &pe):
		return badRequest("%s", pe.Msg)
	}
	return badRequest("%s", err.Error())
}

// encodeRecord writes one object with its keys in the record's order.
func encodeRecord(rec [][2]string, proplist []string) []byte {
	var b bytes.Buffer
	writeObject(&b, rec, proplist)
	b.WriteByte('\n')
	return b.Bytes()
}

func encodeRecords(recs [][][2]string, proplist []string) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, rec := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		writeObject(&b, rec, proplist)
	}
	b.WriteString("]\n")
	return b.Bytes()
}

func writeObject(b *bytes.Buffer, rec [][2]string, proplist []string) {
	b.WriteByte('{')
	first := true
	for _, kv := range rec {
		if len(proplist) > 0 && !hasString(proplist, kv[0]) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(kv[0])
		v, _ := json.Marshal(kv[1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
}

// loginLimiter slows repeated login failures from one address: after
// freeFailures failures, each further one is answered only after a delay
// that doubles up to maxDelay, so guessing passwords costs time while a
// mistyped one costs nothing. A success clears the address.
type loginLimiter struct {
	mu    sync.Mutex
	fails map[netip.Addr]*failRecord
	now   func() time.Time
}

type failRecord struct {
	n    int
	last time.Time
}

const (
	freeFailures  = 3
	firstDelay    = 500 * time.Millisecond
	maxLoginDelay = 8 * time.Second
	failMemory    = 10 * time.Minute
	maxFailAddrs  = 4096
)

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{fails: map[netip.Addr]*failRecord{}, now: time.Now}
}

// failed records a failure and returns how long to wait before answering.
func (l *loginLimiter) failed(a netip.Addr) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f := l.fails[a]
	if f == nil || now.Sub(f.last) > failMemory {
		if len(l.fails) >= maxFailAddrs {
			l.prune(now)
		}
		f = &failRecord{}
		l.fails[a] = f
	}
	f.n++
	f.last = now
	if f.n <= freeFailures {
		return 0
	}
	d := firstDelay << min(f.n-freeFailures-1, 8)
	return min(d, maxLoginDelay)
}

func (l *loginLimiter) succeeded(a netip.Addr) {
	l.mu.Lock()
	delete(l.fails, a)
	l.mu.Unlock()
}

// prune forgets old failures; when all are recent, the oldest half.
func (l *loginLimiter) prune(now time.Time) {
	for a, f := range l.fails {
		if now.Sub(f.last) > failMemory {
			delete(l.fails, a)
		}
	}
	if len(l.fails) < maxFailAddrs {
		return
	}
	type af struct {
		a netip.Addr
		t time.Time
	}
	var list []af
	for a, f := range l.fails {
		list = append(list, af{a, f.last})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].t.Before(list[j].t) })
	for _, x := range list[:len(list)/2] {
		delete(l.fails, x.a)
	}
}

// allowListener closes connections from addresses a service's address=
// does not allow, before any byte is read.
type allowListener struct {
	net.Listener
	allow func(netip.Addr) bool
}

func (l allowListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, perr := netip.ParseAddrPort(c.RemoteAddr().String())
		if perr == nil && l.allow(ap.Addr().Unmap()) {
			return c, nil
		}
		c.Close()
	}
}
