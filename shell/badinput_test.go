package shell

import (
	"testing"

	"rosh/menus"
)

// seedAC is the access concentrator's configuration from SPEC §6.
const seedAC = `/ip pool add name=pppoe-pool ranges=10.0.0.2-10.0.0.5
/ppp profile add local-address=10.0.0.1 name=for-pppoe remote-address=pppoe-pool
/ppp secret add name=MT-User password=StrongPass profile=for-pppoe service=pppoe
/interface pppoe-server server add default-profile=for-pppoe disabled=no interface=ether3 service-name=pppoeservice
/interface pppoe-client add interface=ether2 password=StrongPass service-name=pppoeservice name=PPPoE-Out disabled=no user=MT-User`

// TestBadInput feeds lines that must fail, each with the error RouterOS
// words for it, and checks that none of them changed the configuration.
func TestBadInput(t *testing.T) {
	tests := []struct {
		in, wantErr string
	}{
		{`/ppp secret adx`, "bad command name adx (line 1 column 13)"},
		{`/ppp secrett print`, "bad command name secrett (line 1 column 6)"},
		{`/ppp/secrett print`, "bad command name secrett (line 1 column 1)"},
		{`/ppp secret add name=MT-User password=x`, "failure: entry already exists"},
		{`/ppp secret add password=x`, "failure: name must be specified"},
		{`/ppp secret add name=x foo=bar`, "expected end of command (line 1 column 24)"},
		{`/ppp secret add name=x service=pppoex`, "input does not match any value of service"},
		{`/ppp secret add name=x profile=nope`, "input does not match any value of profile"},
		{`/ppp secret add name=x remote-address=10.0.0.300`, "invalid value for argument remote-address"},
		{`/ppp secret add name=x limit-bytes-in=-1`, "value of limit-bytes-in out of range (0..9223372036854775807)"},
		{`/ppp secret add name="unterminated`, "syntax error (line 1 column 22)"},
		{`/ppp secret set 7 password=x`, "no such item"},
		{`/ppp secret set nobody password=x`, "no such item"},
		{`/ppp secret remove 5`, "no such item"},
		{`/ppp secret remove *99`, "no such item"},
		{`/ppp secret print where`, "syntax error (line 1 column 24)"},
		{`/ppp secret print where name=`, "syntax error (line 1 column 30)"},
		{`/ppp secret print where (name=a`, "syntax error (line 1 column 32)"},
		{`/ppp secret print where nosuchprop=1`, "expected end of command (line 1 column 25)"},
		{`/ppp secret print where name~"("`, "invalid regular expression (line 1 column 30)"},
		{`/ppp secret print bogus`, "expected end of command (line 1 column 19)"},
		{`/ppp secret set 0 !nosuch`, "expected end of command (line 1 column 19)"},
		{`/ppp secret set 0 name=""`, "failure: name can not be empty"},
		{`/ppp secret add name=y ]`, "syntax error (line 1 column 24)"},
		{`/ip pool add name=p ranges=10.0.0.1-10.0.0`, "invalid value for argument ranges"},
		{`/ip pool add name=p ranges=10.0.0.9-10.0.0.1`, "invalid value for argument ranges"},
		{`/ip pool add name=p ranges=10.0.0.1-10.0.0.9,10.0.0.5`, "invalid value for argument ranges"},
		{`/ip pool add name=p ranges=fe80::1`, "invalid value for argument ranges"},
		{`/ip pool add name=p`, "failure: ranges must be specified"},
		{`/ip pool add name=pppoe-pool ranges=10.9.9.9`, "failure: entry already exists"},
		{`/ip pool remove pppoe-pool`, "failure: pool is in use"},
		{`/ip pool set pppoe-pool next-pool=pppoe-pool`, "failure: pool can not be its own next-pool"},
		{`/ppp profile remove default`, "failure: can not remove default entry"},
		{`/ppp profile remove for-pppoe`, "failure: profile is in use"},
		{`/ppp profile set default name=other`, "failure: can not rename default entry"},
		{`/ppp profile add name=z remote-address=nopool`, "input does not match any value of remote-address"},
		{`/ppp profile add name=z change-tcp-mss=maybe`, "input does not match any value of change-tcp-mss"},
		{`/ppp profile add name=z session-timeout=10x`, "invalid value for argument session-timeout"},
		{`/ppp profile add name=z dns-server=1.1.1.1,foo`, "invalid value for argument dns-server"},
		{`/ppp profile set for-pppoe rate-limit=10X`, `invalid value for argument rate-limit: rate "10X": want a number with an optional k, M or G`},
		{`/ppp profile set for-pppoe rate-limit=10M/20M/30M`, `invalid value for argument rate-limit: rate "20M/30M": want a number with an optional k, M or G`},
		{`/ppp profile set for-pppoe rate-limit="10M 20M 8M 8 9"`, `invalid value for argument rate-limit: priority "9": want 1..8`},
		{`/ppp profile set for-pppoe rate-limit="10M 20M 8M 8 8 20M"`, "invalid value for argument rate-limit: rx minimum rate 20M above its rate 10M"},
		{`/ppp profile add name=z rate-limit=41G`, `invalid value for argument rate-limit: rate "41G": out of range (0..40G)`},
		{`/queue simple add name=q`, "bad command name add (line 1 column 15)"},
		{`/interface pppoe-client add interface=ether2 allow=foo`, "input does not match any value of allow"},
		{`/interface pppoe-client add interface=ether2 default-route-distance=300`, "value of default-route-distance out of range (0..255)"},
		{`/interface pppoe-client add interface=ether2 mrru=100`, "value of mrru out of range (512..65535)"},
		{`/interface pppoe-client add interface=ether2 max-mtu=abc`, "input does not match any value of max-mtu"},
		{`/interface pppoe-client add interface=ether2 keepalive-timeout=-5`, "value of keepalive-timeout out of range (1..4294967)"},
		{`/interface pppoe-client add interface=ether2 host-uniq=xyz`, "invalid value for argument host-uniq"},
		{`/interface pppoe-client add user=x`, "failure: interface must be specified"},
		{`/interface pppoe-client add interface=ether2 add-default-route=maybe`, "input does not match any value of add-default-route"},
		{`/interface pppoe-client monitor nosuch once`, "no such item"},
		{`/interface pppoe-client scan nosuch duration=1`, "no such item"},
		{`/interface pppoe-server server add interface=ether3 service-name=pppoeservice`, "failure: entry already exists"},
		{`/interface pppoe-server server add interface=ether3 max-sessions=70000`, "value of max-sessions out of range (1..65535)"},
		{`/interface pppoe-server server add interface=ether3 pado-delay=-1`, "value of pado-delay out of range (0..60000)"},
		{`/interface pppoe-server server add interface=ether3 authentication=pap,eap`, "input does not match any value of authentication"},
		{`/ppp active remove 0`, "no such item"},
		{`/system identity set name=""`, "failure: name can not be empty"},
		{`/system identity add name=x`, "bad command name add (line 1 column 18)"},
		{`/log add`, "bad command name add (line 1 column 6)"},
		{`/import file=/nonexistent/file.rsc`, "failure: bad file name /nonexistent/file.rsc"},
		{`/import file=nosuch.rsc`, "failure: no such file nosuch.rsc"},
		{`/export file=../../escape`, "failure: bad file name ../../escape.rsc"},
		{`"unbalanced`, "syntax error (line 1 column 1)"},
		{`/ppp secret print interval=0`, "invalid value for argument interval"},
		{`[find`, "syntax error (line 1 column 1)"},
	}
	if len(tests) < 40 {
		t.Fatalf("only %d bad inputs", len(tests))
	}
	sh, buf := newTestShell(t)
	if got := transcript(t, sh, buf, seedAC); !noErrors(got) {
		t.Fatalf("seed configuration failed:\n%s", got)
	}
	before := sh.ExportText("/", menus.ExportOptions{ShowSensitive: true})
	for _, tt := range tests {
		err := sh.Execute(tt.in, 1)
		if err == nil {
			t.Errorf("%q: no error, want %q", tt.in, tt.wantErr)
			continue
		}
		if err.Error() != tt.wantErr {
			t.Errorf("%q:\n got %q\nwant %q", tt.in, err.Error(), tt.wantErr)
		}
		if after := sh.ExportText("/", menus.ExportOptions{ShowSensitive: true}); after != before {
			t.Fatalf("%q changed the configuration (-want +got):\n%s", tt.in, lineDiff(before, after))
		}
		if sh.Cwd() != "/" {
			t.Fatalf("%q changed the current menu to %s", tt.in, sh.Cwd())
		}
	}
}

func noErrors(transcript string) bool {
	return transcript != "" && !containsAny(transcript, "failure", "error", "bad command", "no such item", "expected end")
}
