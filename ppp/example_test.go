package ppp_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"rosh/ppp"
)

// A client and a server session joined back to back: the client
// authenticates with MS-CHAPv2 and gets its address.
func Example() {
	var client, server *ppp.Session
	up := make(chan ppp.Status, 1)

	fast := ppp.Timing{Restart: 50 * time.Millisecond}
	var err error
	server, err = ppp.New(ppp.Config{
		Role:          ppp.RoleServer,
		Name:          "MikroTik",
		Require:       ppp.AllMethods,
		Authenticator: ppp.PasswordAuthenticator(func(user string) (string, error) { return "StrongPass", nil }),
		Addresses: func(user string) (ppp.IPConfig, error) {
			return ppp.IPConfig{Local: netip.MustParseAddr("10.0.0.1"), Peer: netip.MustParseAddr("10.0.0.5")}, nil
		},
		MRU: 1480, MTU: 1480,
		Timing: fast,
	}, ppp.SenderFunc(func(p ppp.Protocol, b []byte) error { client.Input(p, b); return nil }))
	if err != nil {
		panic(err)
	}
	client, err = ppp.New(ppp.Config{
		Role:     ppp.RoleClient,
		User:     "MT-User",
		Password: "StrongPass",
		MRU:      1460, MTU: 1460,
		Timing: fast,
		OnEvent: func(e ppp.Event) {
			if e.Kind == ppp.EventUp {
				up <- e.Status
			}
		},
	}, ppp.SenderFunc(func(p ppp.Protocol, b []byte) error { server.Input(p, b); return nil }))
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	done := make(chan error, 2)
	go func() { done <- server.Run(ctx) }()
	go func() { done <- client.Run(ctx) }()

	st := <-up
	fmt.Printf("connected with %s: %s -> %s, mtu %d\n", st.Method, st.LocalAddr, st.PeerAddr, st.MTU)
	client.Close("user request")
	<-done
	<-done
	fmt.Println("client:", client.Status().Err)
	fmt.Println("server:", server.Status().Err)
	// Output:
	// connected with mschap2: 10.0.0.5 -> 10.0.0.1, mtu 1460
	// client: closed: user request
	// server: terminated by peer: user request
}
