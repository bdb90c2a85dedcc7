package router

import (
	"context"

	"rosh/ppp"
	"rosh/pppoe"
)

// runPPP runs a PPP session over a PPPoE session until either ends. The
// PPP session's one goroutine reads the PPPoE session's frames itself
// (RFC 2516 §7: the PPP Protocol field first, no address/control, no FCS);
// a PADT takes it down at once, and a PPP session that ends closes the
// PPPoE session with a PADT. started, if set, is called with the PPP
// session before it runs, so the owner can Close it.
//
// newPPP makes the session (ppp.NewOnLink): its ppp.Config, and whatever
// else went into it, is then off the goroutine's stack while the session
// runs. The client's dial loop runs it; the access concentrator's
// sessions use ppp's Start instead (serverSession.run), which serves an
// idle session from a fresh goroutine with a small stack.
func runPPP(ctx context.Context, ps *pppoe.Session, newPPP func() (*ppp.Session, error), started func(*ppp.Session)) error {
	s, err := newPPP()
	if err != nil {
		ps.Close()
		return err
	}
	if started != nil {
		started(s)
	}
	err = s.Run(ctx)
	ps.Close()
	return err
}
